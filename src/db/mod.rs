//! MongoDB (5.0+) or FerretDB: what outlives a process. Request paths insert; reads happen at
//! start-up and in background loops (docs/architecture.md, docs/deploy.md).

pub(crate) mod audit;
pub mod changes;
pub mod housekeeping;
pub(crate) mod passkeys;
pub mod pin_locks;
pub mod sessions;
pub mod users;

use std::time::{Duration, Instant};

use mongodb::{
    Client, Database, IndexModel,
    bson::doc,
    options::{ClientOptions, IndexOptions},
};

/// A handle to facegate's database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    database: Database,
}

/// Why the database could not be used at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DbStartError {
    #[error("MONGODB_URI is not a valid MongoDB connection string: {0}")]
    BadUri(#[source] mongodb::error::Error),
    #[error("the database at {uri} did not answer within {waited:?}: {cause}")]
    Unreachable {
        uri: String,
        waited: Duration,
        cause: mongodb::error::Error,
    },
    #[error("could not create the indexes of `{collection}`: {source}")]
    Indexes {
        collection: &'static str,
        source: mongodb::error::Error,
    },
}

impl Db {
    /// Connects and pings until the server answers or `patience` runs out, then makes sure the
    /// indexes exist. The retry covers a database that is still starting next to the app.
    pub async fn connect(uri: &str, name: &str, patience: Duration) -> Result<Self, DbStartError> {
        let mut options = ClientOptions::parse(uri).await.map_err(DbStartError::BadUri)?;
        options.app_name = Some("facegate".into());
        options.server_selection_timeout = Some(Duration::from_secs(2));
        options.connect_timeout = Some(Duration::from_secs(2));
        // The driver notices a database that stopped answering at its next heartbeat and then
        // fails what waits on it (503): once a second rather than the default 10 s keeps a hung
        // database from holding requests for long.
        options.heartbeat_freq = Some(Duration::from_secs(1));
        options.command_event_handler = Some(crate::metrics::db_command_observer());
        let client = Client::with_options(options).map_err(DbStartError::BadUri)?;
        let db = Self {
            database: client.database(name),
        };

        let started = Instant::now();
        loop {
            match db.ping().await {
                Ok(()) => break,
                Err(cause) if started.elapsed() >= patience => {
                    return Err(DbStartError::Unreachable {
                        uri: redact(uri),
                        waited: started.elapsed(),
                        cause,
                    });
                }
                Err(cause) => {
                    tracing::info!(error = %cause, "waiting for the database");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        let failed = |collection| move |source| DbStartError::Indexes { collection, source };
        users::ensure_indexes(&db)
            .await
            .map_err(failed(users::COLLECTION))?;
        sessions::ensure_indexes(&db)
            .await
            .map_err(failed(sessions::COLLECTION))?;
        audit::ensure_indexes(&db)
            .await
            .map_err(failed(audit::COLLECTION))?;
        changes::ensure_indexes(&db)
            .await
            .map_err(failed(changes::COLLECTION))?;
        // A passkey ceremony reads one account's passkeys (MongoDB: by this index).
        passkeys::ensure_indexes(&db)
            .await
            .map_err(failed(passkeys::COLLECTION))?;
        Ok(db)
    }

    pub async fn ping(&self) -> mongodb::error::Result<()> {
        self.database.run_command(doc! { "ping": 1 }).await.map(|_| ())
    }

    pub fn database(&self) -> &Database {
        &self.database
    }
}

/// An ascending index on `field`, named after it; `ttl` makes it a TTL index. Real MongoDB
/// answers every query facegate makes from an index; FerretDB v1 creates them but scans anyway,
/// which is why hot paths read from memory (docs/deploy.md).
pub fn plain_index(field: &str, ttl: Option<Duration>) -> IndexModel {
    let name = match ttl {
        Some(_) => format!("{field}_ttl"),
        None => field.to_string(),
    };
    IndexModel::builder()
        .keys(doc! { field: 1 })
        .options(IndexOptions::builder().name(name).expire_after(ttl).build())
        .build()
}

/// Creates those of `indexes` whose name the collection does not have yet. Asking for an
/// existing index again is harmless on MongoDB but crashes FerretDB v1's connection for some
/// (compound, descending) keys, so start-up only creates what is missing. Instances starting
/// together race to create them: a failure is followed by a second look, and only an index
/// still missing then is an error.
pub async fn create_missing_indexes<T: Send + Sync>(
    collection: &mongodb::Collection<T>,
    indexes: Vec<IndexModel>,
) -> mongodb::error::Result<()> {
    let missing = |existing: &[String], indexes: &[IndexModel]| -> Vec<IndexModel> {
        indexes
            .iter()
            .filter(|index| {
                let name = index.options.as_ref().and_then(|o| o.name.as_deref());
                !name.is_some_and(|name| existing.iter().any(|e| e == name))
            })
            .cloned()
            .collect()
    };
    let existing = collection.list_index_names().await.unwrap_or_default();
    let wanted = missing(&existing, &indexes);
    if wanted.is_empty() {
        return Ok(());
    }
    let Err(error) = collection.create_indexes(wanted).await else {
        return Ok(());
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let existing = collection.list_index_names().await.unwrap_or_default();
    if missing(&existing, &indexes).is_empty() {
        return Ok(());
    }
    Err(error)
}

/// The URI without its password, for logs and error messages.
pub fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &uri[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &uri[..scheme_end + 3], &uri[at..])
        }
        _ => uri.to_string(),
    }
}

/// Is this a unique-index violation (code 11000 on MongoDB and FerretDB alike)?
pub fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == 11000,
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|e| e.code == 11000)),
        ErrorKind::Command(e) => e.code == 11000,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("mongodb://app:s3cret@db.example:27017/x"),
            "mongodb://app:***@db.example:27017/x"
        );
        assert_eq!(redact("mongodb://127.0.0.1:27018/"), "mongodb://127.0.0.1:27018/");
    }
}

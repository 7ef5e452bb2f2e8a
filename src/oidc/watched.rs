//! A file a running server re-reads when it changes (looked at on use, at most every 5 s): the
//! clients file and the signing key file, so `facegate clients add` and `facegate keys signing
//! rotate` need no restart. A file that became unusable keeps the last good contents, with an
//! error in the log.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::at_rest::keyring::{FileStamp, stamp};

const RELOAD_EVERY: Duration = Duration::from_secs(5);

type Loader<T> = fn(&Path) -> Result<T, String>;

pub(crate) struct Watched<T> {
    path: PathBuf,
    load: Loader<T>,
    current: Mutex<Current<T>>,
}

struct Current<T> {
    value: Arc<T>,
    stamp: Option<FileStamp>,
    checked: Instant,
}

impl<T> Watched<T> {
    pub fn new(path: &Path, value: T, load: Loader<T>) -> Self {
        Self {
            path: path.to_path_buf(),
            load,
            current: Mutex::new(Current {
                value: Arc::new(value),
                stamp: stamp(path).ok(),
                checked: Instant::now(),
            }),
        }
    }

    pub(crate) fn get(&self) -> Arc<T> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.checked.elapsed() >= RELOAD_EVERY {
            current.checked = Instant::now();
            let stamp = stamp(&self.path).ok();
            if stamp != current.stamp {
                current.stamp = stamp;
                match (self.load)(&self.path) {
                    Ok(value) => {
                        tracing::info!(file = %self.path.display(), "re-read after a change");
                        current.value = Arc::new(value);
                    }
                    Err(e) => tracing::error!("{e}; keeping what was read before"),
                }
            }
        }
        Arc::clone(&current.value)
    }
}

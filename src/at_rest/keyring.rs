//! The template key file: a keyring of AES-256 keys, one per line.
//!
//! ```text
//! # comment lines and blank lines are ignored
//! <key-id> <base64 of 32 random bytes>
//! ```
//!
//! The first key is the active one: new templates are sealed with it. Every key listed can open
//! templates, so a rotation adds a new first line, re-encrypts, then drops the old line. A key id
//! is 1-64 characters of `A-Z a-z 0-9 . _ -`; ids are stored beside each record, keys never are.

use std::path::{Path, PathBuf};

use aes_gcm::{Aes256Gcm, KeyInit};
use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;
use zeroize::Zeroizing;

/// The setting that names the key file, as an operator looks for it.
pub const SETTING: &str = "template-key-file (FACEGATE_TEMPLATE_KEY_FILE)";

const KEY_LEN: usize = 32;
const MAX_ID_LEN: usize = 64;

const HEADER: &str = "\
# facegate face-template keys (docs/security.md). Keep this file secret (mode 0600) and backed up
# apart from the database: without it the stored face templates cannot be read.
# One key a line: <key-id> <base64 of 32 bytes>. The first key seals new templates; all open them.
";

/// One AES-256 key and its id. Holds key material: deliberately not `Debug`, `Clone`,
/// `Serialize` or `Display`; the secret is wiped from memory when dropped.
pub struct TemplateKey {
    id: String,
    secret: Zeroizing<[u8; KEY_LEN]>,
    cipher: Aes256Gcm,
}

impl TemplateKey {
    fn new(id: String, secret: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let cipher = Aes256Gcm::new(secret.as_ref().into());
        Self { id, secret, cipher }
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate(id: &str) -> Result<Self, String> {
        check_id(id)?;
        let mut secret = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(secret.as_mut());
        Ok(Self::new(id.to_string(), secret))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }
}

/// The keys of a key file, the active (first) one first. Never empty.
pub struct KeyRing {
    keys: Vec<TemplateKey>,
}

impl std::fmt::Debug for KeyRing {
    /// Ids only: key material never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("key_ids", &self.ids()).finish()
    }
}

impl KeyRing {
    /// A ring of `keys`, the first active; refuses an empty list and repeated ids.
    pub fn new(keys: Vec<TemplateKey>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("it holds no key; create one with `facegate keys new --file PATH`".into());
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.id == key.id) {
                return Err(format!("key id `{}` appears twice", key.id));
            }
        }
        Ok(Self { keys })
    }

    /// Parses the file format above. Errors name the line, never its content.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(id), Some(encoded), None) = (fields.next(), fields.next(), fields.next()) else {
                return Err(format!("line {number} is not `<key-id> <base64 of 32 bytes>`"));
            };
            check_id(id).map_err(|e| format!("line {number}: {e}"))?;
            let bytes = Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| format!("line {number}: the key is not valid base64"))?,
            );
            let secret: [u8; KEY_LEN] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| format!("line {number}: the key is {} bytes, not {KEY_LEN}", bytes.len()))?;
            keys.push(TemplateKey::new(id.to_string(), Zeroizing::new(secret)));
        }
        Self::new(keys)
    }

    /// The file's text: header comment, then one line a key, active first.
    fn to_file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::from(HEADER));
        for key in &self.keys {
            text.push_str(&key.id);
            text.push(' ');
            text.push_str(&STANDARD.encode(key.secret.as_ref()));
            text.push('\n');
        }
        text
    }

    pub(crate) fn active(&self) -> &TemplateKey {
        &self.keys[0]
    }

    pub(crate) fn get(&self, id: &str) -> Option<&TemplateKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// This ring with `key` in front (the new active key).
    pub fn with_active(mut self, key: TemplateKey) -> Result<Self, String> {
        self.keys.insert(0, key);
        Self::new(self.keys)
    }

    /// This ring without the keys `keep` says no to; the active key always stays.
    pub fn retain(mut self, keep: impl Fn(&str) -> bool) -> Self {
        let mut first = true;
        self.keys.retain(|k| std::mem::take(&mut first) || keep(&k.id));
        self
    }
}

/// Why a key file could not be used; each message names the file, never a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("the key file {path} does not exist. Create one with `facegate keys new --file {path}` (`make run` does this for data/template-keys)", path = .path.display())]
    Missing { path: PathBuf },
    #[error("the key file {path} is open to group or others (mode {mode:04o}); make it private: chmod 600 {path}", path = .path.display())]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("cannot read the key file {path}: {cause}", path = .path.display())]
    Unreadable { path: PathBuf, cause: std::io::Error },
    #[error("the key file {path} is malformed: {reason}", path = .path.display())]
    Malformed { path: PathBuf, reason: String },
    #[error("cannot write the key file {path}: {cause}", path = .path.display())]
    Write { path: PathBuf, cause: std::io::Error },
}

/// What identifies one version of the key file: a rename (rotation writes a new file and renames
/// it over the old) changes the inode, an edit in place the length or modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

pub(crate) fn stamp(path: &Path) -> std::io::Result<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok(FileStamp {
        inode: meta.ino(),
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// Reads a key file. A file that group or others may read or write is refused, not merely
/// warned about: a warning scrolls by in a log while the key stays exposed, and the encryption
/// is worth no more than the secrecy of this file (ssh refuses open private keys the same way).
pub fn load(path: &Path) -> Result<(KeyRing, FileStamp), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let owned = || path.to_path_buf();
    let meta = std::fs::metadata(path).map_err(|cause| match cause.kind() {
        std::io::ErrorKind::NotFound => KeyFileError::Missing { path: owned() },
        _ => KeyFileError::Unreadable { path: owned(), cause },
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen { path: owned(), mode });
    }
    let stamp = stamp(path).map_err(|cause| KeyFileError::Unreadable { path: owned(), cause })?;
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|cause| KeyFileError::Unreadable { path: owned(), cause })?,
    );
    let ring = KeyRing::parse(&text).map_err(|reason| KeyFileError::Malformed {
        path: owned(),
        reason,
    })?;
    Ok((ring, stamp))
}

/// Creates a new key file (mode 0600) holding `ring`; refuses to overwrite an existing file.
pub fn create(path: &Path, ring: &KeyRing) -> Result<(), KeyFileError> {
    crate::secret_file::create(path, &ring.to_file_text()).map_err(|cause| KeyFileError::Write {
        path: path.to_path_buf(),
        cause,
    })
}

/// Replaces the key file with `ring` atomically (a private temporary file renamed over it), so a
/// server reading it meanwhile sees the old or the new keyring, never half of one.
pub fn replace(path: &Path, ring: &KeyRing) -> Result<(), KeyFileError> {
    crate::secret_file::replace(path, &ring.to_file_text()).map_err(|cause| KeyFileError::Write {
        path: path.to_path_buf(),
        cause,
    })
}

/// A key id from the current time, e.g. `k20261129T103512Z`: sortable, and it tells an operator
/// when the key was made.
pub fn new_key_id(taken: &[&str]) -> String {
    let now = mongodb::bson::DateTime::now()
        .try_to_rfc3339_string()
        .unwrap_or_default();
    let stamp: String = now
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    unique_id(&format!("k{stamp}Z"), taken)
}

/// `base`, or `base-2`, `base-3`… when that id is taken.
fn unique_id(base: &str, taken: &[&str]) -> String {
    let mut id = base.to_string();
    let mut n = 1;
    while taken.contains(&id.as_str()) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

fn check_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "a key id is 1-{MAX_ID_LEN} characters of A-Z a-z 0-9 . _ -"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    #[test]
    fn the_first_key_is_active_and_comments_are_skipped() {
        let ring =
            KeyRing::parse(&format!("# header\n\n  new-2 {KEY_B}  \nold_1\t{KEY_A}\n")).expect("valid");
        assert_eq!(ring.active().id(), "new-2");
        assert_eq!(ring.ids(), ["new-2", "old_1"]);
        assert!(ring.get("old_1").is_some() && ring.get("other").is_none());
    }

    #[test]
    fn malformed_files_are_refused_without_echoing_keys() {
        for (text, expected) in [
            ("", "holds no key"),
            ("# only a comment\n", "holds no key"),
            (&format!("a {KEY_A}\na {KEY_B}\n") as &str, "appears twice"),
            ("a not*base64\n", "line 1: the key is not valid base64"),
            ("a AAEC\n", "line 1: the key is 3 bytes, not 32"),
            (&format!("a {KEY_A} extra\n"), "line 1 is not"),
            (&format!("#\nbad/id {KEY_A}\n"), "line 2: a key id"),
            ("lonely\n", "line 1 is not"),
        ] {
            let error = KeyRing::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(!error.contains(KEY_A) && !error.contains("not*base64"), "{error}");
        }
    }

    #[test]
    fn the_file_text_parses_back_to_the_same_keys() {
        let ring = KeyRing::new(vec![
            TemplateKey::generate("b").expect("id"),
            TemplateKey::generate("a").expect("id"),
        ])
        .expect("ring");
        let again = KeyRing::parse(&ring.to_file_text()).expect("parses");
        assert_eq!(again.ids(), ["b", "a"]);
        assert_eq!(*again.active().secret, *ring.active().secret);
        assert_ne!(*ring.active().secret, *ring.get("a").expect("a").secret);
    }

    #[test]
    fn debug_shows_ids_only() {
        let ring = KeyRing::parse(&format!("only {KEY_A}\n")).expect("valid");
        let shown = format!("{ring:?}");
        assert_eq!(shown, r#"KeyRing { key_ids: ["only"] }"#);
    }

    #[test]
    fn rotation_helpers_keep_the_active_key() {
        let ring = KeyRing::parse(&format!("old {KEY_A}\n")).expect("valid");
        let ring = ring
            .with_active(TemplateKey::generate("new").expect("id"))
            .expect("ring");
        assert_eq!(ring.ids(), ["new", "old"]);
        assert!(
            ring.with_active(TemplateKey::generate("new").expect("id"))
                .is_err()
        );
        let ring = KeyRing::parse(&format!("a {KEY_A}\nb {KEY_B}\n"))
            .expect("valid")
            .retain(|_| false);
        assert_eq!(ring.ids(), ["a"]);
    }

    #[test]
    fn files_are_created_private_and_open_ones_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys");
        assert!(matches!(load(&path), Err(KeyFileError::Missing { .. })));
        let ring = KeyRing::new(vec![TemplateKey::generate("k1").expect("id")]).expect("ring");
        create(&path, &ring).expect("create");
        assert!(create(&path, &ring).is_err(), "never overwrites");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path).expect("loads").0.ids(), ["k1"]);

        let bigger = ring
            .with_active(TemplateKey::generate("k2").expect("id"))
            .expect("ring");
        replace(&path, &bigger).expect("replace");
        assert_eq!(load(&path).expect("loads").0.ids(), ["k2", "k1"]);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let error = load(&path).expect_err("group-readable is refused");
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }

    #[test]
    fn new_ids_are_valid_and_unique() {
        let id = new_key_id(&[]);
        check_id(&id).expect("valid id");
        assert!(id.starts_with("k20") && id.ends_with('Z'), "{id}");
        assert_eq!(unique_id("k1", &["k1", "k1-2"]), "k1-3");
        assert_eq!(unique_id("k1", &["k0"]), "k1");
    }
}

//! Files that hold keys: created private (mode 0600) and synced, never overwritten by accident,
//! replaced atomically so that a server reading one meanwhile sees the old text or the new,
//! never half of one. Used by the face-template key file (`at_rest::keyring`) and the OpenID
//! Connect signing keys (`oidc::keys`).

use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

/// Writes `text` to a new file of mode 0600 and syncs it; fails if `path` exists.
pub(crate) fn create(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Replaces `path` with `text`: a private temporary file beside it, renamed over it.
pub(crate) fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "keys".into(), |n| n.to_string_lossy());
    let temporary: PathBuf = path.with_file_name(format!(".{name}.new-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    create(&temporary, text)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_private_never_overwritten_and_replaced_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys");
        create(&path, "one").expect("create");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            create(&path, "two").is_err(),
            "an existing file is never overwritten"
        );
        replace(&path, "three").expect("replace");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "three");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }
}

//! The `--cache DIR` directory: an [`auth_core::FileStore`], and the subject names the
//! commands use in its keys.

use std::path::Path;
use std::sync::Arc;

use auth_core::{FileStore, StoreKey};

use crate::error::CliError;

/// The subject of a seller's token (refresh and authorization-code grants) when
/// `--subject` is not given.
pub(crate) const DEFAULT_SUBJECT: &str = "default";

/// The subject of an application token (client credentials, grantless) when `--subject`
/// is not given: `app`, plus the scopes, so a token for other scopes is never reused.
pub(crate) fn app_subject(scopes: Option<&str>) -> String {
    match scopes {
        Some(scopes) if !scopes.is_empty() => format!("app:{scopes}"),
        _ => "app".to_owned(),
    }
}

/// The store in `dir` for `key`, the directory created with mode 0700.
///
/// `FileStore` creates its records and the `.lock` sidecar of its lease 0600. A lock
/// file left by an older version may have the umask's mode (usually 0644): this command
/// promises that every file in the cache is 0600, so it tightens it.
pub(crate) fn open(dir: &Path, key: &StoreKey) -> Result<Arc<FileStore>, CliError> {
    let failed = |what: &str, e: std::io::Error| {
        CliError::Other(format!(
            "cannot {what} the cache directory {}: {e}",
            dir.display()
        ))
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| failed("create", e))?;

    let lock = dir.join(format!("{}.lock", key.file_stem()));
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&lock).map_err(|e| failed("write to", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // A lock file left by an earlier version, with the umask's mode.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| failed("write to", e))?;
    }
    drop(file);
    Ok(Arc::new(FileStore::new(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_subjects_name_their_scopes() {
        assert_eq!(app_subject(None), "app");
        assert_eq!(app_subject(Some("a b")), "app:a b");
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_is_private_and_the_lock_file_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        let key = StoreKey::new("easyship", "production", "id", "default");
        open(&dir, &key).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(format!("{}.lock", key.file_stem()))), 0o600);
    }
}

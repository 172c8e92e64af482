//! Where tokens are kept: `--cache DIR` (an [`auth_core::FileStore`]) or `--store
//! file:DIR|redis://...` (the same, or an [`auth_store_redis::RedisStore`] shared by a
//! fleet), and the subject names the commands use in its keys.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::{FileStore, StoreKey, TokenStore};
use auth_store_redis::RedisStore;

use crate::error::CliError;

/// A token store named on the command line: `file:DIR` (or `--cache DIR`), or a Redis URL
/// (`redis://`, `rediss://` for TLS; a password in the URL is never printed).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// A directory of `FileStore` records: processes on one host.
    File(PathBuf),
    /// A Redis server: processes on many hosts.
    Redis {
        /// The URL (may hold a password).
        url: String,
        /// The key prefix (`RedisStore`'s `key_prefix`).
        key_prefix: String,
    },
}

impl StoreSpec {
    /// Parses `--store`'s value (a clap value parser).
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        if let Some(dir) = value.strip_prefix("file:") {
            if dir.is_empty() {
                return Err("file: needs a directory, as in file:/var/lib/tokens".to_owned());
            }
            return Ok(Self::File(PathBuf::from(dir)));
        }
        if value.starts_with("redis://") || value.starts_with("rediss://") {
            return Ok(Self::Redis {
                url: value.to_owned(),
                key_prefix: String::new(),
            });
        }
        Err(
            "a store is file:DIR, redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://... (TLS)"
                .to_owned(),
        )
    }

    /// The store for `key`, connected (Redis) or with its directory created (files).
    pub(crate) async fn open(&self, key: &StoreKey) -> Result<Arc<dyn TokenStore>, CliError> {
        match self {
            Self::File(dir) => Ok(open(dir, key)?),
            Self::Redis { url, key_prefix } => {
                let store = RedisStore::builder(url.as_str())
                    .key_prefix(key_prefix.as_str())
                    .connect()
                    .await
                    .map_err(|e| CliError::Other(format!("cannot use the store {self}: {e}")))?;
                Ok(Arc::new(store))
            }
        }
    }
}

/// `file:DIR`, or the Redis URL with any credentials replaced: safe for messages.
impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(dir) => write!(f, "file:{}", dir.display()),
            Self::Redis { url, .. } => f.write_str(&redact_url(url)),
        }
    }
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `url` with the user and password (before the authority's `@`) replaced by `***`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[a Redis URL]".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://***@{}{path}", &authority[at + 1..]),
        None => url.to_owned(),
    }
}

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
    fn store_specs_parse_files_and_redis_urls() {
        assert_eq!(
            StoreSpec::parse("file:/tmp/t"),
            Ok(StoreSpec::File(PathBuf::from("/tmp/t")))
        );
        assert_eq!(
            StoreSpec::parse("rediss://:pw@h:6380/2"),
            Ok(StoreSpec::Redis {
                url: "rediss://:pw@h:6380/2".to_owned(),
                key_prefix: String::new()
            })
        );
        for bad in ["file:", "/tmp/t", "http://h", "memory:"] {
            assert!(StoreSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_redis_url_prints_without_its_credentials() {
        let spec = StoreSpec::parse("rediss://user:s3cret@cache.internal:6380/2").unwrap();
        assert_eq!(spec.to_string(), "rediss://***@cache.internal:6380/2");
        assert_eq!(format!("{spec:?}"), "rediss://***@cache.internal:6380/2");
        // An `@` in the password, and a path after the host.
        let spec = StoreSpec::parse("redis://:p@ss@h/0").unwrap();
        assert!(!spec.to_string().contains("p@ss"), "{spec}");
        let spec = StoreSpec::parse("redis://h:6379/0").unwrap();
        assert_eq!(spec.to_string(), "redis://h:6379/0");
    }

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

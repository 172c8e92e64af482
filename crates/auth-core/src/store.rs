//! Where tokens live between refreshes and across processes: [`TokenStore`],
//! [`MemoryStore`] and [`FileStore`].
//!
//! A store keeps one versioned [`TokenRecord`] per [`StoreKey`] and a **lease** for the
//! refresh critical section. The [`CachedTokenProvider`](crate::CachedTokenProvider) takes
//! the lease, reloads the record (another process may have rotated the refresh token),
//! refreshes with the stored refresh token, saves, and releases. A save after the lease
//! was lost is refused, so a stalled process can never overwrite a newer rotation.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccessToken, AuthError, RefreshToken, Scopes, Token};

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod conformance;
mod key;
mod listeners;

pub use key::StoreKey;
pub use listeners::{StoreListener, StoreListeners};

/// A stored token and its version (incremented by every write).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// 1 for the first save, then +1 with each write (a save, or marking the refresh
    /// token dead).
    pub version: u64,
    /// The token, refresh token included. Shared: a provider that loads the record holds
    /// this very `Token` (a `TokenCache` of many sellers keeps one copy per seller).
    pub token: Arc<Token>,
    /// When it was written, by the writer's clock.
    pub updated_at: DateTime<Utc>,
    /// The vendor answered `invalid_grant` to this record's refresh token: no process
    /// presents it again; the user must authorize again.
    pub refresh_token_dead: bool,
}

impl TokenRecord {
    /// A record of `token` (a `Token`, or one already in an `Arc`) at `version`, its
    /// refresh token not known dead.
    pub fn new(version: u64, token: impl Into<Arc<Token>>, updated_at: DateTime<Utc>) -> Self {
        Self {
            version,
            token: token.into(),
            updated_at,
            refresh_token_dead: false,
        }
    }

    /// The record as one JSON object, secrets in clear text, for store implementations
    /// (`FileStore` writes this form). The buffer is zeroed when dropped.
    ///
    /// The object's first member is always `"version"` (`{"version":7,...`), so a
    /// backend's server-side script can read or bump the version without parsing the
    /// rest.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] if serialization fails (it does not for a valid record).
    pub fn to_json(&self) -> Result<zeroize::Zeroizing<String>, AuthError> {
        serde_json::to_string(&StoredRecord::from_record(self))
            .map(zeroize::Zeroizing::new)
            .map_err(|e| AuthError::store("cannot encode token record", e))
    }

    /// Reads a record written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] with serde's category and position (never the content) when
    /// `json` is not a record.
    pub fn from_json(json: &[u8]) -> Result<Self, AuthError> {
        serde_json::from_slice::<StoredRecord>(json)
            .map(StoredRecord::into_record)
            .map_err(|e| AuthError::Store {
                message: format!(
                    "token record is not valid ({:?} at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
                source: None,
            })
    }
}

/// The right to run the refresh for one key, held from the reload to the save.
///
/// Either it expires after a TTL that the holder renews ([`TokenStore::renew`]) while its
/// refresh runs, or (FileStore) it is an OS lock held until it is released or the process
/// dies. A store refuses a save under an expired or replaced lease.
pub struct Lease {
    key: StoreKey,
    owner: String,
    fence: u64,
    /// `None`: held until released (an OS lock).
    expires: Mutex<Option<Instant>>,
    guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .field("owner", &self.owner)
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// A lease that expires after `ttl` unless renewed; for store implementations.
    /// `guard` is dropped when the lease is released or dropped (release the backend's
    /// lock in its `Drop`).
    pub fn new(
        key: StoreKey,
        owner: impl Into<String>,
        fence: u64,
        ttl: Duration,
        guard: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Self {
        Self {
            key,
            owner: owner.into(),
            fence,
            expires: Mutex::new(Some(far_instant(ttl))),
            guard,
        }
    }

    /// A lease held until released, with no TTL: an OS lock that the kernel releases if
    /// the process dies (FileStore). `guard` holds the lock.
    pub fn held_until_released(
        key: StoreKey,
        owner: impl Into<String>,
        fence: u64,
        guard: Box<dyn std::any::Any + Send + Sync>,
    ) -> Self {
        Self {
            key,
            owner: owner.into(),
            fence,
            expires: Mutex::new(None),
            guard: Some(guard),
        }
    }

    /// Moves this handle's expiry to `ttl` from now; for store implementations, after the
    /// backend confirmed the renewal.
    pub fn extend(&self, ttl: Duration) {
        let mut expires = self.expires.lock().unwrap_or_else(|e| e.into_inner());
        if expires.is_some() {
            *expires = Some(far_instant(ttl));
        }
    }

    /// The key it locks.
    pub fn key(&self) -> &StoreKey {
        &self.key
    }
    /// Who holds it.
    pub fn owner(&self) -> &str {
        &self.owner
    }
    /// A number that grows with every lease granted on the key (a fencing token).
    pub fn fence(&self) -> u64 {
        self.fence
    }
    /// Whether its TTL has passed (never, for a lease held until released).
    pub fn is_expired(&self) -> bool {
        self.expires
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|expires| Instant::now() >= expires)
    }

    /// Fails if the lease expired; for store implementations, before a write (the
    /// backend must still check that the lease was not taken over, atomically with it).
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the TTL has passed.
    pub fn check(&self) -> Result<(), AuthError> {
        if self.is_expired() {
            Err(AuthError::Store {
                message: format!(
                    "the refresh lease on {} expired before the save; the result was not saved",
                    self.key
                ),
                source: None,
            })
        } else {
            Ok(())
        }
    }
}

/// Storage for tokens shared by providers, threads or processes.
///
/// Implement it for your own backend (a database, a secrets manager). Records hold
/// secrets: keep them where only the application can read them.
///
/// What each method must guarantee, because the provider's "a single-use refresh token
/// is spent at most once, and nothing the store accepted is lost" rests on it:
///
/// - **Versions**: every write to a key (save, [`mark_refresh_token_dead`]) stores
///   version `previous + 1` (1 for the first); `load` returns the last write whole
///   (never a torn or partial record).
/// - **Exclusive lease**: at most one unexpired lease per key exists at any time, across
///   every process sharing the backend. Each grant carries a fencing number larger than
///   every earlier grant's on that key.
/// - **Fencing**: `save` and `mark_refresh_token_dead` write only if the lease is still
///   the key's current one (not expired, not taken over), checked atomically with the
///   write; otherwise they write nothing and fail.
/// - **Renewal**: `renew` extends an unexpired lease that is still the current one and
///   fails otherwise (never resurrects a lapsed lease another holder may have taken).
/// - **Release**: `release` ends the lease if it is still the caller's (compare the
///   owner and fence, never delete another holder's lease). A [`Lease`] dropped without
///   `release` (a cancelled refresh) should release too (its `guard`'s `Drop`), or
///   expire after its TTL.
///
/// - **Notifications** (optional, [`watch`](Self::watch)): a store that offers them
///   calls the listeners of a key after each write to its record (save, mark dead) is
///   visible to `load`, from any handle on the backend; spurious calls are allowed, and
///   a store that may have missed a change (its notifier reconnected) calls every
///   listener with `None`.
/// - **Refresh announcements** (optional, [`announce_refresh`](Self::announce_refresh)):
///   a store that notifies may also tell a key's listeners that its lease holder is about
///   to send a refresh, so that processes whose vendor revokes the previous access token
///   stop handing it out before the vendor does.
///
/// [`mark_refresh_token_dead`]: Self::mark_refresh_token_dead
#[async_trait]
pub trait TokenStore: fmt::Debug + Send + Sync + 'static {
    /// Loads the record for `key`, if any.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the backend fails or the record cannot be read.
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError>;

    /// Takes the refresh lease for `key` for `ttl`, waiting at most `wait` for another
    /// holder to release it (or for its lease to expire).
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the lease could not be had within `wait`.
    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError>;

    /// Extends `lease` to `ttl` from now, if it is still the key's current lease (the
    /// provider calls it every third of the TTL while its refresh runs). A lease held
    /// until released (an OS lock) needs nothing.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the lease expired or was taken over, or the backend fails.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError>;

    /// Saves `token` under `lease` as the next version of the record.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the lease was lost (expired or taken over) or the
    /// backend fails. Nothing is written then.
    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError>;

    /// [`save`](Self::save) for a token already in an `Arc` (the provider's). A store that
    /// keeps records in this process's memory overrides it to keep this very `Arc`: one
    /// copy of the token per key, however many providers hold it. The default is `save`.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    async fn save_shared(
        &self,
        lease: &Lease,
        token: &Arc<Token>,
    ) -> Result<TokenRecord, AuthError> {
        self.save(lease, token).await
    }

    /// Marks the refresh token of the record at `version` dead (the vendor answered
    /// `invalid_grant` to it), as the next version, if the record is still at `version`;
    /// a newer record is left alone.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError>;

    /// Releases the lease.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the backend fails (the lease then expires by itself).
    async fn release(&self, lease: Lease) -> Result<(), AuthError>;

    /// Registers `listener` to be told when `key`'s record changes, and returns whether
    /// this store delivers such notifications. The default delivers none (`false`): the
    /// provider then learns of another process's token when it next reads the store.
    ///
    /// Semantics for implementers: call [`StoreListener::record_changed`] with the new
    /// version after every save and mark of `key`'s record, by any handle on the backend,
    /// once the write is visible to [`load`](Self::load); spurious calls are fine; after a
    /// notifier (re)connects, call every listener with `None` so each re-reads what it
    /// may have missed. Hold listeners weakly and prune dropped ones lazily (a process
    /// may hold 100,000 providers: no task and a few bytes per listener);
    /// [`StoreListeners`] does that. Must not block: it is called from a provider's
    /// first `token()` on a Tokio runtime, where a store may start its notifier task.
    fn watch(&self, key: &StoreKey, listener: std::sync::Weak<dyn StoreListener>) -> bool {
        let _ = (key, listener);
        false
    }

    /// Tells the listeners of `lease`'s key, in every process, that the holder is about
    /// to send a refresh deriving from the record at version `base`
    /// ([`StoreListener::refresh_started`]). The provider calls it under the lease, right
    /// before the token request, when its grant revokes the previous access token
    /// ([`TokenSource::revokes_previous_access_token`](crate::TokenSource::revokes_previous_access_token)),
    /// and awaits it, so it should be one cheap write (`RedisStore`: one `PUBLISH`).
    ///
    /// Best effort: a lost announcement costs API calls with a revoked token until the
    /// save is notified, never correctness. The default announces nothing (`FileStore`:
    /// processes on one host enter the refresh window together and wait on the lease).
    ///
    /// # Errors
    ///
    /// The backend's error; the provider logs it and sends the refresh anyway.
    async fn announce_refresh(&self, lease: &Lease, base: u64) -> Result<(), AuthError> {
        let _ = (lease, base);
        Ok(())
    }
}

/// `now + ttl`, saturating (a configured `Duration::MAX` means "practically forever").
fn far_instant(ttl: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(ttl)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// `tokio` deadline `now + wait`, saturating.
fn deadline_after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

fn lease_timeout(key: &StoreKey, wait: Duration) -> AuthError {
    AuthError::Store {
        message: format!("another refresh of {key} held the lease for longer than {wait:?}"),
        source: None,
    }
}

/// Polling interval while waiting for a lease held elsewhere.
const LEASE_POLL: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------------------

/// A store in this process's memory: for one process with several providers on the same
/// key, and for tests. A lease dropped without [`TokenStore::release`] (a cancelled
/// refresh) is released by its drop.
///
/// It notifies its listeners ([`TokenStore::watch`]) synchronously after each save and
/// mark: every provider on a key adopts a new token as soon as one of them saved it.
#[derive(Default)]
pub struct MemoryStore {
    inner: Arc<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    entries: Mutex<Entries>,
    released: tokio::sync::Notify,
    fences: AtomicU64,
    listeners: StoreListeners<StoreKey>,
}

/// The records and the leases, under one lock.
///
/// Apart, and the records boxed, because a process may hold 100,000 keys and a hash map
/// pays for its free slots too (up to half of them): a free slot costs a key and a
/// pointer, not a record and a lease (issue 16's memory per subject). Only keys being
/// refreshed hold a lease.
#[derive(Default)]
struct Entries {
    records: HashMap<StoreKey, Box<TokenRecord>>,
    /// The fence and expiry of each key's current lease.
    leases: HashMap<StoreKey, (u64, Instant)>,
}

impl Entries {
    /// The fence of `key`'s current lease, expired or not.
    fn fence(&self, key: &StoreKey) -> Option<u64> {
        self.leases.get(key).map(|&(fence, _)| fence)
    }
}

impl MemoryInner {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self, key: &StoreKey, fence: u64) {
        let mut entries = self.entries();
        if entries.fence(key) == Some(fence) {
            entries.leases.remove(key);
        }
        drop(entries);
        self.released.notify_waiters();
    }
}

/// Releases a memory lease when the [`Lease`] is dropped.
struct MemoryLeaseGuard {
    store: std::sync::Weak<MemoryInner>,
    key: StoreKey,
    fence: u64,
}

impl Drop for MemoryLeaseGuard {
    fn drop(&mut self) {
        if let Some(store) = self.store.upgrade() {
            store.release(&self.key, self.fence);
        }
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.inner.entries().records.len();
        f.debug_struct("MemoryStore").field("keys", &len).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError> {
        Ok(self
            .inner
            .entries()
            .records
            .get(key)
            .map(|r| TokenRecord::clone(r)))
    }

    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError> {
        let deadline = deadline_after(wait);
        loop {
            let notified = self.inner.released.notified();
            {
                let mut entries = self.inner.entries();
                let free = entries
                    .leases
                    .get(key)
                    .is_none_or(|&(_, until)| Instant::now() >= until);
                if free {
                    let fence = self.inner.fences.fetch_add(1, Ordering::SeqCst) + 1;
                    entries
                        .leases
                        .insert(key.clone(), (fence, far_instant(ttl)));
                    let guard = MemoryLeaseGuard {
                        store: Arc::downgrade(&self.inner),
                        key: key.clone(),
                        fence,
                    };
                    return Ok(Lease::new(
                        key.clone(),
                        "memory",
                        fence,
                        ttl,
                        Some(Box::new(guard)),
                    ));
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(lease_timeout(key, wait));
            }
            let _ = tokio::time::timeout(LEASE_POLL.min(deadline - now), notified).await;
        }
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError> {
        lease.check()?;
        let mut entries = self.inner.entries();
        match entries.leases.get_mut(&lease.key) {
            Some((fence, until)) if *fence == lease.fence => {
                *until = far_instant(ttl);
                lease.extend(ttl);
                Ok(())
            }
            _ => Err(lost_lease(&lease.key)),
        }
    }

    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        self.save_record(lease, Arc::new(token.clone()))
    }

    async fn save_shared(
        &self,
        lease: &Lease,
        token: &Arc<Token>,
    ) -> Result<TokenRecord, AuthError> {
        self.save_record(lease, Arc::clone(token))
    }

    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        lease.check()?;
        let mut entries = self.inner.entries();
        if entries.fence(&lease.key) != Some(lease.fence) {
            return Err(lost_lease(&lease.key));
        }
        let mut marked = None;
        if let Some(record) = entries.records.get_mut(&lease.key)
            && record.version == version
        {
            record.version += 1;
            record.refresh_token_dead = true;
            record.updated_at = Utc::now();
            marked = Some(record.version);
        }
        drop(entries);
        if marked.is_some() {
            self.inner.listeners.notify(&lease.key, marked);
        }
        Ok(())
    }

    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        // Dropping the lease's guard releases it.
        drop(lease);
        Ok(())
    }

    fn watch(&self, key: &StoreKey, listener: std::sync::Weak<dyn StoreListener>) -> bool {
        self.inner.listeners.add(key.clone(), listener);
        true
    }

    /// Calls the key's listeners synchronously.
    async fn announce_refresh(&self, lease: &Lease, base: u64) -> Result<(), AuthError> {
        lease.check()?;
        self.inner.listeners.notify_refresh(&lease.key, base);
        Ok(())
    }
}

impl MemoryStore {
    /// Saves `token` (kept as this `Arc`) as the next version of the lease's record.
    fn save_record(&self, lease: &Lease, token: Arc<Token>) -> Result<TokenRecord, AuthError> {
        lease.check()?;
        let mut entries = self.inner.entries();
        if entries.fence(&lease.key) != Some(lease.fence) {
            return Err(lost_lease(&lease.key));
        }
        let stored = entries.records.get_mut(&lease.key);
        let record = TokenRecord::new(
            stored.as_ref().map_or(0, |r| r.version) + 1,
            token,
            Utc::now(),
        );
        match stored {
            Some(stored) => **stored = record.clone(),
            None => {
                entries
                    .records
                    .insert(lease.key.clone(), Box::new(record.clone()));
            }
        }
        drop(entries);
        self.inner
            .listeners
            .notify(&lease.key, Some(record.version));
        Ok(record)
    }
}

fn lost_lease(key: &StoreKey) -> AuthError {
    AuthError::Store {
        message: format!("the refresh lease on {key} was taken over; the result was not saved"),
        source: None,
    }
}

// ---------------------------------------------------------------------------------------

/// A store of one JSON file per key in a directory, safe across processes.
///
/// - Saves never leave a torn file: the record is written to a temporary file created
///   with mode `0600` in the same directory, fsynced, renamed over the old one, and the
///   directory is fsynced.
/// - The lease is an OS lock (`flock`) on a sidecar `.lock` file, so a process that dies
///   mid-refresh releases it at once.
///
/// Records hold refresh tokens in clear text (mode `0600`): put the directory where only
/// the application's user can read it.
///
/// # No change notifications
///
/// It does not notify other processes of a new record ([`TokenStore::watch`] is the
/// default, `false`). Processes on one host still refresh together: a provider derives
/// its refresh instant from the stored token (its persisted issue and expiry times) and
/// the store key (the subject's phase on the refresh grid), never from
/// per-process randomness, so every process holding the same record enters the refresh
/// window at the same instant; one takes the lease and refreshes, the others wait on the
/// lease and adopt what it saved.
///
/// Nor does it announce refreshes ([`TokenStore::announce_refresh`] is the default, a
/// no-op): with a grant that revokes the previous access token, only the lease holder
/// stops handing out its token while its refresh runs; the other processes hand out
/// theirs until they read the store (`provider.send` retries a rejected one).
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    #[cfg(test)]
    crash_before_rename: Arc<std::sync::atomic::AtomicBool>,
}

impl FileStore {
    /// A store in `dir` (created with mode `0700` on first save if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            #[cfg(test)]
            crash_before_rename: Arc::default(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, key: &StoreKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.file_stem()))
    }

    fn lock_path(&self, key: &StoreKey) -> PathBuf {
        self.dir.join(format!("{}.lock", key.file_stem()))
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> AuthError {
    AuthError::store(format!("{what} {}", path.display()), error)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::store("store task failed", e))?
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError> {
        let path = self.record_path(key);
        blocking(move || read_record(&path)).await
    }

    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError> {
        let dir = self.dir.clone();
        let path = self.lock_path(key);
        let file = blocking(move || {
            create_dir(&dir)?;
            let mut options = std::fs::OpenOptions::new();
            options.create(true).truncate(false).read(true).write(true);
            // Private like the records: the lock file holds only the fencing counter,
            // but the directory's files should all be the application's alone.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(&path)
                .map_err(|e| io_error("cannot open lock file", &path, e))
        })
        .await?;
        let file = Arc::new(file);
        let deadline = deadline_after(wait);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    let fence = {
                        let file = Arc::clone(&file);
                        let path = self.lock_path(key);
                        blocking(move || next_fence(&file, &path)).await?
                    };
                    let owner = format!("pid {}", std::process::id());
                    // The OS lock is the lease: held until released, or the process dies.
                    let _ = ttl;
                    return Ok(Lease::held_until_released(
                        key.clone(),
                        owner,
                        fence,
                        Box::new(file),
                    ));
                }
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io_error("cannot lock", &self.lock_path(key), e));
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(lease_timeout(key, wait));
            }
            tokio::time::sleep(LEASE_POLL.min(deadline - now)).await;
        }
    }

    async fn renew(&self, lease: &Lease, _ttl: Duration) -> Result<(), AuthError> {
        // The OS lock is held until released: nothing to extend.
        match lease.guard {
            Some(_) => Ok(()),
            None => Err(lost_lease(&lease.key)),
        }
    }

    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        lease.check()?;
        if lease.guard.is_none() {
            return Err(lost_lease(&lease.key));
        }
        let path = self.record_path(&lease.key);
        let dir = self.dir.clone();
        let token = token.clone();
        #[cfg(test)]
        let crash = self.crash_before_rename.load(Ordering::SeqCst);
        #[cfg(not(test))]
        let crash = false;
        blocking(move || {
            let version = read_record(&path)?.map_or(0, |r| r.version) + 1;
            let record = TokenRecord::new(version, token, Utc::now());
            write_atomically(&dir, &path, &record, crash)?;
            Ok(record)
        })
        .await
    }

    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        lease.check()?;
        if lease.guard.is_none() {
            return Err(lost_lease(&lease.key));
        }
        let path = self.record_path(&lease.key);
        let dir = self.dir.clone();
        blocking(move || {
            let Some(mut record) = read_record(&path)? else {
                return Ok(());
            };
            if record.version != version {
                return Ok(());
            }
            record.version += 1;
            record.refresh_token_dead = true;
            record.updated_at = Utc::now();
            write_atomically(&dir, &path, &record, false)
        })
        .await
    }

    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        // Dropping the guard closes the file, which releases the OS lock.
        drop(lease);
        Ok(())
    }
}

/// The next fencing number of a key, under its OS lock: one more than the last grant's
/// (kept in the lock file), and at least the wall clock in nanoseconds, as before this
/// counter existed, so it also grows past fences granted by older versions. A clock
/// stepped back cannot make it shrink.
fn next_fence(file: &std::fs::File, path: &Path) -> Result<u64, AuthError> {
    use std::io::{Read as _, Seek as _, Write as _};
    let mut text = String::new();
    let mut file = file;
    file.seek(std::io::SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text))
        .map_err(|e| io_error("cannot read", path, e))?;
    let last = text.trim().parse::<u64>().unwrap_or(0);
    let now = u64::try_from(Utc::now().timestamp_nanos_opt().unwrap_or_default()).unwrap_or(0);
    let fence = last.saturating_add(1).max(now);
    file.set_len(0)
        .and_then(|()| file.seek(std::io::SeekFrom::Start(0)))
        .and_then(|_| file.write_all(fence.to_string().as_bytes()))
        .map_err(|e| io_error("cannot write", path, e))?;
    Ok(fence)
}

fn create_dir(dir: &Path) -> Result<(), AuthError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| io_error("cannot create store directory", dir, e))
}

fn read_record(path: &Path) -> Result<Option<TokenRecord>, AuthError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => zeroize::Zeroizing::new(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("cannot read", path, e)),
    };
    match serde_json::from_slice::<StoredRecord>(&bytes) {
        Ok(stored) => Ok(Some(stored.into_record())),
        Err(e) => {
            // Saves are atomic, so this file was damaged from outside. Keep it for
            // inspection under another name and carry on as if the store were empty,
            // rather than failing every refresh from now on.
            let aside = path.with_extension(format!("corrupt-{}", Utc::now().timestamp()));
            let moved = std::fs::rename(path, &aside).is_ok();
            // serde's category and position only: never the content.
            tracing::error!(
                path = %path.display(),
                kept_as = %aside.display(),
                moved,
                error = ?e.classify(),
                line = e.line(),
                column = e.column(),
                "token record is not valid; set aside, the store is treated as empty"
            );
            if moved {
                Ok(None)
            } else {
                Err(AuthError::Store {
                    message: format!(
                        "token record {} is not valid ({:?} at line {} column {}) and could not be set aside",
                        path.display(),
                        e.classify(),
                        e.line(),
                        e.column()
                    ),
                    source: None,
                })
            }
        }
    }
}

fn write_atomically(
    dir: &Path,
    path: &Path,
    record: &TokenRecord,
    crash_before_rename: bool,
) -> Result<(), AuthError> {
    use std::io::Write as _;
    create_dir(dir)?;
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(&StoredRecord::from_record(record))
            .map_err(|e| AuthError::store("cannot encode token record", e))?,
    );
    let mut suffix = [0u8; 8];
    let _ = getrandom::getrandom(&mut suffix);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("record"),
        u64::from_le_bytes(suffix)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut file = options
            .open(&tmp)
            .map_err(|e| io_error("cannot create", &tmp, e))?;
        file.write_all(&bytes)
            .map_err(|e| io_error("cannot write", &tmp, e))?;
        file.sync_all()
            .map_err(|e| io_error("cannot sync", &tmp, e))?;
        if crash_before_rename {
            // Test hook: behave as if the process died here.
            return Err(AuthError::Store {
                message: "simulated crash before rename".into(),
                source: None,
            });
        }
        std::fs::rename(&tmp, path).map_err(|e| io_error("cannot rename onto", path, e))?;
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("cannot sync directory", dir, e))?;
        Ok(())
    })();
    if result.is_err() && !crash_before_rename {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The on-disk form. Secret types are not `Serialize` on purpose; this record exposes
/// them explicitly, and only here. `version` must stay the first field: see
/// [`TokenRecord::to_json`].
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    version: u64,
    updated_at: DateTime<Utc>,
    access_token: String,
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default)]
    scopes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issued_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token_issued_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    refresh_token_dead: bool,
}

impl Drop for StoredRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.access_token.zeroize();
        if let Some(rt) = self.refresh_token.as_mut() {
            rt.zeroize();
        }
    }
}

impl StoredRecord {
    fn from_record(record: &TokenRecord) -> Self {
        let token = &record.token;
        Self {
            version: record.version,
            updated_at: record.updated_at,
            access_token: token.access_token().expose_secret().to_owned(),
            token_type: token.token_type().to_owned(),
            expires_at: token.expires_at(),
            refresh_token: token.refresh_token().map(|r| r.expose_secret().to_owned()),
            scopes: token.scopes().to_string(),
            issued_at: token.issued_at(),
            refresh_token_issued_at: token.refresh_token_issued_at(),
            refresh_token_dead: record.refresh_token_dead,
        }
    }

    fn into_record(mut self) -> TokenRecord {
        let scopes: Scopes<String> = self
            .scopes
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect();
        let mut token = Token::new(
            AccessToken::new(std::mem::take(&mut self.access_token)),
            self.expires_at,
        )
        .with_token_type(std::mem::take(&mut self.token_type))
        .with_refresh_token_opt(self.refresh_token.take().map(RefreshToken::new))
        .with_scopes(scopes);
        if let Some(issued) = self.issued_at {
            token = token.with_issued_at(issued);
        }
        if let Some(issued) = self.refresh_token_issued_at {
            token = token.with_refresh_token_issued_at(issued);
        }
        TokenRecord {
            version: self.version,
            token: Arc::new(token),
            updated_at: self.updated_at,
            refresh_token_dead: self.refresh_token_dead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StoreKey {
        StoreKey::new("easyship", "sandbox", "client/1", "seller 7")
    }

    fn token(n: u32) -> Token {
        Token::new(
            AccessToken::new(format!("at-{n}")),
            DateTime::from_timestamp(1_800_000_000 + i64::from(n), 123_456_000),
        )
        .with_refresh_token(RefreshToken::new(format!("rt-{n}")))
        .with_scopes("a b".parse().unwrap())
        .with_refresh_token_issued_at(DateTime::from_timestamp(1_700_000_000, 0).unwrap())
    }

    #[test]
    fn json_form_starts_with_the_version_and_round_trips() {
        let record = TokenRecord::new(42, token(1), Utc::now());
        let json = record.to_json().unwrap();
        assert!(json.starts_with(r#"{"version":42,"#), "{}", json.as_str());
        let back = TokenRecord::from_json(json.as_bytes()).unwrap();
        assert_eq!(back.version, 42);
        assert_eq!(back.token.access_token().expose_secret(), "at-1");
        let err = TokenRecord::from_json(br#"{"access_token":"leaked"#).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("leaked"));
    }

    #[test]
    fn key_renders_unambiguously() {
        assert_eq!(key().file_stem(), "easyship.sandbox.client%2F1.seller%207");
        assert_ne!(
            StoreKey::new("a.b", "c", "d", "").file_stem(),
            StoreKey::new("a", "b.c", "d", "").file_stem()
        );
    }

    #[test]
    fn key_parts_equality_and_order_are_those_of_the_four_strings() {
        let parts = [
            ("easyship", "sandbox", "client/1", "seller 7"),
            ("", "", "", ""),
            ("a", "", "b", ""),
            ("ab", "c", "", ""),
            ("a", "bc", "", ""),
            (
                "amazon-sp",
                "production",
                "amzn1.application-oa2-client.x",
                "A1ÜSELLER",
            ),
        ];
        let keys: Vec<StoreKey> = parts
            .iter()
            .map(|&(v, e, c, s)| StoreKey::new(v, e, c, s))
            .collect();
        for (key, &(v, e, c, s)) in keys.iter().zip(&parts) {
            assert_eq!(
                (
                    key.vendor(),
                    key.environment(),
                    key.client_id(),
                    key.subject()
                ),
                (v, e, c, s)
            );
            assert_eq!(key.to_string(), format!("{v}/{e}/{c}/{s}"));
        }
        for (a, pa) in keys.iter().zip(&parts) {
            for (b, pb) in keys.iter().zip(&parts) {
                assert_eq!(a == b, pa == pb, "{a} == {b}");
                assert_eq!(a.cmp(b), pa.cmp(pb), "{a} cmp {b}");
            }
        }
        // Same text, other boundaries: other keys.
        assert_eq!(keys[3].to_string().replace('/', ""), "abc");
        assert_ne!(keys[3], keys[4]);
    }

    #[test]
    fn key_clones_share_one_buffer() {
        // A provider, its store entry and its listener registration each hold the key
        // (issue 16's memory per subject).
        let key = key();
        let clone = key.clone();
        assert_eq!(key.vendor().as_ptr(), clone.vendor().as_ptr());
        assert!(std::mem::size_of::<StoreKey>() <= 32);
    }

    #[tokio::test]
    async fn memory_store_shares_the_token_text_with_the_saver() {
        // One copy of a seller's tokens in the process, whether the provider that saved
        // them or one that loads them holds them (issue 16's memory per subject).
        let store = MemoryStore::new();
        let lease = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        let saved = token(1);
        store.save(&lease, &saved).await.unwrap();
        let loaded = store.load(&key()).await.unwrap().unwrap().token;
        let text = |token: &Token| {
            (
                token.access_token().expose_secret().as_ptr(),
                token.refresh_token().unwrap().expose_secret().as_ptr(),
            )
        };
        assert_eq!(text(&loaded), text(&saved));
    }

    #[tokio::test]
    async fn memory_store_keeps_a_lease_only_while_it_is_held() {
        // Per key at rest: the key and a boxed record, nothing for the lease (issue 16's
        // memory per subject).
        let store = MemoryStore::new();
        let lease = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        store.save(&lease, &token(1)).await.unwrap();
        assert_eq!(store.inner.entries().leases.len(), 1);
        store.release(lease).await.unwrap();
        let entries = store.inner.entries();
        assert_eq!((entries.records.len(), entries.leases.len()), (1, 0));
    }

    async fn round_trip(store: &dyn TokenStore) {
        assert!(store.load(&key()).await.unwrap().is_none());
        let lease = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        let saved = store.save(&lease, &token(1)).await.unwrap();
        assert_eq!(saved.version, 1);
        let saved = store.save(&lease, &token(2)).await.unwrap();
        assert_eq!(saved.version, 2);
        store.release(lease).await.unwrap();
        let loaded = store.load(&key()).await.unwrap().unwrap();
        assert_eq!(loaded.version, 2);
        assert_eq!(loaded.token.access_token().expose_secret(), "at-2");
        assert_eq!(
            loaded.token.refresh_token().unwrap().expose_secret(),
            "rt-2"
        );
        assert_eq!(loaded.token.scopes().to_string(), "a b");
        assert_eq!(loaded.token.expires_at(), token(2).expires_at());
        assert_eq!(
            loaded.token.refresh_token_issued_at(),
            token(2).refresh_token_issued_at()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_store_passes_the_conformance_suite() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
        conformance::check_store(store.clone(), store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        conformance::check_store(
            Arc::new(FileStore::new(dir.path())),
            Arc::new(FileStore::new(dir.path())),
        )
        .await;
    }

    #[tokio::test]
    async fn memory_store_round_trips() {
        round_trip(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn file_store_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        round_trip(&FileStore::new(dir.path().join("tokens"))).await;
    }

    #[tokio::test]
    async fn lease_is_exclusive_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let stores: [Box<dyn TokenStore>; 2] = [
            Box::new(MemoryStore::new()),
            Box::new(FileStore::new(dir.path())),
        ];
        for store in stores {
            let held = store
                .lease(&key(), Duration::from_secs(60), Duration::ZERO)
                .await
                .unwrap();
            let err = store
                .lease(&key(), Duration::from_secs(60), Duration::from_millis(30))
                .await
                .unwrap_err();
            assert!(matches!(err, AuthError::Store { .. }), "{store:?}");
            store.release(held).await.unwrap();
            let again = store
                .lease(&key(), Duration::from_secs(60), Duration::ZERO)
                .await;
            assert!(again.is_ok(), "{store:?}");
        }
    }

    #[tokio::test]
    async fn save_after_lease_expired_is_refused() {
        let store = MemoryStore::new();
        let lease = store
            .lease(&key(), Duration::ZERO, Duration::ZERO)
            .await
            .unwrap();
        assert!(store.save(&lease, &token(1)).await.is_err());
        assert!(store.renew(&lease, Duration::from_secs(60)).await.is_err());
        assert!(store.load(&key()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_renewed_memory_lease_holds_past_its_first_ttl() {
        let store = MemoryStore::new();
        let lease = store
            .lease(&key(), Duration::from_millis(50), Duration::ZERO)
            .await
            .unwrap();
        store.renew(&lease, Duration::from_secs(60)).await.unwrap();
        std::thread::sleep(Duration::from_millis(60));
        assert!(store.save(&lease, &token(1)).await.is_ok());
        // Still exclusive.
        assert!(
            store
                .lease(&key(), Duration::from_secs(1), Duration::ZERO)
                .await
                .is_err()
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_lock_file_is_private_too() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let lease = store
            .lease(&key(), Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap();
        let mode = std::fs::metadata(store.lock_path(&key()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(lease);
    }

    #[tokio::test]
    async fn a_file_lease_is_the_os_lock_and_never_expires_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        // Whatever TTL is asked for: the OS lock is held until released.
        let lease = store
            .lease(&key(), Duration::ZERO, Duration::ZERO)
            .await
            .unwrap();
        assert!(!lease.is_expired());
        store.renew(&lease, Duration::ZERO).await.unwrap();
        assert!(store.save(&lease, &token(1)).await.is_ok());
        let other = FileStore::new(dir.path());
        assert!(
            other
                .lease(&key(), Duration::from_secs(1), Duration::ZERO)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn file_fences_grow_even_when_the_clock_is_behind_the_last_grant() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        // A grant far in the clock's future (a clock since stepped back).
        let last = u64::MAX - 10;
        let lease = store
            .lease(&key(), Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap();
        store.release(lease).await.unwrap();
        std::fs::write(store.lock_path(&key()), last.to_string()).unwrap();
        let lease = store
            .lease(&key(), Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(lease.fence(), last + 1);
        store.release(lease).await.unwrap();
        let lease = store
            .lease(&key(), Duration::from_secs(1), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(lease.fence(), last + 2);
    }

    #[tokio::test]
    async fn marking_a_refresh_token_dead_is_a_new_version_of_that_record_only() {
        let dir = tempfile::tempdir().unwrap();
        let stores: [Box<dyn TokenStore>; 2] = [
            Box::new(MemoryStore::new()),
            Box::new(FileStore::new(dir.path())),
        ];
        for store in stores {
            let lease = store
                .lease(&key(), Duration::from_secs(60), Duration::ZERO)
                .await
                .unwrap();
            store.save(&lease, &token(1)).await.unwrap();
            store.save(&lease, &token(2)).await.unwrap();
            // Version 1 is not the record any more: nothing changes.
            store.mark_refresh_token_dead(&lease, 1).await.unwrap();
            let record = store.load(&key()).await.unwrap().unwrap();
            assert_eq!(
                (record.version, record.refresh_token_dead),
                (2, false),
                "{store:?}"
            );
            store.mark_refresh_token_dead(&lease, 2).await.unwrap();
            let record = store.load(&key()).await.unwrap().unwrap();
            assert_eq!(
                (record.version, record.refresh_token_dead),
                (3, true),
                "{store:?}"
            );
            assert_eq!(
                record
                    .token
                    .refresh_token()
                    .map(|r| r.expose_secret().to_owned()),
                token(2)
                    .refresh_token()
                    .map(|r| r.expose_secret().to_owned()),
            );
        }
    }

    #[tokio::test]
    async fn memory_save_after_takeover_is_refused() {
        let store = MemoryStore::new();
        // A zero TTL: the lease is up at once and the next taker gets it.
        let stale = store
            .lease(&key(), Duration::ZERO, Duration::ZERO)
            .await
            .unwrap();
        let fresh = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        assert!(store.save(&stale, &token(1)).await.is_err());
        assert!(store.save(&fresh, &token(2)).await.is_ok());
    }

    #[tokio::test]
    async fn crash_between_write_and_rename_leaves_the_old_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let lease = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        store.save(&lease, &token(1)).await.unwrap();
        store.crash_before_rename.store(true, Ordering::SeqCst);
        assert!(store.save(&lease, &token(2)).await.is_err());
        store.crash_before_rename.store(false, Ordering::SeqCst);
        // The half-done write is a stray temp file; the record is the old one, whole.
        let stray = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(stray, 1);
        let loaded = store.load(&key()).await.unwrap().unwrap();
        assert_eq!(
            (loaded.version, loaded.token.access_token().expose_secret()),
            (1, "at-1")
        );
        // The next save still works.
        assert_eq!(store.save(&lease, &token(3)).await.unwrap().version, 2);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn record_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let lease = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        store.save(&lease, &token(1)).await.unwrap();
        let mode = std::fs::metadata(store.record_path(&key()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[tokio::test]
    async fn corrupt_record_is_set_aside_and_the_store_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        std::fs::write(store.record_path(&key()), br#"{"access_token":"leaked-at""#).unwrap();
        assert!(store.load(&key()).await.unwrap().is_none());
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".corrupt-"))
            .collect();
        assert_eq!(kept.len(), 1, "the damaged file is kept for inspection");
        // Saving works again.
        let lease = store
            .lease(&key(), Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(store.save(&lease, &token(1)).await.unwrap().version, 1);
    }

    #[tokio::test]
    async fn dropped_memory_lease_is_released() {
        let store = MemoryStore::new();
        let lease = store
            .lease(&key(), Duration::from_secs(3600), Duration::ZERO)
            .await
            .unwrap();
        drop(lease); // a cancelled refresh never calls release
        assert!(
            store
                .lease(&key(), Duration::from_secs(60), Duration::ZERO)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn huge_ttl_and_wait_do_not_panic() {
        let store = MemoryStore::new();
        let lease = store
            .lease(&key(), Duration::MAX, Duration::MAX)
            .await
            .unwrap();
        assert!(!lease.is_expired());
    }
}

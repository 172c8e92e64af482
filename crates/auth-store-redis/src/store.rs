//! [`RedisStore`] and its [`TokenStore`] implementation.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{AuthError, Lease, StoreKey, StoreListener, Token, TokenRecord, TokenStore};
use chrono::Utc;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

use crate::RedisStoreBuilder;
use crate::notify::{Notifier, REFRESHING};
use crate::scripts::{ACQUIRE, MARK_DEAD, RELEASE, RENEW, SAVE, UNVERSIONED_PREFIX};

/// The first pause between two attempts at a lease held elsewhere; it doubles up to
/// [`LEASE_POLL_MAX`].
const LEASE_POLL_MIN: Duration = Duration::from_millis(10);
/// The longest pause between two attempts at a lease held elsewhere.
const LEASE_POLL_MAX: Duration = Duration::from_millis(100);
/// How long [`announce_refresh`](TokenStore::announce_refresh) waits after its `PUBLISH`
/// before it returns and the refresh request goes out: the other processes need a
/// moment to hear it (the subscriber's socket, then a busy runtime's scheduling) and the
/// API calls they started with the old token a moment to land, before the vendor revokes
/// it; their callers wait meanwhile anyway. The fleet test (8 processes on 2 shared
/// cores, 2-second tokens) measured the API calls made with a revoked token: 0.5% with no
/// lead, 0.1% with 10 ms, none with 30 ms. It costs each refresh 30 ms of waiting for the
/// callers of every process on the key.
const ANNOUNCEMENT_LEAD: Duration = Duration::from_millis(30);
/// The longest TTL sent to Redis (a configured `Duration::MAX` means "practically
/// forever"; `PX` takes milliseconds that must not overflow on the server).
const MAX_TTL_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// A [`TokenStore`] in Redis, shared by every process that reaches the same server: one
/// refresh at a time across a fleet, and every process sees the token it saved.
///
/// **The values hold secrets** (access and refresh tokens in clear text): the Redis
/// server must be access-controlled (a password or an ACL user, `rediss://` across any
/// network you do not trust, no public port).
///
/// - The record of a key is one JSON value with its version, written by a Lua script
///   that checks the lease and bumps the version atomically.
/// - The lease is `SET … NX PX ttl` with a random owner id and a fencing number from a
///   per-key counter (`INCR`); it is renewed by a compare-and-`PEXPIRE` script and
///   released by a compare-and-delete script. A lease dropped without
///   [`release`](TokenStore::release) (a cancelled refresh) is released by a task its
///   drop spawns on the current tokio runtime (outside one, or if Redis is unreachable,
///   it expires after its TTL).
/// - A process waiting for the lease polls with backoff (10 ms doubling to 100 ms).
///
/// # How other processes learn of a new token: pub/sub, polling as the fallback
///
/// Doorkeeper (Easyship's token server) revokes the previous access token when it issues
/// a new one, so every process on a key must adopt a new token at once, not at its own
/// next refresh. The save and mark scripts `PUBLISH` `version record-key` on
/// `{prefix}token-changes`, atomically with the write; a store built with
/// [`builder`](Self::builder) runs one subscriber connection (started when the first
/// provider registers, [`TokenStore::watch`]) and tells the providers of that key, which
/// load and adopt the record: milliseconds after the save, for any number of providers,
/// without a task per provider. Pub/sub rather than keyspace notifications, which need
/// `notify-keyspace-events` in the server's configuration (often not allowed on managed
/// Redis) and fire on every write, lease renewals included.
///
/// The lease holder of a key whose grant revokes the previous access token also
/// publishes `refreshing base record-key` right before its token request
/// ([`TokenStore::announce_refresh`]), so that every process stops handing out the token
/// of record `base` before the vendor revokes it, and waits for the save's message.
///
/// A message published while the subscriber is disconnected is lost: it reconnects with
/// backoff (100 ms doubling to 5 s), pings after 10 s of silence to notice a dead
/// connection, and after each (re)subscription tells every provider to re-read. Meanwhile
/// the providers fall back on what they did without notifications: a refresh waiting for
/// another process's lease reloads the record at least every 250 ms, and every provider
/// reads the store when its own token comes due. A store made with
/// [`from_manager`](Self::from_manager) publishes but does not subscribe.
///
/// Cheap to clone: clones share one multiplexed connection ([`ConnectionManager`],
/// which reconnects by itself).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    key_prefix: String,
    /// The change channel, `{prefix}token-changes`.
    channel: String,
    /// The subscriber (stores from the builder only).
    notifier: Option<Arc<Notifier>>,
    /// `owner:fence` of the leases [`release`](TokenStore::release) is releasing, so
    /// their drop does not release them a second time.
    releasing: Arc<Mutex<HashSet<String>>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

/// The three Redis keys of one [`StoreKey`].
struct Keys {
    record: String,
    lease: String,
    fence: String,
}

impl RedisStore {
    /// A builder for the server at `url`: `redis://127.0.0.1:6379/`, or with TLS and a
    /// password `rediss://:PASSWORD@redis.internal:6380/0` (feature `rustls`), or an ACL
    /// user `rediss://tokens:PASSWORD@redis.internal:6380/0`.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(url)
    }

    /// A store over a connection you configured yourself (its timeouts are then yours to
    /// bound).
    pub fn from_manager(connection: ConnectionManager) -> Self {
        Self {
            connection,
            key_prefix: String::new(),
            channel: channel_name(""),
            notifier: None,
            releasing: Arc::default(),
        }
    }

    /// Subscribes to change notifications through `notifier` (the builder's).
    pub(crate) fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = Some(Arc::new(notifier.with_channel(self.channel.clone())));
        self
    }

    /// The same store with `prefix` before every key (and on its change channel).
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self.channel = channel_name(&self.key_prefix);
        if let Some(notifier) = self.notifier.take() {
            self.notifier = Some(Arc::new(notifier.with_channel(self.channel.clone())));
        }
        self
    }

    /// The key prefix (empty by default).
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    fn keys(&self, key: &StoreKey) -> Keys {
        // `{stem}`: a Redis Cluster hash tag, so the three keys share a slot.
        let base = format!("{}{{{}}}", self.key_prefix, key.file_stem());
        Keys {
            record: format!("{base}:record"),
            lease: format!("{base}:lease"),
            fence: format!("{base}:fence"),
        }
    }

    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }
}

/// A [`Lease`]'s guard: releases the lease when it is dropped without
/// [`release`](TokenStore::release).
struct ReleaseOnDrop {
    connection: ConnectionManager,
    lease_key: String,
    value: String,
    releasing: Arc<Mutex<HashSet<String>>>,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let released_by_caller = self
            .releasing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.value);
        if released_by_caller {
            return;
        }
        // No runtime (a drop at shutdown): the lease expires after its TTL.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let mut connection = self.connection.clone();
            let key = std::mem::take(&mut self.lease_key);
            let value = std::mem::take(&mut self.value);
            runtime.spawn(async move {
                let released: Result<i64, _> = RELEASE
                    .key(&key)
                    .arg(&value)
                    .invoke_async(&mut connection)
                    .await;
                if let Err(error) = released {
                    tracing::debug!(%error, "a dropped lease was not released; it expires after its TTL");
                }
            });
        }
    }
}

/// The change channel of a key prefix.
fn channel_name(prefix: &str) -> String {
    format!("{prefix}token-changes")
}

/// A Redis error as an [`AuthError`]: [`AuthError::StoreUnavailable`] when Redis could not
/// be reached or did not answer in time (the provider then keeps serving its token and
/// refreshes alone only when that cannot break a single-use chain), else
/// [`AuthError::Store`].
fn redis_error(what: &str, key: &StoreKey, error: redis::RedisError) -> AuthError {
    let message = format!("redis: cannot {what} {key}");
    if error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
    {
        AuthError::store_unavailable(message, error)
    } else {
        AuthError::store(message, error)
    }
}

fn lost_lease(key: &StoreKey) -> AuthError {
    AuthError::Store {
        message: format!(
            "the refresh lease on {key} expired or was taken over; the result was not saved"
        ),
        source: None,
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).map_or(MAX_TTL_MS, |ms| ms.clamp(1, MAX_TTL_MS))
}

/// `owner:fence`, the lease's value in Redis.
fn lease_value(lease: &Lease) -> String {
    format!("{}:{}", lease.owner(), lease.fence())
}

fn random_owner() -> String {
    let mut bytes = [0u8; 16];
    // A failing OS RNG leaves zeros; the fence still makes the value unique.
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &StoreKey) -> Result<Option<TokenRecord>, AuthError> {
        let keys = self.keys(key);
        let mut value: Result<Option<Vec<u8>>, _> = self.connection().get(&keys.record).await;
        if value
            .as_ref()
            .is_err_and(|e| e.is_io_error() || e.is_connection_dropped())
        {
            // The connection broke while idle (Redis restarted, a failover): the manager
            // reconnects on this failure, and a read is safe to send again.
            value = self.connection().get(&keys.record).await;
        }
        let value = value.map_err(|e| redis_error("load", key, e))?;
        let Some(value) = value.map(zeroize::Zeroizing::new) else {
            return Ok(None);
        };
        TokenRecord::from_json(&value)
            .map(Some)
            .map_err(|e| match e {
                AuthError::Store { message, source } => AuthError::Store {
                    message: format!("{} at {}: {message}", key, keys.record),
                    source,
                },
                other => other,
            })
    }

    async fn lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, AuthError> {
        let keys = self.keys(key);
        let owner = random_owner();
        let start = tokio::time::Instant::now();
        let mut pause = LEASE_POLL_MIN;
        loop {
            let fence: u64 = ACQUIRE
                .key(&keys.lease)
                .key(&keys.fence)
                .arg(&owner)
                .arg(ttl_ms(ttl))
                .invoke_async(&mut self.connection())
                .await
                .map_err(|e| redis_error("take the lease on", key, e))?;
            if fence > 0 {
                let guard = ReleaseOnDrop {
                    connection: self.connection(),
                    lease_key: keys.lease,
                    value: format!("{owner}:{fence}"),
                    releasing: Arc::clone(&self.releasing),
                };
                return Ok(Lease::new(
                    key.clone(),
                    owner,
                    fence,
                    ttl,
                    Some(Box::new(guard)),
                ));
            }
            let waited = start.elapsed();
            if waited >= wait {
                return Err(AuthError::Store {
                    message: format!(
                        "another refresh of {key} held the lease for longer than {wait:?}"
                    ),
                    source: None,
                });
            }
            tokio::time::sleep(pause.min(wait - waited)).await;
            pause = (pause * 2).min(LEASE_POLL_MAX);
        }
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<(), AuthError> {
        lease.check()?;
        let keys = self.keys(lease.key());
        let renewed: i64 = RENEW
            .key(&keys.lease)
            .arg(lease_value(lease))
            .arg(ttl_ms(ttl))
            .invoke_async(&mut self.connection())
            .await
            .map_err(|e| redis_error("renew the lease on", lease.key(), e))?;
        if renewed == 1 {
            lease.extend(ttl);
            Ok(())
        } else {
            Err(lost_lease(lease.key()))
        }
    }

    async fn save(&self, lease: &Lease, token: &Token) -> Result<TokenRecord, AuthError> {
        lease.check()?;
        let key = lease.key();
        let keys = self.keys(key);
        let mut record = TokenRecord::new(0, token.clone(), Utc::now());
        let json = record.to_json()?;
        debug_assert!(json.starts_with(UNVERSIONED_PREFIX));
        let version: i64 = SAVE
            .key(&keys.lease)
            .key(&keys.record)
            .arg(lease_value(lease))
            .arg(json.as_bytes())
            .arg(&self.channel)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|e| redis_error("save", key, e))?;
        match version {
            -1 => Err(lost_lease(key)),
            v if v > 0 => {
                record.version = v as u64;
                Ok(record)
            }
            _ => Err(AuthError::Store {
                message: format!(
                    "redis: {} holds something that is not a token record; nothing was saved",
                    keys.record
                ),
                source: None,
            }),
        }
    }

    async fn mark_refresh_token_dead(&self, lease: &Lease, version: u64) -> Result<(), AuthError> {
        lease.check()?;
        let key = lease.key();
        let keys = self.keys(key);
        let marked = match self.load(key).await? {
            Some(mut record) if record.version == version => {
                record.version = version + 1;
                record.refresh_token_dead = true;
                record.updated_at = Utc::now();
                record.to_json()?
            }
            _ => zeroize::Zeroizing::new(String::new()),
        };
        let written: i64 = MARK_DEAD
            .key(&keys.lease)
            .key(&keys.record)
            .arg(lease_value(lease))
            .arg(version)
            .arg(marked.as_bytes())
            .arg(&self.channel)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|e| redis_error("mark the refresh token dead for", key, e))?;
        if written == -1 {
            Err(lost_lease(key))
        } else {
            Ok(())
        }
    }

    async fn release(&self, lease: Lease) -> Result<(), AuthError> {
        let keys = self.keys(lease.key());
        let value = lease_value(&lease);
        let released: Result<i64, _> = RELEASE
            .key(&keys.lease)
            .arg(&value)
            .invoke_async(&mut self.connection())
            .await;
        // Released, or failed and left to its TTL: either way its drop does nothing.
        self.releasing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value);
        let key = lease.key().clone();
        drop(lease);
        released
            .map(|_| ())
            .map_err(|e| redis_error("release the lease on", &key, e))
    }

    /// `PUBLISH`es `refreshing base record-key` on the change channel: every subscribed
    /// process (this one too) tells the key's listeners. Returns
    /// 30 ms after the server took it, so that they heard it
    /// before the refresh request goes out.
    async fn announce_refresh(&self, lease: &Lease, base: u64) -> Result<(), AuthError> {
        lease.check()?;
        let key = lease.key();
        let message = format!("{REFRESHING} {base} {}", self.keys(key).record);
        let _receivers: i64 = self
            .connection()
            .publish(&self.channel, message)
            .await
            .map_err(|e| redis_error("announce a refresh of", key, e))?;
        tokio::time::sleep(ANNOUNCEMENT_LEAD).await;
        Ok(())
    }

    fn watch(&self, key: &StoreKey, listener: std::sync::Weak<dyn StoreListener>) -> bool {
        match &self.notifier {
            Some(notifier) => notifier.watch(self.keys(key).record, listener),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_whole_positive_milliseconds_redis_accepts() {
        assert_eq!(ttl_ms(Duration::ZERO), 1);
        assert_eq!(ttl_ms(Duration::from_millis(250)), 250);
        assert_eq!(ttl_ms(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn owners_are_random_hex() {
        let (a, b) = (random_owner(), random_owner());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}

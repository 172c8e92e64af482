//! [`RedisStoreBuilder`]: the URL, a key prefix and the timeouts.

use std::fmt;
use std::time::Duration;

use auth_core::AuthError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::RedisStore;
use crate::notify::Notifier;

/// How long connecting to Redis may take, per attempt (the default).
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its answer (the default).
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How many times a lost connection is re-established before a command fails (the
/// default).
pub const DEFAULT_CONNECTION_RETRIES: usize = 2;

/// Builds a [`RedisStore`]; from [`RedisStore::builder`].
///
/// Every wait is bounded: connecting takes at most the connection timeout per attempt,
/// with [`connection_retries`](Self::connection_retries) more attempts (backoff capped
/// at 1 s); each command fails after the response timeout. A store call makes at most
/// two commands, so with the defaults it answers or fails within a few seconds even
/// when Redis is down or stalled (at once when the server refuses connections).
/// Unreachable or too slow is [`AuthError::StoreUnavailable`]: a provider keeps serving
/// its token meanwhile.
///
/// The change-notification subscriber uses the same connection and response timeouts
/// (for connecting and subscribing, and for a ping after 10 s of silence) and reconnects
/// with backoff from 100 ms to 5 s.
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    key_prefix: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    connection_retries: usize,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("RedisStoreBuilder")
            .field("url", &"[REDACTED]")
            .field("key_prefix", &self.key_prefix)
            .field("connection_timeout", &self.connection_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("connection_retries", &self.connection_retries)
            .finish()
    }
}

impl RedisStoreBuilder {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: String::new(),
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            connection_retries: DEFAULT_CONNECTION_RETRIES,
        }
    }

    /// Puts `prefix` before every key the store writes (`myapp:tokens:`), to share a
    /// Redis database with other data. Empty by default.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long one connection attempt may take ([`DEFAULT_CONNECTION_TIMEOUT`]).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long one command may wait for its answer ([`DEFAULT_RESPONSE_TIMEOUT`]).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How many more times a connection is attempted before giving up
    /// ([`DEFAULT_CONNECTION_RETRIES`]).
    pub fn connection_retries(mut self, retries: usize) -> Self {
        self.connection_retries = retries;
        self
    }

    /// Connects (and authenticates, if the URL holds credentials).
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the URL is not valid or Redis cannot be reached within
    /// the timeouts (the message never holds the URL, which may hold a password).
    pub async fn connect(self) -> Result<RedisStore, AuthError> {
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| AuthError::store("redis: the URL is not valid", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connection_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(self.connection_retries)
            .set_max_delay(Duration::from_secs(1));
        let notifier = Notifier::new(
            client.clone(),
            String::new(),
            self.connection_timeout,
            self.response_timeout,
        );
        let manager = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| {
                if e.is_io_error() || e.is_timeout() || e.is_connection_refusal() {
                    AuthError::store_unavailable("redis: cannot connect", e)
                } else {
                    AuthError::store("redis: cannot connect", e)
                }
            })?;
        Ok(RedisStore::from_manager(manager)
            .with_key_prefix(self.key_prefix)
            .with_notifier(notifier))
    }
}

//! A Redis [`TokenStore`](auth_core::TokenStore): one token and one refresh chain shared
//! by a fleet of processes on many machines.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use auth_core::{AuthError, CachedTokenProvider, StoreKey, TokenSource};
//! use auth_store_redis::RedisStore;
//!
//! async fn provider(grant: impl TokenSource) -> Result<CachedTokenProvider, AuthError> {
//!     // TLS and a password (feature `rustls` for `rediss://`): the values are secrets.
//!     let store = RedisStore::builder("rediss://:PASSWORD@redis.internal:6380/0")
//!         .key_prefix("orders:tokens:")
//!         .response_timeout(Duration::from_millis(500))
//!         .connect()
//!         .await?;
//!     let key = StoreKey::new("easyship", "production", "CLIENT_ID", "seller-42");
//!     Ok(CachedTokenProvider::builder(grant)
//!         .store(Arc::new(store), key)
//!         .build())
//! }
//! ```
//!
//! Every process that builds its provider with the same server and key shares one
//! record: one of them refreshes under the store's lease, saves the rotated refresh
//! token, and the others adopt it instead of spending it again. The
//! [`RedisStore`] docs say how the lease, fencing and versions work.
//!
//! # Security
//!
//! The stored values hold access and refresh tokens in clear text. Redis must be
//! access-controlled: a password or ACL user in the URL, `rediss://` (TLS) across any
//! network you do not trust, no port reachable from outside. The URL is never printed
//! (`Debug` redacts it) nor put in an error.
//!
//! # Timeouts
//!
//! Connecting and every command are bounded (see [`RedisStoreBuilder`]): a store call
//! fails within a few seconds when Redis is down or stalled, it never hangs, with
//! [`AuthError::StoreUnavailable`](auth_core::AuthError::StoreUnavailable) (Redis could
//! not be reached or did not answer in time; a provider keeps serving its valid token)
//! or [`AuthError::Store`](auth_core::AuthError::Store) (Redis answered with an error).
//!
//! # Feature flags
//!
//! - `rustls`: `rediss://` URLs (TLS through rustls, with the process's crypto provider,
//!   ring with auth-core's default features).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod notify;
mod scripts;
mod store;

pub use builder::{
    DEFAULT_CONNECTION_RETRIES, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT,
    RedisStoreBuilder,
};
pub use store::RedisStore;

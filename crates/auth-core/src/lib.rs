//! Vendor-neutral building blocks for getting, caching and refreshing OAuth access tokens.
//!
//! Vendor crates (`auth-easyship`, `auth-amazon-sp`, `auth-pitneybowes`,
//! `auth-orangeconnex`) build on this crate; library authors implement [`TokenSource`]
//! (and [`Scope`]) to add a vendor or a custom grant.
//!
//! # Example
//!
//! ```
//! use auth_core::{AccessToken, AuthScheme, RequestBuilderExt, Scopes, Token};
//! use chrono::{Duration, Utc};
//!
//! // What a grant flow returns: the expiry is our send time plus `expires_in`.
//! let token = Token::new(AccessToken::new("secret-token"), Some(Utc::now() + Duration::hours(2)))
//!     .with_scopes("rate label".parse::<Scopes<String>>().unwrap());
//!
//! // Secrets never print.
//! assert_eq!(format!("{:?}", token.access_token()), "AccessToken([REDACTED])");
//!
//! // Put it on an API request the way the vendor expects.
//! auth_core::install_crypto_provider();
//! let request = reqwest::Client::new()
//!     .get("https://api.example.com/v1/shipments")
//!     .auth_token(&AuthScheme::Bearer, &token)
//!     .build()
//!     .unwrap();
//! assert!(request.headers()["authorization"].is_sensitive());
//! ```
//!
//! # Concepts
//!
//! - Secrets ([`AccessToken`], [`RefreshToken`], [`ClientSecret`], [`Secret`]) have a
//!   redacted `Debug`, no `Display`, no `Serialize`; the value is reachable only through
//!   `expose_secret()`.
//! - [`Token`] expiry is the local send time plus `expires_in`; a server-issued time may
//!   only make it earlier ([`token::expiry`]).
//! - [`AuthError`] is `Clone` and never holds a secret.
//! - [`http::TokenHttpClient`] is the one token call: timeouts, retries, no redirects,
//!   body cap, HTTPS only (loopback excepted). A request that spends a single-use
//!   refresh token is never sent twice unless it provably never reached the vendor
//!   ([`http::TokenRequest::spends_single_use_credential`]).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod clock;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
pub mod endpoint;
mod error;
pub mod grant;
pub mod http;
#[cfg(feature = "middleware")]
mod middleware;
mod provider;
pub mod redact;
pub mod redirect;
mod scheme;
mod scope;
mod secret;
mod send;
mod source;
pub mod store;
mod subjects;
pub mod token;
pub mod vendor;

pub use cache::TokenCache;
pub use clock::{Clock, ManualClock, SystemClock};
pub use endpoint::IntoUrl;
pub use error::{AuthError, OAuthErrorCode};
#[cfg(feature = "middleware")]
#[cfg_attr(docsrs, doc(cfg(feature = "middleware")))]
pub use middleware::TokenMiddleware;
pub use provider::{
    CachedTokenProvider, CachedTokenProviderBuilder, DEFAULT_FAILURE_BACKOFF, DEFAULT_LEASE_TTL,
    DEFAULT_LEASE_WAIT, DEFAULT_MIN_VALID, DEFAULT_REFRESH_BEFORE, ProviderStatus,
};
pub use scheme::{AuthScheme, RequestBuilderExt, api_http_client, same_origin_redirects};
pub use scope::{Scope, Scopes, UnknownScope};
pub use secret::{AccessToken, ClientId, ClientSecret, RefreshToken, Secret, State};
pub use send::REJECTED_BODY_PREFIX;
pub use source::{FnSource, StaticSource, TokenSource};
pub use store::{
    FileStore, Lease, MemoryStore, StoreKey, StoreListener, StoreListeners, TokenRecord, TokenStore,
};
pub use subjects::{SubjectClient, SubjectTokens, SubjectTokensBuilder};
pub use token::Token;
pub use vendor::{ApiAccess, VendorClient};

/// The vendor's check that an API response means "this access token was rejected"
/// (status, headers, body), used by [`CachedTokenProvider::send_with_token`]. The body is
/// at most the first [`REJECTED_BODY_PREFIX`] bytes of the response's.
pub type RejectedTokenCheck = fn(reqwest::StatusCode, &reqwest::header::HeaderMap, &[u8]) -> bool;

/// Installs rustls' ring crypto provider as the process default, unless one is installed.
///
/// This crate's clients call it for you. Call it yourself before building your own
/// `reqwest::Client` (`reqwest::Client::new()` panics without a provider when reqwest's
/// `rustls-no-provider` feature is the TLS backend, as it is here: ring builds about 25 s
/// faster than aws-lc-rs on two cores). Idempotent; a no-op without the `rustls` feature.
pub fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    {
        // Err only means a provider is installed already, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// `"<crate name>/<version>"` of the crate that invokes it: the product a vendor crate
/// passes to [`TokenHttpClient`](http::TokenHttpClient) (and
/// [`EndpointConfig::token_http_client`](endpoint::EndpointConfig::token_http_client)),
/// which makes the `User-Agent` `<product> auth-core/<version>`. One rule for every
/// vendor crate.
///
/// # Examples
///
/// ```
/// assert!(auth_core::product!().starts_with("auth-core/"));
/// ```
#[macro_export]
macro_rules! product {
    () => {
        concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"))
    };
}

/// Re-exported so vendor crates and users name the same versions.
pub use async_trait::async_trait;
pub use chrono;
pub use reqwest;
pub use url::Url;

/// The README's example, compiled and run as a doctest (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

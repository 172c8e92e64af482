//! OAuth tokens for the Pitney Bowes Shipping API.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/oauth/token");
//! #     then.status(200).header("content-type", "application/json").body(
//! #         r#"{"access_token":"m22wyEgfHlA0LudkGG9gG2xB04Cv","tokenType":"BearerToken",
//! #             "issuedAt":"1456851460568","expiresIn":"35999","org":"pitneybowes"}"#,
//! #     );
//! # });
//! use auth_core::RequestBuilderExt;
//! use auth_pitneybowes::{Client, Environment};
//!
//! let client = Client::builder()
//!     .api_key("your-api-key")
//!     .api_secret("your-api-secret")
//!     .environment(Environment::Sandbox)
//! #   .token_url(server.url("/oauth/token").parse()?)
//!     .build()?; // a wrong configuration fails here, before any request
//!
//! // POST /oauth/token, Authorization: Basic base64(key:secret), grant_type=client_credentials
//! let token = client.client_credentials().await?;
//! assert!(token.expires_at().is_some()); // send time + expiresIn (10 hours less 1 s)
//!
//! // Shipping API calls carry it as `Authorization: Bearer <token>`.
//! // One API client, shared: it follows redirects within the API's origin only.
//! let api = auth_core::api_http_client()?;
//! let request = api
//!     .post(client.api_url("v1/addresses/verify")?)
//!     .auth_token(client.auth_scheme(), &token)
//!     .build()?;
//! assert!(request.headers()["authorization"].is_sensitive());
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - [`Client`] holds the API key and secret of one [`Environment`] (sandbox and
//!   production have separate keys). The token host and the API host are configured
//!   apart ([`ClientBuilder::token_url`], [`ClientBuilder::api_base_url`]); one
//!   [`ClientBuilder::base_url`] moves both (emulators, proxies).
//! - [`Client::provider`] is a cached, auto-refreshing token (one request for many
//!   callers); `CachedTokenProvider::send_with_token(.., &AUTH_SCHEME, token_rejected)`
//!   replaces a token the API rejects and retries once; send with
//!   [`auth_core::api_http_client`], which follows redirects only within the same
//!   origin (a default `reqwest::Client` follows them to any host). [`Client::store_key`] keys a
//!   shared store by environment and a fingerprint of the API key (never the key itself:
//!   store keys are logged and name files).
//! - The only grant is client credentials ([`ClientCredentialsGrant`], a
//!   [`TokenSource`](auth_core::TokenSource)): there is no refresh token, a new token is
//!   simply requested again. Tokens last 10 hours; Pitney Bowes advises reusing one until
//!   it expires, and several may be valid at once.
//! - [`wire::TokenResponse`] reads both response shapes: the classic one
//!   (`tokenType: "BearerToken"`, `issuedAt` in epoch milliseconds and `expiresIn` in
//!   seconds, both as strings) and the RFC 6749 one (`token_type`, numeric `expires_in`,
//!   `scope`). The expiry is our send time plus the lifetime, made earlier (never later)
//!   by the server's `issuedAt` or a JWT's `exp` when the server clock is close to ours.
//! - Errors in every Pitney Bowes format ([`wire::ErrorResponse`]) become an
//!   [`AuthError`](auth_core::AuthError); a 401 from the token endpoint says the key or
//!   secret was rejected for this environment. [`token_rejected`] tells a cached provider
//!   that an API response rejected the token (401, `PB-APIM-ERR-1002`/`1003`).
//! - Secrets never reach `Debug`, `Display` or an error message.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod endpoint;
mod error;
mod generated;
mod grant;
mod scope;
pub mod wire;

pub use client::{AUTH_SCHEME, Client, ClientBuilder};
pub use endpoint::{API_BASE_PATH, Environment, TOKEN_PATH};
pub use error::{EXPIRED_ACCESS_TOKEN, INVALID_ACCESS_TOKEN, VENDOR, token_rejected};
pub use grant::ClientCredentialsGrant;
pub use scope::Scope;

/// The core crate, re-exported so users name the same version.
pub use auth_core;

/// The README's example, compiled and run as a doctest (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

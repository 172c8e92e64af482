//! OAuth tokens for the Pitney Bowes Shipping API.
//!
//! # Example
//!
//! Build the client, get its provider, send Shipping API calls through it: the provider
//! gets a token, caches it for its 10 hours, puts it on every request as
//! `Authorization: Bearer`, and when the API rejects it (`PB-APIM-ERR-1003`, expired)
//! gets a new one and sends the request once more.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_pitneybowes::{Client, Environment, VendorClient};
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/oauth/token");
//! #     then.status(200).header("content-type", "application/json").body(
//! #         r#"{"access_token":"m22wyEgfHlA0LudkGG9gG2xB04Cv","tokenType":"BearerToken",
//! #             "issuedAt":"1456851460568","expiresIn":"35999","org":"pitneybowes"}"#,
//! #     );
//! # });
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/shippingservices/v1/addresses/verify")
//! #         .header("authorization", "Bearer m22wyEgfHlA0LudkGG9gG2xB04Cv");
//! #     then.status(200).body(r#"{"addressLines":["27 Waterview Dr"]}"#);
//! # });
//!
//! let client = Client::builder()
//!     .api_key("your-api-key")
//!     .api_secret("your-api-secret")
//!     .environment(Environment::Sandbox) // the default is Production
//!     .base_url(server.base_url()) // a local stand-in; leave out to call Pitney Bowes
//!     .build()?; // a wrong configuration fails here, before any request
//!
//! let provider = client.provider();
//! let request = client
//!     .http_client()
//!     .post(client.api_url("v1/addresses/verify")?)
//!     .header("content-type", "application/json")
//!     .body(r#"{"addressLines":["27 Waterview Dr"]}"#);
//! let response = provider.send(request).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - [`Client`] holds the API key and secret of one [`Environment`] (sandbox and
//!   production have separate keys). **The default environment is production**, as in
//!   every vendor crate of this workspace: choose [`Environment::Sandbox`] explicitly.
//!   The token host and the API host are configured apart ([`ClientBuilder::token_url`],
//!   [`ClientBuilder::api_base_url`]); one [`ClientBuilder::base_url`] moves both
//!   (emulators, proxies). URL setters take `&str`, `String` or `Url`.
//! - The vendor contract is auth-core's [`VendorClient`], implemented by [`Client`] with
//!   the same names as in every vendor crate: `token_url()`, `api_base_url()`,
//!   `api_url(path)`, `auth_scheme()` (`Authorization: Bearer`), `token_rejected(..)`
//!   (401, `PB-APIM-ERR-1002`/`1003`), `store_key(subject)`, `http_client()` (for API
//!   calls: it follows redirects only within the request's origin).
//! - [`Client::provider`] is a cached, auto-refreshing token (one request for many
//!   callers) whose `send(request)` does the rest; [`Client::provider_builder`] adds a
//!   store: `.store(store, client.store_key(Client::APP_SUBJECT))` (a token belongs to
//!   the developer account, not to a merchant). The store key holds a fingerprint of the
//!   API key ([`auth_core::redact::fingerprint`]), never the key itself.
//! - The only grant is client credentials ([`ClientCredentialsGrant`], a
//!   [`TokenSource`](auth_core::TokenSource)): there is no refresh token, a new token is
//!   simply requested again ([`Client::client_credentials`]). Tokens last 10 hours;
//!   Pitney Bowes advises reusing one until it expires, and several may be valid at once.
//! - [`wire::TokenResponse`] reads both response shapes: the classic one
//!   (`tokenType: "BearerToken"`, `issuedAt` in epoch milliseconds and `expiresIn` in
//!   seconds, both as strings) and the RFC 6749 one (`token_type`, numeric `expires_in`,
//!   `scope`). The expiry is our send time plus the lifetime, made earlier (never later)
//!   by the server's `issuedAt` or a JWT's `exp` when the server clock is close to ours.
//! - Errors in every Pitney Bowes format ([`wire::ErrorResponse`]) become an
//!   [`AuthError`](auth_core::AuthError); a 401 from the token endpoint says the key or
//!   secret was rejected for this environment.
//! - Secrets never reach `Debug`, `Display` or an error message.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod client;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
mod endpoint;
mod error;
mod generated;
mod grant;
mod scope;
pub mod wire;

pub use builder::ClientBuilder;
pub use client::Client;
pub use endpoint::{API_BASE_PATH, Environment, TOKEN_PATH};
pub use error::{EXPIRED_ACCESS_TOKEN, INVALID_ACCESS_TOKEN};
pub use grant::ClientCredentialsGrant;
pub use scope::Scope;

/// The vendor contract [`Client`] implements (`token_url()`, `api_url(..)`,
/// `store_key(..)`...), re-exported so that one `use` brings it into scope.
pub use auth_core::vendor::VendorClient;

/// The core crate, re-exported so users name the same version.
pub use auth_core;

/// The README's example, compiled and run as a doctest (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

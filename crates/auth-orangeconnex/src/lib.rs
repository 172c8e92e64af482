//! OAuth tokens for the Orange Connex (eBay Fulfillment) Open API: the seller's
//! authorization code, refresh tokens sent in the query string, and the `Access-Token`
//! header, on top of [`auth_core`]'s cached, single-flight
//! [`CachedTokenProvider`](auth_core::CachedTokenProvider).
//!
//! # Example
//!
//! Build the client, get a provider for the seller's refresh token, send Open API calls
//! through it. Here the client is pointed at a local stand-in of Orange Connex (an
//! httpmock server); drop the `base_url` line to talk to Orange Connex itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::{RefreshToken, VendorClient};
//! use auth_orangeconnex::Client;
//!
//! // A local stand-in of the token endpoint and the Open API.
//! let server = httpmock::MockServer::start_async().await;
//! server.mock(|when, then| {
//!     when.method("POST").path("/oauth/token").query_param("grant_type", "refresh_token");
//!     then.status(200).header("content-type", "application/json").body(
//!         r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1"}"#,
//!     );
//! });
//! server.mock(|when, then| {
//!     when.method("POST").path("/openapi/3pp/sku/v3/creation").header("access-token", "Bearer at-1");
//!     then.status(200).body(r#"{"success":true}"#);
//! });
//!
//! let client = Client::builder()
//!     .client_id("bd1d1971-d0db-11ea-b4a1-00505694c27b")
//!     .base_url(server.base_url()) // every Orange Connex endpoint -> the local server
//!     .build()?; // a wrong configuration fails here, before any request
//!
//! // The seller's refresh token, from `client.exchange_code(..)` after the browser step
//! // (`client.authorize_url(..)`, `parse_redirect(..)`). Add a store shared by your
//! // processes with `client.refresh_provider_builder(..).store(store, client.store_key("seller-42"))`.
//! let provider = client.refresh_provider(RefreshToken::new("rt-1"));
//!
//! // `send` puts `Access-Token: Bearer <token>` on the request, refreshing first when
//! // needed; if the API says the token was rejected, it refreshes and retries once.
//! let response = provider
//!     .send(client.http_client().post(client.api_url("3pp/sku/v3/creation")?))
//!     .await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! The default environment is [`Environment::Production`], as in every vendor crate of
//! this workspace; [`ClientBuilder::environment`] picks another (`Environment::Stage`).
//!
//! The browser step, before any of this:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/oauth/token").query_param("grant_type", "authorization_code");
//! #     then.status(200).header("content-type", "application/json").body(
//! #         r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1"}"#,
//! #     );
//! # });
//! use auth_orangeconnex::{parse_redirect, refresh_token_expires_at, Client, Environment};
//!
//! let client = Client::builder()
//!     .client_id("bd1d1971-d0db-11ea-b4a1-00505694c27b")
//!     .environment(Environment::Stage)
//!     .base_url(server.base_url()) // a local stand-in
//!     .build()?;
//!
//! // 1. Send the seller's browser to Orange Connex; keep `state` in their session.
//! let redirect_uri = "https://app.example.com/oc/callback";
//! let (url, state) = client.authorize_url(redirect_uri);
//! # let _ = url;
//!
//! // 2. On the redirect, check the state and take the code (decoded once), then exchange
//! //    it: POST /oauth/token?client_id=…&grant_type=authorization_code&redirect_uri=…&code=…
//! let back = format!("{redirect_uri}?code=gTJjJKyOR0F%252FYo5&state={}", state.as_str());
//! let code = parse_redirect(&back.parse()?, &state)?;
//! let token = client.exchange_code(code, redirect_uri).await?;
//! assert_eq!(token.refresh_token().map(|t| t.expose_secret()), Some("rt-1"));
//! // The refresh token lives one year from now: alert before that.
//! let lapses = refresh_token_expires_at(&token).expect("issued just now");
//! # let _ = lapses;
//!
//! // 3. Hand the whole token to a provider (it keeps the refresh token's age).
//! let provider = client
//!     .refresh_provider_builder(token.refresh_token().unwrap().clone())
//!     .seed(token)
//!     .build();
//! # drop(provider);
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - [`Client`] holds the client id ("3PP id") of one [`Environment`] (production, the
//!   default: `openapi-hk`; stage `openapi-stage-hk`; two observed hosts are listed as
//!   unofficial), generated from `spec/environments.toml`, and implements auth-core's
//!   [`VendorClient`], the contract every vendor crate's client
//!   shares (`token_url()`, `api_base_url()`, `auth_scheme()`, `store_key(..)`, …).
//!   [`ClientBuilder::base_url`] moves every endpoint at once (emulators, proxies),
//!   [`ClientBuilder::token_url`] the token endpoint only.
//! - **Everything is in the query string.** Both token calls are `POST /oauth/token` with
//!   an empty body and every parameter, the code and the refresh token included, in the
//!   URL, each value percent-encoded exactly once (a `+` reaches the server as `%2B`).
//!   So the request URL is never logged, put in a tracing span, shown by `Debug` or quoted
//!   in an error (transport errors have their URL removed in `auth_core`), and the code
//!   and refresh token are removed from any quoted error body.
//! - **Codes may contain percent-escapes.** Pass [`Client::exchange_code`] the code as
//!   decoded once from the redirect (what [`parse_redirect`] and web frameworks give):
//!   the vendor's sample `code=gTJjJKyOR0F%252FYo5…` is the value `gTJjJKyOR0F%2FYo5…` and
//!   is sent as `%252F` again. Decoding twice sends a different code (`invalid_grant`).
//! - **No client secret.** Orange Connex documents none on its token calls;
//!   [`ClientBuilder::client_secret`] is accepted and never sent. The optional `clientKey`
//!   header is [`ClientBuilder::client_key`].
//! - **Refresh tokens are kept.** A refresh may or may not return a new refresh token;
//!   the returned one is kept, and when none comes back the one sent is kept (Orange
//!   Connex does not document refresh tokens as single-use). Access tokens last 3600 s
//!   (assumed when `expires_in` is missing, and with a warning when it is zero, negative
//!   or absurd).
//! - **Refresh tokens live one year** ([`REFRESH_TOKEN_LIFETIME`]). A token's
//!   [`refresh_token_issued_at`](auth_core::Token::refresh_token_issued_at) is when its
//!   refresh token was issued, carried over while the vendor does not rotate it and kept
//!   by the stores; [`refresh_token_expires_at`] tells when the seller must authorize
//!   again, and every refresh logs a warning during the last
//!   [`ClientBuilder::refresh_token_warn_before`] (default [`DEFAULT_WARN_BEFORE`], 30
//!   days). Alert on it from your own checks:
//!   `refresh_token_expires_at(&*provider.token().await?)`. A refresh token seeded by hand
//!   has no known age until it rotates: give it with
//!   [`RefreshGrant::refresh_token_issued_at`].
//! - **The `Access-Token` header.** API calls carry the token in `Access-Token`, not
//!   `Authorization` (`Client::auth_scheme`). The default value is
//!   `Bearer <access_token>`, because the one page of the vendor's reference that spells
//!   the value out gives that form (the others show only the header name);
//!   [`ClientBuilder::bearer_prefix`]`(false)` sends the bare token. A provider from
//!   [`Client::refresh_provider`] knows this header and how the API says a token was
//!   rejected (a 401, `invalid_token`): `provider.send(request)` then refreshes and
//!   retries once. Build requests with `Client::http_client`: a default
//!   `reqwest::Client` follows redirects to any host and strips only `Authorization`
//!   there, not `Access-Token`.
//! - **Many sellers, one app**: [`SellerTokens`] keeps a cached, auto-refreshing provider
//!   per seller (bounded, their tokens in one store), all sharing one [`Client`].
//! - Orange Connex has no OAuth scopes: [`Scope`] has no values.
//!
//! # Errors
//!
//! The token endpoint documents HTTP 200 and 201, with `error` and `error_description` in
//! the success schema, and 401, 403, 404. Every response becomes one
//! [`AuthError`](auth_core::AuthError):
//!
//! | response | error |
//! |---|---|
//! | any status, 200 included, with a non-blank `error` | `OAuth` with that code (`is_invalid_grant()` for `invalid_grant`), the description scrubbed of secrets, the status |
//! | 2xx without `access_token` | `Decode` naming what was missing (`Vendor` quoting an `error_description` if only that came) |
//! | 2xx with a `token_type` other than `bearer` (any case) | `Decode` |
//! | 2xx that is not JSON | `Decode`, describing the body's shape, never its values |
//! | 401 / 403 / 404 without an `error` | `Vendor` saying what to check: client id or `clientKey`; the client's access; the URL |
//! | other non-2xx | `Http` with a scrubbed excerpt; 5xx and 429 are retried (a refresh: see below) |
//! | no response | `Transport` or `Timeout`, without the URL; retried (a refresh: see below) |
//!
//! A refresh is sent once, as if its refresh token were single-use: Orange Connex does
//! not say whether it rotates them, and if it does, a second send would spend one twice
//! and lose the new one. It is retried only when it provably never reached the vendor (a
//! connect, DNS or TLS error; HTTP 429 or 503), a slow answer is awaited for the retry
//! policy's whole budget, and when the outcome is unknown (no answer within the budget,
//! a connection lost mid-response, another 5xx) the error is
//! [`AuthError::OutcomeUnknown`](auth_core::AuthError::OutcomeUnknown), never
//! `invalid_grant`. Code exchanges keep the full retries.

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
pub use client::{
    ACCESS_TOKEN_HEADER, CLIENT_KEY_HEADER, Client, parse_redirect, parse_redirect_query,
};
pub use endpoint::{API_BASE_PATH, AUTHORIZE_PATH, Endpoints, Environment, TOKEN_PATH};
pub use grant::{
    AuthorizationCodeGrant, DEFAULT_WARN_BEFORE, REFRESH_TOKEN_LIFETIME, RefreshGrant,
    SellerTokens, SellerTokensBuilder, refresh_token_expires_at,
};
pub use scope::Scope;

/// The core crate, re-exported so users name the same version.
/// The vendor contract [`Client`] implements (`token_url()`, `api_url(..)`,
/// `store_key(..)`...), re-exported so that one `use` brings it into scope.
pub use auth_core::vendor::VendorClient;

/// The core crate, re-exported so users name the same version.
pub use auth_core;

/// The README's example, compiled and run as a doctest (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

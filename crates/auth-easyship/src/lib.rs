//! Easyship OAuth tokens: the seller's authorization code and single-use refresh-token
//! rotation, Enterprise client credentials and delegated accounts, and dashboard API keys,
//! on top of [`auth_core`]'s cached, single-flight [`CachedTokenProvider`].
//!
//! # Example
//!
//! Build the client, get a provider for the seller's refresh token, send API calls
//! through it. Here the client is pointed at a local stand-in of Easyship (an httpmock
//! server); drop the `base_url` line to talk to Easyship itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::{RefreshToken, VendorClient};
//! use auth_easyship::Client;
//!
//! // A local stand-in of Easyship's token endpoint and API.
//! let server = httpmock::MockServer::start_async().await;
//! server.mock(|when, then| {
//!     when.method("POST").path("/oauth2/token");
//!     then.status(200).header("content-type", "application/json").body(
//!         r#"{"access_token":"at-1","token_type":"Bearer","expires_in":7200,"refresh_token":"rt-2"}"#,
//!     );
//! });
//! server.mock(|when, then| {
//!     when.method("GET").path("/2024-09/account").header("authorization", "Bearer at-1");
//!     then.status(200).body(r#"{"account":{}}"#);
//! });
//!
//! let client = Client::builder()
//!     .client_id("my-client-id")
//!     .client_secret("my-client-secret")
//!     .base_url(server.base_url()) // every Easyship host -> the local server
//!     .build()?; // a wrong configuration fails here, before any request
//!
//! // The seller's refresh token, from `client.exchange_code(..)` after the browser step
//! // (`client.authorize_url(..)`, `parse_redirect(..)`). Add a store shared by your
//! // processes with `client.refresh_provider_builder(..).store(store, client.store_key("seller-42"))`.
//! let provider = client.refresh_provider(RefreshToken::new("rt-1"));
//!
//! // `send` puts `Authorization: Bearer <token>` on the request, refreshing first when
//! // needed; if Easyship says the token was rejected, it refreshes and retries once.
//! let response = provider
//!     .send(client.http_client().get(client.api_url("2024-09/account")?))
//!     .await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! The default environment is [`Environment::Production`], as in every vendor crate of
//! this workspace; [`ClientBuilder::environment`] picks another.
//!
//! The browser step, before any of this:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/oauth2/token");
//! #     then.status(200).header("content-type", "application/json").body(
//! #         r#"{"access_token":"at-1","token_type":"Bearer","expires_in":7200,"refresh_token":"rt-1","scope":"public.shipment:write public.rate:read"}"#,
//! #     );
//! # });
//! use auth_core::Scopes;
//! use auth_easyship::{Client, Scope};
//!
//! let client = Client::builder()
//!     .client_id("my-client-id")
//!     .client_secret("my-client-secret")
//!     .token_url(server.url("/oauth2/token")) // a local stand-in of the token endpoint
//!     .build()?;
//!
//! // 1. Send the seller to Easyship; keep `state` in their session.
//! let scopes: Scopes<Scope> = "public.shipment:write public.rate:read".parse()?;
//! let (url, state) = client.authorize_url("https://example.com/easyship/callback", &scopes)?;
//! assert_eq!(url.host_str(), Some("auth.easyship.com"));
//!
//! // 2. On the redirect, check the state and take the code, then exchange it (a JSON
//! //    body: grant_type=authorization_code, client id and secret, code, redirect_uri).
//! # let redirect = format!("https://example.com/easyship/callback?code=c0de&state={}", state.as_str());
//! let redirect: auth_core::Url = redirect.parse()?; // the URL the seller came back to
//! let code = auth_easyship::parse_redirect(&redirect, &state)?;
//! let token = client
//!     .exchange_code(code, "https://example.com/easyship/callback")
//!     .await?;
//! assert_eq!(token.scopes().len(), 2);
//!
//! // 3. Save `token.refresh_token()`, or hand the whole token to a provider right away:
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
//! - [`Scope`] is generated from `spec/scopes.toml`: 33 legacy scopes (API 2023-01 and
//!   older), 50 enhanced `public.<resource>:<read|write>` scopes (2024-09 and newer) and
//!   the Enterprise scopes Easyship names. Legacy and enhanced scopes are never mixed; a
//!   set is checked ([`scope`]) before any request, and every offending scope is named in
//!   [`AuthError::InvalidScope`](auth_core::AuthError::InvalidScope).
//! - [`Client`] has one method per token endpoint call, on the partner or the Enterprise
//!   endpoint ([`Endpoint`]), in production (the default) or the sandbox
//!   ([`Environment`]), and implements auth-core's
//!   [`VendorClient`], the contract every vendor crate's client
//!   shares (`token_url()`, `api_base_url()`, `auth_scheme()`, `store_key(..)`, …).
//!   Request bodies are JSON with exactly the documented properties ([`wire`]). Easyship
//!   documents OAuth for production only: a sandbox client is refused by `build()` with
//!   [`AuthError::InvalidConfig`](auth_core::AuthError::InvalidConfig) until
//!   [`ClientBuilder::token_url`] or [`ClientBuilder::base_url`] names a stand-in; sandbox
//!   API calls normally use a `sand_…` [`ApiKeySource`].
//! - Expiry is our send time plus `expires_in`, made earlier (never later) by Easyship's
//!   `created_at` when that is within a few minutes of our clock. A missing, zero,
//!   negative or absurd `expires_in` is not believed: the typical 7200 s are assumed
//!   ([`wire::DEFAULT_ACCESS_TOKEN_LIFETIME`]) and a warning logged.
//! - **Refresh tokens are single-use.** Every refresh returns a new one and the old one is
//!   dead; reusing it is `invalid_grant` and the seller must authorize again. Let a
//!   [`CachedTokenProvider`] with a [`TokenStore`](auth_core::TokenStore) drive
//!   [`RefreshGrant`] ([`Client::refresh_provider_builder`] builds one): it refreshes
//!   once for all callers and processes, and saves the new refresh token before
//!   publishing the access token. `Client::store_key` keys the
//!   store by environment, client id and seller, so a sandbox token is never served in
//!   production. A refresh request is never sent twice unless it provably never reached
//!   Easyship; an unknown outcome (no answer within the retry budget, a connection lost
//!   mid-response, a 5xx other than 503) is
//!   [`AuthError::OutcomeUnknown`](auth_core::AuthError::OutcomeUnknown).
//! - API requests carry `Authorization: Bearer <token>` (`Client::auth_scheme`). A
//!   provider from [`Client::refresh_provider`] or [`Client::client_credentials_provider`]
//!   knows it, and knows how Easyship says a token was rejected (a 401 with
//!   `invalid_token`, or a bare 401): `provider.send(request)` then refreshes and
//!   retries once. Build requests with `Client::http_client` (it follows redirects
//!   within the same origin only) rather than a default `reqwest::Client`, which follows
//!   them to any host.
//! - Dashboard API keys (`prod_…`, `sand_…`) are an [`ApiKeySource`]: a token that never
//!   expires, checked against the environment.
//! - **Many sellers, one app**: [`SellerTokens`] keeps a cached, auto-refreshing provider
//!   per seller (bounded, every rotation in one store), all sharing one [`Client`].
//!
//! [`CachedTokenProvider`]: auth_core::CachedTokenProvider

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod client;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
pub mod endpoint;
mod error;
mod generated;
pub mod grant;
pub mod scope;
pub mod wire;

pub use builder::ClientBuilder;
pub use client::{Client, parse_redirect, parse_redirect_query};
pub use endpoint::{ApiFamily, Endpoint, Environment};
pub use grant::{
    ApiKeySource, AuthorizationCodeGrant, ClientCredentialsGrant, DelegatedAccountGrant,
    RefreshGrant, SellerTokens, SellerTokensBuilder,
};
pub use scope::{Access, Generation, Scope};

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

//! Easyship OAuth tokens: the seller's authorization code and single-use refresh-token
//! rotation, Enterprise client credentials and delegated accounts, and dashboard API keys,
//! on top of [`auth_core`]'s cached, single-flight [`CachedTokenProvider`].
//!
//! # Example
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
//! use std::sync::Arc;
//! use auth_core::{CachedTokenProvider, MemoryStore, RequestBuilderExt, Scopes};
//! use auth_easyship::{ApiFamily, Client, RefreshGrant, Scope};
//!
//! let client = Client::builder()
//!     .client_id("my-client-id")
//!     .client_secret("my-client-secret")
//! #   .token_url(server.url("/oauth2/token").parse()?)
//!     .build()?; // a wrong configuration fails here, before any request
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
//! // 3. From then on a provider keeps the seller's token fresh, saving each rotated
//! //    (single-use) refresh token before the new access token is used.
//! let provider = CachedTokenProvider::builder(RefreshGrant::new(client.clone()))
//!     .store(Arc::new(MemoryStore::new()), client.store_key("seller-42"))
//!     .seed(token)
//!     .build();
//! let token = provider.token().await?;
//!
//! // API calls carry `Authorization: Bearer <token>`. Build one API client and share it:
//! // it follows redirects only within Easyship's origin, so the token never leaves it.
//! let api = auth_core::api_http_client()?;
//! let request = api
//!     .get(client.api_base_url(ApiFamily::Public).join("2024-09/shipments")?)
//!     .auth_token(client.auth_scheme(), &token)
//!     .build()?;
//! assert!(request.headers()["authorization"].is_sensitive());
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
//!   endpoint ([`Endpoint`]), in production or the sandbox ([`Environment`]). Request
//!   bodies are JSON with exactly the documented properties ([`wire`]). Easyship
//!   documents OAuth for production only: a sandbox client builds, but its token calls
//!   fail with [`AuthError::InvalidConfig`](auth_core::AuthError::InvalidConfig) until
//!   [`ClientBuilder::token_url`] or [`ClientBuilder::base_url`] names a stand-in; sandbox
//!   API calls normally use a `sand_…` [`ApiKeySource`].
//! - Expiry is our send time plus `expires_in`, made earlier (never later) by Easyship's
//!   `created_at` when that is within a few minutes of our clock. A missing, zero,
//!   negative or absurd `expires_in` is not believed: the typical 7200 s are assumed
//!   ([`wire::DEFAULT_ACCESS_TOKEN_LIFETIME`]) and a warning logged.
//! - **Refresh tokens are single-use.** Every refresh returns a new one and the old one is
//!   dead; reusing it is `invalid_grant` and the seller must authorize again. Let a
//!   [`CachedTokenProvider`] with a [`TokenStore`](auth_core::TokenStore) drive
//!   [`RefreshGrant`]: it refreshes once for all callers and processes, and saves the new
//!   refresh token before publishing the access token. [`Client::store_key`] keys the
//!   store by environment, client id and seller, so a sandbox token is never served in
//!   production. A refresh request is never sent twice unless it provably never reached
//!   Easyship; an unknown outcome (no answer within the retry budget, a connection lost
//!   mid-response, a 5xx other than 503) is
//!   [`AuthError::OutcomeUnknown`](auth_core::AuthError::OutcomeUnknown).
//! - API requests carry `Authorization: Bearer <token>` ([`Client::auth_scheme`]);
//!   [`token_rejected`] tells the provider's `send_with_token` when Easyship refused a
//!   token, so it refreshes and retries once. Send API calls with
//!   [`auth_core::api_http_client`] (follows redirects within the same origin only)
//!   rather than a default `reqwest::Client`, which follows them to any host.
//! - Dashboard API keys (`prod_…`, `sand_…`) are an [`ApiKeySource`]: a token that never
//!   expires, checked against the environment.
//!
//! [`CachedTokenProvider`]: auth_core::CachedTokenProvider

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod endpoint;
mod error;
mod generated;
pub mod grant;
pub mod scope;
pub mod wire;

pub use client::{AUTH_SCHEME, Client, ClientBuilder, parse_redirect, parse_redirect_query};
pub use endpoint::{ApiFamily, Endpoint, Environment};
pub use error::{VENDOR, token_rejected};
pub use grant::{
    ApiKeySource, AuthorizationCodeGrant, ClientCredentialsGrant, DelegatedAccountGrant,
    RefreshGrant,
};
pub use scope::{Access, Generation, Scope};

/// The core crate, re-exported so users name the same version.
pub use auth_core;

/// The README's example, compiled and run as a doctest (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! Login with Amazon (LWA) tokens for the Amazon Selling Partner API.
//!
//! # Example
//!
//! Build the client, get the seller's provider from its refresh token, send SP-API calls
//! through it: the provider gets an access token, caches it for its hour, puts it in
//! `x-amz-access-token`, and when the API rejects it (403 "The access token you provided
//! has expired.") gets a new one and sends the request once more.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_amazon_sp::{Client, Region, VendorClient};
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/auth/o2/token");
//! #     then.status(200).header("content-type", "application/json").body(
//! #         r#"{"access_token":"Atza|at-1","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|rt-1"}"#,
//! #     );
//! # });
//! # server.mock(|when, then| {
//! #     when.method("GET").path("/sellers/v1/marketplaceParticipations")
//! #         .header("x-amz-access-token", "Atza|at-1");
//! #     then.status(200).body(r#"{"payload":[]}"#);
//! # });
//!
//! let client = Client::builder()
//!     .client_id("amzn1.application-oa2-client.example")
//!     .client_secret("amzn1.oa2-cs.v1.example")
//!     .region(Region::Europe) // the default environment is Production
//!     .base_url(server.base_url()) // a local stand-in; leave out to call Amazon
//!     .build()?; // a wrong configuration fails here, before any request
//!
//! let provider = client.refresh_provider("Atzr|example-refresh-token");
//! let url = client.api_url("sellers/v1/marketplaceParticipations")?;
//! let response = provider.send(client.http_client().get(url)).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! ```
//!
//! Where the refresh token comes from, the website authorization workflow:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = httpmock::MockServer::start_async().await;
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/auth/o2/token");
//! #     then.status(200).header("content-type", "application/json").body(
//! #         r#"{"access_token":"Atza|at-1","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|rt-1"}"#,
//! #     );
//! # });
//! use auth_amazon_sp::{AuthorizationRedirect, Client, ConsentRequest, Marketplace};
//!
//! let client = Client::builder()
//!     .client_id("amzn1.application-oa2-client.example")
//!     .client_secret("amzn1.oa2-cs.v1.example")
//!     .token_url(server.url("/auth/o2/token")) // a local stand-in of LWA
//!     .build()?;
//!
//! // 1. Send the seller to the consent page, keep the state.
//! let (url, state) = client.consent_url(&ConsentRequest::new("amzn1.sp.solution.example", Marketplace::Germany))?;
//! assert!(url.as_str().starts_with("https://sellercentral-europe.amazon.com/apps/authorize/consent?"));
//!
//! // 2. Amazon redirects back; the state is checked before anything else. The code is
//! //    valid for five minutes: exchange it for the seller's refresh token.
//! let query = format!("state={}&selling_partner_id=A3SELLER&spapi_oauth_code=ANcode", state.as_str());
//! let redirect = AuthorizationRedirect::parse(&query, &state)?;
//! let first = client.exchange_code(redirect.spapi_oauth_code().clone(), None).await?;
//! let refresh_token = first.refresh_token().expect("LWA returns one").clone();
//!
//! // 3. Keep the refresh token (SellerTokens::authorize stores it per seller); the
//! //    provider refreshes with it from now on.
//! let provider = client.refresh_provider(refresh_token);
//! # drop(provider);
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - [`Client`] holds one SP-API application's LWA credentials, for one region and
//!   [`Environment`]. **The default environment is production** (and the region North
//!   America), as in every vendor crate of this workspace: choose
//!   [`Environment::Sandbox`] explicitly. URL setters ([`ClientBuilder::token_url`],
//!   [`ClientBuilder::api_base_url`], [`ClientBuilder::base_url`]) take `&str`, `String`
//!   or `Url`.
//! - The vendor contract is auth-core's [`VendorClient`], implemented by [`Client`] with
//!   the same names as in every vendor crate: `token_url()`, `api_base_url()` (the SP-API
//!   host), `api_url(path)`, `auth_scheme()` (`x-amz-access-token`), `token_rejected(..)`
//!   (401, and 403 for an expired or invalid token), `store_key(selling_partner_id)`,
//!   `http_client()` (for SP-API calls: it follows redirects only within the request's
//!   origin; a default `reqwest::Client` would carry `x-amz-access-token` to any host).
//! - **Seller-authorized calls** use the seller's long-lived refresh token:
//!   [`Client::refresh_provider`] (or [`Client::refresh_provider_builder`] to add a store
//!   under `client.store_key(selling_partner_id)`), over [`RefreshGrant`]; the refresh
//!   grant never carries a scope. [`Client::refresh`] is the single call.
//! - **Grantless calls** (notifications destinations, client-secret rotation) use the
//!   `client_credentials` grant with one or more [`Scope`]s: [`Client::grantless_provider`]
//!   over [`GrantlessGrant`], or the single call [`Client::grantless`].
//! - **Website authorization** ([`ConsentRequest`], [`AuthorizationRedirect`],
//!   [`Client::exchange_code`]) turns a seller's consent into its refresh token;
//!   [`AuthorizationCodeGrant`] does the exchange inside a provider.
//! - **Restricted Data Tokens** ([`Client::restricted_data_token`]) replace the access
//!   token on calls returning personal data; [`RestrictedDataTokens`] caches one per
//!   resource set, and its `send` puts the RDT on.
//! - **Many sellers, one app**: [`SellerTokens`] keeps a cached, auto-refreshing provider
//!   per selling-partner id (bounded), all sharing one [`Client`].
//! - **Client-secret rotation**: LWA client secrets expire every 180 days. Credentials come
//!   from a [`CredentialsProvider`], read on every token request; [`RotatingCredentials`]
//!   holds the old and the new secret during a rotation window, and an `invalid_client`
//!   answer to one makes the grant try the other once. Every `invalid_client` error's
//!   hint mentions the rotation.
//! - Form bodies by default, JSON with [`BodyFormat::Json`].

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod client;
mod consent;
mod credentials;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
pub mod endpoint;
mod error;
mod generated;
mod grant;
mod rdt;
mod scope;
pub mod wire;

pub use builder::{BodyFormat, ClientBuilder};
pub use client::Client;
pub use consent::{AuthorizationRedirect, ConsentRequest};
pub use credentials::{Credentials, CredentialsProvider, RotatingCredentials, StaticCredentials};
pub use endpoint::{Environment, Marketplace, Portal, Region};
pub use error::CLIENT_SECRET_ROTATION_HINT;
pub use grant::{
    AuthorizationCodeGrant, GrantlessGrant, RefreshGrant, RestrictedDataTokenSource, SellerTokens,
    SellerTokensBuilder,
};
pub use rdt::RestrictedDataTokens;
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

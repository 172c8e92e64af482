//! Login with Amazon (LWA) tokens for the Amazon Selling Partner API.
//!
//! # Example
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
//! use auth_amazon_sp::{AuthorizationRedirect, Client, ConsentRequest, Marketplace, Region};
//! use auth_core::RequestBuilderExt;
//!
//! let client = Client::builder()
//!     .client_id("amzn1.application-oa2-client.example")
//!     .client_secret("amzn1.oa2-cs.v1.example")
//!     .region(Region::Europe)
//! #   .token_url(server.url("/auth/o2/token").parse()?)
//!     .build()?; // a wrong configuration fails here, before any request
//!
//! // 1. Website authorization: send the seller to the consent page, keep the state.
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
//! // 3. From then on the refresh token gets access tokens (SellerTokens caches them per
//! //    seller), put on SP-API calls as `x-amz-access-token`.
//! let token = client.refresh(&refresh_token).await?;
//! // One API client, shared: it follows redirects within the SP-API origin only.
//! let api = auth_core::api_http_client()?;
//! let request = api
//!     .get(client.sp_api_url().join("sellers/v1/marketplaceParticipations")?)
//!     .auth_token(client.auth_scheme(), &token)
//!     .build()?;
//! assert!(request.headers()["x-amz-access-token"].is_sensitive());
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - **Seller-authorized calls** use the seller's long-lived refresh token
//!   ([`Client::refresh`], [`RefreshGrant`]); the refresh grant never carries a scope.
//! - **Grantless calls** (notifications destinations, client-secret rotation) use the
//!   `client_credentials` grant with one or more [`Scope`]s ([`Client::grantless`],
//!   [`GrantlessGrant`]).
//! - **Website authorization** ([`ConsentRequest`], [`AuthorizationRedirect`],
//!   [`Client::exchange_code`]) turns a seller's consent into its refresh token.
//! - **Restricted Data Tokens** ([`Client::restricted_data_token`]) replace the access
//!   token on calls returning personal data; [`RestrictedDataTokens`] caches one per
//!   resource set.
//! - **Many sellers, one app**: [`SellerTokens`] keeps a cached, auto-refreshing provider
//!   per selling-partner id (bounded), all sharing one [`Client`].
//! - **Client-secret rotation**: LWA client secrets expire every 180 days. Credentials come
//!   from a [`CredentialsProvider`], read on every token request; [`RotatingCredentials`]
//!   holds the old and the new secret during a rotation window, and an `invalid_client`
//!   answer to one makes the grant try the other once. Every `invalid_client` error's
//!   hint mentions the rotation.
//! - The SP-API takes the token in `x-amz-access-token` ([`Client::auth_scheme`]), and
//!   answers an expired one with 403 as well as 401 ([`token_rejected`]). Send SP-API
//!   calls (`SellerTokens::send`, `RestrictedDataTokens::send`, or the provider's
//!   `send_with_token`) with [`auth_core::api_http_client`]: a default
//!   `reqwest::Client` follows redirects to any host and strips only `Authorization`
//!   there, not `x-amz-access-token`.
//! - Form bodies by default, JSON with [`BodyFormat::Json`].

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod consent;
mod credentials;
pub mod endpoint;
mod error;
mod generated;
mod grant;
mod rdt;
mod scope;
mod sellers;
pub mod wire;

pub use client::{ACCESS_TOKEN_HEADER, BodyFormat, Client, ClientBuilder};
pub use consent::{AuthorizationRedirect, ConsentRequest};
pub use credentials::{Credentials, CredentialsProvider, RotatingCredentials, StaticCredentials};
pub use endpoint::{Environment, Marketplace, Portal, Region};
pub use error::{CLIENT_SECRET_ROTATION_HINT, VENDOR, token_rejected};
pub use grant::{GrantlessGrant, RefreshGrant, RestrictedDataTokenSource};
pub use rdt::RestrictedDataTokens;
pub use scope::Scope;
pub use sellers::{SellerTokens, SellerTokensBuilder};

/// The core crate, re-exported so users name the same version.
pub use auth_core;

/// Where SP-API calls carry the token: the `x-amz-access-token` header, not
/// `Authorization`.
///
/// # Examples
///
/// ```
/// use auth_core::{AccessToken, Token};
///
/// let token = Token::new(AccessToken::new("Atza|abc"), None);
/// let (name, value) = auth_amazon_sp::auth_scheme().header_value(&token).unwrap();
/// assert_eq!(name, "x-amz-access-token");
/// assert!(value.is_sensitive());
/// ```
pub fn auth_scheme() -> auth_core::AuthScheme {
    auth_core::AuthScheme::header(ACCESS_TOKEN_HEADER)
}

/// The README's example, compiled and run as a doctest (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

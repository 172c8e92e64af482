//! A local stand-in of Orange Connex's OAuth endpoints and Open API (feature
//! `emulator`), for your tests: no network, no credentials.
//!
//! [`Emulator::start`] serves on `127.0.0.1` (a random port) what Orange Connex serves:
//!
//! - `GET /oauth/authorize?response_type=code&client_id&redirect_uri&state` (all four
//!   required) answers `302` to `{redirect_uri}?code=…&state=…` (or call
//!   [`Emulator::authorize`](auth_core::emulator::Emulator::authorize) with the URL from
//!   [`Client::authorize_url`](crate::Client::authorize_url)); codes hold a `%2F`, as
//!   the vendor's do, so a client that decodes them twice fails;
//! - `POST /oauth/token` with **everything in the query string** and an empty body:
//!   `client_id`, `grant_type=authorization_code`, `redirect_uri` (the authorize step's),
//!   `code`; or `client_id`, `grant_type=refresh_token`, `refresh_token`. Answered
//!   `{access_token, token_type: "bearer", refresh_token, expires_in}`; a spent, lapsed
//!   or revoked refresh token is `invalid_grant` **in an HTTP 200** (Orange Connex puts
//!   errors in its success schema), a bad code a `400`, an unknown client a `401`;
//! - refresh tokens valid **one year**, rotated on every refresh by default (the crate
//!   treats a refresh as spending a single-use credential, since the vendor may rotate):
//!   [`OrangeConnex::without_rotation`] returns the same one instead;
//! - an API probe below `/openapi/` reading the `Access-Token` header (`Bearer <token>`
//!   or the bare token) and answering an expired, revoked or unknown token `401`
//!   `{"error":"invalid_token",…}`.
//!
//! Access tokens live 3600 s unless you set another lifetime. Faults ([`Fault`]) and
//! request counts ([`Counts`]) are auth-core's.
//!
//! # Examples
//!
//! Testing your own code (here `create_sku`) against the emulator:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_orangeconnex::emulator::Emulator;
//! use auth_orangeconnex::{Client, VendorClient, auth_core::{AuthError, CachedTokenProvider}};
//!
//! async fn create_sku(client: &Client, provider: &CachedTokenProvider) -> Result<u16, AuthError> {
//!     let request = client.http_client().post(client.api_url("3pp/sku/v3/creation")?).body("{}");
//!     Ok(provider.send(request).await?.status().as_u16())
//! }
//!
//! let emulator = Emulator::start().await;
//! let client = emulator.client_builder().build()?;
//! let provider = client.refresh_provider(emulator.issue_refresh_token("seller-1", None));
//! assert_eq!(create_sku(&client, &provider).await?, 200);
//! emulator.revoke_access_tokens(); // 401 invalid_token: a new token, one retry
//! assert_eq!(create_sku(&client, &provider).await?, 200);
//! assert_eq!(emulator.counts().grant("refresh_token"), 2);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use auth_core::emulator::{
    self, App, AuthorizeCall, ErrorCode, GrantCall, GrantKind, Issued, Paths, Rejection, Request,
    Response, Rotation, Rules, TokenCall, TokenError, Vendor, random_token, random_uuid,
};
use reqwest::StatusCode;
use serde_json::json;
use url::Url;

use crate::ClientBuilder;
use crate::client::ACCESS_TOKEN_HEADER;
use crate::error::VENDOR;
use crate::grant::REFRESH_TOKEN_LIFETIME;

pub use auth_core::emulator::{Counts, Fault};

/// The Orange Connex emulator: auth-core's [`Emulator`](emulator::Emulator) with the
/// [`OrangeConnex`] model. Start it with `Emulator::start().await`, or
/// `Emulator::builder()` (`EmulatorBuilder::new(OrangeConnex::without_rotation())` for
/// refresh tokens that do not rotate) to choose the client id, redirect URIs, the seller
/// or the token lifetime.
pub type Emulator = emulator::Emulator<OrangeConnex>;

/// The builder of an [`Emulator`].
pub type EmulatorBuilder = emulator::EmulatorBuilder<OrangeConnex>;

/// Orange Connex's wire formats and rules, as the emulator serves them.
#[derive(Debug, Clone)]
pub struct OrangeConnex {
    rotation: Rotation,
}

impl Default for OrangeConnex {
    /// Refresh tokens rotate on every refresh (the one used is spent).
    fn default() -> Self {
        Self {
            rotation: Rotation::SingleUse,
        }
    }
}

impl OrangeConnex {
    /// A model whose refresh returns the refresh token it was given (valid one year from
    /// the code exchange), as some Orange Connex accounts answer.
    pub fn without_rotation() -> Self {
        Self {
            rotation: Rotation::LongLived,
        }
    }
}

impl Vendor for OrangeConnex {
    type ClientBuilder = ClientBuilder;

    fn name(&self) -> &'static str {
        VENDOR
    }

    fn paths(&self) -> Paths {
        // The client's TOKEN_PATH, AUTHORIZE_PATH and API_BASE_PATH below the root.
        Paths::new("/oauth/token", Some("/oauth/authorize"), "/openapi/")
    }

    fn rules(&self) -> Rules {
        let mut rules = Rules::new(&[GrantKind::AuthorizationCode, GrantKind::RefreshToken]);
        rules.rotation = self.rotation;
        rules.refresh_token_lifetime = REFRESH_TOKEN_LIFETIME.to_std().ok();
        rules.access_token_lifetime = Duration::from_secs(3600);
        rules.client_secret_required = false;
        rules
    }

    fn new_client(&self) -> (String, String) {
        (random_token("3pp-", 9), random_token("", 24))
    }

    fn new_access_token(&self) -> String {
        random_uuid()
    }

    fn new_refresh_token(&self) -> String {
        random_uuid()
    }

    fn new_code(&self) -> String {
        // Like the vendor's sample code, a percent-escape inside the value.
        format!("{}%2F{}", random_token("", 8), random_token("", 8))
    }

    fn decode_token_request(&self, request: &Request) -> Result<TokenCall, TokenError> {
        if !request.body().is_empty() {
            return Err(invalid_request(
                None,
                "the parameters go in the query string; the body must be empty",
            ));
        }
        let pairs = request.query_pairs();
        let get = |name| emulator::single(pairs.clone(), name);
        let grant_type =
            get("grant_type").ok_or_else(|| invalid_request(None, "grant_type is missing"))?;
        let Some(kind) = GrantKind::parse(&grant_type) else {
            return Err(TokenError::new(
                ErrorCode::UnsupportedGrantType,
                format!("Unsupported grant type: {grant_type}"),
            ));
        };
        let allowed: &[&str] = match kind {
            GrantKind::AuthorizationCode => &["code", "redirect_uri"],
            _ => &["refresh_token"],
        };
        if let Some((name, _)) = pairs.iter().find(|(name, _)| {
            !["client_id", "grant_type"].contains(&name.as_str())
                && !allowed.contains(&name.as_str())
        }) {
            return Err(invalid_request(
                Some(kind),
                &format!("unexpected parameter {name}"),
            ));
        }
        let required = |name| {
            get(name).ok_or_else(|| invalid_request(Some(kind), &format!("{name} is missing")))
        };
        let grant = match kind {
            GrantKind::AuthorizationCode => GrantCall::AuthorizationCode {
                code: required("code")?,
                redirect_uri: Some(required("redirect_uri")?),
            },
            _ => GrantCall::RefreshToken {
                refresh_token: required("refresh_token")?,
                scope: None,
            },
        };
        Ok(TokenCall::new(Some(required("client_id")?), None, grant))
    }

    fn token_response(&self, _app: &App, issued: &Issued) -> Response {
        let mut body = json!({
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in.as_secs(),
        });
        if let Some(refresh_token) = &issued.refresh_token {
            body["refresh_token"] = json!(refresh_token);
        }
        Response::json(StatusCode::OK, &body)
    }

    fn token_error(&self, error: &TokenError) -> Response {
        let (status, code, description) = match (error.code, error.grant) {
            (ErrorCode::InvalidClient, _) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Full authentication is required to access this resource".to_owned(),
            ),
            // The refresh's errors come in the 200 schema.
            (ErrorCode::InvalidGrant, Some(GrantKind::RefreshToken)) => (
                StatusCode::OK,
                "invalid_grant",
                "Invalid refresh token".to_owned(),
            ),
            (ErrorCode::InvalidGrant, _) => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Invalid authorization code".to_owned(),
            ),
            (other, _) => (
                StatusCode::BAD_REQUEST,
                other.as_str(),
                error.reason.clone(),
            ),
        };
        Response::json(
            status,
            &json!({"error": code, "error_description": description}),
        )
    }

    fn unavailable(&self, status: StatusCode) -> Response {
        Response::json(
            status,
            &json!({"error": "server_error", "error_description": status.canonical_reason().unwrap_or("Server Error")}),
        )
    }

    fn decode_authorize(&self, request: &Request) -> Result<AuthorizeCall, TokenError> {
        let param = |name: &str| {
            request
                .query_param(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid_request(None, &format!("{name} is missing")))
        };
        if param("response_type")? != "code" {
            return Err(invalid_request(None, "response_type must be code"));
        }
        let mut call = AuthorizeCall::new(param("client_id")?);
        call.redirect_uri = Some(param("redirect_uri")?);
        call.state = Some(param("state")?);
        Ok(call)
    }

    fn api_token<'a>(&self, request: &'a Request) -> Option<&'a str> {
        let value = request.header(ACCESS_TOKEN_HEADER)?.trim();
        // `Bearer <token>` (the vendor's one spelled-out example) or the bare token.
        Some(value.strip_prefix("Bearer ").unwrap_or(value)).filter(|v| !v.is_empty())
    }

    fn api_rejected(&self, rejection: Rejection) -> Response {
        let description = match rejection {
            Rejection::Missing => "Access token is missing",
            Rejection::Expired => "Access token expired",
            _ => "Invalid access token",
        };
        Response::json(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": description}),
        )
    }

    fn client_builder(&self, base_url: &Url, app: &App) -> ClientBuilder {
        crate::Client::builder()
            .client_id(app.client_id())
            .base_url(base_url.clone())
    }
}

fn invalid_request(grant: Option<GrantKind>, reason: &str) -> TokenError {
    let error = TokenError::new(ErrorCode::InvalidRequest, reason);
    match grant {
        Some(grant) => error.for_grant(grant),
        None => error,
    }
}

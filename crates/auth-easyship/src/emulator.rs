//! A local stand-in of Easyship's OAuth server and Public API (feature `emulator`), for
//! your tests: no network, no credentials.
//!
//! [`Emulator::start`] serves on `127.0.0.1` (a random port) what Easyship's Doorkeeper
//! server serves:
//!
//! - `GET /oauth2/authorize?client_id&redirect_uri&response_type=code&scope&state`
//!   answers `302` to `{redirect_uri}?code=…&state=…` (or call
//!   [`Emulator::authorize`](auth_core::emulator::Emulator::authorize) with the URL
//!   from [`Client::authorize_url`](crate::Client::authorize_url));
//! - `POST /oauth2/token` with a JSON body holding exactly the documented properties of
//!   `authorization_code`, `refresh_token` or `client_credentials`, answered
//!   `{access_token, token_type, expires_in, refresh_token, scope, created_at}`, or
//!   Doorkeeper's errors (`401 invalid_client`, `400` for every other code);
//! - **single-use refresh tokens**: every refresh returns a new one and spends the one
//!   used (presented again: `invalid_grant`), and revokes the previous access token of
//!   the chain, as Doorkeeper does;
//! - an API probe on every other path taking `Authorization: Bearer`, answering an
//!   expired, revoked or unknown token with the Public API's `401 invalid_token` body.
//!
//! Access tokens (with `/`, `+`, `=` in them, as Easyship's) live 7200 s unless you set
//! another lifetime. Faults ([`Fault`]) and request counts ([`Counts`]) are auth-core's.
//!
//! # Examples
//!
//! Testing your own code (here `ship`) against the emulator, with a seller who
//! authorized the app and a refresh token that rotates on every refresh:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_easyship::emulator::{Emulator, Fault};
//! use auth_easyship::{Client, VendorClient, auth_core::{AuthError, CachedTokenProvider}};
//!
//! async fn ship(client: &Client, provider: &CachedTokenProvider) -> Result<u16, AuthError> {
//!     let request = client.http_client().post(client.api_url("2024-09/shipments")?).body("{}");
//!     Ok(provider.send(request).await?.status().as_u16())
//! }
//!
//! let emulator = Emulator::start().await;
//! let client = emulator.client_builder().build()?;
//! let refresh_token = emulator.issue_refresh_token("seller-1", Some("public.shipment:write"));
//! let provider = client.refresh_provider(refresh_token);
//! emulator.inject(Fault::Status(reqwest::StatusCode::SERVICE_UNAVAILABLE)); // retried
//! assert_eq!(ship(&client, &provider).await?, 200);
//! assert_eq!(emulator.counts().grant("refresh_token"), 2);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use auth_core::emulator::{
    self, App, AuthorizeCall, ErrorCode, GrantCall, GrantKind, Issued, Paths, Rejection, Request,
    Response, Rules, TokenCall, TokenError, Vendor, random_token, random_token_std, random_uuid,
};
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{Map, Value, json};
use url::Url;

use crate::ClientBuilder;
use crate::error::VENDOR;

pub use auth_core::emulator::{Counts, Fault};

/// The Easyship emulator: auth-core's [`Emulator`](emulator::Emulator) with the
/// [`Easyship`] model. Start it with `Emulator::start().await`, or `Emulator::builder()`
/// to choose the client id and secret, redirect URIs, the seller or the token lifetime.
pub type Emulator = emulator::Emulator<Easyship>;

/// The builder of an [`Emulator`].
pub type EmulatorBuilder = emulator::EmulatorBuilder<Easyship>;

/// Easyship's wire formats and rules, as the emulator serves them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Easyship;

impl Vendor for Easyship {
    type ClientBuilder = ClientBuilder;

    fn name(&self) -> &'static str {
        VENDOR
    }

    fn paths(&self) -> Paths {
        // What `ClientBuilder::base_url` derives: oauth2/token, oauth2/authorize, and the
        // Public API at the root.
        Paths::new("/oauth2/token", Some("/oauth2/authorize"), "/")
    }

    fn rules(&self) -> Rules {
        let mut rules = Rules::new(&[
            GrantKind::AuthorizationCode,
            GrantKind::RefreshToken,
            GrantKind::ClientCredentials,
        ]);
        rules.access_token_lifetime = Duration::from_secs(7200);
        rules.refresh_revokes_previous_access_token = true;
        rules.client_credentials_scope_required = true;
        rules
    }

    fn new_client(&self) -> (String, String) {
        (random_token("", 32), random_token("", 32))
    }

    fn new_access_token(&self) -> String {
        random_token_std("test_", 32)
    }

    fn new_refresh_token(&self) -> String {
        random_token("", 32)
    }

    fn new_code(&self) -> String {
        random_token("", 32)
    }

    fn decode_token_request(&self, request: &Request) -> Result<TokenCall, TokenError> {
        let Some(body) = request.json_object() else {
            return Err(invalid_request(
                None,
                "the body must be a JSON object (application/json)",
            ));
        };
        let grant_type = text(&body, "grant_type")
            .ok_or_else(|| invalid_request(None, "grant_type is missing"))?;
        let Some(kind) = GrantKind::parse(&grant_type) else {
            return Err(TokenError::new(
                ErrorCode::UnsupportedGrantType,
                "the grant type is not supported",
            ));
        };
        let (required, optional): (&[&str], &[&str]) = match kind {
            GrantKind::AuthorizationCode => (&["code", "redirect_uri"], &[]),
            GrantKind::RefreshToken => (&["refresh_token"], &["scope"]),
            _ => (&["scope"], &[]),
        };
        let common = ["grant_type", "client_id", "client_secret"];
        if let Some(extra) = body.keys().find(|key| {
            !common.contains(&key.as_str())
                && !required.contains(&key.as_str())
                && !optional.contains(&key.as_str())
        }) {
            return Err(invalid_request(
                Some(kind),
                &format!("unexpected property {extra}"),
            ));
        }
        for name in common.iter().chain(required) {
            if text(&body, name).is_none() {
                return Err(invalid_request(Some(kind), &format!("{name} is missing")));
            }
        }
        let get = |name| text(&body, name).unwrap_or_default();
        let grant = match kind {
            GrantKind::AuthorizationCode => GrantCall::AuthorizationCode {
                code: get("code"),
                redirect_uri: Some(get("redirect_uri")),
            },
            GrantKind::RefreshToken => GrantCall::RefreshToken {
                refresh_token: get("refresh_token"),
                scope: text(&body, "scope"),
            },
            _ => GrantCall::ClientCredentials {
                scope: Some(get("scope")),
            },
        };
        Ok(TokenCall::new(
            Some(get("client_id")),
            Some(get("client_secret")),
            grant,
        ))
    }

    fn token_response(&self, _app: &App, issued: &Issued) -> Response {
        let mut body = json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in.as_secs(),
            "scope": issued.scope.clone().unwrap_or_default(),
            "created_at": issued.issued_at.timestamp(),
        });
        if let Some(refresh_token) = &issued.refresh_token {
            body["refresh_token"] = json!(refresh_token);
        }
        Response::json(StatusCode::OK, &body)
    }

    fn token_error(&self, error: &TokenError) -> Response {
        // Doorkeeper's texts (config/locales/en.yml).
        let description = match error.code {
            ErrorCode::InvalidClient => {
                "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
            }
            ErrorCode::InvalidGrant => {
                "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
            }
            ErrorCode::UnauthorizedClient => {
                "The client is not authorized to perform this request using this method."
            }
            ErrorCode::UnsupportedGrantType => {
                "The authorization grant type is not supported by the authorization server."
            }
            ErrorCode::InvalidScope => "The requested scope is invalid, unknown, or malformed.",
            _ => {
                "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed."
            }
        };
        let status = if error.code == ErrorCode::InvalidClient {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        Response::json(
            status,
            &json!({"error": error.code.as_str(), "error_description": description}),
        )
        .with_header(
            WWW_AUTHENTICATE,
            &format!(
                r#"Bearer realm="Doorkeeper", error="{}", error_description="{description}""#,
                error.code.as_str()
            ),
        )
    }

    fn decode_authorize(&self, request: &Request) -> Result<AuthorizeCall, TokenError> {
        let param = |name| request.query_param(name).filter(|v| !v.is_empty());
        let client_id =
            param("client_id").ok_or_else(|| invalid_request(None, "client_id is missing"))?;
        if param("response_type").as_deref() != Some("code") {
            return Err(invalid_request(None, "response_type must be code"));
        }
        let mut call = AuthorizeCall::new(client_id);
        call.redirect_uri = Some(
            param("redirect_uri")
                .ok_or_else(|| invalid_request(None, "redirect_uri is missing"))?,
        );
        call.scope = Some(param("scope").ok_or_else(|| invalid_request(None, "scope is missing"))?);
        call.state = param("state");
        Ok(call)
    }

    fn api_token<'a>(&self, request: &'a Request) -> Option<&'a str> {
        request.bearer()
    }

    fn api_rejected(&self, rejection: Rejection) -> Response {
        let message = match rejection {
            Rejection::Missing => "The access token is missing",
            Rejection::Expired => "The access token expired",
            Rejection::Revoked => "The access token was revoked",
            _ => "The access token is invalid",
        };
        Response::json(
            StatusCode::UNAUTHORIZED,
            &json!({"error": {
                "code": "invalid_token",
                "message": message,
                "details": [],
                "request_id": random_uuid(),
                "type": "invalid_request_error",
                "links": [],
            }}),
        )
    }

    fn client_builder(&self, base_url: &Url, app: &App) -> ClientBuilder {
        crate::Client::builder()
            .client_id(app.client_id())
            .client_secret(app.client_secret())
            .base_url(base_url.clone())
    }
}

fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn invalid_request(grant: Option<GrantKind>, reason: &str) -> TokenError {
    let error = TokenError::new(ErrorCode::InvalidRequest, reason);
    match grant {
        Some(grant) => error.for_grant(grant),
        None => error,
    }
}

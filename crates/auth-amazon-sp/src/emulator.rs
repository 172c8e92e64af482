//! A local stand-in of Login with Amazon's token endpoint, Seller Central's consent page
//! and the Selling Partner API (feature `emulator`), for your tests: no network, no
//! credentials.
//!
//! [`Emulator::start`] serves on `127.0.0.1` (a random port) what Amazon serves:
//!
//! - `GET /apps/authorize/consent?application_id&state[&version=beta][&redirect_uri]`
//!   answers `302` to the redirect URI with `state`, `selling_partner_id`,
//!   `mws_auth_token` and `spapi_oauth_code` (or call
//!   [`Emulator::authorize`](auth_core::emulator::Emulator::authorize) with the URL from
//!   [`Client::consent_url`](crate::Client::consent_url)); codes live five minutes and
//!   are single-use;
//! - `POST /auth/o2/token`, form or JSON body, with `refresh_token` (and no `scope`),
//!   `client_credentials` (grantless, `scope` required) or `authorization_code`
//!   (`redirect_uri` optional), answered as LWA does (`token_type` `bearer`,
//!   `expires_in` 3600, grantless with `scope` and no refresh token) or with LWA's error
//!   bodies (`error_index`, `request_id`; 401 for `invalid_client`, 400 otherwise);
//! - **long-lived refresh tokens**: a refresh returns the same refresh token, which
//!   works until the seller's authorization is revoked
//!   ([`revoke_seller`](auth_core::emulator::Emulator::revoke_seller));
//! - an API probe on every other path, taking the token in `x-amz-access-token` and
//!   answering an expired, revoked or unknown one with the SP-API's
//!   `403 Unauthorized` ("The access token you provided has expired." …).
//!
//! The app gets a random LWA client id and secret and an SP-API application id
//! (`amzn1.sp.solution.…`, what the consent URL names). Faults ([`Fault`]) and request
//! counts ([`Counts`]) are auth-core's.
//!
//! # Examples
//!
//! Testing your own code (here `orders`) against the emulator, with a seller who
//! self-authorized the app (a refresh token from Seller Central):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_amazon_sp::emulator::Emulator;
//! use auth_amazon_sp::{Client, VendorClient, auth_core::{AuthError, CachedTokenProvider}};
//!
//! async fn orders(client: &Client, provider: &CachedTokenProvider) -> Result<u16, AuthError> {
//!     let request = client.http_client().get(client.api_url("orders/v0/orders")?);
//!     Ok(provider.send(request).await?.status().as_u16())
//! }
//!
//! let emulator = Emulator::start().await;
//! let client = emulator.client_builder().build()?;
//! let provider = client.refresh_provider(emulator.issue_refresh_token("A2EXAMPLE", None));
//! assert_eq!(orders(&client, &provider).await?, 200);
//! emulator.revoke_access_tokens(); // 403 "access token … revoked": a new one, one retry
//! assert_eq!(orders(&client, &provider).await?, 200);
//! assert_eq!(emulator.counts().grant("refresh_token"), 2);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use auth_core::emulator::{
    self, App, AuthorizeCall, Authorized, ErrorCode, GrantCall, GrantKind, Issued, Paths,
    Rejection, Request, Response, Rotation, Rules, TokenCall, TokenError, Vendor, random_hex,
    random_token, random_uuid, single,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::ClientBuilder;
use crate::client::ACCESS_TOKEN_HEADER;
use crate::error::VENDOR;

pub use auth_core::emulator::{Counts, Fault};

/// The Amazon emulator: auth-core's [`Emulator`](emulator::Emulator) with the
/// [`AmazonSp`] model. Start it with `Emulator::start().await`, or `Emulator::builder()`
/// to choose the credentials, the application id, redirect URIs, the selling partner or
/// the token lifetime.
pub type Emulator = emulator::Emulator<AmazonSp>;

/// The builder of an [`Emulator`].
pub type EmulatorBuilder = emulator::EmulatorBuilder<AmazonSp>;

/// Login with Amazon's and the SP-API's wire formats and rules, as the emulator serves
/// them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AmazonSp;

impl Vendor for AmazonSp {
    type ClientBuilder = ClientBuilder;

    fn name(&self) -> &'static str {
        VENDOR
    }

    fn paths(&self) -> Paths {
        // What `ClientBuilder::base_url` derives: TOKEN_PATH, CONSENT_PATH, and the API at
        // the root.
        Paths::new("/auth/o2/token", Some("/apps/authorize/consent"), "/")
    }

    fn rules(&self) -> Rules {
        let mut rules = Rules::new(&[
            GrantKind::RefreshToken,
            GrantKind::ClientCredentials,
            GrantKind::AuthorizationCode,
        ]);
        rules.rotation = Rotation::LongLived;
        rules.code_lifetime = Duration::from_secs(300);
        rules.access_token_lifetime = Duration::from_secs(3600);
        rules.redirect_uri_required = false;
        rules.client_credentials_scope_required = true;
        rules
    }

    fn new_client(&self) -> (String, String) {
        (
            format!("amzn1.application-oa2-client.{}", random_hex(16)),
            format!("amzn1.oa2-cs.v1.{}", random_hex(32)),
        )
    }

    fn new_application_id(&self, _client_id: &str) -> String {
        format!("amzn1.sp.solution.{}", random_uuid())
    }

    fn new_access_token(&self) -> String {
        random_token("Atza|", 64)
    }

    fn new_refresh_token(&self) -> String {
        random_token("Atzr|", 64)
    }

    fn new_code(&self) -> String {
        random_token("AN", 15)
    }

    fn decode_token_request(&self, request: &Request) -> Result<TokenCall, TokenError> {
        // Form (the docs) or JSON (the official SDKs): both accepted.
        let pairs: Vec<(String, String)> = if let Some(form) = request.form() {
            form
        } else if let Some(body) = request.json_object() {
            body.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect()
        } else {
            return Err(TokenError::new(
                ErrorCode::InvalidRequest,
                "The request has an invalid parameter : Content-Type",
            ));
        };
        let get = |name: &str| single(pairs.clone(), name);
        let grant_type = get("grant_type").ok_or_else(|| missing("grant_type", None))?;
        let Some(kind) = GrantKind::parse(&grant_type) else {
            return Err(TokenError::new(
                ErrorCode::UnsupportedGrantType,
                "The authorization grant type is not supported by the authorization server",
            ));
        };
        let allowed: &[&str] = match kind {
            GrantKind::RefreshToken => &["refresh_token"],
            GrantKind::ClientCredentials => &["scope"],
            _ => &["code", "redirect_uri"],
        };
        if let Some((name, _)) = pairs.iter().find(|(name, _)| {
            !["grant_type", "client_id", "client_secret"].contains(&name.as_str())
                && !allowed.contains(&name.as_str())
        }) {
            return Err(TokenError::new(
                ErrorCode::InvalidRequest,
                format!("The request has an invalid parameter : {name}"),
            )
            .for_grant(kind));
        }
        let grant = match kind {
            GrantKind::RefreshToken => GrantCall::RefreshToken {
                refresh_token: get("refresh_token")
                    .ok_or_else(|| missing("refresh_token", Some(kind)))?,
                scope: None,
            },
            GrantKind::ClientCredentials => GrantCall::ClientCredentials {
                scope: Some(get("scope").ok_or_else(|| missing("scope", Some(kind)))?),
            },
            _ => GrantCall::AuthorizationCode {
                code: get("code").ok_or_else(|| missing("code", Some(kind)))?,
                redirect_uri: get("redirect_uri"),
            },
        };
        Ok(TokenCall::new(
            Some(get("client_id").ok_or_else(|| missing("client_id", Some(kind)))?),
            get("client_secret"),
            grant,
        ))
    }

    fn token_response(&self, _app: &App, issued: &Issued) -> Response {
        let mut body = json!({
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in.as_secs(),
        });
        match (&issued.refresh_token, issued.grant) {
            (Some(refresh_token), _) => body["refresh_token"] = json!(refresh_token),
            (None, GrantKind::ClientCredentials) => {
                body["scope"] = json!(issued.scope.clone().unwrap_or_default());
            }
            _ => {}
        }
        Response::json(StatusCode::OK, &body)
    }

    fn token_error(&self, error: &TokenError) -> Response {
        let description = match (error.code, error.grant) {
            (ErrorCode::InvalidClient, _) => "Client authentication failed".to_owned(),
            (ErrorCode::InvalidGrant, Some(GrantKind::AuthorizationCode)) => {
                "The request has an invalid grant parameter : code".to_owned()
            }
            (ErrorCode::InvalidGrant, _) => "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.".to_owned(),
            (ErrorCode::InvalidScope, _) => "An unknown scope was requested".to_owned(),
            (ErrorCode::UnsupportedGrantType, _) => {
                "The authorization grant type is not supported by the authorization server".to_owned()
            }
            _ => error.reason.clone(),
        };
        let status = if error.code == ErrorCode::InvalidClient {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        Response::json(
            status,
            &json!({
                "error_index": random_token("", 6),
                "error_description": description,
                "error": error.code.as_str(),
                "request_id": random_uuid(),
            }),
        )
    }

    fn unavailable(&self, status: StatusCode) -> Response {
        let (error, description) = if status == StatusCode::TOO_MANY_REQUESTS {
            ("slow_down", "The request rate is too high")
        } else {
            (
                "temporarily_unavailable",
                "The authorization server is temporarily unavailable",
            )
        };
        Response::json(
            status,
            &json!({"error_description": description, "error": error}),
        )
    }

    fn decode_authorize(&self, request: &Request) -> Result<AuthorizeCall, TokenError> {
        let param = |name| request.query_param(name).filter(|v| !v.is_empty());
        let application_id = param("application_id").ok_or_else(|| {
            TokenError::new(ErrorCode::InvalidRequest, "application_id is missing")
        })?;
        let mut call = AuthorizeCall::new(application_id);
        call.redirect_uri = param("redirect_uri");
        call.state = param("state");
        Ok(call)
    }

    fn authorize_redirect(&self, redirect_uri: &Url, authorized: &Authorized) -> Url {
        let mut url = redirect_uri.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(state) = &authorized.state {
                query.append_pair("state", state);
            }
            query
                .append_pair("selling_partner_id", &authorized.seller)
                .append_pair("mws_auth_token", &random_token("amzn.mws.", 24))
                .append_pair("spapi_oauth_code", &authorized.code);
        }
        url
    }

    fn api_token<'a>(&self, request: &'a Request) -> Option<&'a str> {
        request.header(ACCESS_TOKEN_HEADER)
    }

    fn api_rejected(&self, rejection: Rejection) -> Response {
        let details = match rejection {
            Rejection::Missing => "Access token is missing in the request header.",
            Rejection::Expired => "The access token you provided has expired.",
            _ => "The access token you provided is revoked, malformed or invalid.",
        };
        Response::json(
            StatusCode::FORBIDDEN,
            &json!({"errors": [{
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": details,
            }]}),
        )
        .with_header(
            reqwest::header::HeaderName::from_static("x-amzn-errortype"),
            "AccessDeniedException",
        )
    }

    fn client_builder(&self, base_url: &Url, app: &App) -> ClientBuilder {
        crate::Client::builder()
            .client_id(app.client_id())
            .client_secret(app.client_secret())
            .base_url(base_url.clone())
    }
}

fn missing(name: &str, grant: Option<GrantKind>) -> TokenError {
    let error = TokenError::new(
        ErrorCode::InvalidRequest,
        format!("The request is missing a required parameter : {name}"),
    );
    match grant {
        Some(grant) => error.for_grant(grant),
        None => error,
    }
}

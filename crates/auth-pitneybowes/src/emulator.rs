//! A local stand-in of Pitney Bowes' token endpoint and Shipping API (feature
//! `emulator`), for your tests: no network, no credentials.
//!
//! [`Emulator::start`] serves on `127.0.0.1` (a random port) what Pitney Bowes serves:
//! `POST /oauth/token` with `Authorization: Basic base64(key:secret)` and the form body
//! `grant_type=client_credentials`, answered in the classic shape
//! (`tokenType: "BearerToken"`, `issuedAt` and `expiresIn` as strings) or with Pitney
//! Bowes' error bodies (`401 invalid_client` for a wrong key or secret); and, below
//! `/shippingservices/`, an API probe that takes `Authorization: Bearer` and refuses an
//! expired token with `PB-APIM-ERR-1003`, an unknown or revoked one with
//! `PB-APIM-ERR-1002` (HTTP 401), so `provider.send` fetches a new token and retries.
//! Client credentials are the only grant. Tokens live 35 999 s unless you set another
//! lifetime. Faults ([`Fault`]) and request counts ([`Counts`]) are auth-core's.
//!
//! # Examples
//!
//! Testing your own code (here `verify`) against the emulator:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_pitneybowes::emulator::{Emulator, Fault};
//! use auth_pitneybowes::{Client, VendorClient, auth_core::{AuthError, CachedTokenProvider}};
//!
//! async fn verify(client: &Client, provider: &CachedTokenProvider) -> Result<u16, AuthError> {
//!     let request = client.http_client().post(client.api_url("v1/addresses/verify")?).body("{}");
//!     Ok(provider.send(request).await?.status().as_u16())
//! }
//!
//! let emulator = Emulator::start().await;
//! let client = emulator.client_builder().build()?;
//! let provider = client.provider();
//! emulator.inject(Fault::Status(reqwest::StatusCode::SERVICE_UNAVAILABLE)); // retried
//! assert_eq!(verify(&client, &provider).await?, 200);
//! emulator.revoke_access_tokens(); // the API refuses the token: a new one, one retry
//! assert_eq!(verify(&client, &provider).await?, 200);
//! assert_eq!(emulator.counts().grant("client_credentials"), 3);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use auth_core::emulator::{
    self, App, ErrorCode, GrantCall, GrantKind, Issued, Paths, Rejection, Request, Response, Rules,
    TokenCall, TokenError, Vendor, random_token,
};
use reqwest::StatusCode;
use serde_json::json;
use url::Url;

use crate::ClientBuilder;
use crate::error::{EXPIRED_ACCESS_TOKEN, INVALID_ACCESS_TOKEN, VENDOR};
use crate::wire::GRANT_TYPE;

pub use auth_core::emulator::{Counts, Fault};

/// The Pitney Bowes emulator: auth-core's [`Emulator`](emulator::Emulator) with the
/// [`PitneyBowes`] model. Start it with `Emulator::start().await`, or
/// `Emulator::builder()` to choose the API key and secret or the token lifetime.
pub type Emulator = emulator::Emulator<PitneyBowes>;

/// The builder of an [`Emulator`].
pub type EmulatorBuilder = emulator::EmulatorBuilder<PitneyBowes>;

/// Pitney Bowes' wire formats and rules, as the emulator serves them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PitneyBowes;

/// The token lifetime Pitney Bowes' sample response states (`"expiresIn":"35999"`).
const LIFETIME: Duration = Duration::from_secs(35_999);

impl Vendor for PitneyBowes {
    type ClientBuilder = ClientBuilder;

    fn name(&self) -> &'static str {
        VENDOR
    }

    fn paths(&self) -> Paths {
        // The client's TOKEN_PATH and API_BASE_PATH below the root (tested).
        Paths::new("/oauth/token", None, "/shippingservices/")
    }

    fn rules(&self) -> Rules {
        let mut rules = Rules::new(&[GrantKind::ClientCredentials]);
        rules.access_token_lifetime = LIFETIME;
        rules
    }

    fn new_client(&self) -> (String, String) {
        (random_token("", 24), random_token("", 12))
    }

    fn new_access_token(&self) -> String {
        random_token("", 21)
    }

    fn decode_token_request(&self, request: &Request) -> Result<TokenCall, TokenError> {
        let refuse = |code, reason: &str| {
            Err(TokenError::new(code, reason).for_grant(GrantKind::ClientCredentials))
        };
        let Some((key, secret)) = request.basic_auth() else {
            return refuse(
                ErrorCode::InvalidClient,
                "no Basic authorization with the API key and secret",
            );
        };
        let Some(form) = request.form() else {
            return refuse(
                ErrorCode::InvalidRequest,
                "the body must be application/x-www-form-urlencoded",
            );
        };
        let grant_type = match form.as_slice() {
            [(name, value)] if name == "grant_type" => value.as_str(),
            _ => {
                return refuse(
                    ErrorCode::InvalidRequest,
                    "the body must be exactly grant_type=client_credentials",
                );
            }
        };
        if grant_type != GRANT_TYPE {
            return refuse(ErrorCode::UnsupportedGrantType, "Unsupported grant type");
        }
        Ok(TokenCall::new(
            Some(key),
            Some(secret),
            GrantCall::ClientCredentials { scope: None },
        ))
    }

    fn token_response(&self, app: &App, issued: &Issued) -> Response {
        Response::json(
            StatusCode::OK,
            &json!({
                "access_token": issued.access_token,
                "tokenType": "BearerToken",
                "issuedAt": issued.issued_at.timestamp_millis().to_string(),
                "expiresIn": issued.expires_in.as_secs().to_string(),
                "clientID": app.client_id(),
                "org": "pitneybowes",
            }),
        )
    }

    fn token_error(&self, error: &TokenError) -> Response {
        let (status, description) = match error.code {
            ErrorCode::InvalidClient => (StatusCode::UNAUTHORIZED, "Client authentication failed"),
            ErrorCode::UnsupportedGrantType => (StatusCode::BAD_REQUEST, "Unsupported grant type"),
            _ => (StatusCode::BAD_REQUEST, error.reason.as_str()),
        };
        Response::json(
            status,
            &json!({"error": error.code.as_str(), "error_description": description}),
        )
    }

    fn unavailable(&self, status: StatusCode) -> Response {
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Response::json(
                status,
                &json!({"errors": [{"errorCode": "429", "errorDescription": "Too Many Requests", "additionalInfo": null, "parameters": []}]}),
            );
        }
        let title = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        );
        Response::bytes(
            status,
            "text/html",
            format!(
                "<html>\n<head><title>{title}</title></head>\n<body>\n<center><h1>{title}</h1></center>\n</body>\n</html>\n"
            ),
        )
    }

    fn api_token<'a>(&self, request: &'a Request) -> Option<&'a str> {
        request.bearer()
    }

    fn api_rejected(&self, rejection: Rejection) -> Response {
        let (code, description) = match rejection {
            Rejection::Expired => (EXPIRED_ACCESS_TOKEN, "Access Token Expired"),
            _ => (INVALID_ACCESS_TOKEN, "Invalid Access Token"),
        };
        Response::json(
            StatusCode::UNAUTHORIZED,
            &json!({"errorCode": code, "errorDescription": description}),
        )
    }

    fn client_builder(&self, base_url: &Url, app: &App) -> ClientBuilder {
        crate::Client::builder()
            .api_key(app.client_id())
            .api_secret(app.client_secret())
            .base_url(base_url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::{API_BASE_PATH, TOKEN_PATH};

    #[test]
    fn paths_are_the_clients() {
        let paths = PitneyBowes.paths();
        assert_eq!(paths.token, format!("/{TOKEN_PATH}"));
        assert_eq!(paths.api_base, format!("/{API_BASE_PATH}"));
    }
}

//! Easyship's token endpoint bodies, exactly as sent and received. Serde only: no I/O.
//!
//! Requests are JSON objects holding exactly the documented properties (Easyship's schema
//! allows no others). Responses are parsed tolerantly: numbers may come as strings, and
//! `token_type`, `expires_in`, `refresh_token`, `scope` and `created_at` may be missing.

use std::time::Duration;

use auth_core::http::oauth_token;
use auth_core::token::{DEFAULT_MAX_CLOCK_SKEW, expiry, from_unix_seconds};
use auth_core::{AccessToken, RefreshToken, Token};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The lifetime assumed when a response states no usable `expires_in`: 7200 s, the
/// lifetime Easyship documents as typical. Without it a token would be cached as never
/// expiring (no `expires_in`) or as born expired and refreshed on every call (`0`).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);

/// The longest `expires_in` believed (366 days); a longer one is treated as absent.
pub use auth_core::token::MAX_ACCESS_TOKEN_LIFETIME;

/// `grant_type` values.
pub(crate) const AUTHORIZATION_CODE: &str = "authorization_code";
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";
pub(crate) const CLIENT_CREDENTIALS: &str = "client_credentials";
pub(crate) const DELEGATED_ACCOUNT: &str = "delegated_account";

/// `POST /oauth2/token` with `grant_type=authorization_code`: all four properties
/// required.
#[derive(Serialize)]
pub(crate) struct AuthorizationCodeRequest<'a> {
    pub(crate) grant_type: &'static str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
    pub(crate) code: &'a str,
    pub(crate) redirect_uri: &'a str,
}

/// `POST /oauth2/token` with `grant_type=refresh_token`; `scope` is optional.
#[derive(Serialize)]
pub(crate) struct RefreshTokenRequest<'a> {
    pub(crate) grant_type: &'static str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
    pub(crate) refresh_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
}

/// `POST /oauth2/token` with `grant_type=client_credentials`; `scope` is required.
#[derive(Serialize)]
pub(crate) struct ClientCredentialsRequest<'a> {
    pub(crate) grant_type: &'static str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
    pub(crate) scope: String,
}

/// Enterprise `POST /oauth2/token` with `grant_type=delegated_account`: the client
/// credentials plus the child company's `easyship_company_id`.
///
/// What is confirmed and what is inferred: Easyship's Enterprise page names the grant and
/// `easyship_company_id` only [confirmed]. `client_id` and `client_secret` are
/// [inferred]: every grant Easyship documents on its token endpoint (authorization code,
/// refresh, client credentials) carries them in the JSON body, this grant is listed with
/// those as "(+ `easyship_company_id`)", and without them it would hand a child company's
/// token to an unauthenticated caller. `scope`, optional, is sent only when given
/// [inferred, as on the refresh grant]. Revisit when Easyship documents the body.
#[derive(Serialize)]
pub(crate) struct DelegatedAccountRequest<'a> {
    pub(crate) grant_type: &'static str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
    pub(crate) easyship_company_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
}

/// `POST /oauth2/revoke`: `{token, grant_type: "client_credentials", client_id,
/// client_secret}`, answered `{}`.
#[derive(Serialize)]
pub(crate) struct RevokeRequest<'a> {
    pub(crate) token: &'a str,
    pub(crate) grant_type: &'static str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a str,
}

/// A successful token response.
///
/// ```json
/// {"access_token":"test_3m0V3q5MDgxNIR5Cglw/ONL8ZMPNy91f1Kolt+BOWG8=","token_type":"Bearer",
///  "expires_in":7200,"refresh_token":"UhLaQeeduKhGPLoEnQ29aLGuV077VSNEp7LPij_P6Tg",
///  "scope":"rate shipment label","created_at":1645532460}
/// ```
///
/// `Debug` never shows the tokens.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token, for `Authorization: Bearer …`. May contain `/`, `+` and `=`.
    pub access_token: AccessToken,
    /// `"Bearer"`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Lifetime in seconds (typically 7200). Signed, so that a zero or negative value
    /// still parses (it is then not believed: see [`into_token`](Self::into_token)).
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::Same, serde_with::DisplayFromStr)>>>"
    )]
    pub expires_in: Option<i64>,
    /// The next refresh token: present on the authorization-code, refresh and delegated
    /// account grants, absent on client credentials. Single-use: the one just spent no
    /// longer works. An empty string counts as absent.
    #[serde(default)]
    pub refresh_token: Option<RefreshToken>,
    /// The granted scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// When the server created the token, in seconds since the Unix epoch.
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::Same, serde_with::DisplayFromStr)>>>"
    )]
    pub created_at: Option<i64>,
}

impl TokenResponse {
    /// The [`Token`] this response describes, for a request sent at `sent_at` (our clock).
    ///
    /// The expiry is `sent_at + expires_in`, made earlier (never later) by
    /// `created_at + expires_in` when `created_at` is within
    /// [`DEFAULT_MAX_CLOCK_SKEW`] of `sent_at`: a Doorkeeper server may report the
    /// remaining lifetime of a token created before this request. A server time further
    /// off is ignored with a warning (see [`auth_core::token::expiry`]).
    ///
    /// An `expires_in` that is absent, zero or negative, or longer than
    /// [`MAX_ACCESS_TOKEN_LIFETIME`], is not believed: the token is given
    /// [`DEFAULT_ACCESS_TOKEN_LIFETIME`] and a warning is logged.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::wire::TokenResponse;
    ///
    /// let body = r#"{"access_token":"a/b+c=","token_type":"Bearer","expires_in":7200,
    ///                "scope":"rate label","created_at":1645532460}"#;
    /// let response: TokenResponse = serde_json::from_str(body).unwrap();
    /// let sent = chrono::DateTime::from_timestamp(1645532461, 0).unwrap();
    /// let token = response.into_token(sent);
    /// // created_at is 1 s before our send time: the earlier expiry wins.
    /// assert_eq!(token.expires_at().unwrap().timestamp(), 1645532460 + 7200);
    /// assert_eq!(token.scopes().to_string(), "rate label");
    /// ```
    pub fn into_token(self, sent_at: DateTime<Utc>) -> Token {
        let lifetime = usable_lifetime(self.expires_in).unwrap_or_else(|| {
            if self.expires_in.is_none() {
                tracing::warn!(
                    assumed_seconds = DEFAULT_ACCESS_TOKEN_LIFETIME.as_secs(),
                    "Easyship token response has no expires_in; assuming the typical lifetime"
                );
            }
            DEFAULT_ACCESS_TOKEN_LIFETIME
        });
        let created_at = self.created_at.and_then(from_unix_seconds);
        let server_expiry = created_at.and_then(|created| {
            created.checked_add_signed(chrono::TimeDelta::from_std(lifetime).ok()?)
        });
        let expires_at = expiry(
            sent_at,
            Some(lifetime),
            created_at,
            server_expiry,
            DEFAULT_MAX_CLOCK_SKEW,
        );
        oauth_token(
            self.access_token,
            self.token_type,
            expires_at,
            self.refresh_token
                .filter(|token| !token.expose_secret().is_empty()),
            self.scope.as_deref(),
            sent_at,
        )
    }
}

/// A stated `expires_in` that can be right: 1 s up to [`MAX_ACCESS_TOKEN_LIFETIME`].
/// Anything else is logged and treated as absent (zero or negative would make a token born
/// expired, refreshed on every call; an absurd one would make it never expire).
fn usable_lifetime(expires_in: Option<i64>) -> Option<Duration> {
    auth_core::token::stated_lifetime(expires_in, "easyship")
}

/// An OAuth error from the token endpoint (RFC 6749 §5.2).
///
/// ```json
/// {"error":"unauthorized_client","error_description":"The client is not authorized to perform this request using this method."}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The code: `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`, or Enterprise's
    /// `invalid_account`.
    pub error: String,
    /// A sentence for humans.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// An error from the Public API (not the token endpoint), for example a rejected token:
///
/// ```json
/// {"error":{"code":"invalid_token","message":"The access token is invalid.","request_id":"…","type":"invalid_request_error"}}
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ApiErrorResponse {
    /// The error.
    pub error: ApiError,
}

/// The `error` object of an [`ApiErrorResponse`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The code: `invalid_token` (401), `forbidden` (403), `too_many_requests` (429), ….
    pub code: String,
    /// A sentence for humans.
    #[serde(default)]
    pub message: Option<String>,
    /// More detail, as Easyship sent it.
    #[serde(default)]
    pub details: Option<serde_json::Value>,
    /// Easyship's request id, for its support.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The error class, for example `invalid_request_error`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Links to documentation.
    #[serde(default)]
    pub links: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn created_at_within_skew_shortens_expiry_and_never_extends_it() {
        let body = |created: i64| {
            format!(r#"{{"access_token":"a","expires_in":7200,"created_at":{created}}}"#)
        };
        let parse = |b: String| serde_json::from_str::<TokenResponse>(&b).unwrap();
        // Created 100 s before we sent: the server's expiry is earlier and wins.
        let token = parse(body(1_000_000 - 100)).into_token(at(1_000_000));
        assert_eq!(token.expires_at(), Some(at(1_000_000 + 7100)));
        // Created after we sent (server clock ahead): never later than ours.
        let token = parse(body(1_000_000 + 100)).into_token(at(1_000_000));
        assert_eq!(token.expires_at(), Some(at(1_000_000 + 7200)));
        // A server clock an hour off is ignored.
        let token = parse(body(1_000_000 - 3600)).into_token(at(1_000_000));
        assert_eq!(token.expires_at(), Some(at(1_000_000 + 7200)));
    }

    #[test]
    fn numbers_as_strings_and_missing_fields_are_tolerated() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","expires_in":"7200","created_at":"5","refresh_token":null}"#,
        )
        .unwrap();
        assert_eq!((r.expires_in, r.created_at), (Some(7200), Some(5)));
        assert!(r.refresh_token.is_none() && r.token_type.is_none());
        let token = r.into_token(at(5));
        assert_eq!(token.token_type(), "Bearer");
        assert!(token.scopes().is_empty());
    }

    #[test]
    fn missing_expires_in_assumes_the_typical_two_hours_instead_of_never_expiring() {
        let r: TokenResponse = serde_json::from_str(r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(r.into_token(at(5)).expires_at(), Some(at(5 + 7200)));
        // created_at still only makes it earlier.
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","created_at":1000}"#).unwrap();
        assert_eq!(r.into_token(at(1010)).expires_at(), Some(at(1000 + 7200)));
    }

    #[test]
    fn zero_negative_or_absurd_expires_in_is_treated_as_absent() {
        for bad in [
            "0",
            "-5",
            "\"-1\"",
            "31708800",
            "10000000000000",
            "9223372036854775807",
        ] {
            let body = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            let r: TokenResponse = serde_json::from_str(&body).unwrap();
            assert_eq!(
                r.into_token(at(5)).expires_at(),
                Some(at(5 + 7200)),
                "{bad}"
            );
        }
        // The longest believed lifetime is kept.
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":31622400}"#).unwrap();
        assert_eq!(r.into_token(at(5)).expires_at(), Some(at(5 + 31_622_400)));
    }

    #[test]
    fn request_bodies_skip_absent_optional_fields() {
        let body = RefreshTokenRequest {
            grant_type: REFRESH_TOKEN,
            client_id: "id",
            client_secret: "s",
            refresh_token: "r",
            scope: None,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"grant_type":"refresh_token","client_id":"id","client_secret":"s","refresh_token":"r"})
        );
    }

    #[test]
    fn debug_hides_tokens() {
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"sekrit-a","refresh_token":"sekrit-r"}"#)
                .unwrap();
        assert!(!format!("{r:?}").contains("sekrit"));
    }
}

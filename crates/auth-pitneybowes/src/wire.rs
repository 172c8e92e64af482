//! The token endpoint's bodies, exactly as Pitney Bowes sends them (serde only, no I/O),
//! and the one conversion of a [`TokenResponse`] into an [`auth_core::Token`].
//!
//! The request is `POST {token host}/oauth/token` with
//! `Authorization: Basic base64(API_key:API_secret)` and the form body
//! `grant_type=client_credentials` ([`GRANT_TYPE`]); it has no JSON body.

use std::time::Duration;

use auth_core::http::oauth_token;
use auth_core::token::{self, DEFAULT_MAX_CLOCK_SKEW};
use auth_core::{AccessToken, Token};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

/// The `grant_type` of the form body: Pitney Bowes issues tokens by client credentials
/// only, with no refresh token.
pub const GRANT_TYPE: &str = "client_credentials";

/// The lifetime Pitney Bowes documents ("the token expires after 10 hours"), assumed only
/// when a body gives no usable lifetime at all (`expiresIn`, `expires_in`, a JWT
/// `exp - iat`).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 3600);

/// The longest lifetime believed from a body (366 days); a longer one is nonsense (and
/// would overflow the date arithmetic), so it is treated as absent, like a zero or
/// negative one.
pub use auth_core::token::MAX_ACCESS_TOKEN_LIFETIME;

/// A successful token response, in either shape Pitney Bowes sends.
///
/// The classic shape (documented; an Apigee gateway's answer):
///
/// ```json
/// {"access_token":"m22wyEgfHlA0LudkGG9gG2xB04Cv","tokenType":"BearerToken",
///  "issuedAt":"1456851460568","expiresIn":"35999",
///  "clientID":"3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS","org":"pitneybowes"}
/// ```
///
/// The RFC 6749 shape (issued since late 2025 with Okta JWT access tokens; undocumented):
///
/// ```json
/// {"access_token":"eyJ...","token_type":"Bearer","expires_in":36000,"scope":"psapi"}
/// ```
///
/// Numbers are accepted as strings or numbers in every numeric field. Unknown fields are
/// ignored. `Debug` never shows the access token.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::wire::TokenResponse;
///
/// let body = r#"{"access_token":"m22wyEgfHlA0LudkGG9gG2xB04Cv","tokenType":"BearerToken",
///     "issuedAt":"1456851460568","expiresIn":"35999",
///     "clientID":"3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS","org":"pitneybowes"}"#;
/// let response: TokenResponse = serde_json::from_str(body).unwrap();
/// assert_eq!(response.issued_at, Some(1_456_851_460_568));
/// assert_eq!(response.lifetime(), Some(std::time::Duration::from_secs(35_999)));
/// assert!(!format!("{response:?}").contains("m22wy"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`: the OAuth token to send as `Authorization: Bearer <token>`.
    pub access_token: AccessToken,

    /// `tokenType` (classic shape): `"BearerToken"`, which means `Bearer` on API calls.
    #[serde(rename = "tokenType")]
    pub token_type_classic: Option<String>,

    /// `token_type` (RFC 6749 shape): `"Bearer"`.
    pub token_type: Option<String>,

    /// `issuedAt` (classic shape): when the server issued the token, in milliseconds since
    /// the Unix epoch, sent as a string.
    #[serde(rename = "issuedAt")]
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::DisplayFromStr, serde_with::Same)>>>"
    )]
    pub issued_at: Option<i64>,

    /// `expiresIn` (classic shape): the lifetime in seconds, sent as a string (`"35999"`:
    /// one second short of 10 hours). Signed, so that a zero or negative value still
    /// parses (it is then not believed: see [`lifetime`](Self::lifetime)).
    #[serde(rename = "expiresIn")]
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::DisplayFromStr, serde_with::Same)>>>"
    )]
    pub expires_in_classic: Option<i64>,

    /// `expires_in` (RFC 6749 shape): the lifetime in seconds, a number (signed, as
    /// `expiresIn`).
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::DisplayFromStr, serde_with::Same)>>>"
    )]
    pub expires_in: Option<i64>,

    /// `clientID` (classic shape): the API key the token was issued to.
    #[serde(rename = "clientID")]
    pub client_id: Option<String>,

    /// `org` (classic shape): the gateway organisation, `"pitneybowes"`.
    pub org: Option<String>,

    /// `scope` (RFC 6749 shape): space-separated scopes granted, for example `"psapi"`.
    pub scope: Option<String>,
}

/// The claims of a JWT access token that matter for expiry (read without checking the
/// signature: they only ever make an expiry earlier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct JwtClaims {
    /// `exp`: expiry, seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    /// `iat`: issue time, seconds since the Unix epoch.
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
}

impl TokenResponse {
    /// The lifetime the body states (`expiresIn`, else `expires_in`), if it can be right:
    /// `None` when the body states none, or states zero, a negative number or more than
    /// [`MAX_ACCESS_TOKEN_LIFETIME`] (logged as a warning).
    pub fn lifetime(&self) -> Option<Duration> {
        usable_lifetime(self.expires_in_classic.or(self.expires_in))
    }

    /// The token type as sent (`tokenType`, else `token_type`).
    pub fn token_type_name(&self) -> Option<&str> {
        self.token_type_classic
            .as_deref()
            .or(self.token_type.as_deref())
    }

    /// The `exp` / `iat` claims if the access token is a JWT (`header.payload.signature`
    /// with a base64url JSON payload); `None` for an opaque token.
    pub fn jwt_claims(&self) -> Option<JwtClaims> {
        let mut parts = self.access_token.expose_secret().split('.');
        let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// When the token expires by our clock, for a request sent at `sent_at`.
    ///
    /// The base is `sent_at` plus the lifetime (`expiresIn` / `expires_in`; for a JWT
    /// without either, `exp - iat`; else the documented 10 hours). The server's
    /// `issuedAt + expiresIn`, and a JWT's `exp`, may only make it earlier, and only when
    /// the server time they come from (`issuedAt`; the JWT's `iat`, or `exp` less the
    /// lifetime) is within [`DEFAULT_MAX_CLOCK_SKEW`] of `sent_at`
    /// ([`auth_core::token::expiry`] decides). A lifetime that cannot be right (zero,
    /// negative, more than [`MAX_ACCESS_TOKEN_LIFETIME`]) counts as none.
    pub fn expires_at(&self, sent_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let jwt = self.jwt_claims().unwrap_or_default();
        let lifetime = self.lifetime().or_else(|| jwt_lifetime(&jwt)).or_else(|| {
            tracing::warn!(
                "the token response states no usable lifetime; assuming the documented 10 hours"
            );
            Some(DEFAULT_ACCESS_TOKEN_LIFETIME)
        });

        let issued = self.issued_at.and_then(token::from_unix_millis);
        let issued_expiry = issued.zip(lifetime).and_then(|(at, life)| add(at, life));
        let by_issued_at = token::expiry(
            sent_at,
            lifetime,
            issued,
            issued_expiry,
            DEFAULT_MAX_CLOCK_SKEW,
        );

        let jwt_exp = jwt.exp.and_then(token::from_unix_seconds);
        let jwt_time = jwt
            .iat
            .and_then(token::from_unix_seconds)
            .or_else(|| jwt_exp.zip(lifetime).and_then(|(exp, life)| sub(exp, life)));
        let by_jwt = token::expiry(sent_at, lifetime, jwt_time, jwt_exp, DEFAULT_MAX_CLOCK_SKEW);

        match (by_issued_at, by_jwt) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Converts the response into a [`Token`] for a request sent at `sent_at` (the local
    /// time the request went out: see [`expires_at`](Self::expires_at)).
    ///
    /// The token type is kept as sent (`BearerToken`); API calls use
    /// the client's [`auth_scheme`](auth_core::vendor::VendorClient::auth_scheme)
    /// (`Authorization: Bearer`) whatever it says.
    /// A client-credentials token carries no refresh token.
    pub fn into_token(self, sent_at: DateTime<Utc>) -> Token {
        let expires_at = self.expires_at(sent_at);
        let token_type = self.token_type_name().map(str::to_owned);
        oauth_token(
            self.access_token,
            token_type,
            expires_at,
            None,
            self.scope.as_deref(),
            sent_at,
        )
    }
}

fn jwt_lifetime(claims: &JwtClaims) -> Option<Duration> {
    usable_lifetime(claims.exp?.checked_sub(claims.iat?))
}

/// A stated lifetime that can be right: 1 s up to [`MAX_ACCESS_TOKEN_LIFETIME`]. Anything
/// else is logged and treated as absent (zero or negative would make a token born
/// expired, fetched again on every call; an absurd one would make it never expire).
fn usable_lifetime(seconds: Option<i64>) -> Option<Duration> {
    auth_core::token::stated_lifetime(seconds, "pitneybowes")
}

fn add(at: DateTime<Utc>, by: Duration) -> Option<DateTime<Utc>> {
    at.checked_add_signed(chrono::Duration::from_std(by).ok()?)
}

fn sub(at: DateTime<Utc>, by: Duration) -> Option<DateTime<Utc>> {
    at.checked_sub_signed(chrono::Duration::from_std(by).ok()?)
}

/// A JWT NumericDate: integer or fractional seconds (RFC 7519 §2); out-of-range or
/// non-numeric values read as absent.
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value.and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }))
}

/// An error body from the token endpoint or the Shipping API, in any of the formats
/// Pitney Bowes uses; which one depends on the component that failed.
///
/// The format is told by shape: a top-level array is a legacy list; an object with
/// `errors` is the unified object, or legacy format 2 when it also has `status`; one with
/// `error` is OAuth; one with `errorCode` is the gateway's. Anything else (including an
/// array of non-objects) is not a Pitney Bowes error body.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::wire::ErrorResponse;
///
/// let body = r#"{"errorCode":"PB-APIM-ERR-1003","errorDescription":"Access Token Expired"}"#;
/// let error: ErrorResponse = serde_json::from_str(body).unwrap();
/// assert_eq!(error.codes(), ["PB-APIM-ERR-1003"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorResponse {
    /// Legacy format 2: `{"status":"ERROR","errors":[{"errorCode":"40000072",
    /// "errorDescription":"Invalid value for renderType."}]}`.
    LegacyStatus {
        /// `status`: always `"ERROR"`.
        status: String,
        /// `errors`: the errors.
        errors: Vec<ErrorDetail>,
    },
    /// The unified error object (sent when a request has
    /// `X-PB-UnifiedErrorStructure: true`): `{"errors":[{"errorCode":"1019003",
    /// "errorDescription":"...","additionalInfo":null,"parameters":[]}]}`.
    Unified {
        /// `errors`: one object per error.
        errors: Vec<ErrorDetail>,
    },
    /// Legacy formats 1 and 3, a top-level array:
    /// `[{"errorCode":"1021141","message":"...","additionalInfo":"..."}]` or
    /// `[{"key":"address.not.verified","message":"..."}]`.
    LegacyArray(Vec<ErrorDetail>),
    /// An OAuth 2.0 error (RFC 6749 §5.2), possible from the gateway:
    /// `{"error":"invalid_client","error_description":"..."}`.
    OAuth {
        /// `error`: the OAuth error code.
        error: String,
        /// `error_description`, if any.
        error_description: Option<String>,
    },
    /// The API gateway's single object:
    /// `{"errorCode":"PB-APIM-ERR-1002","errorDescription":"Invalid Access Token"}`.
    Gateway(GatewayError),
}

impl<'de> Deserialize<'de> for ErrorResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        use serde_json::Value;

        #[derive(Deserialize)]
        struct Errors {
            status: Option<String>,
            errors: Vec<ErrorDetail>,
        }
        #[derive(Deserialize)]
        struct OAuth {
            error: String,
            error_description: Option<String>,
        }

        fn details<E: serde::de::Error>(items: Vec<Value>) -> Result<Vec<ErrorDetail>, E> {
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(_) => ErrorDetail::deserialize(item).map_err(E::custom),
                    _ => Err(E::custom("an error list holds a non-object")),
                })
                .collect()
        }

        let value = Value::deserialize(deserializer)?;
        match value {
            Value::Array(items) => Ok(Self::LegacyArray(details(items)?)),
            Value::Object(ref map) if map.contains_key("errors") => {
                let body = Errors::deserialize(value).map_err(D::Error::custom)?;
                Ok(match body.status {
                    Some(status) => Self::LegacyStatus {
                        status,
                        errors: body.errors,
                    },
                    None => Self::Unified {
                        errors: body.errors,
                    },
                })
            }
            Value::Object(ref map) if map.contains_key("error") => {
                let body = OAuth::deserialize(value).map_err(D::Error::custom)?;
                Ok(Self::OAuth {
                    error: body.error,
                    error_description: body.error_description,
                })
            }
            Value::Object(ref map) if map.contains_key("errorCode") => {
                GatewayError::deserialize(value)
                    .map(Self::Gateway)
                    .map_err(D::Error::custom)
            }
            _ => Err(D::Error::custom("not a Pitney Bowes error body")),
        }
    }
}

/// The API gateway's error object (codes `PB-APIM-ERR-####`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GatewayError {
    /// `errorCode`, for example `PB-APIM-ERR-1002` (invalid token) or `PB-APIM-ERR-1003`
    /// (expired token).
    #[serde(rename = "errorCode", deserialize_with = "string_or_number")]
    pub error_code: String,
    /// `errorDescription`.
    #[serde(rename = "errorDescription", default)]
    pub error_description: Option<String>,
    /// `message`, used by some gateway versions instead of `errorDescription`.
    #[serde(default)]
    pub message: Option<String>,
}

/// One error of the unified object or of a legacy format. Every field is optional: each
/// format uses a different subset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// `errorCode`: numeric codes are 7 digits (some 8), sent as strings; others are
    /// `PB-...` strings.
    #[serde(
        rename = "errorCode",
        default,
        deserialize_with = "opt_string_or_number"
    )]
    pub error_code: Option<String>,
    /// `key` (legacy format 3): a non-numeric code such as `address.not.verified`.
    #[serde(default)]
    pub key: Option<String>,
    /// `errorDescription` (unified, legacy format 2).
    #[serde(rename = "errorDescription", default)]
    pub error_description: Option<String>,
    /// `message` (legacy formats 1 and 3).
    #[serde(default)]
    pub message: Option<String>,
    /// `additionalInfo`: details, `null` or absent when unused.
    #[serde(rename = "additionalInfo", default)]
    pub additional_info: Option<String>,
    /// `parameters`: the request fields that may be wrong.
    #[serde(default)]
    pub parameters: Option<Vec<String>>,
    /// `userMessage` (legacy format 2, tracking errors): the carrier's text.
    #[serde(rename = "userMessage", default)]
    pub user_message: Option<String>,
    /// `moreInfo` (legacy format 1): a link to the error's documentation.
    #[serde(rename = "moreInfo", default)]
    pub more_info: Option<String>,
    /// `supplementaryErrorCode` (legacy format 1).
    #[serde(rename = "supplementaryErrorCode", default)]
    pub supplementary_error_code: Option<String>,
}

impl ErrorDetail {
    /// The error code: `errorCode`, else `key`.
    pub fn code(&self) -> Option<&str> {
        self.error_code.as_deref().or(self.key.as_deref())
    }

    /// The reason: `errorDescription`, else `message`, else `userMessage`.
    pub fn description(&self) -> Option<&str> {
        self.error_description
            .as_deref()
            .or(self.message.as_deref())
            .or(self.user_message.as_deref())
    }
}

impl ErrorResponse {
    /// The errors of a unified or legacy body (empty for the OAuth and gateway shapes).
    pub fn details(&self) -> &[ErrorDetail] {
        match self {
            Self::LegacyStatus { errors, .. }
            | Self::Unified { errors }
            | Self::LegacyArray(errors) => errors,
            Self::OAuth { .. } | Self::Gateway(_) => &[],
        }
    }

    /// Every error code in the body, in order.
    pub fn codes(&self) -> Vec<&str> {
        match self {
            Self::OAuth { error, .. } => vec![error.as_str()],
            Self::Gateway(gateway) => vec![gateway.error_code.as_str()],
            _ => self
                .details()
                .iter()
                .filter_map(ErrorDetail::code)
                .collect(),
        }
    }

    /// Whether the body says nothing (`[]`, `{"errors":[]}`, or errors with neither code
    /// nor description): such a body is reported by excerpt instead.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::OAuth { .. } | Self::Gateway(_) => false,
            _ => self
                .details()
                .iter()
                .all(|d| d.code().is_none() && d.description().is_none()),
        }
    }

    /// A one-line summary: `code: description (additional info)` per error, joined by
    /// `; `. Not yet scrubbed of secrets.
    pub fn summary(&self) -> String {
        self.render(false)
    }

    /// Like [`summary`](Self::summary) without the first error's code (for messages that
    /// show [`codes`](Self::codes)`[0]` apart).
    pub fn message(&self) -> String {
        self.render(true)
    }

    fn render(&self, skip_first_code: bool) -> String {
        fn shown(skip: bool, code: Option<&str>) -> Option<&str> {
            if skip { None } else { code }
        }
        let code = |i: usize, code| shown(skip_first_code && i == 0, code);
        match self {
            Self::OAuth {
                error,
                error_description,
            } => join_parts(code(0, Some(error)), error_description.as_deref(), None),
            Self::Gateway(gateway) => join_parts(
                code(0, Some(&gateway.error_code)),
                gateway
                    .error_description
                    .as_deref()
                    .or(gateway.message.as_deref()),
                None,
            ),
            _ => self
                .details()
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    join_parts(
                        code(i, d.code()),
                        d.description(),
                        d.additional_info.as_deref(),
                    )
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

fn join_parts(code: Option<&str>, description: Option<&str>, info: Option<&str>) -> String {
    fn non_empty(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let mut out = String::new();
    if let Some(code) = non_empty(code) {
        out.push_str(code);
    }
    if let Some(description) = non_empty(description) {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(description);
    }
    if let Some(info) = non_empty(info).filter(|i| Some(*i) != non_empty(description)) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('(');
        out.push_str(info);
        out.push(')');
    }
    out
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    String(String),
    Number(serde_json::Number),
}

impl StringOrNumber {
    fn into_string(self) -> String {
        match self {
            Self::String(s) => s,
            Self::Number(n) => n.to_string(),
        }
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    StringOrNumber::deserialize(deserializer).map(StringOrNumber::into_string)
}

fn opt_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::<StringOrNumber>::deserialize(deserializer).map(|v| v.map(StringOrNumber::into_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
        "access_token": "m22wyEgfHlA0LudkGG9gG2xB04Cv",
        "tokenType": "BearerToken",
        "issuedAt": "1456851460568",
        "expiresIn": "35999",
        "clientID": "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS",
        "org": "pitneybowes"
    }"#;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn jwt(claims: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2ln",
            enc.encode(r#"{"alg":"RS256","kid":"k"}"#),
            enc.encode(claims)
        )
    }

    #[test]
    fn classic_seed_body_parses_every_field() {
        let r: TokenResponse = serde_json::from_str(SEED).unwrap();
        assert_eq!(
            r.access_token.expose_secret(),
            "m22wyEgfHlA0LudkGG9gG2xB04Cv"
        );
        assert_eq!(r.token_type_classic.as_deref(), Some("BearerToken"));
        assert_eq!(r.issued_at, Some(1_456_851_460_568));
        assert_eq!(r.expires_in_classic, Some(35_999));
        assert_eq!(
            r.client_id.as_deref(),
            Some("3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS")
        );
        assert_eq!(r.org.as_deref(), Some("pitneybowes"));
        assert_eq!(r.token_type_name(), Some("BearerToken"));
    }

    #[test]
    fn classic_numbers_are_accepted_as_numbers_too() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","tokenType":"BearerToken","issuedAt":1456851460568,"expiresIn":35999}"#,
        )
        .unwrap();
        assert_eq!(r.issued_at, Some(1_456_851_460_568));
        assert_eq!(r.lifetime(), Some(Duration::from_secs(35_999)));
    }

    #[test]
    fn rfc6749_body_parses() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","expires_in":14400,"scope":"psapi","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(r.lifetime(), Some(Duration::from_secs(14_400)));
        let token = r.into_token(t("2026-01-01T00:00:00Z"));
        assert_eq!(token.token_type(), "Bearer");
        assert_eq!(token.scopes().to_string(), "psapi");
        assert_eq!(token.expires_at(), Some(t("2026-01-01T04:00:00Z")));
        assert!(token.refresh_token().is_none());
    }

    #[test]
    fn bad_number_strings_fail_to_parse() {
        for body in [
            r#"{"access_token":"a","expiresIn":"ten hours"}"#,
            r#"{"access_token":"a","issuedAt":"yesterday"}"#,
        ] {
            assert!(
                serde_json::from_str::<TokenResponse>(body).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn issued_at_within_skew_shortens_expiry() {
        let sent = t("2026-03-01T12:00:00Z");
        // The server issued the token 90 s before our send time (a slow gateway or our
        // clock ahead): expiry follows the server.
        let issued = sent - chrono::Duration::seconds(90);
        let r: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": "a", "tokenType": "BearerToken",
            "issuedAt": issued.timestamp_millis().to_string(), "expiresIn": "35999"
        }))
        .unwrap();
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(35_999 - 90))
        );
    }

    #[test]
    fn issued_at_later_than_send_time_never_extends_expiry() {
        let sent = t("2026-03-01T12:00:00Z");
        let issued = sent + chrono::Duration::seconds(120);
        let r: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": "a", "issuedAt": issued.timestamp_millis(), "expiresIn": 35999
        }))
        .unwrap();
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(35_999))
        );
    }

    #[test]
    fn issued_at_far_off_falls_back_to_send_time() {
        // The seed's issuedAt is from 2016: a clock that far off is ignored.
        let sent = t("2026-03-01T12:00:00Z");
        let r: TokenResponse = serde_json::from_str(SEED).unwrap();
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(35_999))
        );
    }

    #[test]
    fn jwt_exp_cross_checks_expiry() {
        let sent = t("2026-03-01T12:00:00Z");
        let iat = sent.timestamp() - 30;
        let body = serde_json::json!({
            "access_token": jwt(&format!(r#"{{"iat":{iat},"exp":{},"sub":"x"}}"#, iat + 36_000)),
            "token_type": "Bearer", "expires_in": 36000
        });
        let r: TokenResponse = serde_json::from_value(body).unwrap();
        assert_eq!(
            r.jwt_claims(),
            Some(JwtClaims {
                exp: Some(iat + 36_000),
                iat: Some(iat)
            })
        );
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(36_000 - 30))
        );
    }

    #[test]
    fn jwt_exp_from_a_skewed_clock_is_ignored() {
        let sent = t("2026-03-01T12:00:00Z");
        let iat = sent.timestamp() - 3 * 3600;
        let body = serde_json::json!({
            "access_token": jwt(&format!(r#"{{"iat":{iat},"exp":{}}}"#, iat + 36_000)),
            "expires_in": 36000
        });
        let r: TokenResponse = serde_json::from_value(body).unwrap();
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(36_000))
        );
    }

    #[test]
    fn jwt_without_iat_is_checked_against_exp_less_lifetime() {
        let sent = t("2026-03-01T12:00:00Z");
        let exp = sent.timestamp() + 36_000 - 60;
        let r: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": jwt(&format!(r#"{{"exp":{exp}.5}}"#)), "expires_in": 36000
        }))
        .unwrap();
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(36_000 - 60))
        );
    }

    #[test]
    fn jwt_gives_the_lifetime_when_the_body_does_not() {
        let sent = t("2026-03-01T12:00:00Z");
        let iat = sent.timestamp();
        let r: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": jwt(&format!(r#"{{"iat":{iat},"exp":{}}}"#, iat + 3600))
        }))
        .unwrap();
        assert_eq!(
            r.expires_at(sent),
            Some(sent + chrono::Duration::seconds(3600))
        );
    }

    #[test]
    fn no_lifetime_at_all_assumes_the_documented_ten_hours() {
        let sent = t("2026-03-01T12:00:00Z");
        let r: TokenResponse = serde_json::from_str(r#"{"access_token":"opaque"}"#).unwrap();
        assert_eq!(r.jwt_claims(), None);
        assert_eq!(r.expires_at(sent), Some(sent + chrono::Duration::hours(10)));
    }

    #[test]
    fn absurd_lifetimes_are_not_believed_and_never_overflow() {
        let sent = t("2026-03-01T12:00:00Z");
        for lifetime in [31_708_800, 10_000_000_000_000i64, i64::MAX] {
            let r: TokenResponse = serde_json::from_value(serde_json::json!({
                "access_token": "a", "expiresIn": lifetime.to_string(), "issuedAt": i64::MAX
            }))
            .unwrap();
            assert_eq!(r.lifetime(), None, "{lifetime}");
            let token = r.into_token(sent);
            assert_eq!(
                token.expires_at(),
                Some(sent + chrono::Duration::hours(10)),
                "{lifetime}"
            );
        }
        // The longest believed lifetime is kept.
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":31622400}"#).unwrap();
        assert_eq!(r.lifetime(), Some(MAX_ACCESS_TOKEN_LIFETIME));
    }

    #[test]
    fn zero_or_negative_lifetimes_are_treated_as_absent() {
        let sent = t("2026-03-01T12:00:00Z");
        for body in [
            r#"{"access_token":"a","expiresIn":"0"}"#,
            r#"{"access_token":"a","expiresIn":"-5"}"#,
            r#"{"access_token":"a","expires_in":0}"#,
            r#"{"access_token":"a","expires_in":-1}"#,
        ] {
            let r: TokenResponse = serde_json::from_str(body).unwrap();
            assert_eq!(r.lifetime(), None, "{body}");
            assert_eq!(
                r.expires_at(sent),
                Some(sent + chrono::Duration::hours(10)),
                "{body}"
            );
        }
        // A JWT's own lifetime is the next choice.
        let iat = sent.timestamp();
        let r: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": jwt(&format!(r#"{{"iat":{iat},"exp":{}}}"#, iat + 3600)),
            "expires_in": 0
        }))
        .unwrap();
        assert_eq!(r.expires_at(sent), Some(sent + chrono::Duration::hours(1)));
    }

    #[test]
    fn malformed_jwts_are_opaque_tokens() {
        for token in ["a.b", "a.b.c.d", "a.!!!.c", "a.e30.c"] {
            let r: TokenResponse =
                serde_json::from_value(serde_json::json!({ "access_token": token })).unwrap();
            let claims = r.jwt_claims().unwrap_or_default();
            assert_eq!(claims, JwtClaims::default(), "{token}");
        }
    }

    #[test]
    fn error_formats_are_told_apart() {
        let cases = [
            (
                r#"{"errors":[{"errorCode":"1019003","errorDescription":"Either Invalid or missing street","additionalInfo":null,"parameters":[]}]}"#,
                "unified",
                "1019003: Either Invalid or missing street",
            ),
            (
                r#"[{"errorCode":"1021141","message":"Invalid combination.","additionalInfo":"(NAE)"}]"#,
                "array",
                "1021141: Invalid combination. ((NAE))",
            ),
            (
                r#"[{"key":"address.not.verified","message":"Address could not be verified"}]"#,
                "array",
                "address.not.verified: Address could not be verified",
            ),
            (
                r#"{"status":"ERROR","errors":[{"errorCode":40000072,"errorDescription":"Invalid value for renderType."}]}"#,
                "status",
                "40000072: Invalid value for renderType.",
            ),
            (
                r#"{"errorCode":"PB-APIM-ERR-1002","errorDescription":"Invalid Access Token"}"#,
                "gateway",
                "PB-APIM-ERR-1002: Invalid Access Token",
            ),
            (
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
                "oauth",
                "invalid_client: Client authentication failed",
            ),
        ];
        for (body, kind, summary) in cases {
            let e: ErrorResponse = serde_json::from_str(body).unwrap();
            let got = match e {
                ErrorResponse::Unified { .. } => "unified",
                ErrorResponse::LegacyArray(_) => "array",
                ErrorResponse::LegacyStatus { .. } => "status",
                ErrorResponse::Gateway(_) => "gateway",
                ErrorResponse::OAuth { .. } => "oauth",
            };
            assert_eq!(got, kind, "{body}");
            assert_eq!(e.summary(), summary, "{body}");
            assert!(!e.is_empty());
        }
    }

    #[test]
    fn empty_error_bodies_are_empty() {
        for body in ["[]", r#"{"errors":[]}"#, r#"[{"parameters":[]}]"#] {
            let e: ErrorResponse = serde_json::from_str(body).unwrap();
            assert!(e.is_empty(), "{body}");
        }
        for body in [
            r#"{"message":"hi"}"#,
            "\"text\"",
            "[1]",
            "[[1]]",
            r#"{"errors":{}}"#,
        ] {
            assert!(
                serde_json::from_str::<ErrorResponse>(body).is_err(),
                "{body}"
            );
        }
    }
}

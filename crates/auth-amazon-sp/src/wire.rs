//! The exact bodies Login with Amazon and the Tokens API exchange. Serde only, no I/O.
//!
//! Responses are read tolerantly: unknown fields (`error_index`, `request_id`, `scope`,
//! whatever Amazon adds next) are ignored, and numbers may arrive as strings.

use std::time::Duration;

use auth_core::chrono::{DateTime, Utc};
use auth_core::http::oauth_token;
use auth_core::token::{DEFAULT_MAX_CLOCK_SKEW, expiry};
use auth_core::{AccessToken, ClientId, ClientSecret, RefreshToken, Secret, Token};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};

/// The body of `POST /auth/o2/token`, one variant per grant.
///
/// The same fields go out as `application/x-www-form-urlencoded` (what Amazon documents,
/// the default) or as a JSON object (what the official Java, C# and PHP SDKs send); see
/// [`fields`](Self::fields). `Debug` never shows a secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TokenRequestBody<'a> {
    /// `grant_type=refresh_token`: a seller-authorized access token. Amazon's guide: "If
    /// you include refresh_token, do not include scope", so there is no scope here.
    RefreshToken {
        /// The seller's LWA refresh token (`Atzr|...`).
        refresh_token: &'a RefreshToken,
        /// The application's LWA client id.
        client_id: &'a ClientId,
        /// The application's LWA client secret.
        client_secret: &'a ClientSecret,
    },
    /// `grant_type=client_credentials`: a grantless access token.
    ClientCredentials {
        /// Space-separated grantless scopes.
        scope: &'a str,
        /// The application's LWA client id.
        client_id: &'a ClientId,
        /// The application's LWA client secret.
        client_secret: &'a ClientSecret,
    },
    /// `grant_type=authorization_code`: the website workflow's `spapi_oauth_code`
    /// (valid for five minutes) exchanged for a refresh token.
    AuthorizationCode {
        /// The `spapi_oauth_code` from the redirect.
        code: &'a Secret,
        /// The redirect URI of the consent request, when one was sent (optional: Amazon's
        /// own example and SDKs leave it out).
        redirect_uri: Option<&'a str>,
        /// The application's LWA client id.
        client_id: &'a ClientId,
        /// The application's LWA client secret.
        client_secret: &'a ClientSecret,
    },
}

impl<'a> TokenRequestBody<'a> {
    /// The fields in wire order, `grant_type` first. The values hold secrets: put them only
    /// on the wire.
    pub fn fields(&self) -> Vec<(&'a str, &'a str)> {
        match *self {
            TokenRequestBody::RefreshToken {
                refresh_token,
                client_id,
                client_secret,
            } => vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.expose_secret()),
            ],
            TokenRequestBody::ClientCredentials {
                scope,
                client_id,
                client_secret,
            } => vec![
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.expose_secret()),
            ],
            TokenRequestBody::AuthorizationCode {
                code,
                redirect_uri,
                client_id,
                client_secret,
            } => {
                let mut fields = vec![
                    ("grant_type", "authorization_code"),
                    ("code", code.expose_secret()),
                ];
                if let Some(uri) = redirect_uri {
                    fields.push(("redirect_uri", uri));
                }
                fields.push(("client_id", client_id.as_str()));
                fields.push(("client_secret", client_secret.expose_secret()));
                fields
            }
        }
    }
}

impl Serialize for TokenRequestBody<'_> {
    /// A JSON object of [`fields`](Self::fields), in the same order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = self.fields();
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, value) in fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// LWA's answer to a successful token request.
///
/// ```json
/// {"access_token":"Atza|...","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|..."}
/// ```
/// Grantless answers carry `scope` and no `refresh_token`.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (`Atza|...`, up to 2048 bytes), sent as `x-amz-access-token`.
    pub access_token: AccessToken,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Lifetime in seconds (3600). Signed, so that a zero or negative value still parses
    /// (it is then not believed: see [`into_token`](Self::into_token)).
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::Same, serde_with::DisplayFromStr)>>>"
    )]
    pub expires_in: Option<i64>,
    /// The long-lived refresh token (`Atzr|...`) on the refresh and authorization-code
    /// grants. LWA does not rotate it: a refresh answers with the same one.
    /// An empty string is taken as absent by [`into_token`](Self::into_token).
    #[serde(default)]
    pub refresh_token: Option<RefreshToken>,
    /// The granted scopes of a grantless token, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
}

/// The lifetime assumed when LWA states no usable `expires_in` (it never has: its
/// documented access-token and RDT lifetime is one hour). A token with no expiry would be
/// cached forever; one with a zero lifetime would be refreshed on every call.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest `expires_in` believed (366 days); a longer one is treated as absent.
pub use auth_core::token::MAX_ACCESS_TOKEN_LIFETIME;

/// A stated lifetime that can be right: 1 s up to [`MAX_ACCESS_TOKEN_LIFETIME`]. Anything
/// else is logged and treated as absent (zero or negative would make a token born
/// expired, refreshed on every call; an absurd one would make it never expire).
fn usable_lifetime(expires_in: Option<i64>) -> Option<Duration> {
    auth_core::token::stated_lifetime(expires_in, "amazon-sp")
}

impl TokenResponse {
    /// The [`Token`]: expiry is `sent_at` (when our request left) plus `expires_in`.
    ///
    /// An `expires_in` that is absent, zero or negative, or longer than
    /// [`MAX_ACCESS_TOKEN_LIFETIME`], is not believed: [`DEFAULT_ACCESS_TOKEN_LIFETIME`]
    /// is assumed and a warning logged.
    pub fn into_token(self, sent_at: DateTime<Utc>) -> Token {
        let lifetime = usable_lifetime(self.expires_in).unwrap_or_else(|| {
            if self.expires_in.is_none() {
                tracing::warn!("LWA token response has no expires_in; assuming one hour");
            }
            DEFAULT_ACCESS_TOKEN_LIFETIME
        });
        oauth_token(
            self.access_token,
            self.token_type,
            expiry(sent_at, Some(lifetime), None, None, DEFAULT_MAX_CLOCK_SKEW),
            // An empty one is none: the refresh token presented stays the seller's.
            self.refresh_token
                .filter(|refresh_token| !refresh_token.expose_secret().is_empty()),
            self.scope.as_deref(),
            sent_at,
        )
    }
}

/// LWA's error body: RFC 6749 §5.2 plus Amazon's own fields.
///
/// ```json
/// {"error_index":"5EDdsV5g","error_description":"The authorization grant type is not supported by the authorization server","error":"unsupported_grant_type","request_id":"9896b6b9-d5f6-458b-bc04-be2348292d21"}
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The RFC 6749 code: `invalid_client`, `invalid_grant`, `invalid_request`,
    /// `invalid_scope`, `unauthorized_client`, `unsupported_grant_type`, `access_denied`,
    /// `server_error`, `temporarily_unavailable`.
    pub error: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub error_description: Option<String>,
    /// Amazon's index of the error, for its support.
    #[serde(default)]
    pub error_index: Option<String>,
    /// Amazon's request id, for its support.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// The HTTP method of a restricted resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum RestrictedMethod {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

/// One restricted operation an RDT authorizes: method, path and, for the Orders API,
/// the personal data wanted.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::wire::{RestrictedMethod, RestrictedResource};
///
/// let orders = RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders")
///     .with_data_elements(["buyerInfo", "shippingAddress"]);
/// assert_eq!(
///     serde_json::to_string(&orders).unwrap(),
///     r#"{"method":"GET","path":"/orders/v0/orders","dataElements":["buyerInfo","shippingAddress"]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RestrictedResource {
    /// The HTTP method of the restricted operation.
    pub method: RestrictedMethod,
    /// Its path: specific (`/orders/v0/orders/902-3159896-1390916/address`) or generic
    /// (`/orders/v0/orders/{orderId}/address`, any order).
    pub path: String,
    /// `buyerInfo`, `shippingAddress`, `buyerTaxInformation`: required only for
    /// `getOrder`, `getOrders` and `getOrderItems`. Left out of the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_elements: Vec<String>,
}

impl RestrictedResource {
    /// A resource with no data elements.
    pub fn new(method: RestrictedMethod, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            data_elements: Vec::new(),
        }
    }

    /// Sets the data elements.
    #[must_use]
    pub fn with_data_elements<I, S>(mut self, elements: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.data_elements = elements.into_iter().map(Into::into).collect();
        self
    }
}

/// The body of `createRestrictedDataToken`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateRestrictedDataTokenRequest {
    /// The restricted resources (1 to 50).
    pub restricted_resources: Vec<RestrictedResource>,
    /// The application id of the application to which access is delegated, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_application: Option<String>,
}

impl CreateRestrictedDataTokenRequest {
    /// The most resources one RDT can cover.
    pub const MAX_RESOURCES: usize = 50;

    /// A request for these resources, with no target application.
    pub fn new(resources: impl IntoIterator<Item = RestrictedResource>) -> Self {
        Self {
            restricted_resources: resources.into_iter().collect(),
            target_application: None,
        }
    }

    /// Delegates access to another application.
    #[must_use]
    pub fn with_target_application(mut self, application_id: impl Into<String>) -> Self {
        self.target_application = Some(application_id.into());
        self
    }
}

/// The Tokens API's answer: `{"restrictedDataToken":"Atz.sprdt|...","expiresIn":3600}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateRestrictedDataTokenResponse {
    /// The RDT, sent as `x-amz-access-token` on the restricted calls.
    pub restricted_data_token: AccessToken,
    /// Lifetime in seconds (3600). Signed, so that a zero or negative value still parses
    /// (it is then not believed: see [`into_token`](Self::into_token)).
    #[serde(
        with = "serde_with::As::<serde_with::PickFirst<(serde_with::Same, serde_with::DisplayFromStr)>>"
    )]
    pub expires_in: i64,
}

impl CreateRestrictedDataTokenResponse {
    /// The RDT as a [`Token`] expiring `expiresIn` after `sent_at`; a zero, negative or
    /// absurd `expiresIn` is not believed (one hour is assumed, with a warning).
    pub fn into_token(self, sent_at: DateTime<Utc>) -> Token {
        let lifetime =
            usable_lifetime(Some(self.expires_in)).unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME);
        let at = expiry(sent_at, Some(lifetime), None, None, DEFAULT_MAX_CLOCK_SKEW);
        Token::new(self.restricted_data_token, at).with_issued_at(sent_at)
    }
}

/// The SP-API's error body: `{"errors":[{"code":"...","message":"...","details":"..."}]}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorList {
    /// The errors, most relevant first.
    pub errors: Vec<ApiError>,
}

/// One SP-API error.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// `Unauthorized`, `InvalidInput`, `QuotaExceeded`, ...
    pub code: String,
    /// What went wrong (`Access to requested resource is denied.`).
    #[serde(default)]
    pub message: Option<String>,
    /// More about it (`The access token you provided has expired.`); often empty.
    #[serde(default)]
    pub details: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn refresh_response_becomes_token_expiring_from_send_time() {
        let body = r#"{"access_token":"Atza|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSREXAMPLE","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|IQEBLzAtAhRPpMJxdwVz2Nn6f2y-tpJX2DeXEXAMPLE"}"#;
        let token = serde_json::from_str::<TokenResponse>(body)
            .unwrap()
            .into_token(sent());
        assert_eq!(
            token.access_token().expose_secret(),
            "Atza|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSREXAMPLE"
        );
        assert_eq!(
            token.expires_at(),
            Some("2026-03-01T13:00:00Z".parse().unwrap())
        );
        assert_eq!(
            token.refresh_token().unwrap().expose_secret(),
            "Atzr|IQEBLzAtAhRPpMJxdwVz2Nn6f2y-tpJX2DeXEXAMPLE"
        );
        assert_eq!(token.token_type(), "bearer");
        assert!(token.scopes().is_empty());
    }

    #[test]
    fn grantless_response_keeps_scope_and_string_numbers() {
        let body = r#"{"access_token":"Atc|x","scope":"sellingpartnerapi::notifications","token_type":"bearer","expires_in":"3600","extra":{"a":1}}"#;
        let token = serde_json::from_str::<TokenResponse>(body)
            .unwrap()
            .into_token(sent());
        assert_eq!(
            token.scopes().to_string(),
            "sellingpartnerapi::notifications"
        );
        assert!(token.refresh_token().is_none());
        assert_eq!(
            token.expires_at(),
            Some("2026-03-01T13:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn missing_expires_in_assumes_an_hour_not_forever() {
        let token = serde_json::from_str::<TokenResponse>(r#"{"access_token":"a"}"#)
            .unwrap()
            .into_token(sent());
        assert_eq!(
            token.expires_at(),
            Some("2026-03-01T13:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn zero_negative_or_absurd_expires_in_is_treated_as_absent() {
        let hour_later = Some("2026-03-01T13:00:00Z".parse().unwrap());
        for bad in ["0", "-1", "\"-3600\"", "31708800", "9223372036854775807"] {
            let body = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            let token = serde_json::from_str::<TokenResponse>(&body)
                .unwrap()
                .into_token(sent());
            assert_eq!(token.expires_at(), hour_later, "{bad}");
            let body = format!(r#"{{"restrictedDataToken":"Atz.sprdt|x","expiresIn":{bad}}}"#);
            let rdt = serde_json::from_str::<CreateRestrictedDataTokenResponse>(&body)
                .unwrap()
                .into_token(sent());
            assert_eq!(rdt.expires_at(), hour_later, "rdt {bad}");
        }
    }

    #[test]
    fn debug_of_response_hides_tokens() {
        let body = r#"{"access_token":"Atza|sekrit","refresh_token":"Atzr|sekrit","expires_in":1}"#;
        let parsed: TokenResponse = serde_json::from_str(body).unwrap();
        assert!(!format!("{parsed:?}").contains("sekrit"));
    }

    #[test]
    fn request_body_fields_in_wire_order_and_debug_redacted() {
        let (id, secret, rt) = (
            ClientId::new("amzn1.application-oa2-client.x"),
            ClientSecret::new("cs-sekrit"),
            RefreshToken::new("Atzr|rt-sekrit"),
        );
        let body = TokenRequestBody::RefreshToken {
            refresh_token: &rt,
            client_id: &id,
            client_secret: &secret,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"grant_type":"refresh_token","refresh_token":"Atzr|rt-sekrit","client_id":"amzn1.application-oa2-client.x","client_secret":"cs-sekrit"}"#
        );
        assert!(!format!("{body:?}").contains("sekrit"));
    }

    #[test]
    fn rdt_request_and_response_shapes() {
        let request = CreateRestrictedDataTokenRequest::new([RestrictedResource::new(
            RestrictedMethod::Get,
            "/orders/v0/orders",
        )
        .with_data_elements(["buyerInfo"])]);
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"restrictedResources":[{"method":"GET","path":"/orders/v0/orders","dataElements":["buyerInfo"]}]}"#
        );
        let response: CreateRestrictedDataTokenResponse =
            serde_json::from_str(r#"{"restrictedDataToken":"Atz.sprdt|x","expiresIn":3600}"#)
                .unwrap();
        let token = response.into_token(sent());
        assert_eq!(
            token.expires_at(),
            Some("2026-03-01T13:00:00Z".parse().unwrap())
        );
    }
}

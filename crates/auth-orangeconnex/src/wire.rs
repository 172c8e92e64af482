//! The token endpoint's bodies exactly as Orange Connex documents them (serde only, no
//! I/O), and the one conversion into [`Token`].
//!
//! Requests carry no body at all: every parameter of `POST /oauth/token` is in the query
//! string (see [`Client`](crate::Client)). The response schema, documented under HTTP 200
//! and 201, makes **every field optional** and includes `error` / `error_description`, so a
//! 200 can carry an error: [`TokenResponse::into_token`] refuses a body with `error` set or
//! without `access_token`, whatever the status.

use std::fmt;
use std::time::Duration;

use auth_core::http::oauth_token;
use auth_core::token::{DEFAULT_MAX_CLOCK_SKEW, expiry};
use auth_core::{AccessToken, AuthError, OAuthErrorCode, RefreshToken, Token};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// How long an access token lives when the response does not say, or states a lifetime
/// that cannot be right: 3600 s, the lifetime the vendor documents.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest `expires_in` believed (366 days); a longer one is treated as absent.
pub use auth_core::token::MAX_ACCESS_TOKEN_LIFETIME;

/// The body of `POST /oauth/token` (code exchange and refresh), HTTP 200 or 201.
///
/// Field meanings quote the vendor's reference. `Debug` never shows the tokens, nor the
/// `error_description` (a server may echo the refresh token there).
#[derive(Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// "Value of access token. When 3PP requests APIs (exclude "getServiceList" API),
    /// access token should be contained in a header named "Access-Token"."
    pub access_token: Option<AccessToken>,
    /// Set on failure (an OAuth error code), even with HTTP 200.
    pub error: Option<String>,
    /// Human-readable detail of `error`.
    pub error_description: Option<String>,
    /// "Duration of validity of access token", in seconds (`int32`; 3600 in practice).
    /// A number sent as a string is accepted too.
    #[serde(
        default,
        with = "serde_with::As::<Option<serde_with::PickFirst<(serde_with::Same, serde_with::DisplayFromStr)>>>"
    )]
    pub expires_in: Option<i64>,
    /// "Value of refresh token. If the access token is expired, 3PP uses the refresh
    /// token to get a new access token and its expiration date." Valid for one year.
    pub refresh_token: Option<RefreshToken>,
    /// "Fixed value: "bearer"" (compared ignoring ASCII case).
    pub token_type: Option<String>,
}

/// An error body of the token endpoint (`401`, `403`, `404` and other non-2xx answers):
/// the OAuth 2.0 error fields, both optional.
///
/// `Debug` does not show `error_description` (a server may echo a token there).
#[derive(Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The OAuth error code (`invalid_grant`, `invalid_client`, …).
    pub error: Option<String>,
    /// Human-readable detail.
    pub error_description: Option<String>,
}

/// The refresh token a refresh request sent, and when it was issued, if known: what
/// [`TokenResponse::into_token`] falls back on when the response carries no refresh token.
#[derive(Debug, Clone, Copy)]
pub struct PreviousRefreshToken<'a> {
    /// The refresh token sent.
    pub refresh_token: &'a RefreshToken,
    /// When it was issued (our send time of the request that obtained it), if known.
    pub issued_at: Option<DateTime<Utc>>,
}

/// A string field that is present and not blank.
pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl TokenResponse {
    /// Converts a response into a [`Token`].
    ///
    /// - `status` is the response's HTTP status (reported in errors).
    /// - `sent_at` is the local time the request was sent: the access token expires at
    ///   `sent_at + expires_in` ([`DEFAULT_ACCESS_TOKEN_LIFETIME`] when absent; also, with
    ///   a warning, when zero, negative or longer than [`MAX_ACCESS_TOKEN_LIFETIME`]: a
    ///   token born expired would be refreshed on every call, one with an absurd lifetime
    ///   never).
    /// - `previous` is the refresh token the request used (`None` for a code exchange).
    ///
    /// The returned token keeps the refresh token the response carries; when it carries
    /// none, the previous one is kept (Orange Connex does not document its refresh tokens
    /// as single-use, so the one sent is still valid). [`Token::issued_at`] is `sent_at`
    /// (the access token's issue time); [`Token::refresh_token_issued_at`] is when the
    /// **current refresh token** was issued: `sent_at` when the response brought a new one
    /// (a code exchange, or a refresh that rotated it), the previous value when it kept
    /// the same one, `None` when there is no refresh token or its age is unknown. See
    /// [`refresh_token_expires_at`](crate::refresh_token_expires_at).
    ///
    /// # Errors
    ///
    /// - [`AuthError::OAuth`] if `error` is set (whatever `status` is). Its description is
    ///   left out here because this function cannot remove secrets the server may have
    ///   echoed into it; [`Client`](crate::Client) reports it, scrubbed.
    /// - [`AuthError::Decode`] if there is no `access_token`, or `token_type` is not
    ///   `bearer`.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_orangeconnex::wire::TokenResponse;
    /// use chrono::{DateTime, Duration, Utc};
    ///
    /// let body: TokenResponse = serde_json::from_str(
    ///     r#"{"access_token":"at","token_type":"bearer","expires_in":3600,"refresh_token":"rt"}"#,
    /// ).unwrap();
    /// let sent: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    /// let token = body.into_token(200, sent, None).unwrap();
    /// assert_eq!(token.expires_at(), Some(sent + Duration::hours(1)));
    /// assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt");
    /// assert_eq!(token.issued_at(), Some(sent));
    /// assert_eq!(token.refresh_token_issued_at(), Some(sent));
    /// ```
    pub fn into_token(
        self,
        status: u16,
        sent_at: DateTime<Utc>,
        previous: Option<PreviousRefreshToken<'_>>,
    ) -> Result<Token, AuthError> {
        if let Some(code) = present(&self.error) {
            return Err(AuthError::oauth(
                OAuthErrorCode::parse(code),
                None,
                Some(status),
            ));
        }
        let Some(access_token) = self
            .access_token
            .filter(|t| !t.expose_secret().trim().is_empty())
        else {
            return Err(AuthError::Decode {
                vendor: "",
                status,
                detail: "the response carries neither an access_token nor an error".into(),
            });
        };
        let token_type = present(&self.token_type).map(str::to_owned);
        if let Some(kind) = &token_type
            && !kind.eq_ignore_ascii_case("bearer")
        {
            let kind: String = kind.chars().take(32).collect();
            return Err(AuthError::Decode {
                vendor: "",
                status,
                detail: format!(
                    "unsupported token_type `{kind}`; Orange Connex documents only `bearer`"
                ),
            });
        }
        let lifetime = usable_lifetime(self.expires_in).unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME);
        let expires_at = expiry(sent_at, Some(lifetime), None, None, DEFAULT_MAX_CLOCK_SKEW);

        let returned = self
            .refresh_token
            .filter(|t| !t.expose_secret().trim().is_empty());
        let (refresh_token, refresh_token_issued_at) = match (returned, previous) {
            (Some(new), Some(prev)) if new.ct_eq(prev.refresh_token) => (Some(new), prev.issued_at),
            (Some(new), _) => (Some(new), Some(sent_at)),
            (None, Some(prev)) => (Some(prev.refresh_token.clone()), prev.issued_at),
            (None, None) => (None, None),
        };

        let mut token = oauth_token(
            access_token,
            token_type,
            expires_at,
            refresh_token,
            None,
            sent_at,
        );
        if let Some(at) = refresh_token_issued_at {
            token = token.with_refresh_token_issued_at(at);
        }
        Ok(token)
    }
}

/// A stated lifetime that can be right: 1 s up to [`MAX_ACCESS_TOKEN_LIFETIME`]. Anything
/// else is logged and treated as absent (zero or negative would make a token born
/// expired, refreshed on every call; an absurd one would make it never expire).
fn usable_lifetime(expires_in: Option<i64>) -> Option<Duration> {
    auth_core::token::stated_lifetime(expires_in, "orangeconnex")
}

fn description_len(description: &Option<String>) -> Option<String> {
    description
        .as_ref()
        .map(|d| format!("[{} characters, not shown]", d.chars().count()))
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("error", &self.error)
            .field(
                "error_description",
                &description_len(&self.error_description),
            )
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("token_type", &self.token_type)
            .finish()
    }
}

impl fmt::Debug for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorResponse")
            .field("error", &self.error)
            .field(
                "error_description",
                &description_len(&self.error_description),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent() -> DateTime<Utc> {
        "2026-05-01T08:00:00Z".parse().unwrap()
    }

    fn parse(json: &str) -> TokenResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_field_is_optional() {
        let body = parse("{}");
        assert!(body.access_token.is_none() && body.error.is_none() && body.expires_in.is_none());
        let body = parse(r#"{"expires_in":null,"refresh_token":null}"#);
        assert!(body.expires_in.is_none() && body.refresh_token.is_none());
    }

    #[test]
    fn expires_in_as_string_is_accepted() {
        assert_eq!(parse(r#"{"expires_in":"3599"}"#).expires_in, Some(3599));
        assert_eq!(parse(r#"{"expires_in":3599}"#).expires_in, Some(3599));
    }

    #[test]
    fn missing_expires_in_means_the_documented_hour() {
        let token = parse(r#"{"access_token":"a"}"#)
            .into_token(200, sent(), None)
            .unwrap();
        assert_eq!(
            token.expires_at(),
            Some(sent() + chrono::Duration::hours(1))
        );
    }

    #[test]
    fn zero_negative_or_absurd_expires_in_means_the_documented_hour() {
        // Previously -5 and 0 gave a token born expired (a refresh on every call), and an
        // absurd lifetime one that never expired.
        for bad in ["-5", "0", "\"-1\"", "31708800", "9223372036854775807"] {
            let body = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            let token = parse(&body).into_token(200, sent(), None).unwrap();
            assert_eq!(
                token.expires_at(),
                Some(sent() + chrono::Duration::hours(1)),
                "{bad}"
            );
        }
        let token = parse(r#"{"access_token":"a","expires_in":31622400}"#)
            .into_token(200, sent(), None)
            .unwrap();
        assert_eq!(
            token.expires_at(),
            Some(sent() + chrono::Duration::seconds(31_622_400))
        );
    }

    #[test]
    fn error_wins_over_an_access_token_whatever_the_status() {
        let err = parse(r#"{"access_token":"a","error":"invalid_grant"}"#)
            .into_token(200, sent(), None)
            .unwrap_err();
        assert!(err.is_invalid_grant());
        assert_eq!(err.status(), Some(200));
    }

    #[test]
    fn blank_error_is_no_error() {
        let token = parse(r#"{"access_token":"a","error":"","error_description":""}"#).into_token(
            201,
            sent(),
            None,
        );
        assert!(token.is_ok());
    }

    #[test]
    fn no_access_token_is_a_decode_error() {
        for body in [
            r#"{}"#,
            r#"{"access_token":""}"#,
            r#"{"token_type":"bearer"}"#,
        ] {
            let err = parse(body).into_token(200, sent(), None).unwrap_err();
            assert!(
                matches!(err, AuthError::Decode { status: 200, .. }),
                "{body}"
            );
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn token_type_is_compared_ignoring_case() {
        for kind in ["bearer", "Bearer", "BEARER", " bearer "] {
            let body = format!(r#"{{"access_token":"a","token_type":"{kind}"}}"#);
            let token = parse(&body).into_token(200, sent(), None).unwrap();
            assert!(token.token_type().eq_ignore_ascii_case(kind.trim()));
        }
        let err = parse(r#"{"access_token":"a","token_type":"mac"}"#)
            .into_token(200, sent(), None)
            .unwrap_err();
        assert!(err.to_string().contains("`mac`"), "{err}");
    }

    #[test]
    fn refresh_token_rotation_sets_its_issue_time() {
        let old = RefreshToken::new("old-refresh");
        let earlier = sent() - chrono::Duration::days(100);
        let prev = PreviousRefreshToken {
            refresh_token: &old,
            issued_at: Some(earlier),
        };
        // Rotated: the new one is kept, issued now.
        let t = parse(r#"{"access_token":"a","refresh_token":"new-refresh"}"#)
            .into_token(200, sent(), Some(prev))
            .unwrap();
        assert_eq!(t.refresh_token().unwrap().expose_secret(), "new-refresh");
        assert_eq!(t.refresh_token_issued_at(), Some(sent()));
        // Same one returned: its original issue time is kept.
        let t = parse(r#"{"access_token":"a","refresh_token":"old-refresh"}"#)
            .into_token(200, sent(), Some(prev))
            .unwrap();
        assert_eq!(t.refresh_token_issued_at(), Some(earlier));
        // None returned: the previous one is kept, with its issue time.
        let t = parse(r#"{"access_token":"a"}"#)
            .into_token(200, sent(), Some(prev))
            .unwrap();
        assert_eq!(t.refresh_token().unwrap().expose_secret(), "old-refresh");
        assert_eq!(t.refresh_token_issued_at(), Some(earlier));
        // The access token is always issued now, whatever the refresh token's age.
        assert_eq!(t.issued_at(), Some(sent()));
        // Code exchange without a refresh token: nothing to keep.
        let t = parse(r#"{"access_token":"a"}"#)
            .into_token(200, sent(), None)
            .unwrap();
        assert!(t.refresh_token().is_none() && t.refresh_token_issued_at().is_none());
        assert_eq!(t.issued_at(), Some(sent()));
    }

    #[test]
    fn debug_never_shows_tokens_or_descriptions() {
        let body = parse(
            r#"{"access_token":"at-secret","refresh_token":"rt-secret","error":"invalid_grant","error_description":"Invalid refresh token: rt-secret"}"#,
        );
        let dbg = format!("{body:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
        assert!(dbg.contains("invalid_grant"), "{dbg}");
        let err: ErrorResponse =
            serde_json::from_str(r#"{"error":"x","error_description":"rt-secret"}"#).unwrap();
        assert!(!format!("{err:?}").contains("secret"));
    }
}

//! Pitney Bowes error bodies -> [`AuthError`], and the rejected-token check for API calls.

use auth_core::http::{RawResponse, invalid_token_challenge};
use auth_core::{AuthError, OAuthErrorCode};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::wire::ErrorResponse;

/// The vendor name in [`AuthError::Vendor`] and in store keys.
pub(crate) const VENDOR: &str = "pitneybowes";

/// Gateway code for an access token it does not accept ("Invalid Access Token": wrong
/// environment's key, or a malformed or expired token).
pub const INVALID_ACCESS_TOKEN: &str = "PB-APIM-ERR-1002";

/// Gateway code for an expired access token: fetch a new one and try again.
pub const EXPIRED_ACCESS_TOKEN: &str = "PB-APIM-ERR-1003";

/// Whether a Shipping API response says the access token was rejected, so that the cached
/// token should be dropped and the request retried once with a new one: the client's
/// [`rejected_token_check`](auth_core::vendor::VendorClient::rejected_token_check), whose
/// docs give the rules.
pub(crate) fn token_rejected(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
    if status == StatusCode::UNAUTHORIZED || invalid_token_challenge(headers) {
        return true;
    }
    if status.is_success() {
        return false;
    }
    serde_json::from_slice::<ErrorResponse>(body).is_ok_and(|error| {
        error
            .codes()
            .iter()
            .any(|code| matches!(*code, INVALID_ACCESS_TOKEN | EXPIRED_ACCESS_TOKEN))
    })
}

/// What the token endpoint was asked, for the message of a rejected key or secret.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    /// `sandbox`, `production`...
    pub(crate) environment: &'static str,
    /// The token URL's host.
    pub(crate) host: String,
}

impl TokenEndpoint {
    fn rejected_hint(&self) -> String {
        format!(
            "API key or secret rejected for this environment ({}, token host {}); check that \
             the key and secret are this environment's pair in the Pitney Bowes Developer Hub \
             (sandbox and production have separate keys)",
            self.environment, self.host
        )
    }
}

/// The error for a token-endpoint response that holds no token.
pub(crate) fn token_error(raw: &RawResponse<'_>, endpoint: &TokenEndpoint) -> AuthError {
    let status = raw.status.as_u16();
    let parsed = serde_json::from_slice::<ErrorResponse>(&raw.body)
        .ok()
        .filter(|error| !error.is_empty());

    if let Some(ErrorResponse::OAuth { .. }) = parsed {
        // The core parses the standard body (and scrubs its description).
        // On a 401 whatever the code (the Basic credentials are all a 401 can be about).
        let error = raw.standard_error();
        let rejected = match &error {
            AuthError::OAuth { code, .. } if status == 401 => code.clone(),
            _ => OAuthErrorCode::InvalidClient,
        };
        return error.with_hint_for(&rejected, endpoint.rejected_hint());
    }

    if status == 401 {
        // A 401 from the token endpoint can only mean the Basic credentials: say so,
        // whatever format (or HTML page) the gateway wrapped it in.
        let description = match &parsed {
            Some(error) => raw.scrub(&error.summary()),
            None => one_line(&raw.excerpt()),
        };
        return AuthError::OAuth {
            vendor: "",
            code: OAuthErrorCode::InvalidClient,
            description: Some(description).filter(|d| !d.is_empty()),
            status: Some(status),
            request_id: None,
            hint: Some(endpoint.rejected_hint()),
        };
    }

    match parsed {
        Some(error) => raw.vendor_error(
            VENDOR,
            // A code is vendor text too: it could echo what was sent.
            error.codes().first().map(|c| raw.scrub(c)),
            Some(raw.scrub(&error.message()))
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "no description".to_owned()),
        ),
        None => match raw.standard_error() {
            AuthError::Http {
                status,
                excerpt,
                retry_after,
                ..
            } => AuthError::Http {
                vendor: "",
                status,
                excerpt: one_line(&excerpt),
                retry_after,
            },
            other => other,
        },
    }
}

/// An HTML or text excerpt on one line, so that an error stays one log line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};

    fn rejected(status: u16, body: &str) -> bool {
        token_rejected(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn plain_401_is_a_rejected_token() {
        assert!(rejected(401, ""));
        assert!(rejected(401, "<html>Unauthorized</html>"));
    }

    #[test]
    fn gateway_codes_reject_the_token_in_every_format() {
        for body in [
            r#"{"errorCode":"PB-APIM-ERR-1002","errorDescription":"Invalid Access Token"}"#,
            r#"{"errorCode":"PB-APIM-ERR-1003","errorDescription":"Access Token Expired"}"#,
            r#"{"errors":[{"errorCode":"PB-APIM-ERR-1003","errorDescription":"expired"}]}"#,
            r#"[{"errorCode":"PB-APIM-ERR-1002","message":"Invalid Access Token"}]"#,
            r#"{"status":"ERROR","errors":[{"errorCode":"PB-APIM-ERR-1003"}]}"#,
        ] {
            assert!(rejected(403, body), "{body}");
            assert!(rejected(400, body), "{body}");
        }
    }

    #[test]
    fn other_errors_do_not_reject_the_token() {
        for (status, body) in [
            (
                403,
                r#"{"errors":[{"errorCode":"1000033","errorDescription":"Unauthorized API Access for given credentials."}]}"#,
            ),
            (
                400,
                r#"{"errorCode":"PB-APIM-ERR-1004","errorDescription":"other"}"#,
            ),
            (500, "<html>PB-APIM-ERR-1003</html>"),
            (200, r#"{"errorCode":"PB-APIM-ERR-1003"}"#),
            (404, ""),
        ] {
            assert!(!rejected(status, body), "{status} {body}");
        }
    }

    #[test]
    fn invalid_token_challenge_rejects_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer error="invalid_token", error_description="expired""#,
            ),
        );
        assert!(token_rejected(StatusCode::FORBIDDEN, &headers, b""));
    }

    #[test]
    fn check_has_the_core_signature() {
        let check: fn(StatusCode, &HeaderMap, &[u8]) -> bool = token_rejected;
        assert!(check(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b""));
    }
}

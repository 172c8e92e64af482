//! Orange Connex responses -> [`AuthError`], and how its API says a token was rejected.
//!
//! The token endpoint documents HTTP 200 and 201 (with `error` / `error_description`
//! in the success schema) and 401, 403, 404. So:
//!
//! | response | error |
//! |---|---|
//! | any status, body with a non-blank `error` | [`AuthError::OAuth`] with that code, the description scrubbed of secrets, the status |
//! | 2xx without `access_token` | [`AuthError::Decode`] (or [`AuthError::Vendor`] if only an `error_description` came) |
//! | 2xx that is not JSON | [`AuthError::Decode`], describing the body by its shape only |
//! | 401 / 403 / 404 without an `error` | [`AuthError::Vendor`] saying what to check |
//! | other non-2xx | [`AuthError::Http`] with a scrubbed excerpt (5xx and 429 are retried; a refresh only after 429 and 503, see [the crate docs](crate#errors)) |

use auth_core::http::{RawResponse, invalid_token_challenge};
use auth_core::{AuthError, OAuthErrorCode};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::wire::{ErrorResponse, TokenResponse, present};

/// The vendor name in [`AuthError::Vendor`] and in store keys (`Client::vendor()`).
pub(crate) const VENDOR: &str = "orangeconnex";

/// What to check after a 401, 403 or 404 from the token endpoint.
fn status_hint(status: StatusCode) -> Option<&'static str> {
    match status.as_u16() {
        401 => Some(
            "the token endpoint did not accept the client: check the client id (and the \
             clientKey header, if one is configured) for this environment; stage and \
             production credentials differ",
        ),
        403 => Some(
            "the token endpoint refused this client: ask Orange Connex to enable the client \
             id for this environment and grant",
        ),
        404 => Some(
            "there is no Orange Connex token endpoint at this URL: check the environment and \
             any token_url or base_url override",
        ),
        _ => None,
    }
}

/// Checks a token endpoint response and decodes it, or returns the error it carries.
pub(crate) fn check_response(raw: &RawResponse<'_>) -> Result<TokenResponse, AuthError> {
    let status = raw.status;
    let error_body: Option<ErrorResponse> = serde_json::from_slice(&raw.body).ok();
    if let Some(body) = &error_body
        && present(&body.error).is_some()
        && let Some(error) = raw.oauth_error()
    {
        return Err(with_status_hint(error, status));
    }
    if !status.is_success() {
        return Err(match status_hint(status) {
            Some(hint) => {
                let excerpt = raw.excerpt();
                let message = if excerpt.is_empty() {
                    hint.to_owned()
                } else {
                    format!("{hint} (response: {excerpt})")
                };
                raw.vendor_error(VENDOR, None, message)
            }
            None => raw.standard_error(),
        });
    }
    let body: TokenResponse = raw.json()?;
    if body.access_token.is_none()
        && let Some(description) = present(&body.error_description)
    {
        return Err(raw.vendor_error(
            VENDOR,
            None,
            format!(
                "the response carries no access_token: {}",
                raw.scrub(description)
            ),
        ));
    }
    Ok(body)
}

/// Adds the status hint to an OAuth error that has no hint of its own (`invalid_grant`
/// and `invalid_client` keep auth-core's).
fn with_status_hint(error: AuthError, status: StatusCode) -> AuthError {
    let code = match &error {
        AuthError::OAuth { code, .. }
            if !matches!(
                code,
                OAuthErrorCode::InvalidGrant | OAuthErrorCode::InvalidClient
            ) =>
        {
            code.clone()
        }
        _ => return error,
    };
    match status_hint(status) {
        Some(hint) => error.with_hint_for(&code, hint),
        None => error,
    }
}

/// Whether an Orange Connex API response says the access token was rejected, so that
/// the token should be invalidated and the call retried once with a fresh one: the
/// client's `rejected_token_check()` (see `VendorClient`).
///
/// True for HTTP 401, for a `WWW-Authenticate` header naming `invalid_token`, and for a
/// JSON body whose `error` is `invalid_token` (the OAuth 2.0 resource-server answer for an
/// expired or revoked token). A 403 alone is not a token problem (it is a permission
/// one), so it is not counted.
pub(crate) fn token_rejected(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
    if status == StatusCode::UNAUTHORIZED || invalid_token_challenge(headers) {
        return true;
    }
    serde_json::from_slice::<ErrorResponse>(body)
        .ok()
        .and_then(|b| b.error)
        .is_some_and(|e| e.trim() == "invalid_token")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};

    #[test]
    fn rejected_token_detection() {
        let none = HeaderMap::new();
        assert!(token_rejected(StatusCode::UNAUTHORIZED, &none, b"<html>"));
        assert!(!token_rejected(StatusCode::OK, &none, b"{}"));
        assert!(!token_rejected(StatusCode::FORBIDDEN, &none, b"{}"));
        assert!(!token_rejected(
            StatusCode::INTERNAL_SERVER_ERROR,
            &none,
            b"not json"
        ));
        let mut h = HeaderMap::new();
        h.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer error="invalid_token""#),
        );
        assert!(token_rejected(StatusCode::FORBIDDEN, &h, b""));
        assert!(token_rejected(
            StatusCode::OK,
            &none,
            br#"{"error":"invalid_token"}"#
        ));
    }
}

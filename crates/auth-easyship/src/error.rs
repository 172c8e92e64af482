//! Easyship's error bodies as [`AuthError`]s, and how its API says a token was rejected.

use auth_core::http::RawResponse;
use auth_core::{AuthError, OAuthErrorCode, Token};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::wire::{ApiErrorResponse, TokenResponse};

/// The vendor name in [`AuthError::Vendor`] and in store keys (`Client::vendor()`).
pub(crate) const VENDOR: &str = "easyship";

/// Parses a token endpoint response: a [`Token`] on 2xx, else the error it describes.
pub(crate) fn parse_token_response(raw: &RawResponse<'_>) -> Result<Token, AuthError> {
    if raw.status.is_success() {
        Ok(raw.json::<TokenResponse>()?.into_token(raw.sent_at))
    } else {
        Err(error_response(raw))
    }
}

/// Parses a revoke response: any 2xx (Easyship answers `{}`) is success.
pub(crate) fn empty_response(raw: &RawResponse<'_>) -> Result<(), AuthError> {
    if raw.status.is_success() {
        Ok(())
    } else {
        Err(error_response(raw))
    }
}

/// The error a non-2xx token endpoint response describes.
///
/// - RFC 6749 bodies (`{"error": "...", "error_description": "..."}`) become
///   [`AuthError::OAuth`], with the description scrubbed of the request's secrets. An
///   `invalid_grant` keeps auth-core's hint that the seller must authorize again; Enterprise's
///   `invalid_account` gets a hint about `easyship_company_id`.
/// - Public API bodies (`{"error": {"code": ..., "message": ...}}`, as a gateway in front
///   of the token endpoint may send) become [`AuthError::Vendor`].
/// - Anything else is [`AuthError::Http`] with a redacted excerpt.
pub(crate) fn error_response(raw: &RawResponse<'_>) -> AuthError {
    if let Some(error) = raw.oauth_error() {
        return error.with_hint_for(
            &OAuthErrorCode::Other("invalid_account".into()),
            "the Enterprise client may not act for this easyship_company_id; check the \
             child company id",
        );
    }
    if let Ok(body) = serde_json::from_slice::<ApiErrorResponse>(&raw.body) {
        let message = body
            .error
            .message
            .map(|m| raw.scrub(&m))
            .unwrap_or_default();
        return raw.vendor_error(VENDOR, Some(raw.scrub(&body.error.code)), message);
    }
    raw.standard_error()
}

/// Whether an Easyship API response says the access token was rejected, so the
/// [`CachedTokenProvider`](auth_core::CachedTokenProvider) should drop it and retry once
/// with a new one: the client's `rejected_token_check()` (see `VendorClient`).
///
/// True for `401 Unauthorized` whose body is Easyship's `invalid_token` error
/// (`{"error":{"code":"invalid_token",…}}`), or has no Easyship error code at all (a bare
/// 401 from a proxy: the token is the only credential on the request). A 401 naming
/// another code, and every other status (403 `forbidden` is a missing scope, which a new
/// token does not fix), is false.
///
pub(crate) fn token_rejected(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
    let _ = headers;
    if status != StatusCode::UNAUTHORIZED {
        return false;
    }
    match serde_json::from_slice::<ApiErrorResponse>(body) {
        Ok(body) => body.error.code == "invalid_token",
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rejected_only_for_401_invalid_token_or_bare_401() {
        let h = HeaderMap::new();
        let invalid = br#"{"error":{"code":"invalid_token","message":"x","details":[],"request_id":"r","type":"invalid_request_error","links":[]}}"#;
        assert!(token_rejected(StatusCode::UNAUTHORIZED, &h, invalid));
        assert!(token_rejected(StatusCode::UNAUTHORIZED, &h, b""));
        assert!(token_rejected(
            StatusCode::UNAUTHORIZED,
            &h,
            b"<html>Unauthorized</html>"
        ));
        assert!(!token_rejected(
            StatusCode::UNAUTHORIZED,
            &h,
            br#"{"error":{"code":"account_suspended"}}"#
        ));
        assert!(!token_rejected(
            StatusCode::FORBIDDEN,
            &h,
            br#"{"error":{"code":"forbidden"}}"#
        ));
        assert!(!token_rejected(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            br#"{"error":{"code":"too_many_requests"}}"#
        ));
        assert!(!token_rejected(StatusCode::OK, &h, invalid));
        // Usable as auth-core's check.
        let _check: auth_core::RejectedTokenCheck = token_rejected;
    }
}

//! Amazon's error bodies -> [`AuthError`], and the check that tells a rejected access token
//! from any other refusal.

use auth_core::http::RawResponse;
use auth_core::reqwest::StatusCode;
use auth_core::reqwest::header::HeaderMap;
use auth_core::{AuthError, OAuthErrorCode};

use crate::wire::{ErrorList, ErrorResponse};

/// The vendor name in [`AuthError::Vendor`] and in store keys.
pub(crate) const VENDOR: &str = "amazon-sp";

/// Set as the `hint` of every `invalid_client` error.
pub const CLIENT_SECRET_ROTATION_HINT: &str = "LWA client secrets expire 180 days after they are issued: \
if the secret is current, check that the client id and secret belong to the same application; \
otherwise rotate it (Solution Provider Portal, or the Application Management API's \
rotateApplicationClientSecret) and configure the new secret";

/// The error for a non-2xx answer of the LWA token endpoint.
///
/// An LWA error body becomes [`AuthError::OAuth`] with the description (secrets of the
/// request removed), the request id (body or `x-amzn-RequestId`), and for
/// `invalid_client` the 180-day rotation hint. Any other body becomes [`AuthError::Http`]
/// with a redacted excerpt.
pub(crate) fn lwa_error(raw: &RawResponse<'_>) -> AuthError {
    let error = raw.standard_error();
    if let AuthError::OAuth { code, .. } = &error {
        tracing::debug!(
            status = raw.status.as_u16(),
            error = %code,
            error_index = serde_json::from_slice::<ErrorResponse>(&raw.body)
                .ok()
                .and_then(|body| body.error_index)
                .as_deref(),
            "LWA refused the token request"
        );
    }
    error.with_hint_for(&OAuthErrorCode::InvalidClient, CLIENT_SECRET_ROTATION_HINT)
}

/// The error for a non-2xx answer of an SP-API operation (the Tokens API).
///
/// `{"errors":[...]}` becomes [`AuthError::Vendor`] with the first error's code and its
/// message and details; 429 and 5xx are retryable. Anything else becomes
/// [`AuthError::Http`].
pub(crate) fn api_error(raw: &RawResponse<'_>) -> AuthError {
    let Some(first) = serde_json::from_slice::<ErrorList>(&raw.body)
        .ok()
        .and_then(|list| list.errors.into_iter().next())
    else {
        return raw.standard_error();
    };
    let text = [first.message.as_deref(), first.details.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut message = raw.scrub(&text);
    if is_token_rejection(raw.status, &first.code, &text) {
        message.push_str("; the access token was rejected: get a new one and try again");
    }
    raw.vendor_error(VENDOR, Some(raw.scrub(&first.code)), message)
}

/// Whether the SP-API rejected the *access token* (so a new token may succeed): the
/// client's [`rejected_token_check`](auth_core::vendor::VendorClient::rejected_token_check),
/// whose docs give the rules.
pub(crate) fn token_rejected(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
    let _ = headers;
    if status == StatusCode::UNAUTHORIZED {
        return true;
    }
    if status != StatusCode::FORBIDDEN {
        return false;
    }
    let Ok(list) = serde_json::from_slice::<ErrorList>(body) else {
        return false;
    };
    list.errors.iter().any(|e| {
        let text = format!(
            "{} {}",
            e.message.as_deref().unwrap_or(""),
            e.details.as_deref().unwrap_or("")
        );
        is_token_rejection(status, &e.code, &text)
    })
}

fn is_token_rejection(status: StatusCode, code: &str, text: &str) -> bool {
    if status == StatusCode::UNAUTHORIZED {
        return true;
    }
    if status != StatusCode::FORBIDDEN || !code.eq_ignore_ascii_case("Unauthorized") {
        return false;
    }
    let text = text.to_ascii_lowercase();
    (text.contains("access token") || text.contains("security token"))
        && ["expired", "invalid", "revoked", "malformed"]
            .iter()
            .any(|word| text.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(status: u16, body: &str) -> bool {
        token_rejected(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn expired_or_invalid_token_403_is_a_rejection() {
        for body in [
            r#"{"errors":[{"code":"Unauthorized","message":"The access token you provided has expired.","details":""}]}"#,
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#,
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided is revoked, malformed or invalid."}]}"#,
            r#"{"errors":[{"code":"unauthorized","message":"Invalid access token"}]}"#,
        ] {
            assert!(rejected(403, body), "{body}");
        }
    }

    #[test]
    fn missing_role_403_is_not_a_token_problem() {
        for body in [
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}"#,
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"Access token is missing in the request header."}]}"#,
            r#"{"errors":[{"code":"Unauthorized","message":"The marketplaces you provided are not valid for region."}]}"#,
            r#"{"errors":[{"code":"InvalidInput","message":"The access token you provided has expired."}]}"#,
            "<html>Forbidden</html>",
            "",
        ] {
            assert!(!rejected(403, body), "{body}");
        }
    }

    #[test]
    fn every_401_is_a_rejection_and_other_statuses_are_not() {
        assert!(rejected(401, ""));
        assert!(rejected(401, r#"{"errors":[]}"#));
        let expired = r#"{"errors":[{"code":"Unauthorized","message":"The access token you provided has expired."}]}"#;
        for status in [200, 400, 404, 429, 500] {
            assert!(!rejected(status, expired), "{status}");
        }
    }
}

//! The browser's way back: reading an authorization redirect (`?code=…&state=…`).

use url::Url;

use crate::{AuthError, OAuthErrorCode, Secret, State};

/// Reads the authorization redirect (the full URL the user's browser came back to),
/// checks its `state` and returns the authorization code from the `code_param` query
/// parameter (`code` for RFC 6749; Amazon's SP-API calls it `spapi_oauth_code`).
///
/// The code is returned as decoded once from the query string: what a token request
/// must send (encoded once again).
///
/// # Errors
///
/// - [`AuthError::StateMismatch`] if `state` is missing, repeated or not `expected`
///   (compared in constant time). Checked first: nothing else of a forged redirect is
///   trusted.
/// - [`AuthError::OAuth`] with the redirect's `error` (for example `access_denied` when
///   the user declined), or `invalid_request` when there is no code, an empty one or
///   more than one.
///
/// # Examples
///
/// ```
/// use auth_core::{State, redirect};
///
/// let state = State::from_saved("s-123");
/// let url = "https://app.example.com/cb?code=ab%2Bcd&state=s-123".parse().unwrap();
/// let code = redirect::code_from_redirect(&url, &state, "code").unwrap();
/// assert_eq!(code.expose_secret(), "ab+cd");
///
/// let forged = "https://app.example.com/cb?code=x&state=other".parse().unwrap();
/// assert!(redirect::code_from_redirect(&forged, &state, "code").is_err());
/// ```
pub fn code_from_redirect(
    redirect: &Url,
    expected: &State,
    code_param: &str,
) -> Result<Secret, AuthError> {
    code_from_query(redirect.query().unwrap_or(""), expected, code_param)
}

/// Like [`code_from_redirect`] for the raw (still encoded) query string, without `?`.
///
/// # Errors
///
/// As [`code_from_redirect`].
pub fn code_from_query(
    query: &str,
    expected: &State,
    code_param: &str,
) -> Result<Secret, AuthError> {
    let mut states = Vec::new();
    let mut codes = Vec::new();
    let mut error = None;
    let mut description = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "state" => states.push(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            "error_description" => description = Some(value.into_owned()),
            key if key == code_param => codes.push(Secret::new(value.into_owned())),
            _ => {}
        }
    }
    match states.as_slice() {
        [state] => expected.check(state)?,
        _ => return Err(AuthError::StateMismatch),
    }
    if let Some(error) = error.filter(|e| !e.trim().is_empty()) {
        let description = description.map(|d| crate::redact::truncate_excerpt(&d));
        return Err(AuthError::oauth(
            OAuthErrorCode::parse(&error),
            description,
            None,
        ));
    }
    let invalid = |what: String| {
        AuthError::oauth(
            OAuthErrorCode::InvalidRequest,
            Some(format!("the authorization redirect carries {what}")),
            None,
        )
    };
    match <[Secret; 1]>::try_from(codes) {
        Ok([code]) if !code.expose_secret().is_empty() => Ok(code),
        Ok(_) => Err(invalid(format!("an empty `{code_param}`"))),
        Err(codes) if codes.is_empty() => Err(invalid(format!("no `{code_param}`"))),
        Err(_) => Err(invalid(format!("more than one `{code_param}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::from_saved("s-1")
    }

    #[test]
    fn state_is_checked_before_anything_else() {
        for query in [
            "code=x",
            "code=x&state=s-2",
            "code=x&state=s-1&state=s-1",
            "error=access_denied&state=bad",
        ] {
            assert!(
                matches!(
                    code_from_query(query, &state(), "code"),
                    Err(AuthError::StateMismatch)
                ),
                "{query}"
            );
        }
    }

    #[test]
    fn error_on_the_redirect_becomes_an_oauth_error() {
        let err = code_from_query(
            "error=access_denied&error_description=no+thanks&state=s-1",
            &state(),
            "code",
        )
        .unwrap_err();
        assert!(
            matches!(err, AuthError::OAuth { code: OAuthErrorCode::AccessDenied, ref description, .. } if description.as_deref() == Some("no thanks"))
        );
    }

    #[test]
    fn code_is_decoded_once_and_must_be_single_and_non_empty() {
        let code = code_from_query("state=s-1&code=a%252Fb", &state(), "code").unwrap();
        assert_eq!(code.expose_secret(), "a%2Fb");
        let amazon = code_from_query(
            "spapi_oauth_code=RHx&state=s-1&selling_partner_id=A1",
            &state(),
            "spapi_oauth_code",
        )
        .unwrap();
        assert_eq!(amazon.expose_secret(), "RHx");
        for query in ["state=s-1", "state=s-1&code=", "state=s-1&code=a&code=b"] {
            let err = code_from_query(query, &state(), "code").unwrap_err();
            assert!(
                matches!(
                    err,
                    AuthError::OAuth {
                        code: OAuthErrorCode::InvalidRequest,
                        ..
                    }
                ),
                "{query}"
            );
        }
    }
}

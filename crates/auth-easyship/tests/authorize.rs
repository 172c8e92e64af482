//! The browser step's way back: the redirect parser checks `state` before trusting
//! anything else, maps Easyship's error redirects, and hands the code to the exchange.

mod common;

use auth_core::{AuthError, OAuthErrorCode, Scopes, State};
use auth_easyship::{Scope, parse_redirect, parse_redirect_query};
use common::*;
use httpmock::MockServer;
use serde_json::json;

#[test]
fn redirect_with_the_right_state_yields_the_code_decoded_once() {
    let state = State::from_saved("st+/=1");
    let url = "https://example.com/callback?state=st%2B%2F%3D1&code=a%2Bb%252Fc&extra=1"
        .parse()
        .unwrap();
    let code = parse_redirect(&url, &state).unwrap();
    assert_eq!(code.expose_secret(), "a+b%2Fc");
    let code = parse_redirect_query("code=xyz&state=st%2B%2F%3D1", &state).unwrap();
    assert_eq!(code.expose_secret(), "xyz");
}

#[test]
fn redirect_with_a_wrong_missing_or_repeated_state_is_refused_first() {
    let state = State::from_saved("expected-state");
    for query in [
        "code=c0de&state=forged",
        "code=c0de",
        "code=c0de&state=",
        "code=c0de&state=expected-state&state=forged",
        "code=c0de&state=expected-state&state=expected-state",
        "code=c0de&state=EXPECTED-STATE",
        // A forged redirect carrying an error, or no code, is refused for its state first.
        "error=access_denied&state=forged",
        "state=forged",
        "",
    ] {
        let err = parse_redirect_query(query, &state).unwrap_err();
        assert!(matches!(err, AuthError::StateMismatch), "{query}: {err:?}");
        assert!(!err.to_string().contains("c0de"));
    }
}

#[test]
fn redirect_error_and_description_become_an_oauth_error() {
    let state = State::from_saved("s");
    // Doorkeeper's answer when the seller declines.
    let url = "https://example.com/callback?error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request.&state=s"
        .parse()
        .unwrap();
    let err = parse_redirect(&url, &state).unwrap_err();
    match &err {
        AuthError::OAuth {
            code,
            description,
            status,
            ..
        } => {
            assert_eq!(*code, OAuthErrorCode::AccessDenied);
            assert_eq!(
                description.as_deref(),
                Some("The resource owner or authorization server denied the request.")
            );
            assert_eq!(*status, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    let err = parse_redirect_query("error=invalid_scope&state=s&code=ignored", &state).unwrap_err();
    assert!(
        matches!(
            &err,
            AuthError::OAuth {
                code: OAuthErrorCode::InvalidScope,
                description: None,
                ..
            }
        ),
        "{err:?}"
    );
    // A very long description is cut.
    let long = "x".repeat(2000);
    let err = parse_redirect_query(
        &format!("error=server_error&error_description={long}&state=s"),
        &state,
    )
    .unwrap_err();
    assert!(err.to_string().len() < 700, "{err}");
}

#[test]
fn redirect_without_exactly_one_code_is_invalid_request() {
    let state = State::from_saved("s");
    for (query, what) in [
        ("state=s", "no `code`"),
        ("code=&state=s", "an empty `code`"),
        ("error=&code=&state=s", "an empty `code`"),
        ("code=a&code=b&state=s", "more than one `code`"),
    ] {
        let err = parse_redirect_query(query, &state).unwrap_err();
        assert!(
            matches!(
                &err,
                AuthError::OAuth {
                    code: OAuthErrorCode::InvalidRequest,
                    ..
                }
            ),
            "{query}: {err:?}"
        );
        assert!(err.to_string().contains(what), "{err}");
    }
}

#[tokio::test]
async fn authorize_url_state_and_redirect_code_round_trip_into_the_exchange() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth2/token")
                .header("content-type", "application/json")
                .json_body(json!({
                    "grant_type": "authorization_code",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "code": "c0de/+=",
                    "redirect_uri": "https://example.com/callback",
                }));
            then.status(200)
                .header("content-type", "application/json")
                .body(SEED_BODY);
        })
        .await;
    let client = partner(&server);
    let (_, state) = client
        .authorize_url("https://example.com/callback", &Scopes::from([Scope::Rate]))
        .unwrap();
    let redirect = format!(
        "https://example.com/callback?code=c0de%2F%2B%3D&state={}",
        state.as_str()
    )
    .parse()
    .unwrap();
    let code = parse_redirect(&redirect, &state).unwrap();
    client
        .exchange_code(code, "https://example.com/callback")
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

//! The browser step: the authorization URL with its four documented parameters, and the
//! redirect parser that checks `state` before trusting anything else.

use auth_core::{AuthError, OAuthErrorCode, State};
use auth_orangeconnex::{Client, Environment, parse_redirect, parse_redirect_query};

fn client() -> Client {
    Client::builder()
        .client_id("bd1d1971-d0db-11ea-b4a1-00505694c27b")
        .environment(Environment::Stage)
        .build()
        .unwrap()
}

#[test]
fn authorize_url_has_exactly_the_four_documented_parameters() {
    let (url, state) = client().authorize_url("https://www.baidu.com");
    assert_eq!(
        url.as_str(),
        format!(
            "https://openapi-stage-hk.orangeconnex.com/oauth/authorize?response_type=code&client_id=bd1d1971-d0db-11ea-b4a1-00505694c27b&redirect_uri=https%3A%2F%2Fwww.baidu.com&state={}",
            state.as_str()
        )
    );
    // The redirect URI is not normalized: no trailing slash is added.
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs[2],
        ("redirect_uri".into(), "https://www.baidu.com".into())
    );
    assert_eq!(pairs.len(), 4);
}

#[test]
fn every_authorize_url_gets_a_fresh_random_state() {
    let client = client();
    let (_, a) = client.authorize_url("https://app.example.com/cb");
    let (_, b) = client.authorize_url("https://app.example.com/cb");
    assert_ne!(a.as_str(), b.as_str());
    assert!(a.as_str().len() >= 43);
    let saved = State::from_saved("from-session");
    let url = client.authorize_url_with_state("https://app.example.com/cb", &saved);
    assert!(url.as_str().ends_with("&state=from-session"), "{url}");
}

#[test]
fn redirect_with_the_right_state_yields_the_code_decoded_once() {
    let state = State::from_saved("st+/=1");
    let url = "https://app.example.com/cb?state=st%2B%2F%3D1&code=a%2Bb%252Fc&extra=1"
        .parse()
        .unwrap();
    let code = parse_redirect(&url, &state).unwrap();
    assert_eq!(code.expose_secret(), "a+b%2Fc");
    let code = parse_redirect_query("code=xyz&state=st%2B%2F%3D1", &state).unwrap();
    assert_eq!(code.expose_secret(), "xyz");
}

#[test]
fn redirect_with_a_wrong_missing_or_repeated_state_is_refused() {
    let state = State::from_saved("expected-state");
    for query in [
        "code=c0de&state=forged",
        "code=c0de",
        "code=c0de&state=",
        "code=c0de&state=expected-state&state=forged",
        "code=c0de&state=expected-state&state=expected-state",
        "code=c0de&state=EXPECTED-STATE",
        // A forged redirect carrying an error is refused for its state first.
        "error=access_denied&state=forged",
    ] {
        let err = parse_redirect_query(query, &state).unwrap_err();
        assert!(matches!(err, AuthError::StateMismatch), "{query}: {err:?}");
        assert!(!err.to_string().contains("c0de"));
    }
}

#[test]
fn redirect_error_and_missing_code_are_oauth_errors() {
    let state = State::from_saved("s");
    let err = parse_redirect_query(
        "error=access_denied&error_description=The+seller+declined&state=s",
        &state,
    )
    .unwrap_err();
    match &err {
        AuthError::OAuth {
            code, description, ..
        } => {
            assert_eq!(*code, OAuthErrorCode::AccessDenied);
            assert_eq!(description.as_deref(), Some("The seller declined"));
        }
        other => panic!("{other:?}"),
    }
    for (query, what) in [
        ("state=s", "no `code`"),
        ("code=&state=s", "an empty `code`"),
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

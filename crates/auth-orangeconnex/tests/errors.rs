//! Failures: tokens travel in the URL here, so no error, log, span or `Debug` may contain
//! the request URL, the code or the refresh token; retries stay within the policy.

mod common;

use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_core::{AccessToken, AuthError, RefreshToken, Token};
use auth_orangeconnex::wire::TokenResponse;
use common::{CLIENT_KEY, token_endpoint};
use httpmock::MockServer;

const REFRESH: &str = "rt-Leak+Check/9x=";
const CODE: &str = "code-Leak%2FCheck+7";

/// Every way a leaked refresh token could appear.
fn assert_clean(label: &str, text: &str) {
    for needle in [
        REFRESH,
        "rt-Leak%2BCheck%2F9x%3D",
        "rt-Leak",
        "code-Leak",
        "refresh_token=",
        "code=",
        "grant_type=",
        "oauth/token?",
        CLIENT_KEY,
    ] {
        assert!(
            !text.contains(needle),
            "{label} contains {needle:?}: {text}"
        );
    }
}

/// Display, Debug and every source of an error.
fn error_text(error: &AuthError) -> String {
    let mut text = format!("{error} | {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(&format!(" | {inner} | {inner:?}"));
        source = inner.source();
    }
    text
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/")
}

#[tokio::test]
async fn transport_error_of_a_refresh_does_not_contain_the_url_or_the_token() {
    auth_core::install_crypto_provider();
    let client = auth_orangeconnex::Client::builder()
        .client_id(common::CLIENT_ID)
        .client_key(CLIENT_KEY)
        .base_url(closed_port_url())
        .retry_policy(common::policy())
        .build()
        .unwrap();
    let err = client
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_clean("transport error", &error_text(&err));
    let err = client
        .exchange_code(CODE, "https://app.example.com/cb")
        .await
        .unwrap_err();
    assert_clean("transport error", &error_text(&err));
}

#[tokio::test]
async fn timeout_does_not_contain_the_url_or_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200)
                .delay(Duration::from_millis(800))
                .body(r#"{"access_token":"late"}"#);
        })
        .await;
    // A refresh waits for its answer as long as the budget allows: the budget ends first.
    let client = common::builder(&server)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(1)
                .with_attempt_timeout(Duration::from_millis(100))
                .with_budget(Duration::from_millis(300)),
        )
        .build()
        .unwrap();
    let err = client
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::OutcomeUnknown { .. }), "{err:?}");
    assert_clean("refresh outcome unknown", &error_text(&err));
    let err = client
        .exchange_code(CODE, "https://app.example.com/cb")
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Timeout { .. }), "{err:?}");
    assert_clean("timeout", &error_text(&err));
}

#[tokio::test]
async fn slow_refresh_answer_is_awaited_not_resent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200)
                .delay(Duration::from_millis(300))
                .header("content-type", "application/json")
                .body(r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1"}"#);
        })
        .await;
    let client = common::builder(&server)
        .retry_policy(
            RetryPolicy::default()
                .with_attempt_timeout(Duration::from_millis(100))
                .with_budget(Duration::from_secs(2))
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap();

    let token = client.refresh(&RefreshToken::new(REFRESH)).await.unwrap();

    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_answered_by_a_500_is_outcome_unknown_and_not_resent() {
    let server = MockServer::start_async().await;
    let (mock, _) = token_endpoint(
        &server,
        500,
        "application/json",
        r#"{"error":"server_error","error_description":"Internal Server Error"}"#,
    )
    .await;
    let err = common::client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(
        matches!(&err, AuthError::OutcomeUnknown { message, .. } if message == "HTTP 500"),
        "{err:?}"
    );
    assert!(!err.is_invalid_grant() && !err.is_retryable());
    assert_clean("outcome unknown", &error_text(&err));
}

#[tokio::test]
async fn server_errors_are_retried_and_an_echoed_token_is_scrubbed() {
    let server = MockServer::start_async().await;
    let body = format!(
        "upstream failed for /oauth/token?refresh_token=rt-Leak%2BCheck%2F9x%3D (token {REFRESH})"
    );
    let (mock, _) = token_endpoint(&server, 503, "text/plain", body).await;
    let err = common::client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    mock.assert_calls_async(3).await;
    assert!(
        matches!(err, AuthError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("[REDACTED]"), "{err}");
    assert!(!err.to_string().contains("rt-Leak"), "{err}");
}

#[tokio::test]
async fn invalid_grant_in_a_200_is_not_retried_and_its_echo_is_scrubbed() {
    let server = MockServer::start_async().await;
    let body = format!(
        r#"{{"error":"invalid_grant","error_description":"Invalid refresh token: {REFRESH}"}}"#
    );
    let (mock, _) = token_endpoint(&server, 200, "application/json", body).await;
    let err = common::client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(err.is_invalid_grant(), "{err:?}");
    assert_eq!(err.status(), Some(200));
    let text = error_text(&err);
    assert!(text.contains("Invalid refresh token: [REDACTED]"), "{text}");
    assert!(text.contains("authorize the app again"), "{text}");
    assert_clean("invalid_grant", &text);
}

#[tokio::test]
async fn a_token_in_an_unparsable_2xx_body_is_never_quoted() {
    let server = MockServer::start_async().await;
    token_endpoint(
        &server,
        200,
        "application/json",
        r#"{"access_token":"at-Unquoted-1","expires_in":{"oops":1}}"#,
    )
    .await;
    let err = common::client(&server)
        .refresh(&RefreshToken::new(REFRESH))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Decode { status: 200, .. }),
        "{err:?}"
    );
    let text = error_text(&err);
    assert!(!text.contains("at-Unquoted-1"), "{text}");
    assert!(text.contains("access_token: string"), "{text}");
}

#[test]
fn debug_of_client_builder_token_and_wire_shows_no_secret() {
    let builder = auth_orangeconnex::Client::builder()
        .client_id("visible-client-id")
        .client_secret("cs-Hidden-77")
        .client_key(CLIENT_KEY);
    let builder_text = format!("{builder:?}");
    let client = builder.build().unwrap();
    let client_text = format!("{client:?} {client:#?}");
    for text in [&builder_text, &client_text] {
        assert!(!text.contains("cs-Hidden-77"), "{text}");
        assert!(!text.contains(CLIENT_KEY), "{text}");
        assert!(text.contains("visible-client-id"), "{text}");
    }
    let token = Token::new(AccessToken::new("at-Hidden-88"), None)
        .with_refresh_token(RefreshToken::new(REFRESH));
    let text = format!("{token:?}");
    assert!(!text.contains("at-Hidden-88"));
    assert_clean("token", &text);
    let wire: TokenResponse = serde_json::from_str(&format!(
        r#"{{"access_token":"at-Hidden-88","refresh_token":"{REFRESH}","error_description":"{REFRESH}"}}"#
    ))
    .unwrap();
    let text = format!("{wire:?}");
    assert!(!text.contains("at-Hidden-88"));
    assert_clean("wire", &text);
}

//! Failures of the token call: retries, what is never retried, odd 2xx bodies, and that no
//! secret ever reaches an error or `Debug`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{AuthError, OAuthErrorCode};
use base64::Engine as _;
use common::{SEED_BODY, client, token_endpoint};
use httpmock::{HttpMockResponse, MockServer};

/// Answers `responses[n]` to the n-th call (the last one after that).
async fn sequence<'a>(
    server: &'a MockServer,
    responses: Vec<(u16, &'static str)>,
) -> httpmock::Mock<'a> {
    let calls = Arc::new(AtomicUsize::new(0));
    server
        .mock_async(move |when, then| {
            when.method("POST").path("/oauth/token");
            then.respond_with(move |_| {
                let n = calls
                    .fetch_add(1, Ordering::SeqCst)
                    .min(responses.len() - 1);
                let (status, body) = responses[n];
                HttpMockResponse::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(body)
                    .build()
            });
        })
        .await
}

#[tokio::test]
async fn server_errors_and_429_are_retried_until_a_token_comes() {
    let server = MockServer::start_async().await;
    let mock = sequence(
        &server,
        vec![(503, "<html>down</html>"), (429, ""), (200, SEED_BODY)],
    )
    .await;
    let token = client(&server, "k-1234", "s-1234")
        .client_credentials()
        .await
        .unwrap();
    assert_eq!(
        token.access_token().expose_secret(),
        "m22wyEgfHlA0LudkGG9gG2xB04Cv"
    );
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn retries_stop_after_the_policy_attempts() {
    let server = MockServer::start_async().await;
    let mock = sequence(
        &server,
        vec![(
            500,
            r#"{"errors":[{"errorCode":"1000005","errorDescription":"Internal server error"}]}"#,
        )],
    )
    .await;
    let err = client(&server, "k-1234", "s-1234")
        .client_credentials()
        .await
        .unwrap_err();
    mock.assert_calls_async(3).await;
    assert!(
        matches!(
            err,
            AuthError::Vendor {
                status: Some(500),
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn rejected_key_is_reported_once_and_never_retried() {
    let server = MockServer::start_async().await;
    let (mock, _) = token_endpoint(
        &server,
        401,
        "application/json",
        r#"{"errorCode":"PB-APIM-ERR-1002","errorDescription":"Invalid Access Token"}"#,
    )
    .await;
    let err = client(&server, "k-1234", "s-1234")
        .client_credentials()
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(!err.is_retryable());
    assert!(matches!(
        &err,
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidClient,
            status: Some(401),
            ..
        }
    ));
    let message = err.to_string();
    assert!(
        message.contains("API key or secret rejected for this environment (production"),
        "{message}"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, body) in [
        (
            400,
            r#"{"errors":[{"errorCode":"1019003","errorDescription":"x"}]}"#,
        ),
        (
            403,
            r#"[{"errorCode":"1000033","message":"Unauthorized API Access"}]"#,
        ),
        (404, "<html>Not Found</html>"),
        (405, ""),
        (400, r#"{"error":"invalid_client"}"#),
    ] {
        let server = MockServer::start_async().await;
        let (mock, _) = token_endpoint(&server, status, "application/json", body).await;
        let err = client(&server, "k-1234", "s-1234")
            .client_credentials()
            .await
            .unwrap_err();
        mock.assert_calls_async(1).await;
        assert_eq!(err.status(), Some(status), "{err:?}");
        assert!(!err.is_retryable(), "{status} {body}: {err:?}");
    }
}

#[tokio::test]
async fn invalid_client_at_400_also_names_the_environment() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_endpoint(
        &server,
        400,
        "application/json",
        r#"{"error":"invalid_client"}"#,
    )
    .await;
    let err = client(&server, "k-1234", "s-1234")
        .client_credentials()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("rejected for this environment"),
        "{err}"
    );
}

#[tokio::test]
async fn error_body_with_http_200_is_that_error() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_endpoint(
        &server,
        200,
        "application/json",
        r#"{"errors":[{"errorCode":"1000032","errorDescription":"Authentication error occurred."}]}"#,
    )
    .await;
    let err = client(&server, "k-1234", "s-1234")
        .client_credentials()
        .await
        .unwrap_err();
    match err {
        AuthError::Vendor {
            code,
            message,
            status,
            ..
        } => {
            assert_eq!(code.as_deref(), Some("1000032"));
            assert_eq!(message, "Authentication error occurred.");
            assert_eq!(status, Some(200));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn unusable_2xx_bodies_are_decode_errors_that_never_quote_the_token() {
    for body in [
        r#"{"access_token":"tok-LEAK-1","expiresIn":"ten hours"}"#,
        r#"{"access_token":"","tokenType":"BearerToken","expiresIn":"35999"}"#,
        r#"{"tokenType":"BearerToken","expiresIn":"35999","note":"tok-LEAK-1"}"#,
        "access_token=tok-LEAK-1",
        "",
    ] {
        let server = MockServer::start_async().await;
        let (mock, _) = token_endpoint(&server, 200, "application/json", body).await;
        let err = client(&server, "k-1234", "s-1234")
            .client_credentials()
            .await
            .unwrap_err();
        mock.assert_calls_async(1).await;
        assert!(
            matches!(err, AuthError::Decode { status: 200, .. }),
            "{body}: {err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("LEAK"), "{shown}");
    }
}

#[tokio::test]
async fn unusable_lifetimes_give_a_token_with_the_documented_ten_hours() {
    // A zero lifetime used to make a token born expired (a new token request on every
    // call) and an absurd one a decode error: both are now treated as absent.
    for body in [
        r#"{"access_token":"tok-1","expiresIn":"0"}"#,
        r#"{"access_token":"tok-1","expiresIn":"-1"}"#,
        r#"{"access_token":"tok-1","expiresIn":"99999999999"}"#,
    ] {
        let server = MockServer::start_async().await;
        let (_mock, _) = token_endpoint(&server, 200, "application/json", body).await;
        let before = chrono::Utc::now();
        let token = client(&server, "k-1234", "s-1234")
            .client_credentials()
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        let lifetime = token.expires_at().unwrap() - before;
        assert!(
            (chrono::Duration::hours(10)
                ..chrono::Duration::hours(10) + chrono::Duration::minutes(1))
                .contains(&lifetime),
            "{body}: {lifetime}"
        );
    }
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_debug_output() {
    const KEY: &str = "pb-key-Zx81Qw";
    const SECRET: &str = "pb-secret-9Tr4:Lm";
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"));
    let echoes = [
        format!(
            r#"{{"errorCode":"PB-APIM-ERR-1002","errorDescription":"bad {KEY} {SECRET} Basic {pair}"}}"#
        ),
        format!(
            r#"{{"errors":[{{"errorCode":"1","errorDescription":"{SECRET}","additionalInfo":"{pair}"}}]}}"#
        ),
        format!(r#"[{{"key":"{KEY}","message":"{SECRET}"}}]"#),
        format!(r#"{{"error":"invalid_client","error_description":"{KEY}:{SECRET}"}}"#),
        format!("<html><body>Authorization: Basic {pair} for {KEY}</body></html>"),
    ];
    for status in [400, 401, 500] {
        for body in &echoes {
            let server = MockServer::start_async().await;
            let (_mock, _) =
                token_endpoint(&server, status, "application/json", body.clone()).await;
            let client = common::builder(&server, KEY, SECRET)
                .retry_policy(auth_core::http::RetryPolicy::default().with_max_attempts(1))
                .build()
                .unwrap();
            let err = client.client_credentials().await.unwrap_err();
            let shown = format!("{err} | {err:?} | {client:?} | {client:#?}");
            for secret in [
                SECRET,
                "pb-secret-9Tr4",
                pair.as_str(),
                &pair[..pair.len() - 4],
            ] {
                assert!(!shown.contains(secret), "{status} {body}: {shown}");
            }
            // The key is scrubbed from error bodies too (it is half the Basic pair).
            assert!(!format!("{err}").contains(KEY), "{status} {body}: {err}");
        }
    }
}

#[tokio::test]
async fn token_debug_never_shows_the_access_token() {
    let server = MockServer::start_async().await;
    let (_mock, _) = token_endpoint(&server, 200, "application/json", SEED_BODY).await;
    let token = client(&server, "k-1234", "s-1234")
        .client_credentials()
        .await
        .unwrap();
    let shown = format!("{token:?}");
    assert!(!shown.contains("m22wyEgfHlA0LudkGG9gG2xB04Cv"), "{shown}");
}

#[tokio::test]
async fn unreachable_endpoint_is_a_retryable_transport_error() {
    // A port nothing listens on: bind, read the port, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    auth_core::install_crypto_provider();
    let err = auth_pitneybowes::Client::builder()
        .api_key("k-1234")
        .api_secret("s-1234")
        .token_url(format!("http://127.0.0.1:{port}/oauth/token"))
        .retry_policy(common::policy().with_max_attempts(2))
        .build()
        .unwrap()
        .client_credentials()
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
}

//! Every body in `tests/fixtures/orangeconnex/`, served by a local token endpoint and
//! checked against `cases.json`: successes (200 and 201, rotation or not), errors in a 200,
//! and 401/403/404/5xx.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::http::RetryPolicy;
use auth_core::{AccessToken, AuthError, ManualClock, RefreshToken, Token};
use chrono::{DateTime, Duration, Utc};
use httpmock::MockServer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    case: String,
    file: String,
    #[allow(dead_code)]
    source: String,
    request: Request,
    status: u16,
    content_type: String,
    expect: Expect,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Request {
    ExchangeCode,
    Refresh,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Token(ExpectToken),
    Error(ExpectError),
}

#[derive(Deserialize)]
struct ExpectToken {
    access_token: String,
    token_type: String,
    expires_at: DateTime<Utc>,
    refresh_token: String,
    refresh_token_issued_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ExpectError {
    /// `oauth`, `vendor`, `decode` or `http`.
    kind: String,
    status: u16,
    code: Option<String>,
    retryable: bool,
    invalid_grant: bool,
    contains: Vec<String>,
}

/// What the refresh cases send (some bodies echo it) and the code of the exchange cases.
const SENT_REFRESH_TOKEN: &str = "rt-Fixture+/1=";
const SENT_CODE: &str = "code-Fixture%2F1";

fn now() -> DateTime<Utc> {
    "2026-05-01T08:00:00Z".parse().unwrap()
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orangeconnex")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_fixture_file_has_a_case_and_every_case_a_file() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "cases.json")
        .collect();
    let listed: BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    assert_eq!(on_disk, listed);
}

#[tokio::test]
async fn every_fixture_gives_the_expected_token_or_error() {
    let cases = cases();
    assert!(cases.len() >= 22);
    let server = MockServer::start_async().await;
    let client = common::builder(&server)
        .clock(Arc::new(ManualClock::new(now())))
        // One attempt: the retry decision is checked through `is_retryable`.
        .retry_policy(RetryPolicy::default().with_max_attempts(1))
        .build()
        .unwrap();
    let previous = Token::new(AccessToken::new("at-previous"), Some(now()))
        .with_refresh_token(RefreshToken::new(SENT_REFRESH_TOKEN))
        .with_refresh_token_issued_at(now() - Duration::days(100));

    for case in cases {
        let body = std::fs::read(dir().join(&case.file)).unwrap();
        let (mock, seen) =
            common::token_endpoint(&server, case.status, &case.content_type, body).await;
        let result = match case.request {
            Request::ExchangeCode => {
                client
                    .exchange_code(SENT_CODE, "https://app.example.com/cb")
                    .await
            }
            Request::Refresh => client.refresh_from(&previous).await,
        };
        let label = format!("{} ({})", case.case, case.file);
        let req = seen.only();
        common::assert_empty_body(&req);
        let sent = req.query_params();
        match case.request {
            Request::ExchangeCode => assert!(sent.contains(&("code".into(), SENT_CODE.into()))),
            Request::Refresh => {
                assert!(sent.contains(&("refresh_token".into(), SENT_REFRESH_TOKEN.into())))
            }
        }
        match (case.expect, result) {
            (Expect::Token(want), Ok(token)) => {
                assert_eq!(
                    token.access_token().expose_secret(),
                    want.access_token,
                    "{label}"
                );
                assert_eq!(token.token_type(), want.token_type, "{label}");
                assert_eq!(token.expires_at(), Some(want.expires_at), "{label}");
                assert_eq!(
                    token.refresh_token().map(|t| t.expose_secret()),
                    Some(want.refresh_token.as_str()),
                    "{label}"
                );
                assert_eq!(
                    token.refresh_token_issued_at(),
                    Some(want.refresh_token_issued_at),
                    "{label}"
                );
                assert_eq!(token.issued_at(), Some(now()), "{label}");
            }
            (Expect::Error(want), Err(error)) => check_error(&label, &want, &error),
            (Expect::Token(_), Err(error)) => panic!("{label}: expected a token, got {error:?}"),
            (Expect::Error(_), Ok(token)) => panic!("{label}: expected an error, got {token:?}"),
        }
        mock.delete_async().await;
    }
}

fn check_error(label: &str, want: &ExpectError, error: &AuthError) {
    let message = error.to_string();
    assert_eq!(error.status(), Some(want.status), "{label}: {message}");
    assert_eq!(error.is_retryable(), want.retryable, "{label}: {message}");
    assert_eq!(
        error.is_invalid_grant(),
        want.invalid_grant,
        "{label}: {message}"
    );
    for part in &want.contains {
        assert!(
            message.contains(part.as_str()),
            "{label}: {message:?} lacks {part:?}"
        );
    }
    let debug = format!("{error:?}");
    for text in [&message, &debug] {
        for secret in [SENT_REFRESH_TOKEN, "rt-Fixture", SENT_CODE, "code-Fixture"] {
            assert!(!text.contains(secret), "{label}: {text}");
        }
    }
    match (want.kind.as_str(), error) {
        ("oauth", AuthError::OAuth { code, .. }) => {
            assert_eq!(Some(code.as_str()), want.code.as_deref(), "{label}");
        }
        ("vendor", AuthError::Vendor { vendor, code, .. }) => {
            assert_eq!(*vendor, "orangeconnex", "{label}");
            assert_eq!(code, &want.code, "{label}");
        }
        ("decode", AuthError::Decode { .. }) | ("http", AuthError::Http { .. }) => {}
        (kind, other) => panic!("{label}: expected {kind}, got {other:?}"),
    }
}

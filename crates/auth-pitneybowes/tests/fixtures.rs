//! Every real body in `tests/fixtures/pitneybowes/`, served by a local token endpoint and
//! checked against `cases.json`: both success shapes and every error format.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::http::RetryPolicy;
use auth_core::{AuthError, ManualClock, OAuthErrorCode};
use chrono::{DateTime, Utc};
use httpmock::MockServer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    case: String,
    file: String,
    #[allow(dead_code)]
    source: String,
    status: u16,
    content_type: String,
    now: Option<DateTime<Utc>>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Token(ExpectToken),
    Error(ExpectError),
}

#[derive(Deserialize)]
struct ExpectToken {
    access_token: Option<String>,
    token_type: String,
    expires_at: DateTime<Utc>,
    scopes: String,
}

#[derive(Deserialize)]
struct ExpectError {
    /// `vendor`, `oauth`, `http`, or `rejected_credentials` (OAuth `invalid_client` with
    /// the "rejected for this environment" hint).
    kind: String,
    status: u16,
    code: Option<String>,
    retryable: bool,
    contains: Vec<String>,
}

const KEY: &str = "fixture-key-7Yh2";
const SECRET: &str = "fixture-secret-Qm9x";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pitneybowes")
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
async fn every_fixture_parses_as_expected() {
    let cases = cases();
    assert!(cases.len() >= 19);
    for case in cases {
        let body = std::fs::read(dir().join(&case.file)).unwrap();
        let server = MockServer::start_async().await;
        let (mock, _) =
            common::token_endpoint(&server, case.status, &case.content_type, body).await;
        let now = case
            .now
            .unwrap_or_else(|| "2026-03-01T12:00:00Z".parse().unwrap());
        let client = common::builder(&server, KEY, SECRET)
            .clock(Arc::new(ManualClock::new(now)))
            // One attempt: the retry decision is checked through `is_retryable`.
            .retry_policy(RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap();
        let result = client.client_credentials().await;
        mock.assert_calls_async(1).await;
        let label = format!("{} ({})", case.case, case.file);
        match (case.expect, result) {
            (Expect::Token(want), Ok(token)) => {
                if let Some(access_token) = want.access_token {
                    assert_eq!(
                        token.access_token().expose_secret(),
                        access_token,
                        "{label}"
                    );
                }
                assert_eq!(token.token_type(), want.token_type, "{label}");
                assert_eq!(token.expires_at(), Some(want.expires_at), "{label}");
                assert_eq!(token.scopes().to_string(), want.scopes, "{label}");
                assert_eq!(token.issued_at(), Some(now), "{label}");
                assert!(token.refresh_token().is_none(), "{label}");
            }
            (Expect::Error(want), Err(error)) => check_error(&label, &want, &error),
            (Expect::Token(_), Err(error)) => panic!("{label}: expected a token, got {error:?}"),
            (Expect::Error(_), Ok(token)) => panic!("{label}: expected an error, got {token:?}"),
        }
    }
}

fn check_error(label: &str, want: &ExpectError, error: &AuthError) {
    let message = error.to_string();
    assert_eq!(error.status(), Some(want.status), "{label}: {message}");
    assert_eq!(error.is_retryable(), want.retryable, "{label}: {message}");
    for part in &want.contains {
        assert!(
            message.contains(part.as_str()),
            "{label}: {message:?} lacks {part:?}"
        );
    }
    assert!(
        !message.contains(SECRET) && !message.contains(KEY),
        "{label}: {message}"
    );
    match (want.kind.as_str(), error) {
        ("vendor", AuthError::Vendor { vendor, code, .. }) => {
            assert_eq!(*vendor, "pitneybowes", "{label}");
            assert_eq!(code, &want.code, "{label}");
        }
        ("oauth", AuthError::OAuth { code, hint, .. }) => {
            assert_eq!(Some(code.as_str()), want.code.as_deref(), "{label}");
            assert!(hint.is_none(), "{label}: {message}");
        }
        ("http", AuthError::Http { .. }) => {}
        ("rejected_credentials", AuthError::OAuth { code, hint, .. }) => {
            assert_eq!(*code, OAuthErrorCode::InvalidClient, "{label}");
            let hint = hint.as_deref().unwrap_or_default();
            assert!(
                hint.contains("API key or secret rejected for this environment (production, token host 127.0.0.1)"),
                "{label}: {hint}"
            );
            assert!(message.contains(hint), "{label}: {message}");
        }
        (kind, other) => panic!("{label}: expected {kind}, got {other:?}"),
    }
}

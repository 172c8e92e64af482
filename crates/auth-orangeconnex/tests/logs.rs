//! Logs and spans never contain the request URL, the code or the refresh token.
//!
//! Alone in its own test binary: a thread-local tracing subscriber races with callsite
//! registration by tests running in parallel threads.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::{AccessToken, RefreshToken, Token, TokenSource};
use auth_orangeconnex::{AuthorizationCodeGrant, RefreshGrant};
use chrono::Utc;
use common::{CLIENT_KEY, token_endpoint};
use httpmock::MockServer;

const REFRESH: &str = "rt-Leak+Check/9x=";
const CODE: &str = "code-Leak%2FCheck+7";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_and_spans_never_contain_the_url_or_the_tokens() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    let failing = token_endpoint(&server, 500, "text/plain", format!("echo {REFRESH}"))
        .await
        .0;
    let client = common::builder(&server)
        .client_key(CLIENT_KEY)
        .build()
        .unwrap();
    let _ = client.refresh(&RefreshToken::new(REFRESH)).await;
    let _ = client
        .exchange_code(CODE, "https://app.example.com/cb")
        .await;
    failing.delete_async().await;
    // A success without a refresh token logs a warning.
    token_endpoint(
        &server,
        200,
        "application/json",
        r#"{"access_token":"at-Log-5"}"#,
    )
    .await;
    client
        .exchange_code(CODE, "https://app.example.com/cb")
        .await
        .unwrap();

    // A refresh token 340 days old: each refresh warns that it lapses in 25 days.
    let previous = Token::new(AccessToken::new("at-Log-6"), None)
        .with_refresh_token(RefreshToken::new(REFRESH))
        .with_refresh_token_issued_at(Utc::now() - chrono::Duration::days(340));
    RefreshGrant::new(client.clone())
        .fetch_token(Some(&previous))
        .await
        .unwrap();
    // Outside the warning window: no warning.
    let young = previous.clone().with_refresh_token_issued_at(Utc::now());
    RefreshGrant::new(client.clone())
        .fetch_token(Some(&young))
        .await
        .unwrap();
    // The shared authorization-code grant refreshes through the same client: it warns too.
    AuthorizationCodeGrant::new(client, "unused-code", "https://app.example.com/cb")
        .fetch_token(Some(&previous))
        .await
        .unwrap();
    // Turned off on the builder: no warning.
    let quiet = common::builder(&server)
        .refresh_token_warn_before(Duration::ZERO)
        .build()
        .unwrap();
    RefreshGrant::new(quiet)
        .fetch_token(Some(&previous))
        .await
        .unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("retrying"), "nothing captured: {text}");
    assert!(text.contains("orangeconnex.refresh"), "no span: {text}");
    assert!(text.contains("no refresh_token"), "no warning: {text}");
    assert!(!text.contains("at-Log-5"), "{text}");
    assert_eq!(text.matches("lapses soon").count(), 2, "{text}");
    assert!(
        text.contains("days_left=24") || text.contains("days_left=25"),
        "{text}"
    );
    for needle in [
        REFRESH,
        "rt-Leak",
        "code-Leak",
        "refresh_token=",
        "code=",
        "oauth/token?",
        CLIENT_KEY,
    ] {
        assert!(!text.contains(needle), "logs contain {needle:?}: {text}");
    }
}

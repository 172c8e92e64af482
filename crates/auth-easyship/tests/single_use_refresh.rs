//! A refresh spends Easyship's single-use refresh token, so it is sent once: it is never
//! re-sent after the request may have reached Easyship, and a slow answer is awaited for
//! the whole retry budget instead of being abandoned (it carries the only copy of the
//! new refresh token). Against a local vendor that rotates on receipt, in real time.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_core::{AuthError, RefreshToken, Scopes};
use auth_easyship::{Client, Scope};
use common::{CLIENT_ID, CLIENT_SECRET};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Easyship as it behaves: a refresh token works once; the vendor rotates it the moment
/// the request arrives, then answers after `delay`. A spent one is refused at once with
/// `400 invalid_grant`.
#[derive(Clone)]
struct RotatingVendor {
    state: Arc<Mutex<VendorState>>,
    delay: Duration,
}

struct VendorState {
    valid: String,
    issued: u32,
    received: Vec<String>,
}

impl RotatingVendor {
    /// Starts the vendor, `rt-0` valid; returns it and its token URL.
    async fn start(delay: Duration) -> (Self, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
        let vendor = Self {
            state: Arc::new(Mutex::new(VendorState {
                valid: "rt-0".into(),
                issued: 0,
                received: Vec::new(),
            })),
            delay,
        };
        let server = vendor.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        (vendor, url)
    }

    /// The refresh tokens received, in order.
    fn received(&self) -> Vec<String> {
        self.state.lock().unwrap().received.clone()
    }

    async fn serve(self, mut stream: TcpStream) {
        let body = read_request_body(&mut stream).await;
        let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let sent = sent["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let rotated = {
            let mut state = self.state.lock().unwrap();
            state.received.push(sent.clone());
            (sent == state.valid).then(|| {
                state.issued += 1;
                state.valid = format!("rt-{}", state.issued);
                state.issued
            })
        };
        let (status, body) = match rotated {
            Some(n) => {
                tokio::time::sleep(self.delay).await;
                let body = serde_json::json!({
                    "access_token": format!("at-{n}"),
                    "token_type": "Bearer",
                    "expires_in": 7200,
                    "refresh_token": format!("rt-{n}"),
                    "scope": "public.rate:read",
                    "created_at": chrono::Utc::now().timestamp(),
                });
                ("200 OK", body.to_string())
            }
            None => (
                "400 Bad Request",
                r#"{"error":"invalid_grant","error_description":"The provided authorization grant is invalid"}"#.to_owned(),
            ),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        // The client may have given up and gone: nothing to do about it.
        let _ = stream.write_all(response.as_bytes()).await;
    }
}

/// Reads one HTTP/1.1 request and returns its body (`content-length` framed).
async fn read_request_body(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            let start = end + 4;
            while buf.len() < start + length {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the request body was cut short");
                buf.extend_from_slice(&chunk[..n]);
            }
            return buf[start..start + length].to_vec();
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed before a whole request head");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A client whose attempt timeout (100 ms) is shorter than the vendor's answer.
fn client(token_url: &str, budget: Duration) -> Client {
    auth_core::install_crypto_provider();
    Client::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .token_url(token_url)
        .retry_policy(
            RetryPolicy::default()
                .with_attempt_timeout(Duration::from_millis(100))
                .with_budget(budget)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn slow_rotation_answer_is_awaited_not_resent() {
    let (vendor, url) = RotatingVendor::start(Duration::from_millis(300)).await;

    let token = client(&url, Duration::from_secs(2))
        .refresh(&RefreshToken::new("rt-0"))
        .await
        .unwrap();

    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1");
    assert_eq!(vendor.received(), ["rt-0"], "rt-0 is sent exactly once");
}

#[tokio::test]
async fn slow_rotation_answer_with_scopes_is_awaited_not_resent() {
    let (vendor, url) = RotatingVendor::start(Duration::from_millis(300)).await;

    let token = client(&url, Duration::from_secs(2))
        .refresh_with_scopes(
            &RefreshToken::new("rt-0"),
            &Scopes::from([Scope::PublicRateRead]),
        )
        .await
        .unwrap();

    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1");
    assert_eq!(vendor.received(), ["rt-0"]);
}

#[tokio::test]
async fn refresh_without_an_answer_within_the_budget_is_outcome_unknown_sent_once() {
    let (vendor, url) = RotatingVendor::start(Duration::from_secs(10)).await;

    let err = client(&url, Duration::from_millis(500))
        .refresh(&RefreshToken::new("rt-0"))
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::OutcomeUnknown { .. }), "{err:?}");
    assert!(!err.is_invalid_grant());
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("may have rotated the refresh token"),
        "{text}"
    );
    assert!(
        !text.contains("rt-0") && !text.contains("/oauth2/token"),
        "{text}"
    );
    assert_eq!(vendor.received(), ["rt-0"], "rt-0 is sent exactly once");
}

//! Helpers shared by the integration tests: a client pointed at a local mock server, a
//! short retry policy, and a recorder of the exact requests the server received.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_pitneybowes::{Client, ClientBuilder};
use httpmock::{HttpMockRequest, HttpMockResponse, Mock, MockServer};

/// Fast retries: 1–10 ms backoff, 3 attempts, 5 s per attempt.
pub fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .with_attempt_timeout(Duration::from_secs(5))
}

/// A builder pointed at `server`'s `/oauth/token`.
pub fn builder(server: &MockServer, key: &str, secret: &str) -> ClientBuilder {
    auth_core::install_crypto_provider();
    Client::builder()
        .api_key(key)
        .api_secret(secret)
        .token_url(server.url("/oauth/token"))
        .retry_policy(policy())
}

/// A client pointed at `server`'s `/oauth/token`.
pub fn client(server: &MockServer, key: &str, secret: &str) -> Client {
    builder(server, key, secret).build().unwrap()
}

/// Every request a mock answered, in order.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<HttpMockRequest>>>);

impl Recorder {
    pub fn requests(&self) -> Vec<HttpMockRequest> {
        self.0.lock().unwrap().clone()
    }

    pub fn only(&self) -> HttpMockRequest {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request");
        requests.into_iter().next().unwrap()
    }
}

/// A token endpoint answering every `POST /oauth/token` with `status`, `content_type`
/// and `body`, recording what it received.
pub async fn token_endpoint<'a>(
    server: &'a MockServer,
    status: u16,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> (Mock<'a>, Recorder) {
    let recorder = Recorder::default();
    let seen = recorder.clone();
    let body: Vec<u8> = body.into();
    let content_type = content_type.to_owned();
    let mock = server
        .mock_async(move |when, then| {
            when.method("POST").path("/oauth/token");
            then.respond_with(move |req| {
                seen.0.lock().unwrap().push(req.clone());
                HttpMockResponse::builder()
                    .status(status)
                    .header("content-type", content_type.clone())
                    .body(body.clone())
                    .build()
            });
        })
        .await;
    (mock, recorder)
}

/// The seed's sample response.
pub const SEED_BODY: &str = r#"{"access_token":"m22wyEgfHlA0LudkGG9gG2xB04Cv","tokenType":"BearerToken","issuedAt":"1456851460568","expiresIn":"35999","clientID":"3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS","org":"pitneybowes"}"#;

/// Asserts the exact token request: `POST /oauth/token`, no query, exactly the expected
/// headers, the form body and nothing else.
pub fn assert_token_request(request: &HttpMockRequest, authorization: &str) {
    assert_eq!(request.method_str(), "POST");
    let uri = request.uri();
    assert_eq!(uri.path(), "/oauth/token");
    assert_eq!(uri.query(), None, "the token request has no query");

    let headers = request.headers();
    assert_eq!(headers["authorization"], authorization);
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(headers["accept"], "application/json");
    let user_agent = headers["user-agent"].to_str().unwrap();
    assert!(
        user_agent.starts_with(concat!(
            "auth-pitneybowes/",
            env!("CARGO_PKG_VERSION"),
            " auth-core/"
        )),
        "{user_agent}"
    );
    assert_eq!(headers["content-length"], "29");
    let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "user-agent"
        ],
        "no other header is sent"
    );
    assert_eq!(request.body_string(), "grant_type=client_credentials");
}

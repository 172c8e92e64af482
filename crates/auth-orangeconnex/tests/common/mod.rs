//! Helpers shared by the integration tests: a client pointed at a local mock server, a
//! short retry policy, the vendor's sample values, and a recorder of the exact requests
//! the server received.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_orangeconnex::{Client, ClientBuilder, Environment};
use httpmock::{HttpMockRequest, HttpMockResponse, Mock, MockServer};

/// The client id of the vendor's sample requests.
pub const CLIENT_ID: &str = "bd1d1971-d0db-11ea-b4a1-00505694c27b";

/// The `clientKey` of the vendor's sample request.
pub const CLIENT_KEY: &str = "8eea07aa-bffa-11ea-b4a1-00505694c27b";

/// The `redirect_uri` of the vendor's sample token request.
pub const SAMPLE_REDIRECT_URI: &str = "https://www.baidu.com";

/// The `code` exactly as it appears in the vendor's sample token request URL (API
/// reference, "AccessToken"): double-percent-encoded, so its value contains `%2F`, `%2B`
/// and `%3D`.
pub const SAMPLE_CODE_IN_URL: &str = "gTJjJKyOR0F%252FYo5%252BQ0Xz0rG0%252BVPpSFWX67aQAH%252FhqwYIuvb30f15LEFthn%252BMPamdgeQ0u%252BO5iY3dLC5jE%252BtnYh4Bp3KpwMEoz1Y9PYmcuzNqx2T3OteAACZAByPM5f7fkaaa8HggrVEPW70wqbRLVHufOUCXUtpIc4RFh%252B6tpizJ3hKhD7J9MwdIK38rada7gnbqyViZxnWnG%252F8OcSxY9XGe8CKeUdgQIgwKWVBHGrD7dZOAjszBH8IGjMS1rkYItr3%252Fk4v%252BNmOiFkjkxKbH6GmP%252Bmgdp%252BQFDAmlS7jBpOs3IArUtime89enasY%252FVyTyTHLa8rWb%252FOpRc%252BfwfH0XU%252Fn62z4HWfR4Zg%252FYbuyDLwK2zSGElpQ9ETz%252FG2xWJ36af%252FXJJ7RlEvy1UEAJK%252BbV%252FhGMfwAUcWZ7OYMlfXzkY2pm31mmWjgNLMcseVH2HXhZkoeKxrhi3C6iyYoBJdrjLKjaD4nFzGs84VySpy%252BJAM6FrE7UMZnLKAj5xV%252F3XuvXHM7JWTbCEZ2r2dl9EHwic2hV1bviUEn59UVMHtg65nBdIBgzA1gDAfan061LcOzV9M2F5EW7iUe7FtEQ3bQzTai68GBK%252FOFp%252Fgg9XJGkucLLKJVQhctNZ6p52SIvnzaAdN7fyjXYXjNAiN3yKJ0raiD29Uh%252FOGT8sjpe1smk2L8%253D";

/// The sample code's value: the URL form decoded once (`%25` -> `%`).
pub fn sample_code_value() -> String {
    SAMPLE_CODE_IN_URL.replace("%25", "%")
}

/// Fast retries: 1–10 ms backoff, 3 attempts, 5 s per attempt.
pub fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .with_attempt_timeout(Duration::from_secs(5))
}

/// A builder whose every endpoint is on `server` (stage credentials).
pub fn builder(server: &MockServer) -> ClientBuilder {
    auth_core::install_crypto_provider();
    Client::builder()
        .client_id(CLIENT_ID)
        .environment(Environment::Stage)
        .base_url(server.base_url())
        .retry_policy(policy())
}

/// A client whose every endpoint is on `server`.
pub fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
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

/// `POST /oauth/token` answering every request with `status`, `content_type` and `body`,
/// recording what it received.
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
            then.respond_with(move |req: &HttpMockRequest| {
                seen.0.lock().unwrap().push(req.clone());
                HttpMockResponse::builder()
                    .status(status)
                    .header("content-type", content_type.as_str())
                    .body(body.clone())
                    .build()
            });
        })
        .await;
    (mock, recorder)
}

/// The raw (still encoded) query string of a request.
pub fn raw_query(req: &HttpMockRequest) -> String {
    req.uri().query().unwrap_or_default().to_owned()
}

/// A request header as a string.
pub fn header(req: &HttpMockRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Asserts the request carries no body at all: `Content-Length: 0`, no `Content-Type`.
pub fn assert_empty_body(req: &HttpMockRequest) {
    assert!(req.body_ref().is_empty(), "body: {:?}", req.body_string());
    assert_eq!(header(req, "content-length").as_deref(), Some("0"));
    assert_eq!(header(req, "content-type"), None);
    assert_eq!(header(req, "transfer-encoding"), None);
}

//! Helpers shared by the integration tests: clients pointed at a local mock server, a
//! short retry policy, a recorder of the requests a mock received.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::RetryPolicy;
use auth_easyship::{Client, ClientBuilder, Endpoint};
use httpmock::{HttpMockRequest, HttpMockResponse, Mock, MockServer};

pub const CLIENT_ID: &str = "ixaj5e4L25axd_d6b4K2wG479_9c3itEN8eexE_67Qk";
/// A client secret with the characters that break naive encoding.
pub const CLIENT_SECRET: &str = "SEKRIT-cs/9x+Yq=";
/// The documented success body (Easyship's "Create an Access Token" example).
pub const SEED_BODY: &str = r#"{"access_token":"test_3m0V3q5MDgxNIR5Cglw/ONL8ZMPNy91f1Kolt+BOWG8=","token_type":"Bearer","expires_in":7200,"refresh_token":"UhLaQeeduKhGPLoEnQ29aLGuV077VSNEp7LPij_P6Tg","scope":"rate shipment label track company pickup location store product","created_at":1645532460}"#;

/// Fast retries: 1–10 ms backoff, 3 attempts, 5 s per attempt.
pub fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .with_attempt_timeout(Duration::from_secs(5))
}

/// A partner client builder pointed at `server`'s `/oauth2/token`.
pub fn builder(server: &MockServer) -> ClientBuilder {
    auth_core::install_crypto_provider();
    Client::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .token_url(server.url("/oauth2/token"))
        .retry_policy(policy())
}

/// A partner client pointed at `server`.
pub fn partner(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// An Enterprise client pointed at `server`.
pub fn enterprise(server: &MockServer) -> Client {
    builder(server)
        .endpoint(Endpoint::Enterprise)
        .build()
        .unwrap()
}

/// Every request a mock answered, in order.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<HttpMockRequest>>>);

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

/// `POST {path}` answered with `status` and a JSON `body`, recording the requests.
pub async fn endpoint<'a>(
    server: &'a MockServer,
    path: &str,
    status: u16,
    body: &str,
) -> (Mock<'a>, Recorder) {
    let recorder = Recorder::default();
    let seen = recorder.clone();
    let body = body.to_owned();
    let path = path.to_owned();
    let mock = server
        .mock_async(move |when, then| {
            when.method("POST").path(path);
            then.respond_with(move |req| {
                seen.0.lock().unwrap().push(req.clone());
                HttpMockResponse::builder()
                    .status(status)
                    .header("content-type", "application/json; charset=utf-8")
                    .body(body.clone())
                    .build()
            });
        })
        .await;
    (mock, recorder)
}

/// The request body as JSON.
pub fn json(req: &HttpMockRequest) -> serde_json::Value {
    serde_json::from_slice(req.body_ref()).expect("the request body is JSON")
}

/// A header of the request.
pub fn header(req: &HttpMockRequest, name: &str) -> Option<String> {
    req.headers_vec()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

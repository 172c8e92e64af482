//! Shared set-up of the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use auth_amazon_sp::{Client, ClientBuilder};
use auth_core::http::RetryPolicy;
use httpmock::{HttpMockRequest, MockServer};

pub const CLIENT_ID: &str = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";
pub const CLIENT_SECRET: &str =
    "amzn1.oa2-cs.v1.0f1e2d3c4b5a69788796a5b4c3d2e1f0ffeeddccbbaa99887766554433221100";
pub const NEW_CLIENT_SECRET: &str =
    "amzn1.oa2-cs.v1.aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999";
/// A refresh token with the characters that need encoding in a form body.
pub const REFRESH_TOKEN: &str = "Atzr|IwEBIA+fake/refresh=token";
pub const ACCESS_TOKEN: &str = "Atza|IwEBIB+fake/access=token";

/// Fast retries: 3 attempts, 1–10 ms backoff.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .with_attempt_timeout(Duration::from_secs(5))
}

/// A client whose every host is the mock server.
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(server.base_url())
        .retry_policy(fast_retries())
}

pub fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// The form-urlencoded body the way a browser would encode it.
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Whether the request body is exactly this JSON object (no field more or less).
pub fn json_exactly(
    expected: serde_json::Value,
) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
    move |req| {
        serde_json::from_str::<serde_json::Value>(&req.body_string())
            .ok()
            .as_ref()
            == Some(&expected)
    }
}

pub fn token_body() -> serde_json::Value {
    serde_json::json!({
        "access_token": ACCESS_TOKEN,
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": REFRESH_TOKEN,
    })
}

/// Asserts that no secret of the test set appears in `text`.
pub fn assert_no_secret(text: &str) {
    for secret in [
        CLIENT_SECRET,
        NEW_CLIENT_SECRET,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
        "IwEBI",
    ] {
        assert!(!text.contains(secret), "secret leaked into: {text}");
    }
}

/// An LWA token endpoint answering the refresh grant with these access tokens in turn
/// (the last one repeated), each valid for an hour.
pub async fn lwa_issuing<'a>(
    server: &'a MockServer,
    tokens: &[&'static str],
) -> httpmock::Mock<'a> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tokens: Vec<&'static str> = tokens.to_vec();
    let issued = AtomicUsize::new(0);
    server
        .mock_async(move |when, then| {
            when.method("POST").path("/auth/o2/token");
            then.respond_with(move |_req: &HttpMockRequest| {
                let n = issued.fetch_add(1, Ordering::SeqCst).min(tokens.len() - 1);
                let body = serde_json::json!({
                    "access_token": tokens[n],
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "refresh_token": REFRESH_TOKEN,
                });
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .build()
            });
        })
        .await
}

/// SP-API's answer to an expired access token.
pub fn expired_token_body() -> serde_json::Value {
    serde_json::json!({"errors": [{
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "The access token you provided has expired."
    }]})
}

/// SP-API's answer when the application lacks the role (not a token problem).
pub fn missing_role_body() -> serde_json::Value {
    serde_json::json!({"errors": [{
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": ""
    }]})
}

//! `provider.send(request)` from `client.refresh_provider(..)`: the token goes on as
//! `Access-Token: Bearer <token>` (or bare, with `bearer_prefix(false)`), never as
//! `Authorization`, and after the API says the token was rejected it is refreshed and
//! the request sent once more, never twice.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{RefreshToken, VendorClient};
use auth_orangeconnex::Client;
use httpmock::{HttpMockResponse, Mock, MockServer};

const PATH: &str = "/openapi/3pp/sku/v3/creation";
const INVALID_TOKEN: &str =
    r#"{"error":"invalid_token","error_description":"Access token expired"}"#;

/// A token endpoint answering each refresh with `at-1`, `at-2`, … (the refresh token is
/// kept: none comes back).
async fn token_endpoint(server: &MockServer) -> Mock<'_> {
    let issued = Arc::new(AtomicUsize::new(0));
    server
        .mock_async(move |when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("grant_type", "refresh_token")
                .query_param("refresh_token", "rt-1");
            then.respond_with(move |_| {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"access_token":"at-{n}","token_type":"bearer","expires_in":3600}}"#
                    ))
                    .build()
            });
        })
        .await
}

/// `POST /openapi/3pp/sku/v3/creation` carrying `Access-Token: {value}` and no
/// `Authorization`, answered `status`.
async fn api<'a>(server: &'a MockServer, value: &str, status: u16, body: &str) -> Mock<'a> {
    let (value, body) = (value.to_owned(), body.to_owned());
    server
        .mock_async(move |when, then| {
            when.method("POST")
                .path(PATH)
                .header("access-token", value)
                .header_missing("authorization");
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

async fn send(client: &Client) -> reqwest::Response {
    let provider = client.refresh_provider(RefreshToken::new("rt-1"));
    let url = client.api_url("3pp/sku/v3/creation").unwrap();
    provider
        .send(client.http_client().post(url).body(r#"{"data":[]}"#))
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_provider_send_puts_access_token_on_and_retries_once_after_a_401() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server).await;
    let rejected = api(&server, "Bearer at-1", 401, INVALID_TOKEN).await;
    let accepted = api(&server, "Bearer at-2", 200, r#"{"code":"200"}"#).await;

    let response = send(&common::client(&server)).await;

    assert_eq!(response.status(), 200);
    rejected.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    tokens.assert_calls_async(2).await;
}

#[tokio::test]
async fn invalid_token_in_a_400_body_is_handed_back_without_a_retry() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server).await;
    let rejected = api(&server, "Bearer at-1", 400, INVALID_TOKEN).await;
    let accepted = api(&server, "Bearer at-2", 200, r#"{"code":"200"}"#).await;

    let response = send(&common::client(&server)).await;

    // A 400 is not consulted by `send` (only 401 and 403 are): handed back as is.
    assert_eq!(response.status(), 400);
    rejected.assert_calls_async(1).await;
    accepted.assert_calls_async(0).await;
    tokens.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_token_rejected_twice_is_handed_back_after_one_retry() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server).await;
    let first = api(&server, "Bearer at-1", 401, INVALID_TOKEN).await;
    let second = api(&server, "Bearer at-2", 401, INVALID_TOKEN).await;

    let response = send(&common::client(&server)).await;

    assert_eq!(response.status(), 401);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    tokens.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_403_is_a_permission_problem_not_a_rejected_token() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server).await;
    let forbidden = api(&server, "Bearer at-1", 403, r#"{"code":"403"}"#).await;

    let response = send(&common::client(&server)).await;

    assert_eq!(response.status(), 403);
    forbidden.assert_calls_async(1).await;
    tokens.assert_calls_async(1).await;
}

#[tokio::test]
async fn without_the_bearer_prefix_the_bare_token_is_sent() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server).await;
    let accepted = api(&server, "at-1", 200, r#"{"code":"200"}"#).await;
    let client = common::builder(&server)
        .bearer_prefix(false)
        .build()
        .unwrap();

    let response = send(&client).await;

    assert_eq!(response.status(), 200);
    accepted.assert_calls_async(1).await;
    tokens.assert_calls_async(1).await;
}

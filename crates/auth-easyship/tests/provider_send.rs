//! `provider.send(request)` from the one-call providers: the token goes on as
//! `Authorization: Bearer`, and after Easyship's API says the token was rejected (a 401
//! `invalid_token`) it is refreshed and the request sent once more, never twice.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{RefreshToken, Scopes, VendorClient};
use auth_easyship::{Client, Endpoint, Scope};
use common::*;
use httpmock::{HttpMockResponse, Mock, MockServer};

const INVALID_TOKEN: &str = r#"{"error":{"code":"invalid_token","message":"The access token is invalid","details":[],"request_id":"r-1","type":"invalid_request_error","links":[]}}"#;

/// A token endpoint issuing `at-1`, `at-2`, … (each with a new refresh token); returns
/// the mock and the number of tokens issued.
async fn token_endpoint(server: &MockServer) -> (Mock<'_>, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let count = issued.clone();
    let mock = server
        .mock_async(move |when, then| {
            when.method("POST").path("/oauth2/token");
            then.respond_with(move |_| {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"access_token":"at-{n}","token_type":"Bearer","expires_in":7200,"refresh_token":"rt-{n}"}}"#
                    ))
                    .build()
            });
        })
        .await;
    (mock, issued)
}

/// `GET /2024-09/account` with `Authorization: Bearer {token}`, answered `status`.
async fn account<'a>(server: &'a MockServer, token: &str, status: u16, body: &str) -> Mock<'a> {
    let (token, body) = (token.to_owned(), body.to_owned());
    server
        .mock_async(move |when, then| {
            when.method("GET")
                .path("/2024-09/account")
                .header("authorization", format!("Bearer {token}"));
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

/// A client with every Easyship host on `server`.
fn client(server: &MockServer, endpoint: Endpoint) -> Client {
    auth_core::install_crypto_provider();
    Client::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .endpoint(endpoint)
        .base_url(server.base_url())
        .retry_policy(policy())
        .build()
        .unwrap()
}

#[tokio::test]
async fn refresh_provider_send_puts_the_bearer_token_on_and_retries_once_after_invalid_token() {
    let server = MockServer::start_async().await;
    let (tokens, issued) = token_endpoint(&server).await;
    let rejected = account(&server, "at-1", 401, INVALID_TOKEN).await;
    let accepted = account(&server, "at-2", 200, r#"{"account":{}}"#).await;
    let client = client(&server, Endpoint::Partner);

    let provider = client.refresh_provider(RefreshToken::new("rt-0"));
    let url = client.api_url("2024-09/account").unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();

    assert_eq!(response.status(), 200);
    rejected.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    tokens.assert_calls_async(2).await;
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    assert_eq!(
        provider
            .token()
            .await
            .unwrap()
            .refresh_token()
            .unwrap()
            .expose_secret(),
        "rt-2",
        "the rotated refresh token is kept"
    );
}

#[tokio::test]
async fn a_token_rejected_twice_is_handed_back_after_one_retry() {
    let server = MockServer::start_async().await;
    let (tokens, _) = token_endpoint(&server).await;
    let first = account(&server, "at-1", 401, INVALID_TOKEN).await;
    let second = account(&server, "at-2", 401, INVALID_TOKEN).await;
    let client = client(&server, Endpoint::Partner);

    let provider = client.refresh_provider(RefreshToken::new("rt-0"));
    let url = client.api_url("2024-09/account").unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();

    assert_eq!(response.status(), 401);
    assert_eq!(response.text().await.unwrap(), INVALID_TOKEN);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    tokens.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_403_forbidden_is_a_missing_scope_not_a_rejected_token() {
    let server = MockServer::start_async().await;
    let (tokens, _) = token_endpoint(&server).await;
    let forbidden = account(
        &server,
        "at-1",
        403,
        r#"{"error":{"code":"forbidden","message":"missing scope"}}"#,
    )
    .await;
    let client = client(&server, Endpoint::Partner);

    let provider = client.refresh_provider(RefreshToken::new("rt-0"));
    let url = client.api_url("2024-09/account").unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();

    assert_eq!(response.status(), 403);
    forbidden.assert_calls_async(1).await;
    tokens.assert_calls_async(1).await;
}

#[tokio::test]
async fn client_credentials_provider_send_puts_the_application_token_on() {
    let server = MockServer::start_async().await;
    let (tokens, _) = token_endpoint(&server).await;
    let accepted = account(&server, "at-1", 200, r#"{"account":{}}"#).await;
    let client = client(&server, Endpoint::Enterprise);

    let provider = client
        .client_credentials_provider(Scopes::from([Scope::PublicShipmentRead]))
        .unwrap();
    let url = client.api_url("2024-09/account").unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();

    assert_eq!(response.status(), 200);
    accepted.assert_calls_async(1).await;
    tokens.assert_calls_async(1).await;
    assert_eq!(provider.api_access().vendor(), "easyship");
}

#[test]
fn client_credentials_provider_refuses_bad_scopes_before_any_request() {
    let client = Client::builder()
        .client_id("id")
        .client_secret("secret")
        .build()
        .unwrap();
    let mixed = Scopes::from([Scope::Rate, Scope::PublicRateRead]);
    assert!(client.client_credentials_provider(mixed).is_err());
    assert!(
        client
            .client_credentials_provider_builder(Scopes::new())
            .is_err()
    );
}

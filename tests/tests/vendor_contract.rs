//! The vendor contract driven generically: for each of the four vendor crates, one
//! function (the same code for all) gets a token through the
//! crate's one-call provider, sends an API request to a local server, sees the token on
//! the vendor's header, and sees exactly one retry after the vendor's own "token rejected"
//! answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::vendor::VendorClient;
use auth_core::{AuthError, CachedTokenProvider};
use httpmock::{HttpMockResponse, Mock, MockServer};

/// A token endpoint at `path` answering `tok-1`, `tok-2`... in the body `body(n)`.
async fn token_endpoint<'a>(
    server: &'a MockServer,
    path: &'static str,
    body: fn(usize) -> String,
) -> Mock<'a> {
    let issued = Arc::new(AtomicUsize::new(0));
    server
        .mock_async(move |when, then| {
            when.method("POST").path(path);
            then.respond_with(move |_| {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(body(n))
                    .build()
            });
        })
        .await
}

/// Sends `GET {api}/v1/ping` through `provider`: the API rejects `tok-1` with
/// `rejected` (status, body) and accepts `tok-2` on the vendor's header.
async fn send_is_retried_once_after_a_rejected_token<C: VendorClient>(
    server: &MockServer,
    client: &C,
    provider: &CachedTokenProvider,
    rejected: (u16, &'static str),
) -> Result<(), AuthError> {
    let url = client.api_url("v1/ping")?;
    let path = url.path().to_owned();
    let (name, first) = client.auth_scheme().header_for("tok-1")?;
    let (_, second) = client.auth_scheme().header_for("tok-2")?;
    let (name, first, second) = (
        name.as_str().to_owned(),
        first.to_str().unwrap().to_owned(),
        second.to_str().unwrap().to_owned(),
    );
    let refused = server
        .mock_async(|when, then| {
            when.method("GET").path(&path).header(&name, &first);
            then.status(rejected.0)
                .header("content-type", "application/json")
                .body(rejected.1);
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method("GET").path(&path).header(&name, &second);
            then.status(200).body("pong");
        })
        .await;

    let response = provider.send(client.http_client().get(url)).await?;

    assert_eq!(response.status(), 200, "{}", client.vendor());
    refused.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    assert_eq!(client.store_key("s").vendor(), client.vendor());
    Ok(())
}

#[tokio::test]
async fn pitneybowes_provider_send() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server, "/oauth/token", |n| {
        format!(r#"{{"access_token":"tok-{n}","tokenType":"BearerToken","expiresIn":"35999"}}"#)
    })
    .await;
    let client = auth_pitneybowes::Client::builder()
        .api_key("key")
        .api_secret("secret")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let provider = client.provider();
    send_is_retried_once_after_a_rejected_token(
        &server,
        &client,
        &provider,
        (
            401,
            r#"{"errorCode":"PB-APIM-ERR-1003","errorDescription":"Access Token Expired"}"#,
        ),
    )
    .await
    .unwrap();
    tokens.assert_calls_async(2).await;
}

#[tokio::test]
async fn amazon_refresh_provider_send() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server, "/auth/o2/token", |n| {
        format!(
            r#"{{"access_token":"tok-{n}","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|rt"}}"#
        )
    })
    .await;
    let client = auth_amazon_sp::Client::builder()
        .client_id("amzn1.application-oa2-client.1")
        .client_secret("secret")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let provider = client.refresh_provider("Atzr|rt");
    send_is_retried_once_after_a_rejected_token(
        &server,
        &client,
        &provider,
        (
            403,
            r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#,
        ),
    )
    .await
    .unwrap();
    tokens.assert_calls_async(2).await;
}

#[tokio::test]
async fn easyship_refresh_provider_send() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server, "/oauth2/token", |n| {
        format!(
            r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":7200,"refresh_token":"rt-{n}","scope":"shipment","created_at":{}}}"#,
            chrono::Utc::now().timestamp()
        )
    })
    .await;
    let client = auth_easyship::Client::builder()
        .client_id("client")
        .client_secret("secret")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let provider = client.refresh_provider("rt-0");
    send_is_retried_once_after_a_rejected_token(
        &server,
        &client,
        &provider,
        (
            401,
            r#"{"error":"invalid_token","error_description":"The access token is invalid"}"#,
        ),
    )
    .await
    .unwrap();
    tokens.assert_calls_async(2).await;
}

#[tokio::test]
async fn orangeconnex_refresh_provider_send() {
    let server = MockServer::start_async().await;
    let tokens = token_endpoint(&server, "/oauth/token", |n| {
        format!(r#"{{"access_token":"tok-{n}","token_type":"bearer","expires_in":3600}}"#)
    })
    .await;
    let client = auth_orangeconnex::Client::builder()
        .client_id("my-3pp")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let provider = client.refresh_provider("rt-1");
    send_is_retried_once_after_a_rejected_token(
        &server,
        &client,
        &provider,
        (
            401,
            r#"{"error":"invalid_token","error_description":"Access token expired"}"#,
        ),
    )
    .await
    .unwrap();
    tokens.assert_calls_async(2).await;
}

//! The grant driven by auth-core's cached provider: one request for many callers, and
//! `client.provider().send(..)` putting the token on as `Authorization: Bearer`, replacing
//! a token the API rejects (`PB-APIM-ERR-1003`) and retrying the call once. The
//! grant built exactly as its docs show sends the exact client-credentials request on the
//! first call and again after expiry, and never needs a refresh token.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{CachedTokenProvider, Clock, ManualClock, MemoryStore, TokenStore};
use auth_pitneybowes::{Client, ClientCredentialsGrant, VendorClient};
use httpmock::{HttpMockResponse, MockServer};

/// A token endpoint issuing `tok-1`, `tok-2`... (classic shape, 10 hours).
async fn issuing_endpoint(server: &MockServer) -> httpmock::Mock<'_> {
    let issued = Arc::new(AtomicUsize::new(0));
    server
        .mock_async(move |when, then| {
            when.method("POST")
                .path("/oauth/token")
                .header("authorization", "Basic YXBpLWtleTpzZTpjcjpldA==")
                .body("grant_type=client_credentials");
            then.respond_with(move |_| {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                let issued_at = chrono::Utc::now().timestamp_millis();
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"access_token":"tok-{n}","tokenType":"BearerToken","issuedAt":"{issued_at}","expiresIn":"35999","clientID":"api-key","org":"pitneybowes"}}"#
                    ))
                    .build()
            });
        })
        .await
}

fn client(server: &MockServer) -> Client {
    auth_core::install_crypto_provider();
    Client::builder()
        .api_key("api-key")
        .api_secret("se:cr:et")
        .base_url(server.base_url())
        .retry_policy(common::policy())
        .build()
        .unwrap()
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let server = MockServer::start_async().await;
    let mock = issuing_endpoint(&server).await;
    let provider = Arc::new(client(&server).provider());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move { provider.token().await })
        })
        .collect();
    for task in tasks {
        let token = task.await.unwrap().unwrap();
        assert_eq!(token.access_token().expose_secret(), "tok-1");
    }
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn expired_token_answer_from_the_api_refreshes_and_retries_once() {
    let server = MockServer::start_async().await;
    let token_mock = issuing_endpoint(&server).await;
    let expired = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/shippingservices/v1/addresses/verify")
                .header("authorization", "Bearer tok-1");
            then.status(401)
                .header("content-type", "application/json")
                .body(
                    r#"{"errorCode":"PB-APIM-ERR-1003","errorDescription":"Access Token Expired"}"#,
                );
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/shippingservices/v1/addresses/verify")
                .header("authorization", "Bearer tok-2")
                .body(r#"{"addressLines":["27 Waterview Dr"]}"#);
            then.status(200)
                .body(r#"{"addressLines":["27 Waterview Dr"]}"#);
        })
        .await;

    let client = client(&server);
    let provider = client.provider();
    let request = client
        .http_client()
        .post(client.api_url("v1/addresses/verify").unwrap())
        .header("content-type", "application/json")
        .body(r#"{"addressLines":["27 Waterview Dr"]}"#);
    let response = provider.send(request).await.unwrap();

    assert_eq!(response.status(), 200);
    expired.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    token_mock.assert_calls_async(2).await;
    assert_eq!(
        provider
            .token()
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        "tok-2"
    );
}

#[tokio::test]
async fn a_403_that_is_not_about_the_token_is_returned_without_a_retry() {
    let server = MockServer::start_async().await;
    let token_mock = issuing_endpoint(&server).await;
    let denied = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/shippingservices/v1/rates")
                .header("authorization", "Bearer tok-1");
            then.status(403)
                .header("content-type", "application/json")
                .body(r#"{"errors":[{"errorCode":"1000033","errorDescription":"Unauthorized API Access for given credentials."}]}"#);
        })
        .await;
    let client = client(&server);
    let provider = client.provider();
    let response = provider
        .send(
            client
                .http_client()
                .get(client.api_url("v1/rates").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    denied.assert_calls_async(1).await;
    token_mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn provider_saves_under_the_clients_store_key() {
    let server = MockServer::start_async().await;
    let mock = issuing_endpoint(&server).await;
    let client = client(&server);
    let store = Arc::new(MemoryStore::new());
    let key = client.store_key(Client::APP_SUBJECT);
    let provider = client
        .provider_builder()
        .store(store.clone(), key.clone())
        .build();
    provider.token().await.unwrap();
    mock.assert_calls_async(1).await;

    assert_eq!(key.vendor(), "pitneybowes");
    assert!(
        key.environment().starts_with("production@127.0.0.1:"),
        "{key:?}"
    );
    assert!(store.load(&key).await.unwrap().is_some());

    // A second provider over the same store serves the stored token without a request.
    let again = client.provider_builder().store(store, key).build();
    assert_eq!(
        again.token().await.unwrap().access_token().expose_secret(),
        "tok-1"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn client_credentials_grant_as_documented_requests_a_new_token_after_expiry() {
    let server = MockServer::start_async().await;
    let (mock, recorder) =
        common::token_endpoint(&server, 200, "application/json", common::SEED_BODY).await;
    let start: chrono::DateTime<chrono::Utc> = "2026-05-01T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let client = common::builder(&server, "api-key", "se:cr:et")
        .clock(clock.clone() as Arc<dyn Clock>)
        .build()
        .unwrap();
    let grant = ClientCredentialsGrant::new(client);
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(
        token.access_token().expose_secret(),
        "m22wyEgfHlA0LudkGG9gG2xB04Cv"
    );
    assert!(token.refresh_token().is_none());
    // The sample's `issuedAt` (2016) is far from our clock: the expiry is the send time
    // plus `expiresIn`.
    assert_eq!(
        token.expires_at(),
        Some(start + chrono::Duration::seconds(35_999))
    );
    provider.token().await.unwrap();
    mock.assert_calls_async(1).await;

    // Expired: the same request again (there is no refresh token to need or present).
    clock.advance(std::time::Duration::from_secs(35_999));
    provider.token().await.unwrap();
    mock.assert_calls_async(2).await;
    for request in recorder.requests() {
        common::assert_token_request(&request, "Basic YXBpLWtleTpzZTpjcjpldA==");
    }
    let status = provider.status();
    assert!(status.last_error.is_none() && !status.reauthorization_required);
}

//! The one-call providers and `provider.send(..)`: `client.refresh_provider(rt)` and
//! `client.grantless_provider(scopes)` know the SP-API, so `send` puts the token in
//! `x-amz-access-token` (never `Authorization`) and, when the API answers 403 "The access
//! token you provided has expired.", gets a new token and sends the request once more.
//! The website workflow's code runs through auth-core's authorization-code grant.

mod common;

use auth_amazon_sp::{AuthorizationCodeGrant, Scope, VendorClient};
use auth_core::Scopes;
use common::*;
use httpmock::prelude::*;
use serde_json::json;

#[tokio::test]
async fn refresh_provider_send_puts_the_token_in_x_amz_access_token_and_retries_once_on_expiry() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|one", "Atza|two"]).await;
    let expired = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/sellers/v1/marketplaceParticipations")
                .header("x-amz-access-token", "Atza|one")
                .header_missing("authorization");
            then.status(403).json_body(expired_token_body());
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/sellers/v1/marketplaceParticipations")
                .header("x-amz-access-token", "Atza|two")
                .header_missing("authorization");
            then.status(200).json_body(json!({"payload": []}));
        })
        .await;

    let client = client(&server);
    let provider = client.refresh_provider(REFRESH_TOKEN);
    let url = client
        .api_url("sellers/v1/marketplaceParticipations")
        .unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();

    assert_eq!(response.status(), 200);
    expired.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    lwa.assert_calls_async(2).await;
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "Atza|two");
}

#[tokio::test]
async fn a_missing_role_403_is_returned_without_a_retry() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|one", "Atza|two"]).await;
    let denied = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders/v0/orders");
            then.status(403).json_body(missing_role_body());
        })
        .await;
    let client = client(&server);
    let provider = client.refresh_provider(REFRESH_TOKEN);
    let url = client.api_url("orders/v0/orders").unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();
    assert_eq!(response.status(), 403);
    denied.assert_calls_async(1).await;
    lwa.assert_calls_async(1).await;
}

#[tokio::test]
async fn grantless_provider_requests_its_scopes_and_sends_with_the_token() {
    let server = MockServer::start_async().await;
    let lwa = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .form_urlencoded_tuple("grant_type", "client_credentials")
                .form_urlencoded_tuple("scope", "sellingpartnerapi::notifications");
            then.status(200).json_body(json!({
                "access_token": "Atza|grantless",
                "token_type": "bearer",
                "expires_in": 3600,
                "scope": "sellingpartnerapi::notifications"
            }));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/notifications/v1/destinations")
                .header("x-amz-access-token", "Atza|grantless");
            then.status(200).json_body(json!({"payload": []}));
        })
        .await;
    let client = client(&server);
    let provider = client
        .grantless_provider(Scopes::from([Scope::Notifications]))
        .unwrap();
    let url = client.api_url("notifications/v1/destinations").unwrap();
    let response = provider.send(client.http_client().get(url)).await.unwrap();
    assert_eq!(response.status(), 200);
    lwa.assert_calls_async(1).await;
    api.assert_calls_async(1).await;

    let empty = client.grantless_provider(Scopes::new()).unwrap_err();
    assert!(
        matches!(empty, auth_core::AuthError::InvalidScope { .. }),
        "{empty:?}"
    );
}

#[tokio::test]
async fn authorization_code_grant_exchanges_the_code_once_without_a_redirect_uri_then_refreshes() {
    let server = MockServer::start_async().await;
    let exchange = server
        .mock_async(|when, then| {
            when.method(POST).path("/auth/o2/token").body(form(&[
                ("grant_type", "authorization_code"),
                ("code", "ANcode"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ]));
            then.status(200).json_body(json!({
                "access_token": "Atza|first",
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": REFRESH_TOKEN
            }));
        })
        .await;
    let client = client(&server);
    let provider = client
        .provider_builder(AuthorizationCodeGrant::new(client.clone(), "ANcode", ""))
        .build();
    let first = provider.token().await.unwrap();
    assert_eq!(first.access_token().expose_secret(), "Atza|first");
    assert_eq!(
        first.refresh_token().unwrap().expose_secret(),
        REFRESH_TOKEN
    );
    exchange.assert_calls_async(1).await;

    // Later tokens come from the refresh token, never from the spent code.
    let refresh = lwa_issuing(&server, &["Atza|refreshed"]).await;
    provider.force_refresh().await.unwrap();
    assert_eq!(
        provider
            .token()
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        "Atza|refreshed"
    );
    exchange.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
}

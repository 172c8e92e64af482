//! Many sellers, one application: a provider per selling-partner id, each with its own
//! refresh token, and the rejected-token retry on SP-API calls.

mod common;

use std::sync::Arc;

use auth_amazon_sp::{Client, CredentialsProvider, SellerTokens, VendorClient};
use auth_core::{AccessToken, AuthError, MemoryStore, RefreshToken, Token, TokenStore};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

async fn lwa_for<'a>(
    server: &'a MockServer,
    refresh_token: &'static str,
    access_token: &'static str,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", refresh_token);
            then.status(200).json_body(json!({
                "access_token": access_token,
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": refresh_token
            }));
        })
        .await
}

#[tokio::test]
async fn each_seller_refreshes_with_its_own_refresh_token_once() {
    let server = MockServer::start_async().await;
    let one = lwa_for(&server, "Atzr|seller-one", "Atza|one").await;
    let two = lwa_for(&server, "Atzr|seller-two", "Atza|two").await;
    let sellers = SellerTokens::builder(client(&server))
        .refresh_tokens(|seller| match seller {
            "A1SELLERONE" => Some(RefreshToken::new("Atzr|seller-one")),
            "A2SELLERTWO" => Some(RefreshToken::new("Atzr|seller-two")),
            _ => None,
        })
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            sellers
                .token("A1SELLERONE")
                .await
                .unwrap()
                .access_token()
                .expose_secret(),
            "Atza|one"
        );
        assert_eq!(
            sellers
                .token("A2SELLERTWO")
                .await
                .unwrap()
                .access_token()
                .expose_secret(),
            "Atza|two"
        );
    }
    one.assert_calls_async(1).await;
    two.assert_calls_async(1).await;
    assert_eq!(sellers.len(), 2);

    // A seller nobody authorized: no refresh token, nothing sent, re-authorization needed.
    let err = sellers.token("A3UNKNOWN").await.unwrap_err();
    assert!(err.to_string().contains("authorize"), "{err}");
    assert!(
        sellers
            .provider("A3UNKNOWN")
            .unwrap()
            .status()
            .reauthorization_required
    );
    one.assert_calls_async(1).await;
    two.assert_calls_async(1).await;
    assert!(matches!(
        sellers.token(" ").await,
        Err(AuthError::InvalidConfig(_))
    ));
}

#[tokio::test]
async fn an_authorized_seller_is_kept_in_the_store_under_its_key() {
    let server = MockServer::start_async().await;
    let refresh = lwa_for(&server, "Atzr|onboarded", "Atza|later").await;
    let store = Arc::new(MemoryStore::new());
    let sellers = SellerTokens::builder(client(&server))
        .store(store.clone())
        .build()
        .unwrap();
    let key = sellers.client().store_key("A1NEWSELLER");
    // The mock server stands in for LWA: its host is part of the environment.
    let environment = format!("production@{}", server.address());
    assert_eq!(
        key,
        auth_core::StoreKey::new("amazon-sp", environment, CLIENT_ID, "A1NEWSELLER")
    );

    // What exchange_code returned for the new seller.
    let first = Token::new(
        AccessToken::new("Atza|first"),
        Some(auth_core::chrono::Utc::now()),
    )
    .with_refresh_token(RefreshToken::new("Atzr|onboarded"));
    sellers.authorize("A1NEWSELLER", first).await.unwrap();
    let record = store.load(&key).await.unwrap().expect("saved");
    assert_eq!(
        record.token.refresh_token().unwrap().expose_secret(),
        "Atzr|onboarded"
    );

    // A provider created later (after eviction, or in another process) finds it there.
    assert!(sellers.remove("A1NEWSELLER"));
    let token = sellers.token("A1NEWSELLER").await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "Atza|later");
    refresh.assert_calls_async(1).await;

    let no_refresh = Token::new(AccessToken::new("Atza|x"), None);
    assert!(matches!(
        sellers.authorize("A1NEWSELLER", no_refresh).await,
        Err(AuthError::InvalidConfig(_))
    ));
}

#[tokio::test]
async fn a_revoked_seller_needs_to_authorize_again() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/auth/o2/token");
            then.status(400).json_body(json!({
                "error_description": "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
                "error": "invalid_grant"
            }));
        })
        .await;
    let sellers = SellerTokens::builder(client(&server))
        .refresh_tokens(|_| Some(RefreshToken::new("Atzr|revoked")))
        .build()
        .unwrap();
    let err = sellers.token("A1REVOKED").await.unwrap_err();
    assert!(err.is_invalid_grant());
    // Sticky: no second call until the seller authorizes again.
    assert!(
        sellers
            .token("A1REVOKED")
            .await
            .unwrap_err()
            .is_invalid_grant()
    );
    mock.assert_calls_async(1).await;
    assert!(
        sellers
            .provider("A1REVOKED")
            .unwrap()
            .status()
            .reauthorization_required
    );
}

#[tokio::test]
async fn an_expired_token_403_is_refreshed_and_the_call_sent_once_more() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|stale", "Atza|fresh"]).await;
    let stale = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/sellers/v1/marketplaceParticipations")
                .header("x-amz-access-token", "Atza|stale");
            then.status(403).json_body(expired_token_body());
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/sellers/v1/marketplaceParticipations")
                .header("x-amz-access-token", "Atza|fresh")
                .header_missing("authorization");
            then.status(200).json_body(json!({"payload": []}));
        })
        .await;
    let client = client(&server);
    let sellers = SellerTokens::builder(client.clone())
        .refresh_tokens(|_| Some(RefreshToken::new(REFRESH_TOKEN)))
        .build()
        .unwrap();
    let url = client
        .api_url("sellers/v1/marketplaceParticipations")
        .unwrap();
    let response = sellers
        .send("A1SELLER", client.http_client().get(url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    lwa.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_missing_role_403_is_returned_without_a_new_token() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|one", "Atza|two"]).await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders/v0/orders");
            then.status(403).json_body(missing_role_body());
        })
        .await;
    let client = client(&server);
    let sellers = SellerTokens::builder(client.clone())
        .refresh_tokens(|_| Some(RefreshToken::new(REFRESH_TOKEN)))
        .build()
        .unwrap();
    let url = client.api_url("orders/v0/orders").unwrap();
    let response = sellers
        .send("A1SELLER", client.http_client().get(url))
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body, missing_role_body());
    api.assert_calls_async(1).await;
    lwa.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_map_is_bounded() {
    let server = MockServer::start_async().await;
    lwa_issuing(&server, &["Atza|any"]).await;
    let sellers = SellerTokens::builder(client(&server))
        .capacity(2)
        .refresh_tokens(|_| Some(RefreshToken::new(REFRESH_TOKEN)))
        .build()
        .unwrap();
    for seller in ["A1", "A2", "A3", "A4"] {
        sellers.token(seller).await.unwrap();
    }
    assert_eq!(sellers.len(), 2);
}

#[tokio::test]
async fn sandbox_and_production_tokens_never_share_a_key() {
    let server = MockServer::start_async().await;
    let production = SellerTokens::builder(client(&server)).build().unwrap();
    let sandbox = SellerTokens::builder(
        builder(&server)
            .environment(auth_amazon_sp::Environment::Sandbox)
            .build()
            .unwrap(),
    )
    .build()
    .unwrap();
    assert_ne!(
        production.client().store_key("A1"),
        sandbox.client().store_key("A1")
    );
}

#[tokio::test]
async fn a_credentials_provider_without_a_client_id_is_refused() {
    #[derive(Debug)]
    struct Opaque;
    #[async_trait::async_trait]
    impl CredentialsProvider for Opaque {
        async fn credentials(&self) -> Result<auth_amazon_sp::Credentials, AuthError> {
            Ok(auth_amazon_sp::Credentials::new(CLIENT_ID, CLIENT_SECRET))
        }
    }
    let client = Client::builder()
        .credentials(Arc::new(Opaque))
        .build()
        .unwrap();
    assert!(matches!(
        SellerTokens::builder(client).build(),
        Err(AuthError::InvalidConfig(_))
    ));
}

#[tokio::test]
async fn debug_of_sellers_shows_no_secret() {
    let server = MockServer::start_async().await;
    lwa_issuing(&server, &[ACCESS_TOKEN]).await;
    let sellers = SellerTokens::builder(client(&server))
        .refresh_tokens(|_| Some(RefreshToken::new(REFRESH_TOKEN)))
        .build()
        .unwrap();
    sellers.token("A1").await.unwrap();
    assert_no_secret(&format!(
        "{sellers:?} {:?}",
        sellers.provider("A1").unwrap()
    ));
}

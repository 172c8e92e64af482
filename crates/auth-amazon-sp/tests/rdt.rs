//! Restricted Data Tokens: the exact Tokens API request, its answers, and the cache per
//! resource set.

mod common;

use std::sync::Arc;

use auth_amazon_sp::wire::{
    CreateRestrictedDataTokenRequest, RestrictedMethod, RestrictedResource,
};
use auth_amazon_sp::{RestrictedDataTokenSource, RestrictedDataTokens, VendorClient};
use auth_core::chrono::{DateTime, Duration, Utc};
use auth_core::{AccessToken, AuthError, CachedTokenProvider, ManualClock, Token, TokenSource};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

const RDT_PATH: &str = "/tokens/2021-03-01/restrictedDataToken";
const RDT: &str = "Atz.sprdt|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSREXAMPLE";

fn lwa_token() -> Token {
    Token::new(AccessToken::new(ACCESS_TOKEN), None)
}

fn orders() -> CreateRestrictedDataTokenRequest {
    CreateRestrictedDataTokenRequest::new([
        RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders")
            .with_data_elements(["buyerInfo", "shippingAddress"]),
        RestrictedResource::new(RestrictedMethod::Get, "/mfn/v0/shipments/{shipmentId}"),
    ])
}

fn seller_provider(server: &MockServer) -> Arc<CachedTokenProvider> {
    Arc::new(client(server).refresh_provider(REFRESH_TOKEN))
}

#[tokio::test]
async fn rdt_request_is_exact_and_response_becomes_a_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(RDT_PATH)
                .header("x-amz-access-token", ACCESS_TOKEN)
                .header("content-type", "application/json")
                .header_missing("authorization")
                .is_true(json_exactly(json!({
                    "restrictedResources": [
                        {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]},
                        {"method": "GET", "path": "/mfn/v0/shipments/{shipmentId}"}
                    ],
                    "targetApplication": "amzn1.sp.solution.delegatee"
                })));
            then.status(200)
                .header("x-amzn-RequestId", "b3ad1ab4-rdt")
                .json_body(json!({"restrictedDataToken": RDT, "expiresIn": 3600}));
        })
        .await;
    let start: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
    let client = builder(&server)
        .clock(Arc::new(ManualClock::new(start)))
        .build()
        .unwrap();
    let token = client
        .restricted_data_token(
            &lwa_token(),
            &orders().with_target_application("amzn1.sp.solution.delegatee"),
        )
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(token.access_token().expose_secret(), RDT);
    assert_eq!(token.expires_at(), Some(start + Duration::seconds(3600)));
    assert!(token.refresh_token().is_none());
}

#[tokio::test]
async fn rdt_request_without_target_application_or_data_elements_leaves_them_out() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path(RDT_PATH).is_true(json_exactly(json!({
                "restrictedResources": [{"method": "DELETE", "path": "/shipping/v1/shipments/123"}]
            })));
            then.status(200)
                .json_body(json!({"restrictedDataToken": RDT, "expiresIn": "900"}));
        })
        .await;
    let request = CreateRestrictedDataTokenRequest::new([RestrictedResource::new(
        RestrictedMethod::Delete,
        "/shipping/v1/shipments/123",
    )]);
    client(&server)
        .restricted_data_token(&lwa_token(), &request)
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn more_than_fifty_resources_are_refused_before_sending() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(200)
                .json_body(json!({"restrictedDataToken": RDT, "expiresIn": 3600}));
        })
        .await;
    let client = client(&server);
    let resource =
        RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders/{orderId}/address");
    let too_many = CreateRestrictedDataTokenRequest::new(vec![resource.clone(); 51]);
    let err = client
        .restricted_data_token(&lwa_token(), &too_many)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::InvalidConfig(m) if m.contains("50")),
        "{err:?}"
    );
    let none = CreateRestrictedDataTokenRequest::new([]);
    assert!(matches!(
        client.restricted_data_token(&lwa_token(), &none).await,
        Err(AuthError::InvalidConfig(_))
    ));
    assert!(
        RestrictedDataTokenSource::new(client.clone(), seller_provider(&server), too_many.clone())
            .is_err()
    );
    let rdts = RestrictedDataTokens::new(client, seller_provider(&server));
    assert!(matches!(
        rdts.token(&too_many).await,
        Err(AuthError::InvalidConfig(_))
    ));
    assert!(rdts.is_empty());
    mock.assert_calls_async(0).await;
    // Exactly 50 is allowed.
    let fifty = CreateRestrictedDataTokenRequest::new(vec![resource; 50]);
    common::client(&server)
        .restricted_data_token(&lwa_token(), &fifty)
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn tokens_api_errors_become_vendor_errors() {
    let cases = [
        (403, expired_token_body(), "Unauthorized", false, 1),
        (403, missing_role_body(), "Unauthorized", false, 1),
        (
            400,
            json!({"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": "restrictedResources[0].path is invalid"}]}),
            "InvalidInput",
            false,
            1,
        ),
        (
            429,
            json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]}),
            "QuotaExceeded",
            true,
            3,
        ),
        (
            500,
            json!({"errors": [{"code": "InternalFailure", "message": "We encountered an internal error. Please try again."}]}),
            "InternalFailure",
            true,
            3,
        ),
    ];
    for (status, body, expected_code, retryable, calls) in cases {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.path(RDT_PATH);
                then.status(status).json_body(body.clone());
            })
            .await;
        let err = client(&server)
            .restricted_data_token(&lwa_token(), &orders())
            .await
            .unwrap_err();
        mock.assert_calls_async(calls).await;
        match &err {
            AuthError::Vendor {
                vendor,
                status: s,
                code,
                ..
            } => {
                assert_eq!(*vendor, "amazon-sp");
                assert_eq!(*s, Some(status));
                assert_eq!(code.as_deref(), Some(expected_code));
            }
            other => panic!("{status}: unexpected {other:?}"),
        }
        assert_eq!(err.is_retryable(), retryable, "{status}");
    }
}

#[tokio::test]
async fn expired_token_error_says_so_and_missing_role_does_not() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(RDT_PATH)
                .header("x-amz-access-token", "Atza|expired");
            then.status(403).json_body(expired_token_body());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.path(RDT_PATH)
                .header("x-amz-access-token", "Atza|no-role");
            then.status(403).json_body(missing_role_body());
        })
        .await;
    let client = client(&server);
    let expired = client
        .restricted_data_token(
            &Token::new(AccessToken::new("Atza|expired"), None),
            &orders(),
        )
        .await
        .unwrap_err();
    assert!(expired.to_string().contains("has expired"), "{expired}");
    assert!(expired.to_string().contains("rejected"), "{expired}");
    let no_role = client
        .restricted_data_token(
            &Token::new(AccessToken::new("Atza|no-role"), None),
            &orders(),
        )
        .await
        .unwrap_err();
    assert!(!no_role.to_string().contains("rejected"), "{no_role}");
}

#[tokio::test]
async fn error_bodies_echoing_the_access_token_are_redacted() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(400).json_body(json!({"errors": [{
                "code": "InvalidInput",
                "message": format!("token {ACCESS_TOKEN} cannot be used"),
                "details": ""
            }]}));
        })
        .await;
    let err = client(&server)
        .restricted_data_token(&lwa_token(), &orders())
        .await
        .unwrap_err();
    assert_no_secret(&format!("{err} {err:?}"));

    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200)
                .json_body(json!({"restricted_data_token": RDT}));
        })
        .await;
    let err = client(&server)
        .restricted_data_token(&lwa_token(), &orders())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Decode { status: 200, .. }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("sprdt"), "{err}");
}

#[tokio::test]
async fn rdts_are_cached_per_resource_set() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|seller-token"]).await;
    let rdt = server
        .mock_async(|when, then| {
            when.path(RDT_PATH)
                .header("x-amz-access-token", "Atza|seller-token");
            then.status(200)
                .json_body(json!({"restrictedDataToken": RDT, "expiresIn": 3600}));
        })
        .await;
    let rdts = RestrictedDataTokens::new(client(&server), seller_provider(&server));

    let first = rdts.token(&orders()).await.unwrap();
    assert_eq!(first.access_token().expose_secret(), RDT);
    // The same set in another order, with a duplicate: the cached RDT.
    let mut shuffled = orders();
    shuffled.restricted_resources.reverse();
    shuffled
        .restricted_resources
        .push(shuffled.restricted_resources[0].clone());
    let again = rdts.token(&shuffled).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    rdt.assert_calls_async(1).await;

    // Another set: its own RDT, same LWA token.
    let address = CreateRestrictedDataTokenRequest::new([RestrictedResource::new(
        RestrictedMethod::Get,
        "/orders/v0/orders/{orderId}/address",
    )]);
    rdts.token(&address).await.unwrap();
    rdt.assert_calls_async(2).await;
    lwa.assert_calls_async(1).await;
    assert_eq!(rdts.len(), 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_tokens_api_call() {
    let server = MockServer::start_async().await;
    lwa_issuing(&server, &["Atza|seller-token"]).await;
    let rdt = server
        .mock_async(|when, then| {
            when.path(RDT_PATH);
            then.status(200)
                .delay(std::time::Duration::from_millis(100))
                .json_body(json!({"restrictedDataToken": RDT, "expiresIn": 3600}));
        })
        .await;
    let rdts = Arc::new(RestrictedDataTokens::new(
        client(&server),
        seller_provider(&server),
    ));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let rdts = Arc::clone(&rdts);
        tasks.push(tokio::spawn(async move { rdts.token(&orders()).await }));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap().access_token().expose_secret(),
            RDT
        );
    }
    rdt.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_rejected_lwa_token_is_refreshed_once_for_the_rdt() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|stale", "Atza|fresh"]).await;
    let stale = server
        .mock_async(|when, then| {
            when.path(RDT_PATH)
                .header("x-amz-access-token", "Atza|stale");
            then.status(403).json_body(expired_token_body());
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.path(RDT_PATH)
                .header("x-amz-access-token", "Atza|fresh");
            then.status(200)
                .json_body(json!({"restrictedDataToken": RDT, "expiresIn": 3600}));
        })
        .await;
    let seller = seller_provider(&server);
    let source =
        RestrictedDataTokenSource::new(client(&server), Arc::clone(&seller), orders()).unwrap();
    let token = source.fetch_token(None).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), RDT);
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    lwa.assert_calls_async(2).await;
    assert_eq!(
        seller.token().await.unwrap().access_token().expose_secret(),
        "Atza|fresh"
    );
}

#[tokio::test]
async fn a_missing_role_is_not_retried_with_a_new_lwa_token() {
    let server = MockServer::start_async().await;
    let lwa = lwa_issuing(&server, &["Atza|one", "Atza|two"]).await;
    let rdt = server
        .mock_async(|when, then| {
            when.path(RDT_PATH);
            then.status(403).json_body(missing_role_body());
        })
        .await;
    let source =
        RestrictedDataTokenSource::new(client(&server), seller_provider(&server), orders())
            .unwrap();
    let err = source.fetch_token(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::Vendor {
                status: Some(403),
                ..
            }
        ),
        "{err:?}"
    );
    rdt.assert_calls_async(1).await;
    lwa.assert_calls_async(1).await;
}

#[tokio::test]
async fn restricted_call_carries_the_rdt_and_gets_a_new_one_when_rejected() {
    let server = MockServer::start_async().await;
    lwa_issuing(&server, &["Atza|seller-token"]).await;
    let issued = std::sync::atomic::AtomicUsize::new(0);
    let rdt = server
        .mock_async(move |when, then| {
            when.path(RDT_PATH);
            then.respond_with(move |_| {
                let n = issued.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(
                        json!({"restrictedDataToken": format!("Atz.sprdt|{n}"), "expiresIn": 3600})
                            .to_string(),
                    )
                    .build()
            });
        })
        .await;
    let rejected = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/orders/v0/orders")
                .header("x-amz-access-token", "Atz.sprdt|0");
            then.status(403).json_body(expired_token_body());
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/orders/v0/orders")
                .header("x-amz-access-token", "Atz.sprdt|1");
            then.status(200)
                .json_body(json!({"payload": {"Orders": []}}));
        })
        .await;
    let client = client(&server);
    let rdts = RestrictedDataTokens::new(client.clone(), seller_provider(&server));
    let url = client.api_url("orders/v0/orders").unwrap();
    let response = rdts
        .send(&orders(), client.http_client().get(url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    rejected.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    rdt.assert_calls_async(2).await;
}

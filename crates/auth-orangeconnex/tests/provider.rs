//! The grants driven by auth-core's `CachedTokenProvider`: rotation kept through a store,
//! the refresh token's age carried along, the code exchanged once, and an API call whose
//! rejected `Access-Token` is replaced and retried once. Each grant is also built exactly
//! as its docs show, with the exact request the vendor receives; without a refresh token
//! a grant sends nothing and fails with `NoRefreshToken`, never `invalid_grant`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::{
    AccessToken, AuthError, CachedTokenProvider, Clock, ManualClock, MemoryStore, RefreshToken,
    State, Token, TokenStore, VendorClient,
};
use auth_orangeconnex::{
    AuthorizationCodeGrant, Client, RefreshGrant, parse_redirect, refresh_token_expires_at,
};
use chrono::{DateTime, Utc};
use common::{CLIENT_ID, assert_empty_body, raw_query, token_endpoint};
use httpmock::{HttpMockRequest, HttpMockResponse, Mock, MockServer};

fn start() -> DateTime<Utc> {
    "2026-05-01T08:00:00Z".parse().unwrap()
}

fn client(server: &MockServer, clock: &Arc<ManualClock>) -> Client {
    common::builder(server)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build()
        .unwrap()
}

fn json(body: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .build()
}

#[tokio::test]
async fn rotation_through_cached_token_provider_keeps_each_returned_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let client = client(&server, &clock);

    let exchange = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("grant_type", "authorization_code");
            then.status(200)
                .body(r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1"}"#);
        })
        .await;
    // rt-1 rotates to rt-2.
    let first_refresh = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("grant_type", "refresh_token")
                .query_param("refresh_token", "rt-1")
                .is_true(|req| req.body_ref().is_empty());
            then.status(200)
                .body(r#"{"access_token":"at-2","token_type":"bearer","expires_in":3600,"refresh_token":"rt-2"}"#);
        })
        .await;
    // rt-2 is not rotated: the responses carry no refresh token.
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let later_refreshes = server
        .mock_async(move |when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("grant_type", "refresh_token")
                .query_param("refresh_token", "rt-2");
            then.respond_with(move |_: &HttpMockRequest| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 3;
                json(&format!(
                    r#"{{"access_token":"at-{n}","token_type":"bearer","expires_in":3600}}"#
                ))
            });
        })
        .await;

    let first = client
        .exchange_code("c0de", "https://app.example.com/cb")
        .await
        .unwrap();
    exchange.assert_calls_async(1).await;

    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let key = client.store_key("seller-42");
    let provider = CachedTokenProvider::builder(RefreshGrant::new(client.clone()))
        .store(store.clone(), key.clone())
        .seed(first)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-1");
    first_refresh.assert_calls_async(0).await;

    // Expired: one refresh with rt-1, which rotates.
    clock.advance(Duration::from_secs(3600));
    let rotated_at = clock.now();
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(token.refresh_token_issued_at(), Some(rotated_at));
    first_refresh.assert_calls_async(1).await;

    // The store holds the rotated token: another provider (process) starts from it.
    let other = client
        .refresh_provider_builder(RefreshToken::new("rt-stale-seed"))
        .store(store.clone(), key.clone())
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    let token = other.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2");
    // The refresh token's age travels through the store, apart from the access token's.
    assert_eq!(token.refresh_token_issued_at(), Some(rotated_at));
    assert_eq!(token.issued_at(), Some(rotated_at));

    // Expired again: refreshed with rt-2, which comes back absent and is kept, with the
    // issue time of its rotation.
    clock.advance(Duration::from_secs(3600));
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-3");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(token.refresh_token_issued_at(), Some(rotated_at));
    assert_eq!(token.issued_at(), Some(clock.now()));
    assert_eq!(
        refresh_token_expires_at(&token),
        Some(rotated_at + chrono::Duration::days(365))
    );

    // And again on demand: still rt-2 on the wire.
    let token = provider.force_refresh().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-4");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2");
    later_refreshes.assert_calls_async(2).await;
    first_refresh.assert_calls_async(1).await;
    provider.flush().await.unwrap();
    let record = other.force_refresh().await.unwrap();
    assert_eq!(record.refresh_token().unwrap().expose_secret(), "rt-2");
}

#[tokio::test]
async fn a_seeded_refresh_token_gets_its_age_from_the_grant() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let client = client(&server, &clock);
    server
        .mock_async(|when, then| {
            when.query_param("refresh_token", "rt-seed");
            then.status(200)
                .body(r#"{"access_token":"at-1","refresh_token":"rt-seed","expires_in":3600}"#);
        })
        .await;
    let issued = start() - chrono::Duration::days(340);
    let grant = RefreshGrant::new(client).refresh_token_issued_at(issued);
    let provider = CachedTokenProvider::builder(grant)
        .seed_refresh_token(RefreshToken::new("rt-seed"))
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    let token = provider.token().await.unwrap();
    assert_eq!(
        refresh_token_expires_at(&token),
        Some(issued + chrono::Duration::days(365))
    );
}

#[tokio::test]
async fn authorization_code_grant_exchanges_once_then_refreshes() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let client = client(&server, &clock);
    let exchange = server
        .mock_async(|when, then| {
            when.query_param("grant_type", "authorization_code")
                .query_param("code", "c0de%2F1")
                .query_param("redirect_uri", "https://app.example.com/cb");
            then.status(200)
                .body(r#"{"access_token":"at-1","expires_in":3600,"refresh_token":"rt-1"}"#);
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.query_param("grant_type", "refresh_token")
                .query_param("refresh_token", "rt-1");
            then.status(200)
                .body(r#"{"access_token":"at-2","expires_in":3600}"#);
        })
        .await;
    let grant = AuthorizationCodeGrant::new(client, "c0de%2F1", "https://app.example.com/cb");
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    assert_eq!(
        provider
            .token()
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        "at-1"
    );
    let token = provider.force_refresh().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1");
    exchange.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_rejected_access_token_is_replaced_and_the_api_call_retried_once() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let client = client(&server, &clock);
    let refresh = server
        .mock_async(|when, then| {
            when.path("/oauth/token")
                .query_param("refresh_token", "rt-1");
            then.status(200)
                .body(r#"{"access_token":"at-2","expires_in":3600}"#);
        })
        .await;
    let rejected = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/openapi/3pp/sku/v3/creation")
                .header("access-token", "Bearer at-1");
            then.status(401).body(
                r#"{"error":"invalid_token","error_description":"Access token expired: at-1"}"#,
            );
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/openapi/3pp/sku/v3/creation")
                .header("access-token", "Bearer at-2")
                .header_missing("authorization")
                .body(r#"{"data":[]}"#);
            then.status(200)
                .body(r#"{"code":"200","message":"success"}"#);
        })
        .await;
    let seed = Token::new(
        AccessToken::new("at-1"),
        Some(start() + chrono::Duration::hours(1)),
    )
    .with_refresh_token(RefreshToken::new("rt-1"));
    let provider = client
        .refresh_provider_builder(RefreshToken::new("rt-1"))
        .seed(seed)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    let request = client
        .http_client()
        .post(client.api_url("3pp/sku/v3/creation").unwrap())
        .body(r#"{"data":[]}"#);
    let response = provider.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    rejected.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_grant_in_a_200_tells_the_provider_the_seller_must_authorize_again() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let client = client(&server, &clock);
    let mock = server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200).body(
                r#"{"error":"invalid_grant","error_description":"Invalid refresh token: rt-dead"}"#,
            );
        })
        .await;
    let provider = CachedTokenProvider::builder(RefreshGrant::new(client))
        .seed_refresh_token(RefreshToken::new("rt-dead"))
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    let err = provider.token().await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    assert!(!err.to_string().contains("rt-dead"), "{err}");
    // Remembered: no second request until the seller authorizes again.
    let again = provider.token().await.unwrap_err();
    assert!(again.is_invalid_grant());
    mock.assert_calls_async(1).await;
    assert!(provider.status().reauthorization_required);
}

/// A `POST /oauth/token` that rotates `from` into `to`, with the exact refresh request
/// the vendor documents: everything in the query, the refresh token encoded once, no
/// body.
async fn rotating<'a>(server: &'a MockServer, from: &str, query: &str, to: &str) -> Mock<'a> {
    let query = query.to_owned();
    let body = format!(
        r#"{{"access_token":"at-for-{from}","token_type":"bearer","expires_in":3600,"refresh_token":"{to}"}}"#
    );
    let from = from.to_owned();
    server
        .mock_async(move |when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("grant_type", "refresh_token")
                .query_param("refresh_token", from)
                .is_true(move |req| raw_query(req) == query)
                .is_true(|req| req.body_ref().is_empty())
                .header("content-length", "0")
                .header_missing("content-type");
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

#[tokio::test]
async fn refresh_grant_as_documented_presents_the_seeded_refresh_token_then_the_rotated_one() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let seeded = rotating(
        &server,
        "rt-seed+/=",
        &format!("client_id={CLIENT_ID}&grant_type=refresh_token&refresh_token=rt-seed%2B%2F%3D"),
        "rt-2",
    )
    .await;
    let rotated = rotating(
        &server,
        "rt-2",
        &format!("client_id={CLIENT_ID}&grant_type=refresh_token&refresh_token=rt-2"),
        "rt-3",
    )
    .await;

    let client = client(&server, &clock);
    let grant = RefreshGrant::new(client);
    let provider = CachedTokenProvider::builder(grant)
        .seed_refresh_token(RefreshToken::new("rt-seed+/="))
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-for-rt-seed+/=");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(
        token.expires_at(),
        Some(start() + chrono::Duration::hours(1))
    );
    seeded.assert_calls_async(1).await;

    clock.advance(Duration::from_secs(3600));
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-for-rt-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-3");
    seeded.assert_calls_async(1).await;
    rotated.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_grant_without_a_refresh_token_is_no_refresh_token_and_sends_nothing() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let (mock, _) = token_endpoint(
        &server,
        200,
        "application/json",
        r#"{"access_token":"at-1","expires_in":3600,"refresh_token":"rt-1"}"#,
    )
    .await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let client = client(&server, &clock);
    let key = client.store_key("seller-42");
    let provider = CachedTokenProvider::builder(RefreshGrant::new(client.clone()))
        .store(store, key)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert!(!err.is_invalid_grant() && !err.is_retryable());
    assert!(err.to_string().contains("authorize"), "{err}");
    assert!(provider.status().reauthorization_required);
    // Sticky: no request on the next call either.
    assert!(matches!(
        provider.token().await,
        Err(AuthError::NoRefreshToken)
    ));
    mock.assert_calls_async(0).await;

    // A token with no refresh token (one obtained elsewhere) is no better once expired.
    let provider = CachedTokenProvider::builder(RefreshGrant::new(client))
        .seed(Token::new(AccessToken::new("at-0"), Some(start())))
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert!(provider.status().reauthorization_required);
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn authorization_code_grant_as_documented_exchanges_the_redirects_code_then_refreshes() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    // The code arrives percent-encoded in the redirect and is sent as decoded once.
    let exchange = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth/token")
                .is_true(|req| {
                    raw_query(req)
                        == format!(
                            "client_id={CLIENT_ID}&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code=c0de%2F1"
                        )
                })
                .is_true(|req| req.body_ref().is_empty());
            then.status(200)
                .body(r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1"}"#);
        })
        .await;
    let refresh = rotating(
        &server,
        "rt-1",
        &format!("client_id={CLIENT_ID}&grant_type=refresh_token&refresh_token=rt-1"),
        "rt-2",
    )
    .await;

    let client = client(&server, &clock);
    let state = State::from_saved("saved-in-session");
    let redirect = "https://app.example.com/cb?code=c0de%2F1&state=saved-in-session"
        .parse()
        .unwrap();
    let code = parse_redirect(&redirect, &state).unwrap();
    let grant = AuthorizationCodeGrant::new(client, code, "https://app.example.com/cb");
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-1");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1");
    assert_eq!(token.refresh_token_issued_at(), Some(start()));
    exchange.assert_calls_async(1).await;

    clock.advance(Duration::from_secs(3600));
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-for-rt-1");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2");
    exchange.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn authorization_code_grant_with_the_code_spent_and_no_refresh_token_is_no_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    // An exchange answered without a refresh token: nothing to refresh with later, and the
    // single-use code is not sent again.
    let (mock, seen) = token_endpoint(
        &server,
        200,
        "application/json",
        r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600}"#,
    )
    .await;
    let grant = AuthorizationCodeGrant::new(
        client(&server, &clock),
        "c0de",
        "https://app.example.com/cb",
    );
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    assert_eq!(
        provider
            .token()
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        "at-1"
    );
    let exchange = seen.only();
    assert!(
        raw_query(&exchange).contains("grant_type=authorization_code"),
        "{}",
        raw_query(&exchange)
    );
    assert_empty_body(&exchange);

    clock.advance(Duration::from_secs(3600));
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert!(!err.is_invalid_grant());
    assert!(provider.status().reauthorization_required);
    mock.assert_calls_async(1).await;
}

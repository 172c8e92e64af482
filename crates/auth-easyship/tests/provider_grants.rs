//! Each Easyship grant, built exactly as its docs show, driven by auth-core's
//! `CachedTokenProvider`: the exact JSON body Easyship receives (the refresh token
//! presented, the code exchanged once), and the token handed out. Without a refresh token
//! a refresh grant sends nothing and fails with `NoRefreshToken`, never `invalid_grant`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    AuthError, CachedTokenProvider, Clock, FileStore, ManualClock, RefreshToken, Scopes,
    VendorClient,
};
use auth_easyship::{
    ApiKeySource, AuthorizationCodeGrant, Client, ClientCredentialsGrant, DelegatedAccountGrant,
    Endpoint, Environment, RefreshGrant, Scope,
};
use chrono::{DateTime, Utc};
use common::*;
use httpmock::{Mock, MockServer};
use serde_json::json;

fn start() -> DateTime<Utc> {
    "2026-05-01T08:00:00Z".parse().unwrap()
}

/// A partner client on the mock server whose send times come from `clock`.
fn clocked(server: &MockServer, clock: &Arc<ManualClock>) -> Client {
    builder(server)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build()
        .unwrap()
}

/// An Enterprise client on the mock server whose send times come from `clock`.
fn enterprise_clocked(server: &MockServer, clock: &Arc<ManualClock>) -> Client {
    builder(server)
        .endpoint(Endpoint::Enterprise)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build()
        .unwrap()
}

/// `POST /oauth2/token` whose JSON body is exactly `body` (no property more or less),
/// answered with `answer`.
async fn token_call<'a>(
    server: &'a MockServer,
    body: serde_json::Value,
    answer: serde_json::Value,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth2/token")
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header_missing("authorization")
                .json_body(body);
            then.status(200)
                .header("content-type", "application/json")
                .body(answer.to_string());
        })
        .await
}

/// The body of a `refresh_token` grant presenting `refresh_token`.
fn refresh_body(refresh_token: &str) -> serde_json::Value {
    json!({
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
    })
}

/// Easyship's answer: `access_token` for two hours, with `refresh_token` if any.
fn issued(access_token: &str, refresh_token: Option<&str>) -> serde_json::Value {
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 7200,
        "scope": "rate label",
    });
    if let Some(refresh_token) = refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    body
}

const TWO_HOURS: Duration = Duration::from_secs(7200);

#[tokio::test]
async fn refresh_grant_as_documented_presents_the_seed_then_each_rotated_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let seed = token_call(
        &server,
        refresh_body("rt-seed/+="),
        issued("at-1", Some("rt-1/+=")),
    )
    .await;
    let rotated = token_call(
        &server,
        refresh_body("rt-1/+="),
        issued("at-2", Some("rt-2/+=")),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    let client = clocked(&server, &clock);
    let provider = client
        .refresh_provider_builder(RefreshToken::new("rt-seed/+="))
        .store(
            Arc::new(FileStore::new(dir.path())),
            client.store_key("seller-42"),
        )
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-1");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1/+=");
    assert_eq!(
        token.expires_at(),
        Some(start() + chrono::Duration::hours(2))
    );
    provider.token().await.unwrap();
    seed.assert_calls_async(1).await;
    rotated.assert_calls_async(0).await;

    // Expired: the rotated refresh token is spent, the seed never again.
    clock.advance(TWO_HOURS);
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2/+=");
    seed.assert_calls_async(1).await;
    rotated.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_grant_with_scopes_sends_the_scope_through_the_provider() {
    let server = MockServer::start_async().await;
    let mock = token_call(
        &server,
        json!({
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "rt-seed",
            "scope": "rate label",
        }),
        issued("at-1", Some("rt-1")),
    )
    .await;
    let grant =
        RefreshGrant::with_scopes(partner(&server), Scopes::from([Scope::Rate, Scope::Label]))
            .unwrap();
    let provider = CachedTokenProvider::builder(grant)
        .seed_refresh_token(RefreshToken::new("rt-seed"))
        .build();
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-1");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_grant_without_a_refresh_token_is_no_refresh_token_and_sends_nothing() {
    let server = MockServer::start_async().await;
    let (mock, _) = endpoint(&server, "/oauth2/token", 200, SEED_BODY).await;
    let dir = tempfile::tempdir().unwrap();
    let client = partner(&server);
    let key = client.store_key("seller-42");
    for scopes in [None, Some(Scopes::from([Scope::Rate]))] {
        let grant = match scopes {
            None => RefreshGrant::new(client.clone()),
            Some(scopes) => RefreshGrant::with_scopes(client.clone(), scopes).unwrap(),
        };
        // As documented, only without the seed: the store is empty too.
        let provider = CachedTokenProvider::builder(grant)
            .store(Arc::new(FileStore::new(dir.path())), key.clone())
            .build();
        let err = provider.token().await.unwrap_err();
        assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
        assert!(!err.is_invalid_grant() && !err.is_retryable());
        assert!(err.to_string().contains("authorize"), "{err}");
        assert!(provider.status().reauthorization_required);
        // Sticky until a token is seeded or replaced: nothing sent on a second call.
        assert!(matches!(
            provider.token().await,
            Err(AuthError::NoRefreshToken)
        ));
    }
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn authorization_code_grant_exchanges_the_code_once_then_refreshes() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let exchange = token_call(
        &server,
        json!({
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": "c0de/+=",
            "redirect_uri": "https://app.example.com/cb",
        }),
        issued("at-1", Some("rt-1/+=")),
    )
    .await;
    let refresh = token_call(
        &server,
        refresh_body("rt-1/+="),
        issued("at-2", Some("rt-2/+=")),
    )
    .await;
    let grant = AuthorizationCodeGrant::new(
        clocked(&server, &clock),
        "c0de/+=",
        "https://app.example.com/cb",
    );
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-1");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1/+=");
    exchange.assert_calls_async(1).await;

    clock.advance(TWO_HOURS);
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2/+=");
    exchange.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn authorization_code_grant_with_the_code_spent_and_no_refresh_token_is_no_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    // An exchange answered without a refresh token: once the access token expires there
    // is nothing to refresh with, and the code must not be sent twice.
    let (mock, _) = endpoint(
        &server,
        "/oauth2/token",
        200,
        &issued("at-1", None).to_string(),
    )
    .await;
    let grant = AuthorizationCodeGrant::new(
        clocked(&server, &clock),
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
    mock.assert_calls_async(1).await;

    clock.advance(TWO_HOURS);
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert!(!err.is_invalid_grant());
    assert!(provider.status().reauthorization_required);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn client_credentials_grant_through_the_provider_requests_a_new_token_after_expiry() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let mock = token_call(
        &server,
        json!({
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "public.shipment:read enterprise.organization:write",
        }),
        issued("at-app", None),
    )
    .await;
    let scopes = Scopes::from([
        Scope::PublicShipmentRead,
        Scope::EnterpriseOrganizationWrite,
    ]);
    let grant = ClientCredentialsGrant::new(enterprise_clocked(&server, &clock), scopes).unwrap();
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-app");
    assert!(token.refresh_token().is_none());
    provider.token().await.unwrap();
    mock.assert_calls_async(1).await;

    // No refresh token to need: the same grant again, never NoRefreshToken.
    clock.advance(TWO_HOURS);
    provider.token().await.unwrap();
    mock.assert_calls_async(2).await;
    assert!(!provider.status().reauthorization_required);
}

#[tokio::test]
async fn delegated_account_grant_through_the_provider_grants_then_refreshes() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let grant_call = token_call(
        &server,
        json!({
            "grant_type": "delegated_account",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "easyship_company_id": "CUS123456",
        }),
        issued("at-1", Some("rt-1/+=")),
    )
    .await;
    let refresh = token_call(
        &server,
        refresh_body("rt-1/+="),
        issued("at-2", Some("rt-2/+=")),
    )
    .await;
    let grant = DelegatedAccountGrant::new(
        enterprise_clocked(&server, &clock),
        "CUS123456",
        Scopes::new(),
    )
    .unwrap();
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
    clock.advance(TWO_HOURS);
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2/+=");
    grant_call.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn api_key_source_through_the_provider_sends_nothing() {
    let server = MockServer::start_async().await;
    let (mock, _) = endpoint(&server, "/oauth2/token", 200, SEED_BODY).await;
    let source = ApiKeySource::new(
        "sand_4e2b327e2ef5471885cd0bc50a0c9fe5",
        Environment::Sandbox,
    )
    .unwrap();
    let provider = CachedTokenProvider::new(source);
    let token = provider.token().await.unwrap();
    assert_eq!(
        token.access_token().expose_secret(),
        "sand_4e2b327e2ef5471885cd0bc50a0c9fe5"
    );
    assert_eq!(token.expires_at(), None);
    mock.assert_calls_async(0).await;
}

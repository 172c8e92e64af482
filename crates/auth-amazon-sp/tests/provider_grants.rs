//! Each LWA grant, built exactly as its docs show, driven by auth-core's
//! `CachedTokenProvider`: the refresh token the provider presents (the one given to the
//! grant, else the one the provider holds), the exact request LWA receives, and the token
//! handed out. Without any refresh token nothing is sent and the error is
//! `NoRefreshToken`, never `invalid_grant`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use auth_amazon_sp::{BodyFormat, Client, GrantlessGrant, RefreshGrant, Scope};
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    AccessToken, AuthError, CachedTokenProvider, Clock, ManualClock, RefreshToken, Scopes, Token,
};
use common::*;
use httpmock::When;
use httpmock::prelude::*;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

fn start() -> DateTime<Utc> {
    "2026-05-01T08:00:00Z".parse().unwrap()
}

/// A client on the mock server whose send times come from `clock`.
fn clocked(server: &MockServer, clock: &Arc<ManualClock>) -> Client {
    builder(server)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build()
        .unwrap()
}

/// `POST /auth/o2/token` with exactly the form body of a refresh with `refresh_token`.
fn refresh_form(when: When, refresh_token: &str) -> When {
    when.method(POST)
        .path("/auth/o2/token")
        .header("content-type", FORM)
        .form_urlencoded_tuple_missing("scope")
        .body(form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]))
}

/// LWA's answer to a refresh: `access_token`, and the same (non-rotating) refresh token.
fn lwa_answer(access_token: &str, refresh_token: &str) -> serde_json::Value {
    json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": refresh_token,
    })
}

/// `client.refresh_provider(rt)` presents `rt` on its first fetch (it seeds the provider)
/// instead of failing before sending.
#[tokio::test]
async fn refresh_provider_gets_a_token_with_its_refresh_token_in_one_request() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            refresh_form(when, REFRESH_TOKEN);
            then.status(200).json_body(token_body());
        })
        .await;
    let client = client(&server);
    let provider = client.refresh_provider(REFRESH_TOKEN);

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        REFRESH_TOKEN
    );
    assert_eq!(token.token_type(), "bearer");
    // Cached: no second request.
    let again = provider.token().await.unwrap();
    assert!(Arc::ptr_eq(&token, &again));
    mock.assert_calls_async(1).await;
    let status = provider.status();
    assert!(status.last_error.is_none() && !status.reauthorization_required);
}

#[tokio::test]
async fn refresh_grant_presents_the_same_long_lived_refresh_token_on_every_refresh() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    // LWA sends the refresh token back on the first answer and leaves it out on the
    // second: either way the next refresh presents the same one (it does not rotate).
    let first = server
        .mock_async(|when, then| {
            refresh_form(when, "Atzr|given/+=");
            then.status(200)
                .json_body(lwa_answer("Atza|one", "Atzr|given/+="));
        })
        .await;
    let provider = clocked(&server, &clock)
        .refresh_provider_builder(RefreshToken::new("Atzr|given/+="))
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "Atza|one");
    assert_eq!(
        token.expires_at(),
        Some(start() + auth_core::chrono::Duration::hours(1))
    );
    first.assert_calls_async(1).await;

    clock.advance(Duration::from_secs(3600));
    first.delete_async().await;
    let second = server
        .mock_async(|when, then| {
            refresh_form(when, "Atzr|given/+=");
            then.status(200)
                .json_body(json!({"access_token": "Atza|two", "expires_in": 3600}));
        })
        .await;
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "Atza|two");
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        "Atzr|given/+="
    );
    second.assert_calls_async(1).await;

    // And again after that one expires: still the same refresh token on the wire.
    clock.advance(Duration::from_secs(3600));
    provider.token().await.unwrap();
    second.assert_calls_async(2).await;
}

#[tokio::test]
async fn refresh_provider_uses_a_new_authorizations_refresh_token_from_then_on() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let seeded = server
        .mock_async(|when, then| {
            refresh_form(when, "Atzr|seeded");
            then.status(200)
                .json_body(lwa_answer("Atza|seeded", "Atzr|seeded"));
        })
        .await;
    let replaced = server
        .mock_async(|when, then| {
            refresh_form(when, "Atzr|reauthorized");
            then.status(200)
                .json_body(lwa_answer("Atza|reauthorized", "Atzr|reauthorized"));
        })
        .await;

    // The seed is the previous token: its refresh token is presented.
    let provider = clocked(&server, &clock)
        .refresh_provider_builder("Atzr|seeded")
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "Atza|seeded");
    seeded.assert_calls_async(1).await;

    // A new authorization installed with replace_token: its refresh token from then on.
    let reauthorized = Token::new(AccessToken::new("Atza|from-exchange"), Some(start()))
        .with_refresh_token(RefreshToken::new("Atzr|reauthorized"));
    provider.replace_token(reauthorized).await.unwrap();
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), "Atza|reauthorized");
    replaced.assert_calls_async(1).await;
    seeded.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_grant_through_the_provider_sends_the_json_body_in_json_mode() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .header("content-type", "application/json")
                .is_true(json_exactly(json!({
                    "grant_type": "refresh_token",
                    "refresh_token": REFRESH_TOKEN,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                })));
            then.status(200).json_body(token_body());
        })
        .await;
    let client = builder(&server)
        .body_format(BodyFormat::Json)
        .build()
        .unwrap();
    let provider = client.refresh_provider(REFRESH_TOKEN);
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_grant_without_any_refresh_token_is_no_refresh_token_and_sends_nothing() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/auth/o2/token");
            then.status(200)
                .json_body(lwa_answer("Atza|after-authorization", "Atzr|authorized"));
        })
        .await;
    let provider = CachedTokenProvider::builder(RefreshGrant::new(clocked(&server, &clock)))
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert!(!err.is_invalid_grant() && !err.is_retryable());
    assert!(err.to_string().contains("authorize"), "{err}");
    assert_no_secret(&format!("{err} {err:?}"));
    let status = provider.status();
    assert!(status.reauthorization_required);
    assert!(
        status
            .last_error
            .is_some_and(|e| matches!(e, AuthError::NoRefreshToken))
    );
    // Sticky: asking again sends nothing either.
    assert!(matches!(
        provider.token().await,
        Err(AuthError::NoRefreshToken)
    ));
    mock.assert_calls_async(0).await;

    // The seller authorizes: an (expired) token with its refresh token ends it.
    let authorized = Token::new(AccessToken::new("Atza|expired"), Some(start()))
        .with_refresh_token(RefreshToken::new("Atzr|authorized"));
    provider.replace_token(authorized).await.unwrap();
    let token = provider.token().await.unwrap();
    assert_eq!(
        token.access_token().expose_secret(),
        "Atza|after-authorization"
    );
    assert!(!provider.status().reauthorization_required);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn grantless_grant_through_the_provider_requests_client_credentials_again_after_expiry() {
    let server = MockServer::start_async().await;
    let clock = Arc::new(ManualClock::new(start()));
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .header("content-type", FORM)
                .form_urlencoded_tuple_missing("refresh_token")
                .body(form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "sellingpartnerapi::notifications"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ]));
            then.status(200).json_body(json!({
                "access_token": ACCESS_TOKEN,
                "scope": "sellingpartnerapi::notifications",
                "token_type": "bearer",
                "expires_in": 3600,
            }));
        })
        .await;
    let client = clocked(&server, &clock);
    let grant = GrantlessGrant::new(client, Scopes::from([Scope::Notifications])).unwrap();
    let provider = CachedTokenProvider::builder(grant)
        .clock(clock.clone() as Arc<dyn Clock>)
        .build();

    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    assert!(token.refresh_token().is_none());
    assert_eq!(
        token.expires_at(),
        Some(start() + auth_core::chrono::Duration::hours(1))
    );
    provider.token().await.unwrap();
    mock.assert_calls_async(1).await;

    // No refresh token to need: a new grantless request, never NoRefreshToken.
    clock.advance(Duration::from_secs(3600));
    let token = provider.token().await.unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    mock.assert_calls_async(2).await;
    assert!(!provider.status().reauthorization_required);
}

//! Client-secret rotation without a restart: the credentials provider is read on every
//! token request, and during a rotation window an `invalid_client` answer to one secret
//! makes the grant try the other once.

mod common;

use std::sync::Arc;

use auth_amazon_sp::{Client, Credentials, RotatingCredentials, Scope, StaticCredentials};
use auth_core::{AuthError, OAuthErrorCode, RefreshToken};
use common::*;
use httpmock::prelude::*;
use serde_json::json;

fn rotating_client(server: &MockServer, credentials: Arc<RotatingCredentials>) -> Client {
    Client::builder()
        .credentials(credentials)
        .base_url(server.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

async fn refused<'a>(server: &'a MockServer, secret: &'static str) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .form_urlencoded_tuple("client_secret", secret);
            then.status(401)
                .json_body(json!({"error_description": "Client authentication failed", "error": "invalid_client"}));
        })
        .await
}

async fn accepted<'a>(server: &'a MockServer, secret: &'static str) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .form_urlencoded_tuple("client_secret", secret);
            then.status(200).json_body(token_body());
        })
        .await
}

#[tokio::test]
async fn invalid_client_with_the_first_secret_tries_the_other_once() {
    let server = MockServer::start_async().await;
    let old = refused(&server, CLIENT_SECRET).await;
    let new = accepted(&server, NEW_CLIENT_SECRET).await;
    let credentials = Arc::new(RotatingCredentials::from_credentials(
        Credentials::new(CLIENT_ID, CLIENT_SECRET).with_alternate(NEW_CLIENT_SECRET),
    ));
    let client = rotating_client(&server, credentials.clone());

    let token = client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    // Exactly two calls: one per secret, and no transport retry of the invalid_client.
    old.assert_calls_async(1).await;
    new.assert_calls_async(1).await;

    // The accepted secret is tried first from now on: one call, no refusal.
    client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    old.assert_calls_async(1).await;
    new.assert_calls_async(2).await;
    assert_eq!(
        credentials.current().secret().expose_secret(),
        NEW_CLIENT_SECRET
    );
}

#[tokio::test]
async fn fallback_works_for_grantless_and_code_grants_too() {
    let server = MockServer::start_async().await;
    let old = refused(&server, CLIENT_SECRET).await;
    let new = server
        .mock_async(|when, then| {
            when.form_urlencoded_tuple("client_secret", NEW_CLIENT_SECRET);
            then.status(200)
                .json_body(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}));
        })
        .await;
    let client = Client::builder()
        .credentials(Arc::new(StaticCredentials::new(
            Credentials::new(CLIENT_ID, CLIENT_SECRET).with_alternate(NEW_CLIENT_SECRET),
        )))
        .base_url(server.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    client
        .grantless(&auth_core::Scopes::from([Scope::Notifications]))
        .await
        .unwrap();
    client.exchange_code("ANcode", None).await.unwrap();
    // Static credentials cannot reorder: each grant pays the refusal once.
    old.assert_calls_async(2).await;
    new.assert_calls_async(2).await;
}

#[tokio::test]
async fn both_secrets_refused_is_invalid_client_with_the_rotation_hint() {
    let server = MockServer::start_async().await;
    let old = refused(&server, CLIENT_SECRET).await;
    let new = refused(&server, NEW_CLIENT_SECRET).await;
    let credentials = Arc::new(RotatingCredentials::new(CLIENT_ID, CLIENT_SECRET));
    credentials.begin_rotation(NEW_CLIENT_SECRET);
    let err = rotating_client(&server, credentials)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    new.assert_calls_async(1).await;
    old.assert_calls_async(1).await;
    match &err {
        AuthError::OAuth { code, hint, .. } => {
            assert_eq!(*code, OAuthErrorCode::InvalidClient);
            assert!(hint.as_deref().unwrap().contains("180 days"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn without_a_rotation_window_invalid_client_is_sent_once() {
    let server = MockServer::start_async().await;
    let old = refused(&server, CLIENT_SECRET).await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    old.assert_calls_async(1).await;
    assert!(matches!(
        err,
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidClient,
            ..
        }
    ));
}

#[tokio::test]
async fn other_errors_do_not_switch_secrets() {
    let server = MockServer::start_async().await;
    let old = server
        .mock_async(|when, then| {
            when.form_urlencoded_tuple("client_secret", CLIENT_SECRET);
            then.status(400)
                .json_body(json!({"error": "invalid_grant", "error_description": "revoked"}));
        })
        .await;
    let new = accepted(&server, NEW_CLIENT_SECRET).await;
    let credentials = Arc::new(RotatingCredentials::from_credentials(
        Credentials::new(CLIENT_ID, CLIENT_SECRET).with_alternate(NEW_CLIENT_SECRET),
    ));
    let err = rotating_client(&server, credentials)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant());
    old.assert_calls_async(1).await;
    new.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_new_secret_takes_effect_on_the_next_request_without_a_new_client() {
    let server = MockServer::start_async().await;
    let old = accepted(&server, CLIENT_SECRET).await;
    let new = accepted(&server, NEW_CLIENT_SECRET).await;
    let credentials = Arc::new(RotatingCredentials::new(CLIENT_ID, CLIENT_SECRET));
    let client = rotating_client(&server, credentials.clone());

    client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    credentials.set_secret(NEW_CLIENT_SECRET);
    client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    old.assert_calls_async(1).await;
    new.assert_calls_async(1).await;

    credentials.begin_rotation("amzn1.oa2-cs.v1.third");
    credentials.finish_rotation();
    assert!(credentials.current().alternate().is_none());
    assert_no_secret(&format!("{client:?} {credentials:?}"));
}

//! The whole Easyship flow against the crate's own emulator (feature `emulator`, enabled
//! for this crate's tests by its dev-dependency on itself): the browser step, the code
//! exchange, a chain of 20 single-use refresh-token rotations through a cached provider
//! over a `FileStore`, API calls through `provider.send`, a rotation whose answer is
//! lost, a token the API refuses, and the token endpoint's faults.

#![cfg(feature = "emulator")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::http::RetryPolicy;
use auth_core::{AuthError, FileStore, RefreshToken, Scopes, Token};
use auth_easyship::emulator::{Emulator, Fault};
use auth_easyship::{Client, Scope, VendorClient, parse_redirect};
use reqwest::StatusCode;

const REDIRECT_URI: &str = "https://app.example.com/easyship/callback";
const SELLER: &str = "seller-1";

fn policy() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(10))
}

fn client(emulator: &Emulator) -> Client {
    emulator
        .client_builder()
        .retry_policy(policy())
        .build()
        .unwrap()
}

fn scopes() -> Scopes<Scope> {
    "public.shipment:write public.rate:read".parse().unwrap()
}

/// The browser step and the code exchange, as an app does them.
async fn authorize(emulator: &Emulator, client: &Client) -> Token {
    let (url, state) = client.authorize_url(REDIRECT_URI, &scopes()).unwrap();
    let redirect = emulator.authorize(&url).unwrap();
    assert!(redirect.as_str().starts_with(REDIRECT_URI));
    let code = parse_redirect(&redirect, &state).unwrap();
    client.exchange_code(code, REDIRECT_URI).await.unwrap()
}

fn refresh_token(token: &Token) -> RefreshToken {
    token.refresh_token().unwrap().clone()
}

#[tokio::test]
async fn authorize_exchange_code_and_call_the_api() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let token = authorize(&emulator, &client).await;
    assert_eq!(token.scopes().to_string(), scopes().to_string());
    assert_eq!(
        emulator.check_access_token(token.access_token().expose_secret()),
        Ok(Some(SELLER.to_owned()))
    );

    let provider = client.refresh_provider(refresh_token(&token));
    let request = client
        .http_client()
        .post(client.api_url("2024-09/shipments").unwrap())
        .body("{}");
    assert_eq!(provider.send(request).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.authorize(), 1);
    assert_eq!(counts.grant("authorization_code"), 1);
    assert_eq!(counts.grant("refresh_token"), 1);
    assert_eq!(counts.api(), 1);
}

#[tokio::test]
async fn the_browser_step_answers_302_over_http() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let (url, state) = client.authorize_url(REDIRECT_URI, &scopes()).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let code = parse_redirect(&location, &state).unwrap();
    let token = client
        .exchange_code(code.clone(), REDIRECT_URI)
        .await
        .unwrap();
    assert!(token.refresh_token().is_some());

    // A code is single-use.
    let again = client.exchange_code(code, REDIRECT_URI).await.unwrap_err();
    assert!(again.is_invalid_grant(), "{again:?}");
}

#[tokio::test]
async fn twenty_single_use_rotations_through_a_file_store() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let first = refresh_token(&authorize(&emulator, &client).await);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let key = client.store_key(SELLER);
    let provider = client
        .refresh_provider_builder(first.clone())
        .store(store.clone(), key.clone())
        .build();

    let mut refresh_tokens = vec![first.expose_secret().to_owned()];
    for _ in 0..20 {
        let token = provider.force_refresh().await.unwrap();
        let rotated = refresh_token(&token).expose_secret().to_owned();
        // The one live refresh token at Easyship is the one the store holds.
        assert_eq!(emulator.live_refresh_tokens(SELLER), vec![rotated.clone()]);
        assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
        refresh_tokens.push(rotated);
    }
    let mut distinct = refresh_tokens.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 21);
    assert_eq!(emulator.counts().grant("refresh_token"), 20);

    // Another process seeded with the first, long spent, refresh token: the stored one
    // wins, and its refresh rotates on from the chain's end.
    let other = client
        .refresh_provider_builder(first.clone())
        .store(store, key)
        .build();
    let token = other.force_refresh().await.unwrap();
    assert!(!refresh_tokens.contains(&refresh_token(&token).expose_secret().to_owned()));
    // The first one, presented directly, is spent.
    assert!(client.refresh(&first).await.unwrap_err().is_invalid_grant());
}

#[tokio::test]
async fn lost_rotation_answer_is_outcome_unknown_and_the_next_refresh_decides() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);

    emulator.inject(Fault::LoseResponse);
    let error = client.refresh(&rt).await.unwrap_err();
    assert!(
        matches!(error, AuthError::OutcomeUnknown { .. }),
        "{error:?}"
    );
    assert!(!error.is_invalid_grant());
    // Easyship rotated: the new refresh token exists, and the answer holding it is lost.
    assert_eq!(emulator.counts().grant("refresh_token"), 1);
    let live = emulator.live_refresh_tokens(SELLER);
    assert_eq!(live.len(), 1);
    assert_ne!(live[0], rt.expose_secret());
    // The next refresh with the old one tells: spent, the seller must authorize again.
    assert!(client.refresh(&rt).await.unwrap_err().is_invalid_grant());
}

#[tokio::test]
async fn server_error_before_processing_leaves_the_refresh_token_usable() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);

    // A 500 is not proof that nothing was spent: not sent again, outcome unknown.
    emulator.inject(Fault::Status(StatusCode::INTERNAL_SERVER_ERROR));
    let error = client.refresh(&rt).await.unwrap_err();
    assert!(
        matches!(error, AuthError::OutcomeUnknown { .. }),
        "{error:?}"
    );
    // This time Easyship had not processed it: the same refresh token still works.
    assert!(client.refresh(&rt).await.is_ok());
}

#[tokio::test]
async fn refused_token_is_replaced_on_an_api_call() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    let provider = client.refresh_provider(rt);
    let before = provider.token().await.unwrap();

    emulator.revoke_access_tokens();
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.api_rejected(), 1);
    assert_eq!(counts.grant("refresh_token"), 2);
    // Doorkeeper: the refresh also revoked the previous access token.
    let after = provider.token().await.unwrap();
    assert_ne!(
        after.access_token().expose_secret(),
        before.access_token().expose_secret()
    );
}

#[tokio::test]
async fn service_unavailable_then_success_on_a_refresh() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    emulator.inject(Fault::Status(StatusCode::SERVICE_UNAVAILABLE));
    // A 503 proves Easyship refused to handle it: sent again, even single-use.
    client.refresh(&rt).await.unwrap();
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
}

#[tokio::test]
async fn rate_limited_refresh_waits_for_retry_after() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    emulator.inject(Fault::RateLimited {
        retry_after: Duration::from_secs(1),
    });
    let started = Instant::now();
    client.refresh(&rt).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
}

#[tokio::test]
async fn revoked_grant_is_invalid_grant_and_stays_so() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    emulator.inject(Fault::RevokeGrant);
    assert!(client.refresh(&rt).await.unwrap_err().is_invalid_grant());
    assert!(client.refresh(&rt).await.unwrap_err().is_invalid_grant());
}

#[tokio::test]
async fn client_credentials_provider_gets_an_application_token() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let provider = client.client_credentials_provider(scopes()).unwrap();
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    let token = provider.token().await.unwrap();
    assert!(token.refresh_token().is_none());
    assert_eq!(
        emulator.check_access_token(token.access_token().expose_secret()),
        Ok(None)
    );
}

#[tokio::test]
async fn emulator_refuses_a_form_body_and_extra_properties() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = Emulator::start().await;
    let app = emulator.app();
    let http = reqwest::Client::new();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=rate",
        app.client_id(),
        app.client_secret()
    );
    let response = http
        .post(emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let extra = serde_json::json!({
        "grant_type": "client_credentials", "client_id": app.client_id(),
        "client_secret": app.client_secret(), "scope": "rate", "audience": "x"
    });
    let response = http
        .post(emulator.token_url())
        .header("content-type", "application/json")
        .body(extra.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn refused_api_calls_are_counted_by_reason() {
    use auth_core::emulator::Rejection;

    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let first = authorize(&emulator, &client).await;
    let call = |token: Option<String>| {
        let mut request = client.http_client().get(emulator.probe_url());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status() }
    };
    let access = |token: &Token| Some(token.access_token().expose_secret().to_owned());

    assert_eq!(call(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        call(Some("never-issued".into())).await,
        StatusCode::UNAUTHORIZED
    );
    // Doorkeeper: the refresh revokes the access token of the previous link.
    let second = client.refresh(&refresh_token(&first)).await.unwrap();
    assert_eq!(call(access(&first)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(access(&second)).await, StatusCode::OK);
    emulator.advance(Duration::from_secs(7200));
    assert_eq!(call(access(&second)).await, StatusCode::UNAUTHORIZED);

    let counts = emulator.counts();
    assert_eq!(counts.api(), 5);
    assert_eq!(counts.api_rejected(), 4);
    for why in [
        Rejection::Missing,
        Rejection::Unknown,
        Rejection::Revoked,
        Rejection::Expired,
    ] {
        assert_eq!(counts.api_rejected_as(why), 1, "{why:?}");
    }
}

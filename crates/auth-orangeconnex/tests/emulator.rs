//! The whole Orange Connex flow against the crate's own emulator (feature `emulator`,
//! enabled for this crate's tests by its dev-dependency on itself): the browser step
//! (a code holding `%2F`), the code exchange, 20 refresh-token rotations through a
//! cached provider over a `FileStore`, Open API calls through `provider.send` with
//! `Access-Token`, a rotation whose answer is lost, the one-year refresh-token lifetime,
//! a token the API refuses, and the token endpoint's faults.

#![cfg(feature = "emulator")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::emulator::EmulatorBuilder;
use auth_core::http::RetryPolicy;
use auth_core::{AuthError, FileStore, RefreshToken, Token};
use auth_orangeconnex::emulator::{Emulator, Fault, OrangeConnex};
use auth_orangeconnex::{Client, VendorClient, parse_redirect};
use reqwest::StatusCode;

const REDIRECT_URI: &str = "https://app.example.com/oc/callback";
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

async fn authorize(emulator: &Emulator, client: &Client) -> Token {
    let (url, state) = client.authorize_url(REDIRECT_URI);
    let redirect = emulator.authorize(&url).unwrap();
    // The code's own `%2F` arrives encoded once more, as in the vendor's sample.
    assert!(redirect.query().unwrap().contains("%252F"), "{redirect}");
    let code = parse_redirect(&redirect, &state).unwrap();
    client.exchange_code(code, REDIRECT_URI).await.unwrap()
}

fn refresh_token(token: &Token) -> RefreshToken {
    token.refresh_token().unwrap().clone()
}

#[tokio::test]
async fn authorize_exchange_code_and_call_the_open_api() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let token = authorize(&emulator, &client).await;
    assert_eq!(
        emulator.check_access_token(token.access_token().expose_secret()),
        Ok(Some(SELLER.to_owned()))
    );
    let provider = client.refresh_provider(refresh_token(&token));
    let request = client
        .http_client()
        .post(client.api_url("3pp/sku/v3/creation").unwrap())
        .body("{}");
    assert_eq!(provider.send(request).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.authorize(), 1);
    assert_eq!(counts.grant("authorization_code"), 1);
    assert_eq!((counts.grant("refresh_token"), counts.api()), (1, 1));
}

#[tokio::test]
async fn the_browser_step_answers_302_over_http_and_a_code_is_single_use() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let (url, state) = client.authorize_url(REDIRECT_URI);
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
    client
        .exchange_code(code.clone(), REDIRECT_URI)
        .await
        .unwrap();
    let again = client.exchange_code(code, REDIRECT_URI).await.unwrap_err();
    assert!(again.is_invalid_grant(), "{again:?}");
    assert_eq!(again.status(), Some(400));
}

#[tokio::test]
async fn twenty_rotations_through_a_file_store() {
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

    let mut seen = vec![first.expose_secret().to_owned()];
    for _ in 0..20 {
        let token = provider.force_refresh().await.unwrap();
        let rotated = refresh_token(&token).expose_secret().to_owned();
        assert_eq!(emulator.live_refresh_tokens(SELLER), vec![rotated.clone()]);
        assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
        seen.push(rotated);
    }
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 21);
    assert_eq!(emulator.counts().grant("refresh_token"), 20);
    // Another process seeded with the spent first one uses the store's.
    let other = client
        .refresh_provider_builder(first)
        .store(store, key)
        .build();
    assert!(other.force_refresh().await.is_ok());
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
    assert_eq!(emulator.counts().grant("refresh_token"), 1);
    assert_ne!(
        emulator.live_refresh_tokens(SELLER),
        vec![rt.expose_secret().to_owned()]
    );
    // Orange Connex rotated: the old one is invalid_grant, in an HTTP 200.
    let error = client.refresh(&rt).await.unwrap_err();
    assert!(error.is_invalid_grant(), "{error:?}");
    assert_eq!(error.status(), Some(200));
}

#[tokio::test]
async fn refresh_token_without_rotation_lapses_after_one_year() {
    let emulator = EmulatorBuilder::new(OrangeConnex::without_rotation())
        .start()
        .await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    let token = client.refresh(&rt).await.unwrap();
    assert_eq!(refresh_token(&token).expose_secret(), rt.expose_secret());
    emulator.advance(Duration::from_secs(366 * 86_400));
    assert!(client.refresh(&rt).await.unwrap_err().is_invalid_grant());
}

#[tokio::test]
async fn refused_token_is_replaced_on_an_api_call() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let provider = client.refresh_provider(emulator.issue_refresh_token(SELLER, None));
    provider.token().await.unwrap();
    emulator.advance(Duration::from_secs(3601)); // 401 "Access token expired"
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.api_rejected(), 1);
    assert_eq!(counts.grant("refresh_token"), 2);
}

#[tokio::test]
async fn bare_access_token_header_is_accepted_too() {
    let emulator = Emulator::start().await;
    let client = emulator
        .client_builder()
        .bearer_prefix(false)
        .build()
        .unwrap();
    let provider = client.refresh_provider(emulator.issue_refresh_token(SELLER, None));
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    assert_eq!(emulator.counts().api_rejected(), 0);
}

#[tokio::test]
async fn service_unavailable_then_success() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = RefreshToken::new(emulator.issue_refresh_token(SELLER, None));
    emulator.inject(Fault::Status(StatusCode::SERVICE_UNAVAILABLE));
    client.refresh(&rt).await.unwrap();
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
}

#[tokio::test]
async fn rate_limited_refresh_waits_for_retry_after() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let rt = RefreshToken::new(emulator.issue_refresh_token(SELLER, None));
    emulator.inject(Fault::RateLimited {
        retry_after: Duration::from_secs(1),
    });
    let started = Instant::now();
    client.refresh(&rt).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
}

#[tokio::test]
async fn parameters_in_the_body_are_refused() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = Emulator::start().await;
    let app = emulator.app();
    let rt = emulator.issue_refresh_token(SELLER, None);
    let body = format!(
        "client_id={}&grant_type=refresh_token&refresh_token={rt}",
        app.client_id()
    );
    let response = reqwest::Client::new()
        .post(emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

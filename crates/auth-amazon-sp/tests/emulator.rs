//! The whole Login with Amazon flow against the crate's own emulator (feature
//! `emulator`, enabled for this crate's tests by its dev-dependency on itself): the
//! consent page, the code exchange, 20 refreshes through a cached provider over a
//! `FileStore` (the refresh token is long-lived: it never changes), SP-API calls through
//! `provider.send` with `x-amz-access-token`, a lost answer, a token the API refuses,
//! grantless tokens and the token endpoint's faults.

#![cfg(feature = "emulator")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_amazon_sp::emulator::{Emulator, Fault};
use auth_amazon_sp::{
    AuthorizationRedirect, BodyFormat, Client, ConsentRequest, Marketplace, Scope, VendorClient,
};
use auth_core::http::RetryPolicy;
use auth_core::{FileStore, RefreshToken, Scopes, Token};
use reqwest::StatusCode;

const SELLER: &str = "A2EUQ1WTGCTBG2";
const REDIRECT_URI: &str = "https://app.example.com/amazon/callback";

fn policy() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(10))
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .seller(SELLER)
        .redirect_uri(REDIRECT_URI)
        .start()
        .await
}

fn client(emulator: &Emulator) -> Client {
    emulator
        .client_builder()
        .retry_policy(policy())
        .build()
        .unwrap()
}

/// The website workflow: consent, redirect, code exchange.
async fn authorize(emulator: &Emulator, client: &Client) -> Token {
    let app = emulator.app();
    let request = ConsentRequest::new(app.application_id(), Marketplace::UnitedStates).draft(true);
    let (url, state) = client.consent_url(&request).unwrap();
    let redirect = emulator.authorize(&url).unwrap();
    assert!(redirect.as_str().starts_with(REDIRECT_URI));
    let redirect = AuthorizationRedirect::from_url(&redirect, &state).unwrap();
    assert_eq!(redirect.selling_partner_id(), Some(SELLER));
    client
        .exchange_code(redirect.spapi_oauth_code().clone(), None)
        .await
        .unwrap()
}

fn refresh_token(token: &Token) -> RefreshToken {
    token.refresh_token().unwrap().clone()
}

#[tokio::test]
async fn consent_exchange_code_and_call_the_sp_api() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let token = authorize(&emulator, &client).await;
    assert_eq!(
        emulator.check_access_token(token.access_token().expose_secret()),
        Ok(Some(SELLER.to_owned()))
    );
    let provider = client.refresh_provider(refresh_token(&token));
    let request = client
        .http_client()
        .get(client.api_url("orders/v0/orders").unwrap());
    assert_eq!(provider.send(request).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.authorize(), 1);
    assert_eq!(counts.grant("authorization_code"), 1);
    assert_eq!((counts.grant("refresh_token"), counts.api()), (1, 1));
}

#[tokio::test]
async fn consent_page_answers_302_and_a_code_is_single_use() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = emulator().await;
    let client = client(&emulator);
    let request = ConsentRequest::new(emulator.app().application_id(), Marketplace::Germany);
    let (url, state) = client.consent_url(&request).unwrap();
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
    let redirect = AuthorizationRedirect::from_url(&location, &state).unwrap();
    let code = redirect.spapi_oauth_code().clone();
    client
        .exchange_code(code.clone(), Some(REDIRECT_URI))
        .await
        .unwrap();
    let again = client.exchange_code(code, None).await.unwrap_err();
    assert!(again.is_invalid_grant(), "{again:?}");
}

#[tokio::test]
async fn twenty_refreshes_through_a_file_store_keep_the_long_lived_refresh_token() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let key = client.store_key(SELLER);
    let provider = client
        .refresh_provider_builder(rt.clone())
        .store(store.clone(), key.clone())
        .build();

    let mut access_tokens = Vec::new();
    for _ in 0..20 {
        let token = provider.force_refresh().await.unwrap();
        assert_eq!(refresh_token(&token).expose_secret(), rt.expose_secret());
        access_tokens.push(token.access_token().expose_secret().to_owned());
        assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    }
    access_tokens.sort();
    access_tokens.dedup();
    assert_eq!(access_tokens.len(), 20);
    assert_eq!(emulator.counts().grant("refresh_token"), 20);
    assert_eq!(
        emulator.live_refresh_tokens(SELLER),
        vec![rt.expose_secret().to_owned()]
    );
    // Another process with the same store serves the stored token without a request.
    let other = client
        .refresh_provider_builder(rt)
        .store(store, key)
        .build();
    other.token().await.unwrap();
    assert_eq!(emulator.counts().grant("refresh_token"), 20);
}

#[tokio::test]
async fn lost_refresh_answer_is_asked_again_since_the_refresh_token_does_not_rotate() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let rt = refresh_token(&authorize(&emulator, &client).await);
    emulator.inject(Fault::LoseResponse);
    // LWA refresh tokens are not single-use: the client sends the request again.
    let token = client.refresh(&rt).await.unwrap();
    assert_eq!(refresh_token(&token).expose_secret(), rt.expose_secret());
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
}

#[tokio::test]
async fn refused_token_is_replaced_on_an_api_call() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let provider = client.refresh_provider(emulator.issue_refresh_token(SELLER, None));
    provider.token().await.unwrap();

    // An hour later at Amazon: 403 "The access token you provided has expired."
    emulator.advance(Duration::from_secs(3601));
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.api_rejected(), 1);
    assert_eq!(counts.grant("refresh_token"), 2);
}

#[tokio::test]
async fn missing_token_header_is_not_a_rejected_token() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = emulator().await;
    let response = reqwest::get(emulator.probe_url()).await.unwrap();
    assert_eq!(response.status(), 403);
    let client = client(&emulator);
    let body = response.bytes().await.unwrap();
    assert!(!client.token_rejected(StatusCode::FORBIDDEN, &Default::default(), &body));
}

#[tokio::test]
async fn grantless_provider_gets_an_application_token() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let scopes: Scopes<Scope> = Scopes::from_iter([Scope::Notifications]);
    let provider = client.grantless_provider(scopes).unwrap();
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    let token = provider.token().await.unwrap();
    assert!(token.refresh_token().is_none());
    assert_eq!(
        token.scopes().to_string(),
        "sellingpartnerapi::notifications"
    );
    assert_eq!(emulator.counts().grant("client_credentials"), 1);
}

#[tokio::test]
async fn json_bodies_are_accepted_as_the_official_sdks_send_them() {
    let emulator = emulator().await;
    let client = emulator
        .client_builder()
        .body_format(BodyFormat::Json)
        .build()
        .unwrap();
    let rt = emulator.issue_refresh_token(SELLER, None);
    client.refresh(&RefreshToken::new(rt)).await.unwrap();
}

#[tokio::test]
async fn service_unavailable_then_success() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let rt = RefreshToken::new(emulator.issue_refresh_token(SELLER, None));
    emulator.inject(Fault::Status(StatusCode::SERVICE_UNAVAILABLE));
    client.refresh(&rt).await.unwrap();
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
}

#[tokio::test]
async fn rate_limited_answer_is_retried_after_its_retry_after() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let rt = RefreshToken::new(emulator.issue_refresh_token(SELLER, None));
    emulator.inject(Fault::RateLimited {
        retry_after: Duration::from_secs(1),
    });
    let started = Instant::now();
    client.refresh(&rt).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn revoked_authorization_is_invalid_grant() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let rt = RefreshToken::new(emulator.issue_refresh_token(SELLER, None));
    client.refresh(&rt).await.unwrap();
    emulator.revoke_seller(SELLER);
    let error = client.refresh(&rt).await.unwrap_err();
    assert!(error.is_invalid_grant(), "{error:?}");
    assert!(error.to_string().contains("revoked"), "{error}");
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_with_the_rotation_hint() {
    let emulator = emulator().await;
    let client = emulator
        .client_builder()
        .client_secret("amzn1.oa2-cs.v1.old")
        .build()
        .unwrap();
    let rt = RefreshToken::new(emulator.issue_refresh_token(SELLER, None));
    let error = client.refresh(&rt).await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(error.to_string().contains("180 days"), "{error}");
}

#[tokio::test]
async fn scope_on_a_refresh_is_refused() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = emulator().await;
    let app = emulator.app();
    let rt = emulator.issue_refresh_token(SELLER, None);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", &rt)
        .append_pair("client_id", app.client_id())
        .append_pair("client_secret", app.client_secret())
        .append_pair("scope", "sellingpartnerapi::notifications")
        .finish();
    let response = reqwest::Client::new()
        .post(emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

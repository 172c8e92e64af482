//! The whole Pitney Bowes flow against the crate's own emulator (feature `emulator`,
//! enabled for this crate's tests by its dev-dependency on itself): client credentials,
//! a cached provider over a `FileStore`, API calls through `provider.send`, a token the
//! API refuses, and the token endpoint's faults.

#![cfg(feature = "emulator")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::http::RetryPolicy;
use auth_core::{AuthError, FileStore, OAuthErrorCode};
use auth_pitneybowes::emulator::{Emulator, Fault};
use auth_pitneybowes::{Client, VendorClient};
use reqwest::StatusCode;

/// Fast backoff (the `Retry-After` test sets its own wait).
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

#[tokio::test]
async fn client_credentials_token_is_accepted_by_the_api_probe() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);

    let token = client.client_credentials().await.unwrap();
    assert_eq!(token.token_type(), "BearerToken");
    let lifetime = token.expires_at().unwrap() - chrono::Utc::now();
    assert!(lifetime > chrono::Duration::hours(9), "{lifetime}");
    assert_eq!(
        emulator.check_access_token(token.access_token().expose_secret()),
        Ok(None)
    );

    let provider = client.provider();
    let request = client
        .http_client()
        .post(client.api_url("v1/addresses/verify").unwrap())
        .body("{}");
    let response = provider.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let counts = emulator.counts();
    assert_eq!((counts.grant("client_credentials"), counts.api()), (2, 1));
}

#[tokio::test]
async fn twenty_renewals_through_a_file_store_are_shared_by_every_provider() {
    let emulator = Emulator::start().await;
    let client = client(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let key = client.store_key(Client::APP_SUBJECT);
    let provider = client
        .provider_builder()
        .store(store.clone(), key.clone())
        .build();

    let mut seen = Vec::new();
    for _ in 0..20 {
        let token = provider.force_refresh().await.unwrap();
        seen.push(token.access_token().expose_secret().to_owned());
        // Another process with the same store serves the stored token: no request.
        let other = client
            .provider_builder()
            .store(store.clone(), key.clone())
            .build();
        let stored = other.token().await.unwrap();
        assert_eq!(stored.access_token().expose_secret(), seen.last().unwrap());
        assert_eq!(emulator.probe(&other).await.unwrap().status(), 200);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 20, "every renewal is a new token");
    assert_eq!(emulator.counts().grant("client_credentials"), 20);
}

#[tokio::test]
async fn refused_token_is_replaced_on_an_api_call() {
    let emulator = Emulator::start().await;
    let provider = client(&emulator).provider();
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);

    emulator.revoke_access_tokens(); // PB-APIM-ERR-1002 from now on
    assert_eq!(emulator.probe(&provider).await.unwrap().status(), 200);
    let counts = emulator.counts();
    assert_eq!(counts.api_rejected(), 1);
    assert_eq!(counts.grant("client_credentials"), 2);
}

#[tokio::test]
async fn expired_token_answer_fetches_a_new_one() {
    let emulator = Emulator::start().await;
    let provider = client(&emulator).provider();
    let first = provider.token().await.unwrap();

    // Ten hours later at Pitney Bowes: PB-APIM-ERR-1003, a new token, one retry.
    emulator.advance(Duration::from_secs(36_000));
    let response = emulator.probe(&provider).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_ne!(
        provider
            .token()
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        first.access_token().expose_secret()
    );
    assert_eq!(emulator.counts().api_rejected(), 1);
}

#[tokio::test]
async fn service_unavailable_then_success() {
    let emulator = Emulator::start().await;
    emulator.inject(Fault::Status(StatusCode::SERVICE_UNAVAILABLE));
    client(&emulator).client_credentials().await.unwrap();
    let counts = emulator.counts();
    assert_eq!(
        (counts.grant("client_credentials"), counts.faults()),
        (2, 1)
    );
}

#[tokio::test]
async fn rate_limited_answer_is_retried_after_its_retry_after() {
    let emulator = Emulator::start().await;
    emulator.inject(Fault::RateLimited {
        retry_after: Duration::from_secs(1),
    });
    let started = Instant::now();
    client(&emulator).client_credentials().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(emulator.counts().grant("client_credentials"), 2);
}

#[tokio::test]
async fn lost_response_is_asked_again_since_nothing_single_use_was_spent() {
    let emulator = Emulator::start().await;
    emulator.inject(Fault::LoseResponse);
    let token = client(&emulator).client_credentials().await.unwrap();
    assert!(
        emulator
            .check_access_token(token.access_token().expose_secret())
            .is_ok()
    );
    assert_eq!(emulator.counts().grant("client_credentials"), 2);
}

#[tokio::test]
async fn slow_answer_times_out_and_the_retry_succeeds() {
    let emulator = Emulator::start().await;
    emulator.inject(Fault::Delay(Duration::from_secs(2)));
    let client = emulator
        .client_builder()
        .retry_policy(policy().with_attempt_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    client.client_credentials().await.unwrap();
    assert_eq!(emulator.counts().grant("client_credentials"), 2);
}

#[tokio::test]
async fn malformed_body_is_a_decode_error() {
    let emulator = Emulator::start().await;
    emulator.inject(Fault::MalformedBody);
    let error = client(&emulator).client_credentials().await.unwrap_err();
    assert!(
        matches!(error, AuthError::Decode { status: 200, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_with_the_environment_hint() {
    let emulator = Emulator::start().await;
    let client = emulator
        .client_builder()
        .api_secret("not-the-secret")
        .build()
        .unwrap();
    let error = client.client_credentials().await.unwrap_err();
    match &error {
        AuthError::OAuth { code, status, .. } => {
            assert_eq!((code, *status), (&OAuthErrorCode::InvalidClient, Some(401)));
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn emulator_enforces_the_exact_request_shape() {
    // A raw reqwest client needs the process's rustls provider.
    auth_core::install_crypto_provider();
    let emulator = Emulator::start().await;
    let http = reqwest::Client::new();
    let app = emulator.app();
    // The body as JSON instead of a form: refused.
    let response = http
        .post(emulator.token_url())
        .basic_auth(app.client_id(), Some(app.client_secret()))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // No Basic credentials: 401 invalid_client.
    let response = http
        .post(emulator.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // Another grant: unsupported_grant_type.
    let response = http
        .post(emulator.token_url())
        .basic_auth(app.client_id(), Some(app.client_secret()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
}

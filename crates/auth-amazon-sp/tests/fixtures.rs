//! Every recorded or documented Amazon body in `tests/fixtures/amazon-sp/*.json`, served
//! by a local LWA / SP-API and checked against what the client makes of it.

mod common;

use std::path::Path;
use std::sync::Arc;

use auth_amazon_sp::wire::{
    CreateRestrictedDataTokenRequest, RestrictedMethod, RestrictedResource,
};
use auth_amazon_sp::{Client, Scope, VendorClient};
use auth_core::chrono::{DateTime, Duration, Utc};
use auth_core::reqwest::StatusCode;
use auth_core::reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use auth_core::{AccessToken, AuthError, ManualClock, RefreshToken, Scopes, Token};
use common::*;
use httpmock::prelude::*;
use serde_json::Value;

fn start() -> DateTime<Utc> {
    "2026-07-01T00:00:00Z".parse().unwrap()
}

async fn run(name: &str, fixture: &Value) {
    let response = &fixture["response"];
    let status = response["status"].as_u64().unwrap() as u16;
    let body = match response.get("body_text") {
        Some(text) => text.as_str().unwrap().to_owned(),
        None => response["body"].to_string(),
    };
    let headers: Vec<(String, String)> = response
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();

    let server = MockServer::start_async().await;
    let path = match fixture["endpoint"].as_str().unwrap() {
        "rdt" => "/tokens/2021-03-01/restrictedDataToken",
        _ => "/auth/o2/token",
    };
    let served_body = body.clone();
    let served_headers = headers.clone();
    server
        .mock_async(move |when, then| {
            when.method(POST).path(path);
            let mut then = then.status(status).body(served_body.clone());
            if response.get("body_text").is_none() {
                then = then.header("content-type", "application/json");
            }
            for (k, v) in &served_headers {
                then = then.header(k.clone(), v.clone());
            }
        })
        .await;

    let client = builder(&server)
        .retry_policy(fast_retries().with_max_attempts(1))
        .clock(Arc::new(ManualClock::new(start())))
        .build()
        .unwrap();
    let result = match fixture["endpoint"].as_str().unwrap() {
        "refresh" => client.refresh(&RefreshToken::new(REFRESH_TOKEN)).await,
        "grantless" => {
            client
                .grantless(&Scopes::from([Scope::Notifications]))
                .await
        }
        "code" => client.exchange_code("ANDLxeuaQfeUkCQnvEcS", None).await,
        "rdt" => {
            let request = CreateRestrictedDataTokenRequest::new([RestrictedResource::new(
                RestrictedMethod::Get,
                "/orders/v0/orders",
            )
            .with_data_elements(["buyerInfo"])]);
            client
                .restricted_data_token(&Token::new(AccessToken::new(ACCESS_TOKEN), None), &request)
                .await
        }
        other => panic!("{name}: unknown endpoint {other}"),
    };

    let expect = &fixture["expect"];
    if let Some(want) = expect.get("token") {
        let token = result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            token.access_token().expose_secret(),
            want["access_token"].as_str().unwrap(),
            "{name}"
        );
        let lifetime = want["expires_in"].as_i64().unwrap();
        assert_eq!(
            token.expires_at(),
            Some(start() + Duration::seconds(lifetime)),
            "{name}"
        );
        assert_eq!(
            token.refresh_token().map(|r| r.expose_secret().to_owned()),
            match (&want["refresh_token"], fixture["endpoint"].as_str()) {
                // The refresh grant keeps the refresh token it was given.
                (Value::Null, Some("refresh")) => Some(REFRESH_TOKEN.to_owned()),
                (Value::Null, _) => None,
                (v, _) => Some(v.as_str().unwrap().to_owned()),
            },
            "{name}"
        );
        assert_eq!(
            token.token_type(),
            want["token_type"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            token.scopes().to_string(),
            want["scopes"].as_str().unwrap(),
            "{name}"
        );
        assert_no_secret(&format!("{token:?}"));
        return;
    }

    let want = &expect["error"];
    let err = result.expect_err(name);
    assert_eq!(
        err.status(),
        Some(want["status"].as_u64().unwrap() as u16),
        "{name}: {err:?}"
    );
    assert_eq!(
        err.is_retryable(),
        want["retryable"].as_bool().unwrap(),
        "{name}: {err:?}"
    );
    assert_eq!(
        err.is_invalid_grant(),
        want.get("invalid_grant")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        "{name}"
    );
    match (want["kind"].as_str().unwrap(), &err) {
        (
            "oauth",
            AuthError::OAuth {
                code,
                description,
                request_id,
                hint,
                ..
            },
        ) => {
            assert_eq!(code.as_str(), want["code"].as_str().unwrap(), "{name}");
            if let Some(d) = want.get("description") {
                assert_eq!(description.as_deref(), d.as_str(), "{name}");
            }
            if let Some(id) = want.get("request_id") {
                assert_eq!(request_id.as_deref(), id.as_str(), "{name}");
            }
            match want.get("hint_contains") {
                Some(h) => assert!(
                    hint.as_deref().unwrap_or("").contains(h.as_str().unwrap()),
                    "{name}: {hint:?}"
                ),
                None => assert!(hint.is_none(), "{name}: {hint:?}"),
            }
        }
        ("vendor", AuthError::Vendor { vendor, code, .. }) => {
            assert_eq!(*vendor, "amazon-sp");
            assert_eq!(code.as_deref(), want["code"].as_str(), "{name}");
        }
        ("http", AuthError::Http { .. }) => {}
        (kind, other) => panic!("{name}: expected a {kind} error, got {other:?}"),
    }
    if let Some(rejected) = want.get("token_rejected") {
        let mut map = HeaderMap::new();
        for (k, v) in &headers {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let client = Client::builder()
            .client_id("id")
            .client_secret("s")
            .build()
            .unwrap();
        assert_eq!(
            client.token_rejected(StatusCode::from_u16(status).unwrap(), &map, body.as_bytes()),
            rejected.as_bool().unwrap(),
            "{name}"
        );
    }
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn every_fixture_gives_its_documented_result() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/amazon-sp");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "fixtures missing in {}", dir.display());
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for key in ["description", "source", "endpoint", "response", "expect"] {
            assert!(fixture.get(key).is_some(), "{name}: no `{key}`");
        }
        run(&name, &fixture).await;
    }
}

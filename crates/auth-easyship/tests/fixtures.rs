//! Every sample body in `tests/fixtures/easyship/`, served by a local token endpoint (or
//! checked with the client's `token_rejected`), against the outcome the fixture states.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use auth_core::{AuthError, ManualClock, RefreshToken, Scopes, VendorClient};
use auth_easyship::{Endpoint, Scope};
use common::*;
use httpmock::MockServer;
use serde_json::Value;

fn fixtures(prefix: &str) -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/easyship");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(prefix) && name.ends_with(".json")
        })
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            let value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn every_token_endpoint_fixture_gives_its_stated_outcome() {
    let cases: Vec<_> = fixtures("token_")
        .into_iter()
        .chain(fixtures("error_"))
        .collect();
    assert!(cases.len() >= 10, "fixtures missing: {}", cases.len());
    // One second after the fixtures' created_at, so created_at is trusted.
    let sent = chrono::DateTime::from_timestamp(1_645_532_461, 0).unwrap();
    for (name, case) in cases {
        let server = MockServer::start_async().await;
        let status = case["status"].as_u64().unwrap() as u16;
        let body = case["body"].to_string();
        let (_mock, seen) = endpoint(&server, "/oauth2/token", status, &body).await;
        // Each fixture names the grant that gets it (and the endpoint, where it is not
        // the grant's own), so a body is checked against the call that would receive it.
        let grant = case["grant"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no `grant`"));
        let endpoint = match case.get("endpoint").and_then(Value::as_str) {
            Some("partner") => Endpoint::Partner,
            Some("enterprise") => Endpoint::Enterprise,
            Some(other) => panic!("{name}: unknown endpoint {other}"),
            None if matches!(grant, "client_credentials" | "delegated_account") => {
                Endpoint::Enterprise
            }
            None => Endpoint::Partner,
        };
        let client = builder(&server)
            .endpoint(endpoint)
            .clock(Arc::new(ManualClock::new(sent)))
            .build()
            .unwrap();
        let scopes = Scopes::from([Scope::PublicRateRead]);
        let result = match grant {
            "authorization_code" => {
                client
                    .exchange_code("fixture-code", "https://example.com/callback")
                    .await
            }
            "refresh_token" => client.refresh(&RefreshToken::new("fixture-rt")).await,
            "client_credentials" => client.client_credentials(&scopes).await,
            "delegated_account" => client.delegated_account("CUS1", &scopes).await,
            other => panic!("{name}: unknown grant {other}"),
        };
        for request in seen.requests() {
            assert_eq!(json(&request)["grant_type"], grant, "{name}");
        }
        let expect = &case["expect"];
        if let Some(ok) = expect.get("ok") {
            let token = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                token.access_token().expose_secret(),
                ok["access_token"],
                "{name}"
            );
            let refresh = token.refresh_token().map(|r| r.expose_secret().to_owned());
            // Only a refresh keeps the refresh token just spent when the response has none.
            let expected_refresh = match (ok["refresh_token"].as_str(), grant) {
                (Some(new), _) => Some(new),
                (None, "refresh_token") => Some("fixture-rt"),
                (None, _) => None,
            };
            assert_eq!(refresh.as_deref(), expected_refresh, "{name}");
            assert_eq!(token.scopes().to_string(), ok["scope"], "{name}");
            assert_eq!(
                token.expires_at().unwrap().timestamp(),
                ok["expires_at"],
                "{name}"
            );
            assert_eq!(seen.requests().len(), 1, "{name}");
        } else {
            let e = &expect["error"];
            let err = result.expect_err(&name);
            let code = match &err {
                AuthError::OAuth { code, .. } => code.as_str().to_owned(),
                AuthError::Vendor { code, .. } => code.clone().unwrap_or_default(),
                other => panic!("{name}: unexpected {other:?}"),
            };
            assert_eq!(code, e["code"], "{name}");
            assert_eq!(
                err.status(),
                e["status"].as_u64().map(|s| s as u16),
                "{name}"
            );
            assert_eq!(err.is_invalid_grant(), e["invalid_grant"], "{name}");
            assert_eq!(err.is_retryable(), e["retryable"], "{name}");
            let message = err.to_string();
            for needle in e["message_contains"].as_array().unwrap() {
                assert!(
                    message.contains(needle.as_str().unwrap()),
                    "{name}: {message}"
                );
            }
            assert!(
                !message.contains(CLIENT_SECRET)
                    && !message.contains("fixture-rt")
                    && !message.contains("fixture-code"),
                "{name}"
            );
            let attempts = if err.is_retryable() { 3 } else { 1 };
            assert_eq!(seen.requests().len(), attempts, "{name}: attempts");
        }
    }
}

#[test]
fn every_api_error_fixture_is_classified_by_token_rejected() {
    let cases = fixtures("api_");
    assert!(cases.len() >= 3);
    let client = auth_easyship::Client::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .build()
        .unwrap();
    for (name, case) in cases {
        let status =
            reqwest::StatusCode::from_u16(case["status"].as_u64().unwrap() as u16).unwrap();
        let body = case["body"].to_string();
        let rejected =
            client.token_rejected(status, &reqwest::header::HeaderMap::new(), body.as_bytes());
        assert_eq!(rejected, case["expect"]["token_rejected"], "{name}");
    }
}

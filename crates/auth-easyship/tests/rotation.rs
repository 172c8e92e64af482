//! Single-use refresh-token rotation through `CachedTokenProvider` and a `FileStore`,
//! against a local token endpoint that behaves like Easyship's: every refresh token
//! works once, a spent one is `400 invalid_grant`.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use auth_core::{
    AuthError, CachedTokenProvider, FileStore, RefreshToken, StoreKey, TokenSource, TokenStore,
    VendorClient,
};
use auth_easyship::{AuthorizationCodeGrant, DelegatedAccountGrant, RefreshGrant};
use common::*;
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};

/// The server's view: which refresh tokens are still valid, and every grant it saw.
#[derive(Default)]
struct Server {
    valid: HashSet<String>,
    issued: u32,
    spent: Vec<String>,
    refused: Vec<String>,
    codes: HashSet<String>,
}

impl Server {
    fn issue(&mut self) -> HttpMockResponse {
        self.issued += 1;
        let n = self.issued;
        // Tokens with the characters that break naive encoding.
        let refresh = format!("rt-{n}/+=");
        self.valid.insert(refresh.clone());
        let body = serde_json::json!({
            "access_token": format!("at-{n}/+="),
            "token_type": "Bearer",
            "expires_in": 7200,
            "refresh_token": refresh,
            "scope": "public.shipment:write public.rate:read",
            "created_at": chrono::Utc::now().timestamp(),
        });
        HttpMockResponse::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.to_string())
            .build()
    }

    fn answer(&mut self, req: &HttpMockRequest) -> HttpMockResponse {
        let body: serde_json::Value = serde_json::from_slice(req.body_ref()).unwrap();
        let grant = body["grant_type"].as_str().unwrap();
        let ok = match grant {
            "refresh_token" => {
                let token = body["refresh_token"].as_str().unwrap().to_owned();
                if self.valid.remove(&token) {
                    self.spent.push(token);
                    true
                } else {
                    self.refused.push(token);
                    false
                }
            }
            "authorization_code" => self.codes.remove(body["code"].as_str().unwrap()),
            "delegated_account" => true,
            other => panic!("unexpected grant {other}"),
        };
        if ok {
            self.issue()
        } else {
            HttpMockResponse::builder()
                .status(400)
                .header("content-type", "application/json")
                .body(r#"{"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."}"#)
                .build()
        }
    }
}

/// A token endpoint that honours single use; `seed` is the one valid refresh token.
async fn easyship(server: &MockServer, seed: Option<&str>) -> Arc<Mutex<Server>> {
    let state = Arc::new(Mutex::new(Server::default()));
    if let Some(seed) = seed {
        state.lock().unwrap().valid.insert(seed.to_owned());
    }
    let shared = state.clone();
    server
        .mock_async(move |when, then| {
            when.method("POST").path("/oauth2/token");
            then.respond_with(move |req| shared.lock().unwrap().answer(req));
        })
        .await;
    state
}

fn key(subject: &str) -> StoreKey {
    StoreKey::new("easyship", "production", CLIENT_ID, subject)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_refreshes_through_provider_and_file_store_spend_each_refresh_token_once() {
    let server = MockServer::start_async().await;
    let state = easyship(&server, Some("rt-0/+=")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let provider = CachedTokenProvider::builder(RefreshGrant::new(partner(&server)))
        .store(store.clone(), key("seller-1"))
        .seed_refresh_token(RefreshToken::new("rt-0/+="))
        .build();

    for n in 1..=20 {
        let token = if n == 1 {
            provider.token().await
        } else {
            provider.force_refresh().await
        }
        .unwrap_or_else(|e| panic!("refresh {n}: {e}"));
        assert_eq!(token.access_token().expose_secret(), format!("at-{n}/+="));
        // The rotated refresh token is on disk before the token is handed out.
        let record = store.load(&key("seller-1")).await.unwrap().expect("saved");
        assert_eq!(
            record.token.refresh_token().unwrap().expose_secret(),
            format!("rt-{n}/+="),
            "refresh {n}"
        );
        // A second call while fresh is served from the cache.
        let again = provider.token().await.unwrap();
        assert!(Arc::ptr_eq(&token, &again));
    }

    {
        let s = state.lock().unwrap();
        let expected: Vec<String> = (0..20).map(|n| format!("rt-{n}/+=")).collect();
        assert_eq!(s.spent, expected, "each refresh token spent once, in order");
        assert!(
            s.refused.is_empty(),
            "no spent token replayed: {:?}",
            s.refused
        );
        assert_eq!(s.issued, 20);
        assert_eq!(s.valid.len(), 1, "only the newest refresh token is alive");
    }

    // Another process starting with the stale seed adopts the stored token instead, and
    // its refresh spends the newest refresh token.
    let other = CachedTokenProvider::builder(RefreshGrant::new(partner(&server)))
        .store(Arc::new(FileStore::new(dir.path())), key("seller-1"))
        .seed_refresh_token(RefreshToken::new("rt-0/+="))
        .build();
    assert_eq!(
        other.token().await.unwrap().access_token().expose_secret(),
        "at-20/+="
    );
    assert_eq!(
        other
            .force_refresh()
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        "at-21/+="
    );
    assert_eq!(state.lock().unwrap().spent.last().unwrap(), "rt-20/+=");

    // Replaying a spent refresh token is invalid_grant, with the re-authorize message.
    let err = partner(&server)
        .refresh(&RefreshToken::new("rt-7/+="))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant());
    assert!(
        err.to_string()
            .contains("the seller must authorize the app again"),
        "{err}"
    );
}

#[tokio::test]
async fn provider_reports_reauthorization_when_the_stored_refresh_token_is_dead() {
    let server = MockServer::start_async().await;
    let _state = easyship(&server, None).await; // "rt-x" was spent elsewhere
    let dir = tempfile::tempdir().unwrap();
    let provider = CachedTokenProvider::builder(RefreshGrant::new(partner(&server)))
        .store(Arc::new(FileStore::new(dir.path())), key("seller-2"))
        .seed_refresh_token(RefreshToken::new("rt-x"))
        .build();
    let err = provider.token().await.unwrap_err();
    assert!(err.is_invalid_grant());
    assert!(err.to_string().contains("authorize the app again"), "{err}");
    assert!(provider.status().reauthorization_required);
}

#[tokio::test]
async fn refresh_grant_without_a_refresh_token_is_no_refresh_token_without_a_request() {
    let server = MockServer::start_async().await;
    let state = easyship(&server, None).await;
    let err = RefreshGrant::new(partner(&server))
        .fetch_token(None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert!(!err.is_invalid_grant());
    assert_eq!(state.lock().unwrap().issued, 0);
    assert!(RefreshGrant::new(partner(&server)).needs_refresh_token());
}

#[tokio::test]
async fn authorization_code_grant_exchanges_once_then_rotates() {
    let server = MockServer::start_async().await;
    let state = easyship(&server, None).await;
    state.lock().unwrap().codes.insert("code/+=".into());
    let grant = AuthorizationCodeGrant::new(partner(&server), "code/+=", "https://domain.com/cb");
    let first = grant.fetch_token(None).await.unwrap();
    assert_eq!(first.refresh_token().unwrap().expose_secret(), "rt-1/+=");
    let second = grant.fetch_token(Some(&first)).await.unwrap();
    assert_eq!(second.access_token().expose_secret(), "at-2/+=");
    assert_eq!(state.lock().unwrap().spent, ["rt-1/+="]);
    // The code is gone: without a refresh token the grant is dead, and nothing is sent.
    let err = grant.fetch_token(None).await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    assert_eq!(state.lock().unwrap().issued, 2);
}

#[tokio::test]
async fn delegated_account_grant_replaces_a_dead_refresh_token_with_a_new_grant() {
    let server = MockServer::start_async().await;
    let state = easyship(&server, None).await;
    let grant =
        DelegatedAccountGrant::new(enterprise(&server), "CUS42", auth_core::Scopes::new()).unwrap();
    let first = grant.fetch_token(None).await.unwrap();
    let second = grant.fetch_token(Some(&first)).await.unwrap();
    assert_eq!(second.access_token().expose_secret(), "at-2/+=");
    // Replaying the spent one fails upstream, and the grant falls back to delegated_account.
    let third = grant.fetch_token(Some(&first)).await.unwrap();
    assert_eq!(third.access_token().expose_secret(), "at-3/+=");
    assert_eq!(state.lock().unwrap().refused, ["rt-1/+="]);
    assert!(
        DelegatedAccountGrant::new(partner(&server), "CUS42", auth_core::Scopes::new()).is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_token_is_refreshed_once_and_the_request_retried() {
    let server = MockServer::start_async().await;
    let state = easyship(&server, Some("rt-0/+=")).await;
    // The API refuses the first access token (as if revoked) and accepts the second.
    let rejected = server
        .mock_async(|when, then| {
            when.method("GET").path("/2024-09/account").header("authorization", "Bearer at-1/+=");
            then.status(401)
                .header("content-type", "application/json")
                .body(r#"{"error":{"code":"invalid_token","message":"The access token is invalid","details":[],"request_id":"r-1","type":"invalid_request_error","links":[]}}"#);
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/2024-09/account")
                .header("authorization", "Bearer at-2/+=");
            then.status(200).body(r#"{"account":{}}"#);
        })
        .await;
    let client = partner(&server);
    let provider = client.refresh_provider(RefreshToken::new("rt-0/+="));
    let request = client.http_client().get(server.url("/2024-09/account"));
    let response = provider.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    rejected.assert_calls_async(1).await;
    accepted.assert_calls_async(1).await;
    assert_eq!(state.lock().unwrap().spent, ["rt-0/+=", "rt-1/+="]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_a_file_store_spend_the_seed_once() {
    let server = MockServer::start_async().await;
    let state = easyship(&server, Some("rt-0/+=")).await;
    let dir = tempfile::tempdir().unwrap();
    // Two providers, each with its own FileStore handle on the same directory: what two
    // processes of one app see.
    let providers: Vec<_> = (0..2)
        .map(|_| {
            // The one-call form, with each process's own client and store handle.
            let client = partner(&server);
            client
                .refresh_provider_builder(RefreshToken::new("rt-0/+="))
                .store(
                    Arc::new(FileStore::new(dir.path())),
                    client.store_key("seller-3"),
                )
                .build()
        })
        .collect();
    let calls = (0..16).map(|i| {
        let provider = providers[i % 2].clone();
        tokio::spawn(async move { provider.token().await })
    });
    for call in calls {
        let token = call.await.unwrap().unwrap();
        assert_eq!(token.access_token().expose_secret(), "at-1/+=");
    }
    let s = state.lock().unwrap();
    assert_eq!(s.spent, ["rt-0/+="], "one refresh for both processes");
    assert!(s.refused.is_empty(), "{:?}", s.refused);
}

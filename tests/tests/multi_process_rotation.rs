//! Several processes, one single-use refresh-token chain.
//!
//! The parent runs a token endpoint that behaves like Easyship's (every refresh token
//! works once; a spent one is `400 invalid_grant`) and starts child processes (this test
//! binary, re-run on the ignored `child_refreshes`), each with its own
//! `CachedTokenProvider` on one shared `FileStore` key. Every child forces refreshes in a
//! loop. Because the provider refreshes under the store's lease, with the *stored*
//! refresh token, and saves before publishing, no refresh token is ever presented twice.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use auth_core::{FileStore, RefreshToken, TokenStore, VendorClient};
use auth_easyship::Client;
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};

const PROCESSES: usize = 4;
const REFRESHES_EACH: usize = 5;
const URL_VAR: &str = "WORKSPACE_TESTS_TOKEN_URL";
const DIR_VAR: &str = "WORKSPACE_TESTS_STORE_DIR";

/// The app's client, its token endpoint on the parent's local server.
fn client(token_url: &str) -> Client {
    Client::builder()
        .client_id("client-1")
        .client_secret("secret-1")
        .token_url(token_url)
        .build()
        .unwrap()
}

#[derive(Default)]
struct Endpoint {
    valid: Option<String>,
    issued: usize,
    spent: Vec<String>,
    refused: Vec<String>,
}

impl Endpoint {
    fn answer(&mut self, req: &HttpMockRequest) -> HttpMockResponse {
        let body: serde_json::Value = serde_json::from_slice(req.body_ref()).unwrap_or_default();
        let presented = body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if self.valid.as_deref() != Some(presented.as_str()) {
            self.refused.push(presented);
            return HttpMockResponse::builder()
                .status(400)
                .header("content-type", "application/json")
                .body(r#"{"error":"invalid_grant","error_description":"The provided authorization grant is invalid."}"#)
                .build();
        }
        self.spent.push(presented);
        self.issued += 1;
        let refresh = format!("rt-{}/+=", self.issued);
        self.valid = Some(refresh.clone());
        let body = serde_json::json!({
            "access_token": format!("at-{}", self.issued),
            "token_type": "Bearer",
            "expires_in": 7200,
            "refresh_token": refresh,
            "created_at": chrono::Utc::now().timestamp(),
        });
        HttpMockResponse::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.to_string())
            .build()
    }
}

/// Run only as a child of `processes_sharing_a_file_store_spend_each_refresh_token_once`.
#[tokio::test]
#[ignore = "child process of processes_sharing_a_file_store_spend_each_refresh_token_once"]
async fn child_refreshes() {
    let (Ok(url), Ok(dir)) = (std::env::var(URL_VAR), std::env::var(DIR_VAR)) else {
        return;
    };
    let client = client(&url);
    let provider = client
        .refresh_provider_builder(RefreshToken::new("rt-0/+="))
        .store(Arc::new(FileStore::new(dir)), client.store_key("seller-1"))
        .build();
    for _ in 0..REFRESHES_EACH {
        provider.force_refresh().await.expect("refresh");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_file_store_spend_each_refresh_token_once() {
    let server = MockServer::start_async().await;
    let endpoint = Arc::new(Mutex::new(Endpoint {
        valid: Some("rt-0/+=".into()),
        ..Endpoint::default()
    }));
    let shared = Arc::clone(&endpoint);
    server
        .mock_async(move |when, then| {
            when.method("POST").path("/oauth2/token");
            then.respond_with(move |req| shared.lock().unwrap().answer(req));
        })
        .await;
    let dir = tempfile::tempdir().unwrap();

    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "child_refreshes",
                    "--test-threads=1",
                ])
                .env(URL_VAR, server.url("/oauth2/token"))
                .env(DIR_VAR, dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for output in &outputs {
        assert!(
            output.status.success(),
            "a child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let (spent, refused, valid) = {
        let endpoint = endpoint.lock().unwrap();
        (
            endpoint.spent.clone(),
            endpoint.refused.clone(),
            endpoint.valid.clone(),
        )
    };
    assert!(
        refused.is_empty(),
        "spent tokens presented again: {refused:?}"
    );
    assert_eq!(spent.len(), PROCESSES * REFRESHES_EACH);
    let distinct: HashSet<_> = spent.iter().collect();
    assert_eq!(
        distinct.len(),
        spent.len(),
        "a refresh token was spent twice"
    );

    // The store holds the one refresh token the server still accepts.
    let record = FileStore::new(dir.path())
        .load(&client(&server.url("/oauth2/token")).store_key("seller-1"))
        .await
        .unwrap()
        .expect("saved");
    assert_eq!(
        record
            .token
            .refresh_token()
            .map(|r| r.expose_secret().to_owned()),
        valid
    );
    assert_eq!(record.version as usize, PROCESSES * REFRESHES_EACH);
}

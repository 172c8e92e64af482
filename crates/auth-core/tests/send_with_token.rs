//! `CachedTokenProvider::send_with_token`: a rejected token is replaced and the request
//! sent once more; anything else passes through untouched (status, headers, URL, whole
//! body), with at most `REJECTED_BODY_PREFIX` bytes buffered. Plus: the provider's tracing
//! output never holds a secret.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auth_core::{
    AccessToken, AuthError, AuthScheme, CachedTokenProvider, FnSource, MemoryStore,
    REJECTED_BODY_PREFIX, RefreshToken, StoreKey, Token,
};
use chrono::Utc;
use httpmock::prelude::*;

fn counting_source(calls: &Arc<AtomicUsize>) -> FnSource {
    let calls = Arc::clone(calls);
    FnSource::new(move |_previous| {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            Ok(Token::new(
                AccessToken::new(format!("at-{n}")),
                Some(Utc::now() + chrono::Duration::hours(1)),
            ))
        }
    })
}

fn rejected_on_401(
    status: reqwest::StatusCode,
    _: &reqwest::header::HeaderMap,
    body: &[u8],
) -> bool {
    status == 401 || (status == 403 && body.windows(7).any(|w| w == b"expired"))
}

fn client() -> reqwest::Client {
    auth_core::install_crypto_provider();
    reqwest::Client::new()
}

#[tokio::test]
async fn rejected_token_is_replaced_and_the_request_retried_once() {
    let server = MockServer::start_async().await;
    let stale = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders").header("x-token", "at-1");
            then.status(403).body(r#"{"message":"token expired"}"#);
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders").header("x-token", "at-2");
            then.status(200).body("orders");
        })
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));
    let response = provider
        .send_with_token(
            client().get(server.url("/orders")),
            &AuthScheme::header("x-token"),
            rejected_on_401,
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "orders");
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_403_that_is_not_about_the_token_passes_through_untouched() {
    let server = MockServer::start_async().await;
    let forbidden = server
        .mock_async(|when, then| {
            when.method(POST).path("/labels");
            then.status(403)
                .header("x-request-id", "r-1")
                .body(r#"{"message":"missing role"}"#);
        })
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));
    let response = provider
        .send_with_token(
            client().post(server.url("/labels")).body("{}"),
            &AuthScheme::Bearer,
            rejected_on_401,
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["x-request-id"], "r-1");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"missing role"}"#
    );
    forbidden.assert_calls_async(1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the token was kept");
}

#[tokio::test]
async fn a_token_rejected_twice_is_not_retried_a_third_time() {
    let server = MockServer::start_async().await;
    let always = server
        .mock_async(|when, then| {
            when.method(GET).path("/me");
            then.status(401);
        })
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));
    let response = provider
        .send_with_token(
            client().get(server.url("/me")),
            &AuthScheme::Bearer,
            rejected_on_401,
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    always.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_401_or_403_handed_back_keeps_its_url() {
    let server = MockServer::start_async().await;
    let forbidden = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders");
            then.status(403).body(r#"{"message":"missing role"}"#);
        })
        .await;
    let unauthorized = server
        .mock_async(|when, then| {
            when.method(POST).path("/labels");
            then.status(401);
        })
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));

    // Not about the token: handed back after the check read its body.
    let url = server.url("/orders?page=2");
    let response = provider
        .send_with_token(client().get(&url), &AuthScheme::Bearer, rejected_on_401)
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.url().as_str(), url);

    // Rejected, but a streaming body cannot be sent again: handed back as well.
    let url = server.url("/labels");
    let streaming = reqwest::Body::wrap(String::from("{}"));
    let response = provider
        .send_with_token(
            client().post(&url).body(streaming),
            &AuthScheme::Bearer,
            rejected_on_401,
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.url().as_str(), url);
    forbidden.assert_calls_async(1).await;
    unauthorized.assert_calls_async(1).await;
}

/// 1 MiB of bytes that are not all alike, so a lost or reordered chunk shows.
fn one_mib() -> Vec<u8> {
    (0..1024 * 1024).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn a_401_with_a_1_mib_body_is_checked_on_a_bounded_prefix() {
    static LONGEST_SEEN: AtomicUsize = AtomicUsize::new(0);
    fn rejected(status: reqwest::StatusCode, _: &reqwest::header::HeaderMap, body: &[u8]) -> bool {
        LONGEST_SEEN.fetch_max(body.len(), Ordering::SeqCst);
        status == 401
    }
    let server = MockServer::start_async().await;
    let stale = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders").header("x-token", "at-1");
            then.status(401).body(one_mib());
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET).path("/orders").header("x-token", "at-2");
            then.status(200).body("orders");
        })
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));
    let response = provider
        .send_with_token(
            client().get(server.url("/orders")),
            &AuthScheme::header("x-token"),
            rejected,
        )
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "orders");
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    let seen = LONGEST_SEEN.load(Ordering::SeqCst);
    assert!(
        seen > 0 && seen <= REJECTED_BODY_PREFIX,
        "the check saw {seen} bytes"
    );
}

#[tokio::test]
async fn a_large_403_handed_back_still_has_its_whole_body() {
    static LONGEST_SEEN: AtomicUsize = AtomicUsize::new(0);
    fn rejected(_: reqwest::StatusCode, _: &reqwest::header::HeaderMap, body: &[u8]) -> bool {
        LONGEST_SEEN.fetch_max(body.len(), Ordering::SeqCst);
        false
    }
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/report");
            then.status(403)
                .header("x-request-id", "r-9")
                .body(one_mib());
        })
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));
    let url = server.url("/report");
    let response = provider
        .send_with_token(client().get(&url), &AuthScheme::Bearer, rejected)
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.url().as_str(), url);
    assert_eq!(response.headers()["x-request-id"], "r-9");
    assert_eq!(response.content_length(), Some(1024 * 1024));
    let body = response.bytes().await.unwrap();
    assert!(body[..] == one_mib()[..], "the body came back changed");
    let seen = LONGEST_SEEN.load(Ordering::SeqCst);
    assert!(
        seen > 0 && seen <= REJECTED_BODY_PREFIX,
        "the check saw {seen} bytes"
    );
}

#[tokio::test]
async fn an_api_host_that_is_down_is_an_api_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::new(counting_source(&calls));
    let err = provider
        .send_with_token(
            client().get(format!("http://127.0.0.1:{port}/orders?token=in-query")),
            &AuthScheme::Bearer,
            rejected_on_401,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::ApiTransport { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("API"), "{text}");
    assert!(!text.contains("token endpoint"), "{text}");
    // The URL is gone (Debug still shows the socket address hyper tried, not a secret).
    let all = format!("{err} {err:?}");
    assert!(
        !all.contains("in-query") && !all.contains("/orders"),
        "{all}"
    );
}

/// A `MakeWriter` collecting everything tracing prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn refresh_logs_hold_no_secret() {
    // tracing caches each callsite's interest globally: another test thread hitting a
    // provider log first, with no subscriber, can race this thread's subscriber and drop
    // its lines. Try again until they were captured, so the checks are never vacuous.
    let mut logged = (String::new(), String::new());
    for _ in 0..5 {
        logged = logs_of_a_failed_refresh().await;
        if logged.0.contains("token refresh failed") && logged.0.contains("refreshed and saved") {
            break;
        }
        tracing::callsite::rebuild_interest_cache();
    }
    let (text, debug) = logged;
    assert!(text.contains("token refresh failed"), "{text}");
    assert!(text.contains("refreshed and saved"), "{text}");
    for secret in [
        "ACCESS-SECRET-VALUE",
        "REFRESH-SECRET-VALUE",
        "SEED-SECRET-VALUE",
    ] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
        assert!(!debug.contains(secret), "{secret} in:\n{debug}");
    }
}

/// The logs of a provider whose refresh is saved and then fails, and its `Debug` and
/// status.
async fn logs_of_a_failed_refresh() -> (String, String) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let calls = Arc::new(AtomicUsize::new(0));
    let source = {
        let calls = Arc::clone(&calls);
        FnSource::new(move |_previous| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 1 {
                    return Err(AuthError::Http {
                        vendor: "",
                        status: 503,
                        excerpt: "unavailable".into(),
                        retry_after: None,
                    });
                }
                Ok(Token::new(
                    AccessToken::new("ACCESS-SECRET-VALUE"),
                    Some(Utc::now() - chrono::Duration::seconds(1)),
                )
                .with_refresh_token(RefreshToken::new("REFRESH-SECRET-VALUE")))
            }
        })
    };
    let provider = CachedTokenProvider::builder(source)
        .store(
            Arc::new(MemoryStore::new()),
            StoreKey::new("v", "e", "c", "s"),
        )
        .seed_refresh_token(RefreshToken::new("SEED-SECRET-VALUE"))
        .build();
    // Saved, but already expired on arrival: not handed out; the next refresh fails
    // (logged).
    let _ = provider.token().await;
    let debug = format!("{provider:?} {:?}", provider.status());

    let mut out = captured.0.lock().unwrap().clone();
    out.flush().unwrap();
    let text = String::from_utf8(out).unwrap();
    (text, debug)
}

#[tokio::test]
async fn errors_name_the_vendor_and_the_endpoint_they_came_from() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = CachedTokenProvider::builder(counting_source(&calls))
        .api(auth_core::ApiAccess::new(
            "acme",
            AuthScheme::Bearer,
            rejected_on_401,
        ))
        .build();
    let err = provider
        .send(client().get(format!("http://127.0.0.1:{port}/orders")))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "could not reach acme API: connection refused"
    );
    assert_eq!(
        err.origin().map(|o| (o.vendor(), o.endpoint())),
        Some((Some("acme"), auth_core::vendor::EndpointKind::Api))
    );

    // A token endpoint's error names the vendor crate's vendor.
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/token");
            then.status(404).body("no such path");
        })
        .await;
    let http = auth_core::http::TokenHttpClient::builder("auth-acme/1.2.3")
        .build()
        .unwrap();
    let request = auth_core::http::TokenRequest::post(server.url("/token").parse().unwrap());
    let err = http
        .execute(&request, |raw| Err::<(), _>(raw.standard_error()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "acme token endpoint answered HTTP 404: no such path"
    );
}

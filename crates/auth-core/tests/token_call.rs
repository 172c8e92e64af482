//! `TokenHttpClient::execute` against a local HTTP server, in real time: what is retried
//! and how often, `Retry-After`, the budget, timeouts, transport errors, the `http://`
//! refusal, the body cap, redirects, the exact request on the wire, and the cap on
//! requests in flight.
//!
//! Every test uses a policy with a 1–10 ms backoff, so retries cost milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_core::http::{RawResponse, RetryPolicy, TokenHttpClient, TokenRequest};
use auth_core::{AuthError, Clock, ManualClock, OAuthErrorCode};
use chrono::{DateTime, Utc};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::{Value, json};

const PRODUCT: &str = "auth-test/9.8.7";

fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .with_attempt_timeout(Duration::from_secs(5))
}

fn client(policy: RetryPolicy) -> TokenHttpClient {
    TokenHttpClient::builder(PRODUCT)
        .retry_policy(policy)
        .build()
        .expect("client builds")
}

fn client_with_clock(policy: RetryPolicy, clock: Arc<dyn Clock>) -> TokenHttpClient {
    TokenHttpClient::builder(PRODUCT)
        .retry_policy(policy)
        .clock(clock)
        .build()
        .expect("client builds")
}

fn token_url(server: &MockServer) -> url::Url {
    server.url("/oauth/token").parse().expect("valid url")
}

/// What a vendor crate's parser does for a standard OAuth endpoint: 2xx is JSON, anything
/// else is the standard error.
fn parse(raw: &RawResponse<'_>) -> Result<Value, AuthError> {
    if raw.status.is_success() {
        raw.json()
    } else {
        Err(raw.standard_error())
    }
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 time")
}

/// A clock that moves one second forward on every reading, and counts the readings.
/// `execute` reads the clock once per attempt (the send time), so this counts attempts
/// where no server can (a refused connection, a request refused before sending).
#[derive(Debug)]
struct CountingClock {
    start: DateTime<Utc>,
    reads: AtomicUsize,
}

impl CountingClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: t("2026-01-01T00:00:00Z"),
            reads: AtomicUsize::new(0),
        })
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl Clock for CountingClock {
    fn now(&self) -> DateTime<Utc> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        self.start + chrono::Duration::seconds(n as i64)
    }

    fn monotonic(&self) -> Duration {
        Duration::ZERO
    }
}

/// A local port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

// ---------------------------------------------------------------------------------------
// The retry matrix
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn server_errors_and_429_are_retried_until_the_attempts_run_out() {
    for status in [500u16, 502, 503, 504, 429] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(status).body("upstream trouble");
            })
            .await;
        let request = TokenRequest::post(token_url(&server));

        let err = client(fast_policy())
            .execute(&request, parse)
            .await
            .unwrap_err();

        assert!(
            matches!(err, AuthError::Http { status: s, .. } if s == status),
            "{status}: {err:?}"
        );
        assert!(err.is_retryable(), "{status}");
        mock.assert_calls_async(3).await;
    }
}

#[tokio::test]
async fn retryable_oauth_codes_are_retried_whatever_the_status() {
    for (status, code, expected) in [
        (
            400u16,
            "temporarily_unavailable",
            OAuthErrorCode::TemporarilyUnavailable,
        ),
        (
            503,
            "temporarily_unavailable",
            OAuthErrorCode::TemporarilyUnavailable,
        ),
        (400, "server_error", OAuthErrorCode::ServerError),
        (500, "server_error", OAuthErrorCode::ServerError),
    ] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(status)
                    .header("content-type", "application/json")
                    .json_body(json!({ "error": code }));
            })
            .await;
        let request = TokenRequest::post(token_url(&server));

        let err = client(fast_policy())
            .execute(&request, parse)
            .await
            .unwrap_err();

        assert!(
            matches!(&err, AuthError::OAuth { code: c, status: Some(s), .. } if *c == expected && *s == status),
            "{status} {code}: {err:?}"
        );
        mock.assert_calls_async(3).await;
    }
}

#[tokio::test]
async fn client_errors_and_dead_grants_are_not_retried() {
    let oauth = |code: &str| json!({ "error": code, "error_description": "nope" }).to_string();
    let cases: [(u16, String); 9] = [
        (400, oauth("invalid_grant")),
        (401, oauth("invalid_client")),
        (400, oauth("invalid_request")),
        (400, oauth("unsupported_grant_type")),
        (403, "forbidden".into()),
        (404, "not found".into()),
        // A dead grant stays dead even when it comes with a server status.
        (500, oauth("invalid_grant")),
        (503, oauth("invalid_client")),
        (401, r#"{"message":"Unauthorized"}"#.into()),
    ];
    for (status, body) in cases {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(status)
                    .header("content-type", "application/json")
                    .body(&body);
            })
            .await;
        let request = TokenRequest::post(token_url(&server));

        let err = client(fast_policy())
            .execute(&request, parse)
            .await
            .unwrap_err();

        assert!(!err.is_retryable(), "{status} {body}: {err:?}");
        assert_eq!(err.status(), Some(status), "{body}");
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn invalid_grant_is_reported_as_a_dead_grant() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400).json_body(json!({
                "error": "invalid_grant",
                "error_description": "The refresh token is invalid."
            }));
        })
        .await;

    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(err.is_invalid_grant(), "{err:?}");
    match err {
        AuthError::OAuth {
            code, description, ..
        } => {
            assert_eq!(code, OAuthErrorCode::InvalidGrant);
            assert_eq!(
                description.as_deref(),
                Some("The refresh token is invalid.")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn max_attempts_is_configurable() {
    for attempts in [1u32, 2, 5] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(503);
            })
            .await;

        let err = client(fast_policy().with_max_attempts(attempts))
            .execute(&TokenRequest::post(token_url(&server)), parse)
            .await
            .unwrap_err();

        assert_eq!(err.status(), Some(503));
        mock.assert_calls_async(attempts as usize).await;
    }
}

#[tokio::test]
async fn a_retry_that_succeeds_returns_the_parsed_value() {
    let server = MockServer::start_async().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let mock = server
        .mock_async(move |when, then| {
            when.method(POST).path("/oauth/token");
            then.respond_with(move |_: &HttpMockRequest| {
                if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                    HttpMockResponse::builder().status(503).build()
                } else {
                    HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(r#"{"access_token":"a","expires_in":3600}"#)
                        .build()
                }
            });
        })
        .await;

    let value = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .expect("third attempt succeeds");

    assert_eq!(value, json!({"access_token": "a", "expires_in": 3600}));
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn each_attempt_reads_its_own_send_time() {
    let server = MockServer::start_async().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/oauth/token");
            then.respond_with(move |_: &HttpMockRequest| {
                let status = if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                    502
                } else {
                    200
                };
                HttpMockResponse::builder()
                    .status(status)
                    .body("{}")
                    .build()
            });
        })
        .await;
    let clock = CountingClock::new();

    let sent_at = client_with_clock(fast_policy(), clock.clone())
        .execute(&TokenRequest::post(token_url(&server)), |raw| {
            parse(raw).map(|_| raw.sent_at)
        })
        .await
        .expect("third attempt succeeds");

    // The third reading of the clock: the send time of the attempt that succeeded, not of
    // the first one (the expiry must not include the failed attempts).
    assert_eq!(clock.reads(), 3);
    assert_eq!(sent_at, t("2026-01-01T00:00:02Z"));
}

// ---------------------------------------------------------------------------------------
// Retry-After and the budget
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn retry_after_in_seconds_is_waited_before_the_next_attempt() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(429).header("retry-after", "1");
        })
        .await;
    let started = Instant::now();

    let err = client(fast_policy().with_max_attempts(2))
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn retry_after_longer_than_the_remaining_budget_stops_at_once() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503).header("retry-after", "120");
        })
        .await;
    let started = Instant::now();

    // The default budget is 60 s: waiting 120 s would leave nothing for the attempt.
    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(
        err.is_retryable(),
        "the caller may still retry later: {err:?}"
    );
    mock.assert_calls_async(1).await;

    // A wait equal to the whole budget cannot fit either: the first attempt used some.
    let policy = fast_policy().with_budget(Duration::from_secs(5));
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503).header("retry-after", "5");
        })
        .await;
    client(policy)
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn retry_after_as_an_http_date_counts_from_the_date_header() {
    // The server's clock is years behind ours: the wait is the difference between its
    // `Retry-After` and its `Date`, not between `Retry-After` and our clock (which would
    // make it zero).
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503)
                .header("date", "Wed, 01 Jan 2020 00:00:00 GMT")
                .header("retry-after", "Wed, 01 Jan 2020 00:02:00 GMT");
        })
        .await;

    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    // 120 s is over the 60 s budget: one call.
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn retry_after_as_an_http_date_in_the_past_means_no_wait() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503)
                .header("date", "Wed, 01 Jan 2020 00:02:00 GMT")
                .header("retry-after", "Wed, 01 Jan 2020 00:00:00 GMT");
        })
        .await;
    let started = Instant::now();

    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    assert!(started.elapsed() < Duration::from_secs(5));
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn an_unparseable_retry_after_is_ignored() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503).header("retry-after", "soon");
        })
        .await;

    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert_eq!(err.retry_after(), None);
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn retry_after_on_an_oauth_error_body_is_honoured() {
    // A 503 with a standard OAuth body (`temporarily_unavailable`) and a Retry-After
    // longer than the budget: the server asked us not to come back within it.
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503)
                .header("retry-after", "120")
                .json_body(json!({ "error": "temporarily_unavailable" }));
        })
        .await;

    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(err.is_retryable(), "{err:?}");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_budget_bounds_all_attempts_together() {
    let budget = Duration::from_millis(1000);
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(500).delay(Duration::from_millis(400));
        })
        .await;
    let policy = fast_policy()
        .with_max_attempts(10)
        .with_attempt_timeout(Duration::from_secs(10))
        .with_budget(budget);
    let started = Instant::now();

    let err = client(policy)
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    let elapsed = started.elapsed();
    // Two full 400 ms attempts fit; the third is cut by what is left of the budget, so
    // everything together takes the budget, not ten attempts.
    assert!(elapsed >= budget - Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < budget + Duration::from_millis(500), "{elapsed:?}");
    match err {
        AuthError::Timeout { after, .. } => assert!(after < budget, "{after:?}"),
        other => panic!("expected the last attempt to be cut by the budget: {other:?}"),
    }
    assert_eq!(mock.calls_async().await, 3);
}

#[tokio::test]
async fn an_attempt_that_outlives_its_timeout_is_a_timeout_and_is_retried() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body("{}").delay(Duration::from_secs(3));
        })
        .await;
    let timeout = Duration::from_millis(100);
    let started = Instant::now();

    let err = client(fast_policy().with_attempt_timeout(timeout))
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match &err {
        AuthError::Timeout { after, .. } => assert_eq!(*after, timeout),
        other => panic!("expected a timeout: {other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
    mock.assert_calls_async(3).await;
}

// ---------------------------------------------------------------------------------------
// Transport, endpoint checks, limits, redirects
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_and_is_retried() {
    let port = closed_port();
    let url: url::Url = format!("http://127.0.0.1:{port}/oauth/token?refresh_token=rt-in-query")
        .parse()
        .unwrap();
    let clock = CountingClock::new();

    let err = client_with_clock(fast_policy(), clock.clone())
        .execute(&TokenRequest::post(url), parse)
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(clock.reads(), 3, "three attempts");
    // Transport errors drop the URL (some vendors put tokens in the query).
    let text = format!("{err} {err:?}");
    assert!(!text.contains("rt-in-query"), "{text}");
    assert!(!text.contains("/oauth/token"), "{text}");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_any_request() {
    for url in [
        "http://auth.example.com/oauth/token",
        "http://10.0.0.1/oauth/token",
        "http://192.168.1.1:8080/oauth/token",
        "http://[2001:db8::1]/oauth/token",
        "ftp://localhost/oauth/token",
    ] {
        let clock = CountingClock::new();
        let err = client_with_clock(fast_policy(), clock.clone())
            .execute(&TokenRequest::post(url.parse().unwrap()), parse)
            .await
            .unwrap_err();

        assert!(matches!(err, AuthError::InvalidConfig(_)), "{url}: {err:?}");
        assert!(!err.is_retryable());
        assert_eq!(clock.reads(), 0, "{url}: nothing may be sent");
    }
}

#[tokio::test]
async fn a_body_over_the_cap_is_an_error_and_a_body_at_the_cap_is_read() {
    let cap = 1024;
    for (len, fits) in [(cap, true), (cap + 1, false), (200 * cap, false)] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(200).body("x".repeat(len));
            })
            .await;

        let result = client(fast_policy().with_max_body_bytes(cap))
            .execute(&TokenRequest::post(token_url(&server)), |raw| {
                Ok(raw.body.len())
            })
            .await;

        if fits {
            assert_eq!(result.expect("fits"), cap);
        } else {
            let err = result.unwrap_err();
            match &err {
                AuthError::Decode { status, detail, .. } => {
                    assert_eq!(*status, 200);
                    assert!(detail.contains("1024"), "{detail}");
                    assert!(
                        !detail.contains("xxxx"),
                        "the body is never quoted: {detail}"
                    );
                }
                other => panic!("{len}: expected a decode error, got {other:?}"),
            }
            assert!(!err.is_retryable());
        }
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = MockServer::start_async().await;
    let elsewhere_mock = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({"access_token": "stolen"}));
        })
        .await;
    let server = MockServer::start_async().await;
    let location = elsewhere.url("/collect");
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(307).header("location", &location);
        })
        .await;
    let request = TokenRequest::post(token_url(&server))
        .form([
            ("grant_type", "client_credentials"),
            ("client_secret", "cs-1234"),
        ])
        .redact("cs-1234");

    let err = client(fast_policy())
        .execute(&request, parse)
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(307), "{err:?}");
    assert!(!err.is_retryable());
    mock.assert_calls_async(1).await;
    elsewhere_mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_user_client_that_follows_redirects_to_another_host_is_refused() {
    // The user's client follows redirects (reqwest's default); the response coming from
    // another host is refused rather than taken as the token.
    let elsewhere = MockServer::start_async().await;
    elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({"access_token": "from-elsewhere"}));
        })
        .await;
    let server = MockServer::start_async().await;
    let location = format!("http://localhost:{}/collect", elsewhere.port());
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(307).header("location", &location);
        })
        .await;
    auth_core::install_crypto_provider();
    let client = TokenHttpClient::builder(PRODUCT)
        .http_client(reqwest::Client::new())
        .retry_policy(fast_policy())
        .build()
        .unwrap();

    let err = client
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::InvalidConfig(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_user_client_that_follows_redirects_to_another_port_is_refused() {
    let elsewhere = MockServer::start_async().await;
    elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({"access_token": "from-elsewhere"}));
        })
        .await;
    let server = MockServer::start_async().await;
    let location = elsewhere.url("/collect"); // same 127.0.0.1, another port
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(307).header("location", &location);
        })
        .await;
    auth_core::install_crypto_provider();
    let client = TokenHttpClient::builder(PRODUCT)
        .http_client(reqwest::Client::new())
        .retry_policy(fast_policy())
        .build()
        .unwrap();

    let result = client
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await;

    assert!(
        matches!(result, Err(AuthError::InvalidConfig(_))),
        "a token from another origin was accepted: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The request on the wire
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn user_agent_names_the_product_and_the_auth_core_version() {
    let server = MockServer::start_async().await;
    let expected = format!("{PRODUCT} auth-core/{}", env!("CARGO_PKG_VERSION"));
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("user-agent", &expected)
                .header("accept", "application/json");
            then.status(200).body("{}");
        })
        .await;

    client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .expect("request matched");

    mock.assert_calls_async(1).await;
}

/// The values of header `name` as the server received them.
fn header_values(req: &HttpMockRequest, name: &str) -> Vec<String> {
    req.headers_vec()
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .collect()
}

#[tokio::test]
async fn json_body_is_sent_exactly_with_its_content_type_and_length() {
    let body = json!({
        "grant_type": "refresh_token",
        "refresh_token": "rt+/=",
        "client_id": "cid",
    });
    let expected_len = serde_json::to_vec(&body).unwrap().len().to_string();
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .json_body(body.clone())
                .is_true(move |req| {
                    header_values(req, "content-type") == ["application/json"]
                        && header_values(req, "content-length") == [expected_len.clone()]
                });
            then.status(200).body("{}");
        })
        .await;
    let request = TokenRequest::post(token_url(&server))
        .json(&body)
        .unwrap()
        .redact("rt+/=");

    client(fast_policy())
        .execute(&request, parse)
        .await
        .expect("request matched");

    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn form_body_is_sent_encoded_with_its_content_type_and_length() {
    let expected = "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3D&scope=read+write";
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .body(expected)
                .form_urlencoded_tuple("refresh_token", "a+b/c=")
                .form_urlencoded_tuple("scope", "read write")
                .is_true(move |req| {
                    header_values(req, "content-type") == ["application/x-www-form-urlencoded"]
                        && header_values(req, "content-length") == [expected.len().to_string()]
                });
            then.status(200).body("{}");
        })
        .await;
    let request = TokenRequest::post(token_url(&server)).form([
        ("grant_type", "refresh_token"),
        ("refresh_token", "a+b/c="),
        ("scope", "read write"),
    ]);

    client(fast_policy())
        .execute(&request, parse)
        .await
        .expect("request matched");

    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_empty_body_sends_content_length_zero_and_no_content_type() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header_missing("content-type")
                .is_true(|req| {
                    header_values(req, "content-length") == ["0"] && req.body_ref().is_empty()
                });
            then.status(200).body("{}");
        })
        .await;

    client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), parse)
        .await
        .expect("request matched");

    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn query_values_are_percent_encoded_once_on_the_wire() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .query_param("refresh_token", "a+b/c=d%2F")
                .query_param("grant_type", "refresh token")
                .is_true(|req| {
                    req.uri().query()
                        == Some("refresh_token=a%2Bb%2Fc%3Dd%252F&grant_type=refresh+token")
                });
            then.status(200).body("{}");
        })
        .await;
    let request = TokenRequest::post(token_url(&server)).query([
        ("refresh_token", "a+b/c=d%2F"),
        ("grant_type", "refresh token"),
    ]);

    client(fast_policy())
        .execute(&request, parse)
        .await
        .expect("request matched");

    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn basic_auth_and_secret_headers_are_sent() {
    // RFC 7617: base64 of the raw `user:password`, no URL-encoding first.
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("authorization", "Basic a2V5LTE6cCtzL3c9")
                .header("x-api-secret", "s3cr3t-value");
            then.status(200).body("{}");
        })
        .await;
    let request = TokenRequest::post(token_url(&server))
        .basic_auth("key-1", "p+s/w=")
        .unwrap()
        .secret_header(
            reqwest::header::HeaderName::from_static("x-api-secret"),
            "s3cr3t-value",
        )
        .unwrap();

    client(fast_policy())
        .execute(&request, parse)
        .await
        .expect("request matched");

    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn sent_at_comes_from_the_clock_and_date_from_the_date_header() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .header("date", "Tue, 03 Mar 2026 10:00:07 GMT")
                .body("{}");
        })
        .await;
    let clock = Arc::new(ManualClock::new(t("2026-03-03T10:00:00Z")));

    let (sent_at, date, status) = client_with_clock(fast_policy(), clock)
        .execute(&TokenRequest::post(token_url(&server)), |raw| {
            Ok((raw.sent_at, raw.date, raw.status))
        })
        .await
        .unwrap();

    assert_eq!(sent_at, t("2026-03-03T10:00:00Z"));
    assert_eq!(date, Some(t("2026-03-03T10:00:07Z")));
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_invalid_date_header_is_none() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).header("date", "yesterday").body("{}");
        })
        .await;

    let date = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), |raw| Ok(raw.date))
        .await
        .unwrap();

    assert_eq!(date, None);
}

#[tokio::test]
async fn the_parser_decides_what_is_an_error_even_for_http_200() {
    // Orange Connex answers errors with HTTP 200: the parser sees every response.
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .json_body(json!({"success": false, "code": "SYSTEM_BUSY"}));
        })
        .await;

    let err = client(fast_policy())
        .execute(&TokenRequest::post(token_url(&server)), |raw| {
            let body: Value = raw.json()?;
            Err::<(), _>(AuthError::Vendor {
                vendor: "test",
                status: Some(raw.status.as_u16()),
                code: body["code"].as_str().map(str::to_owned),
                message: "busy".into(),
                retryable: true,
            })
        })
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::Vendor { .. }), "{err:?}");
    mock.assert_calls_async(3).await;
}

// ---------------------------------------------------------------------------------------
// A request that spends a single-use credential
// ---------------------------------------------------------------------------------------

/// 100 ms per attempt, a 1.5 s budget: an answer after 300 ms is within the budget but
/// not within one attempt.
fn single_use_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_attempt_timeout(Duration::from_millis(100))
        .with_budget(Duration::from_millis(1500))
}

fn single_use(url: url::Url) -> TokenRequest {
    TokenRequest::post(url)
        .form([("grant_type", "refresh_token"), ("refresh_token", "rt-0")])
        .redact("rt-0")
        .spends_single_use_credential()
}

/// Answers `POST /oauth/token` with `statuses` in turn (the last one repeated), with a
/// `Retry-After: retry_after` header on each non-200 answer when given.
async fn answers<'a>(
    server: &'a MockServer,
    statuses: &'static [u16],
    retry_after: Option<&'static str>,
) -> httpmock::Mock<'a> {
    let calls = Arc::new(AtomicUsize::new(0));
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/oauth/token");
            then.respond_with(move |_: &HttpMockRequest| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                let status = statuses[n.min(statuses.len() - 1)];
                let mut response = HttpMockResponse::builder().status(status);
                if status == 200 {
                    response = response.body(r#"{"access_token":"at-1","refresh_token":"rt-1"}"#);
                } else if let Some(seconds) = retry_after {
                    response = response.header("retry-after", seconds);
                }
                response.build()
            });
        })
        .await
}

#[test]
fn requests_are_idempotent_unless_marked() {
    let url: url::Url = "https://api.example.com/oauth/token".parse().unwrap();
    assert!(!TokenRequest::post(url.clone()).is_single_use());
    let marked = TokenRequest::post(url).spends_single_use_credential();
    assert!(marked.is_single_use());
    assert!(format!("{marked:?}").contains("single_use: true"));
}

#[tokio::test]
async fn single_use_request_awaits_a_slow_answer_for_the_whole_budget() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .body(r#"{"access_token":"at-1","refresh_token":"rt-1"}"#)
                .delay(Duration::from_millis(300));
        })
        .await;

    let value = client(single_use_policy())
        .execute(&single_use(token_url(&server)), parse)
        .await
        .expect("the answer arrives within the budget");

    assert_eq!(value["refresh_token"], "rt-1");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn single_use_request_without_an_answer_in_the_budget_is_outcome_unknown_sent_once() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body("{}").delay(Duration::from_secs(5));
        })
        .await;
    let started = Instant::now();

    let err = client(single_use_policy().with_budget(Duration::from_millis(400)))
        .execute(&single_use(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match &err {
        AuthError::OutcomeUnknown { message, .. } => {
            // The budget, less the moments before the request was sent.
            assert!(
                ["no answer within 400ms", "no answer within 399ms"].contains(&message.as_str()),
                "{message}"
            );
        }
        other => panic!("expected OutcomeUnknown: {other:?}"),
    }
    assert!(!err.is_invalid_grant());
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("may have rotated the refresh token"),
        "{text}"
    );
    assert!(
        !text.contains("rt-0") && !text.contains("/oauth/token"),
        "{text}"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn single_use_request_is_retried_after_503() {
    let server = MockServer::start_async().await;
    let mock = answers(&server, &[503, 200], None).await;

    let value = client(single_use_policy())
        .execute(&single_use(token_url(&server)), parse)
        .await
        .expect("the second attempt succeeds");

    assert_eq!(value["refresh_token"], "rt-1");
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn single_use_request_is_retried_after_429_honouring_retry_after() {
    let server = MockServer::start_async().await;
    let mock = answers(&server, &[429, 200], Some("1")).await;
    let started = Instant::now();

    let value = client(single_use_policy().with_budget(Duration::from_secs(3)))
        .execute(&single_use(token_url(&server)), parse)
        .await
        .expect("the second attempt succeeds");

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(value["refresh_token"], "rt-1");
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn single_use_request_answered_by_another_5xx_is_outcome_unknown_sent_once() {
    let cases: [(u16, &'static [u16]); 3] =
        [(500, &[500, 200]), (502, &[502, 200]), (504, &[504, 200])];
    for (status, statuses) in cases {
        let server = MockServer::start_async().await;
        let mock = answers(&server, statuses, None).await;

        let err = client(single_use_policy())
            .execute(&single_use(token_url(&server)), parse)
            .await
            .unwrap_err();

        let AuthError::OutcomeUnknown { message, .. } = &err else {
            panic!("{status}: expected OutcomeUnknown: {err:?}");
        };
        assert_eq!(*message, format!("HTTP {status}"));
        assert!(!err.is_invalid_grant() && !err.is_retryable(), "{status}");
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn single_use_request_refused_as_invalid_grant_is_not_retried() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400).body(r#"{"error":"invalid_grant"}"#);
        })
        .await;

    let err = client(single_use_policy())
        .execute(&single_use(token_url(&server)), parse)
        .await
        .unwrap_err();

    assert!(err.is_invalid_grant(), "{err:?}");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn single_use_request_whose_connection_is_refused_is_retried_up_to_max_attempts() {
    let url: url::Url = format!("http://127.0.0.1:{}/oauth/token", closed_port())
        .parse()
        .unwrap();
    let clock = CountingClock::new();

    let err = client_with_clock(single_use_policy(), clock.clone())
        .execute(&single_use(url), parse)
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::Transport { .. }), "{err:?}");
    assert_eq!(clock.reads(), 3, "three attempts: none reached a server");
}

#[tokio::test]
async fn single_use_request_whose_connection_drops_after_sending_is_outcome_unknown_sent_once() {
    use tokio::io::AsyncReadExt;

    // A server that reads the request head, then closes the connection without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: url::Url = format!("http://{}/oauth/token", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            drop(stream);
        }
    });

    let err = client(single_use_policy())
        .execute(&single_use(url), parse)
        .await
        .unwrap_err();

    match &err {
        AuthError::OutcomeUnknown { message, .. } => {
            assert!(message.starts_with("no whole answer: "), "{message}");
            assert!(
                !message.contains("rt-0") && !message.contains("/oauth/token"),
                "{message}"
            );
        }
        other => panic!("expected OutcomeUnknown: {other:?}"),
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "sent once");
}

#[tokio::test]
async fn single_use_request_answered_with_a_truncated_body_is_outcome_unknown_sent_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // A server that answers 200 with a content-length longer than the body it sends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: url::Url = format!("http://{}/oauth/token", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"access_token\":")
                .await;
            drop(stream);
        }
    });

    let err = client(single_use_policy())
        .execute(&single_use(url), parse)
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "sent once");
}

/// A local token endpoint that answers every request after `delay`, counting the
/// requests it holds at once and the most it ever held.
async fn counting_server(delay: Duration) -> (url::Url, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth/token", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (in_flight, peak) = (Arc::clone(&now), Arc::clone(&most));
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let (in_flight, peak) = (Arc::clone(&in_flight), Arc::clone(&peak));
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then the body by its length.
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let held = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(held, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let body = r#"{"access_token":"a","token_type":"bearer","expires_in":3600}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, now, most)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_token_requests_queues_at_the_client_limit() {
    assert_eq!(
        RetryPolicy::default().max_concurrent_requests(),
        auth_core::http::DEFAULT_MAX_CONCURRENT_REQUESTS
    );
    for limit in [1usize, 3, 8] {
        let (url, _, most) = counting_server(Duration::from_millis(30)).await;
        let client = client(fast_policy().with_max_concurrent_requests(limit));
        let calls: Vec<_> = (0..24)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move { client.execute(&TokenRequest::post(url), parse).await })
            })
            .collect();
        for call in calls {
            call.await
                .unwrap()
                .expect("every queued request is answered");
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            limit,
            "at most {limit} at once, and the limit is used"
        );
    }
}

//! No secret reaches `Debug`, `Display`, an error or a log line.
//!
//! Every public type is formatted (`{:?}`, `{:#?}`, and `{}` where it exists), and every
//! error `execute` produces is built from response bodies that echo the request's
//! secrets (plain, URL-encoded, base64, and `base64(key:secret)` as in HTTP Basic), or
//! from a 2xx body holding an access token that fails to parse. The test then looks for
//! every secret, in every encoding, in everything printed.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::http::{RawResponse, RetryPolicy, TokenHttpClient, TokenRequest};
use auth_core::redact::Redactor;
use auth_core::{
    AccessToken, AuthError, AuthScheme, ClientId, ClientSecret, FnSource, ManualClock,
    RefreshToken, Scopes, Secret, State, StaticSource, Token,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use httpmock::prelude::*;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderName;
use serde_json::json;

// Values shaped like the real ones (base64 alphabets, Amazon's `Atza|`), with the
// characters that encode differently in each form.
const CLIENT_SECRET: &str = "cs.S3CR3T/client+secret=9f";
const REFRESH_TOKEN: &str = "Atza|IwEBIRefresh/Token+Value==";
const ACCESS_TOKEN: &str = "Atza|IwEBIAccess/Token+Value==";
const API_KEY: &str = "pbKEY0123456789abcdef";
const API_SECRET: &str = "pbSECRET/+=9876";
const HEADER_SECRET: &str = "hdr-S3CR3T-abcdef012345";
const QUERY_TOKEN: &str = "ocQUERY+token/value=";
const AUTH_CODE: &str = "code-S3CR3T-ANbcdEfghIJ";

const SECRETS: [&str; 8] = [
    CLIENT_SECRET,
    REFRESH_TOKEN,
    ACCESS_TOKEN,
    API_KEY,
    API_SECRET,
    HEADER_SECRET,
    QUERY_TOKEN,
    AUTH_CODE,
];

/// `%2F` -> `%2f`, leaving everything else as is.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            out.push(c);
            if c == '%' {
                hex_left = 2;
            }
        }
    }
    out
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Every form in which a secret may come back in a body.
fn forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
        form_encode(secret),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
    ]
}

/// Every needle to look for: each secret in each form, plus the Basic pair.
fn needles() -> Vec<String> {
    let mut needles: Vec<String> = SECRETS.iter().flat_map(|s| forms(s)).collect();
    needles.push(format!("{API_KEY}:{API_SECRET}"));
    needles.push(STANDARD.encode(format!("{API_KEY}:{API_SECRET}")));
    needles.push(STANDARD_NO_PAD.encode(format!("{API_KEY}:{API_SECRET}")));
    needles
}

#[track_caller]
fn assert_no_secret(context: &str, text: &str) {
    for needle in needles() {
        assert!(
            !text.contains(&needle),
            "{context}: a secret form ({} bytes) appears in:\n{text}",
            needle.len()
        );
    }
}

/// `{:?}`, `{:#?}`, `{}` and the whole `source()` chain of an error.
fn render_error(err: &AuthError) -> String {
    let mut out = format!("{err:?}\n{err:#?}\n{err}\n");
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let _ = writeln!(out, "{inner}\n{inner:?}");
        source = inner.source();
    }
    out
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .with_attempt_timeout(Duration::from_secs(5))
}

fn client() -> TokenHttpClient {
    TokenHttpClient::builder("auth-leak-test/1.0")
        .retry_policy(fast_policy())
        .build()
        .unwrap()
}

/// A request carrying every kind of secret, each registered for redaction the way a
/// vendor crate does it.
fn request_with_all_secrets(url: &str) -> TokenRequest {
    TokenRequest::post(url.parse().unwrap())
        .query([("refresh_token", QUERY_TOKEN)])
        .redact(QUERY_TOKEN)
        .form([
            ("grant_type", "refresh_token"),
            ("refresh_token", REFRESH_TOKEN),
            ("client_secret", CLIENT_SECRET),
            ("code", AUTH_CODE),
        ])
        .redact(REFRESH_TOKEN)
        .redact(CLIENT_SECRET)
        .redact(AUTH_CODE)
        .basic_auth(API_KEY, API_SECRET)
        .unwrap()
        .secret_header(HeaderName::from_static("x-api-secret"), HEADER_SECRET)
        .unwrap()
}

/// Bodies that echo the request's secrets in every form, in the places vendors put them.
/// One ("secret keys") also holds an access token the request does not know, under a
/// secret key.
fn echoing_bodies() -> Vec<(String, String)> {
    let basic = STANDARD.encode(format!("{API_KEY}:{API_SECRET}"));
    let mut bodies = Vec::new();
    for secret in [
        CLIENT_SECRET,
        REFRESH_TOKEN,
        API_KEY,
        API_SECRET,
        HEADER_SECRET,
        QUERY_TOKEN,
        AUTH_CODE,
    ] {
        for (i, form) in forms(secret).into_iter().enumerate() {
            bodies.push((
                format!("text, form {i}"),
                format!("request rejected: credential {form} is not valid"),
            ));
            bodies.push((
                format!("json message, form {i}"),
                json!({ "message": format!("bad credential {form}"), "status": 401 }).to_string(),
            ));
            bodies.push((
                format!("oauth description, form {i}"),
                json!({
                    "error": "invalid_client",
                    "error_description": format!("client authentication failed for {form}"),
                })
                .to_string(),
            ));
            bodies.push((
                format!("nested errors, form {i}"),
                json!({ "errors": [{ "code": "E1", "detail": format!("value={form}") }] })
                    .to_string(),
            ));
            bodies.push((
                format!("echoed request, form {i}"),
                format!("grant_type=refresh_token&refresh_token={form}&client_secret={form}"),
            ));
        }
    }
    bodies.push((
        "basic header echoed".into(),
        format!("missing scope for Authorization: Basic {basic}"),
    ));
    bodies.push((
        "basic header echoed in json".into(),
        json!({ "error": "invalid_client", "error_description": format!("Basic {basic}") })
            .to_string(),
    ));
    bodies.push((
        "secret keys".into(),
        json!({
            "error": "invalid_grant",
            "refresh_token": REFRESH_TOKEN,
            "client_secret": CLIENT_SECRET,
            "access_token": ACCESS_TOKEN,
            "request": { "code": AUTH_CODE, "password": API_SECRET },
        })
        .to_string(),
    ));
    bodies.push((
        "html".into(),
        format!("<html><body><pre>client_secret={CLIENT_SECRET}\nAuthorization: Basic {basic}</pre></body></html>"),
    ));
    bodies
}

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

#[test]
fn secret_types_print_only_their_name() {
    let cases: [(String, String, &str); 4] = [
        (
            format!("{:?}", AccessToken::new(ACCESS_TOKEN)),
            format!("{:#?}", AccessToken::new(ACCESS_TOKEN)),
            "AccessToken([REDACTED])",
        ),
        (
            format!("{:?}", RefreshToken::new(REFRESH_TOKEN)),
            format!("{:#?}", RefreshToken::new(REFRESH_TOKEN)),
            "RefreshToken([REDACTED])",
        ),
        (
            format!("{:?}", ClientSecret::new(CLIENT_SECRET)),
            format!("{:#?}", ClientSecret::new(CLIENT_SECRET)),
            "ClientSecret([REDACTED])",
        ),
        (
            format!("{:?}", Secret::new(API_SECRET)),
            format!("{:#?}", Secret::new(API_SECRET)),
            "Secret([REDACTED])",
        ),
    ];
    for (debug, pretty, expected) in cases {
        assert_eq!(debug, expected);
        assert_eq!(pretty, expected);
    }
    // Containers of secrets use the same Debug.
    let text = format!(
        "{:?} {:#?}",
        Some(RefreshToken::new(REFRESH_TOKEN)),
        vec![ClientSecret::new(CLIENT_SECRET)]
    );
    assert_no_secret("Option/Vec of secrets", &text);
}

#[test]
fn token_prints_without_its_access_and_refresh_tokens() {
    let token = Token::new(
        AccessToken::new(ACCESS_TOKEN),
        Some("2026-01-01T00:00:00Z".parse().unwrap()),
    )
    .with_refresh_token(RefreshToken::new(REFRESH_TOKEN))
    .with_scopes("rate label".parse().unwrap())
    .with_token_type("Bearer")
    .with_issued_at("2025-12-31T23:00:00Z".parse().unwrap());

    let text = format!("{token:?}\n{token:#?}");
    assert_no_secret("Token", &text);
    assert!(text.contains("AccessToken([REDACTED])"), "{text}");
    assert!(text.contains("RefreshToken([REDACTED])"), "{text}");
    assert!(
        text.contains("rate"),
        "non-secret fields still print: {text}"
    );

    let source = StaticSource::new(token.clone());
    assert_no_secret("StaticSource", &format!("{source:?}\n{source:#?}"));
    let fn_source = FnSource::new(move |_| {
        let token = token.clone();
        async move { Ok(token) }
    });
    assert_no_secret("FnSource", &format!("{fn_source:?}\n{fn_source:#?}"));
}

#[test]
fn identifiers_scopes_state_and_schemes_print_without_secrets() {
    let client_id = ClientId::new("amzn1.application-oa2-client.0123");
    let state = State::new();
    let scopes: Scopes<String> = "sellingpartnerapi::notifications shipping".parse().unwrap();
    let text = format!(
        "{client_id:?} {client_id:#?} {client_id} {state:?} {state:#?} {scopes:?} {scopes:#?} {scopes} {:?} {:#?} {:?}",
        AuthScheme::Bearer,
        AuthScheme::header_with_prefix("access-token", "Bearer "),
        ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap()),
    );
    assert_no_secret("ids, scopes, state, schemes", &text);
    // The client id is not a secret and prints as is.
    assert!(text.contains("amzn1.application-oa2-client.0123"));
}

#[test]
fn an_auth_header_value_is_sensitive_and_does_not_print() {
    let token = Token::new(AccessToken::new(ACCESS_TOKEN), None);
    for scheme in [
        AuthScheme::Bearer,
        AuthScheme::header("x-amz-access-token"),
        AuthScheme::header_with_prefix("access-token", "Bearer "),
    ] {
        let (name, value) = scheme.header_value(&token).unwrap();
        assert!(value.is_sensitive(), "{name}");
        assert_no_secret("header value", &format!("{value:?}"));
    }
}

#[test]
fn requests_clients_policies_and_redactors_print_without_secrets() {
    let request = request_with_all_secrets("https://auth.example.com/oauth/token")
        .json(&json!({ "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN }))
        .unwrap();
    let client = client();
    let policy = fast_policy();
    let mut redactor = Redactor::new();
    redactor.add(CLIENT_SECRET);
    redactor.add_basic_pair(API_KEY, API_SECRET);

    let text = format!(
        "{request:?}\n{request:#?}\n{client:?}\n{client:#?}\n{policy:?}\n{policy:#?}\n{redactor:?}\n{redactor:#?}\n{:?}",
        request.redactor()
    );
    assert_no_secret("request, client, policy, redactor", &text);
    assert!(
        text.contains("auth.example.com"),
        "the host still prints: {text}"
    );
}

#[tokio::test]
async fn providers_caches_and_stores_print_without_secrets() {
    use auth_core::{CachedTokenProvider, MemoryStore, StoreKey, TokenCache, TokenStore};

    let token = Token::new(
        AccessToken::new(ACCESS_TOKEN),
        Some(chrono::Utc::now() + chrono::Duration::hours(1)),
    )
    .with_refresh_token(RefreshToken::new(REFRESH_TOKEN));
    let store = Arc::new(MemoryStore::new());
    let key = StoreKey::new("test", "sandbox", "client-1", "seller-1");
    let builder = CachedTokenProvider::builder(StaticSource::new(token.clone()))
        .store(store.clone(), key.clone())
        .seed_refresh_token(RefreshToken::new(REFRESH_TOKEN));
    let builder_text = format!("{builder:?}\n{builder:#?}");
    let provider = builder.build();
    let fetched = provider.token().await.unwrap();
    assert_eq!(fetched.access_token().expose_secret(), ACCESS_TOKEN);
    let record = store.load(&key).await.unwrap().expect("saved");
    let cache = TokenCache::new(4, move |_: &String| {
        Ok(CachedTokenProvider::new(StaticSource::new(token.clone())))
    });
    cache.token(&"seller-1".to_owned()).await.unwrap();

    let text = format!(
        "{builder_text}\n{provider:?}\n{provider:#?}\n{:?}\n{store:?}\n{store:#?}\n{record:?}\n{record:#?}\n{key:?}\n{key}\n{cache:?}\n{fetched:?}",
        provider.status(),
    );
    assert_no_secret("provider, store, cache", &text);
}

// ---------------------------------------------------------------------------------------
// Errors built by execute
// ---------------------------------------------------------------------------------------

type Parser = fn(&RawResponse<'_>) -> Result<(), AuthError>;

/// Each way a vendor crate turns a non-2xx response into an error.
fn parsers() -> Vec<(&'static str, Parser)> {
    vec![
        ("standard_error", |raw| Err(raw.standard_error())),
        ("oauth_error or Http", |raw| {
            Err(raw.oauth_error().unwrap_or_else(|| AuthError::Http {
                vendor: "",
                status: raw.status.as_u16(),
                excerpt: raw.excerpt(),
                retry_after: None,
            }))
        }),
        ("vendor error from excerpt", |raw| {
            Err(AuthError::Vendor {
                vendor: "test",
                status: Some(raw.status.as_u16()),
                code: Some("E1".into()),
                message: raw.excerpt(),
                retryable: false,
            })
        }),
        ("vendor error from scrubbed text", |raw| {
            let text = String::from_utf8_lossy(&raw.body);
            Err(AuthError::Vendor {
                vendor: "test",
                status: Some(raw.status.as_u16()),
                code: None,
                message: raw.redactor().scrub(&text),
                retryable: false,
            })
        }),
    ]
}

#[tokio::test]
async fn errors_from_bodies_echoing_the_secrets_quote_none_of_them() {
    let server = MockServer::start_async().await;
    let client = client();
    let mut checked = 0;
    for status in [400u16, 401, 403, 500] {
        for (what, body) in echoing_bodies() {
            let mock = server
                .mock_async(|when, then| {
                    when.method(POST).path("/oauth/token");
                    then.status(status).body(&body);
                })
                .await;
            let request = request_with_all_secrets(&server.url("/oauth/token"));
            for (parser_name, parser) in parsers() {
                let err = client.execute(&request, parser).await.unwrap_err();
                assert_no_secret(
                    &format!("HTTP {status}, {what}, {parser_name}"),
                    &render_error(&err),
                );
                checked += 1;
            }
            mock.delete_async().await;
        }
    }
    assert!(checked > 500, "{checked}");
}

async fn oauth_error_from(body: serde_json::Value) -> AuthError {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400).json_body(body);
        })
        .await;
    let request = request_with_all_secrets(&server.url("/oauth/token"));
    client()
        .execute(&request, |raw| Err::<(), _>(raw.standard_error()))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn an_oauth_error_code_echoing_a_secret_is_scrubbed() {
    // Some vendors put a sentence in `error` ("invalid refresh token ...").
    let body = json!({ "error": format!("invalid refresh token {REFRESH_TOKEN}") });
    let err = oauth_error_from(body).await;
    assert_no_secret("oauth error code", &render_error(&err));
}

#[tokio::test]
async fn an_oauth_request_id_echoing_a_secret_is_scrubbed() {
    let body = json!({ "error": "invalid_grant", "request_id": CLIENT_SECRET });
    let err = oauth_error_from(body).await;
    assert_no_secret("oauth request id", &render_error(&err));
}

#[tokio::test]
async fn secrets_echoed_by_other_url_encoders_are_removed() {
    const RFC3986_UNRESERVED: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    const PYTHON_QUOTE: &percent_encoding::AsciiSet = &RFC3986_UNRESERVED.remove(b'/');
    let secret = "cs~S3CR3T/client+secret=9f";
    let echoed = [
        utf8_percent_encode(secret, RFC3986_UNRESERVED).to_string(),
        utf8_percent_encode(secret, PYTHON_QUOTE).to_string(),
        lower_hex(&utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string()),
    ];
    let server = MockServer::start_async().await;
    for form in echoed {
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(401).body(format!("bad client_secret={form}"));
            })
            .await;
        let request = TokenRequest::post(server.url("/oauth/token").parse().unwrap())
            .form([("client_secret", secret)])
            .redact(secret);
        let err = client()
            .execute(&request, |raw| Err::<(), _>(raw.standard_error()))
            .await
            .unwrap_err();
        let text = render_error(&err);
        assert!(!text.contains(&form), "{form} appears in {text}");
        mock.delete_async().await;
    }
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    token_type: TokenType,
}

#[derive(Debug, serde::Deserialize)]
enum TokenType {
    #[serde(rename = "bearer")]
    Bearer,
}

#[tokio::test]
async fn a_2xx_body_that_fails_to_parse_is_described_never_quoted() {
    // The access token is new, so no redactor knows it: only the body's shape may be told.
    let bodies = [
        json!({ "access_token": ACCESS_TOKEN, "expires_in": "3600", "token_type": "bearer" })
            .to_string(),
        json!({ "access_token": ACCESS_TOKEN, "token_type": "bearer" }).to_string(),
        json!({ "access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": ACCESS_TOKEN })
            .to_string(),
        json!({ "access_token": 42, "expires_in": ACCESS_TOKEN, "token_type": "bearer" })
            .to_string(),
        json!({ "access_token": ACCESS_TOKEN, "expires_in": -1, "token_type": "bearer" })
            .to_string(),
        json!([ACCESS_TOKEN, REFRESH_TOKEN]).to_string(),
        json!({ "data": { "accessToken": ACCESS_TOKEN, "refreshToken": REFRESH_TOKEN } })
            .to_string(),
        format!("access_token={ACCESS_TOKEN}&expires_in=3600&token_type=bearer"),
        format!(r#"{{"access_token":"{ACCESS_TOKEN}","expires_in":3600,"#),
        format!(r#"{{"access_token":"{ACCESS_TOKEN}" "expires_in":3600}}"#),
        format!("\"{ACCESS_TOKEN}\""),
    ];
    let server = MockServer::start_async().await;
    for body in bodies {
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path("/oauth/token");
                then.status(200)
                    .header("content-type", "application/json")
                    .body(&body);
            })
            .await;
        let request = request_with_all_secrets(&server.url("/oauth/token"));
        let debugs = Arc::new(Mutex::new(Vec::new()));
        let seen = debugs.clone();

        let err = client()
            .execute(&request, move |raw| {
                seen.lock().unwrap().push(format!("{raw:?}\n{raw:#?}"));
                raw.json::<TokenResponse>()
            })
            .await
            .unwrap_err();

        assert!(
            matches!(err, AuthError::Decode { status: 200, .. }),
            "{err:?}"
        );
        assert_no_secret(
            &format!("decode error for {} bytes", body.len()),
            &render_error(&err),
        );
        for debug in debugs.lock().unwrap().iter() {
            assert_no_secret("RawResponse", debug);
        }
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn a_body_over_the_cap_is_reported_without_quoting_it() {
    let server = MockServer::start_async().await;
    let body = json!({ "access_token": ACCESS_TOKEN, "padding": "x".repeat(2000) }).to_string();
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body(&body);
        })
        .await;
    let client = TokenHttpClient::builder("auth-leak-test/1.0")
        .retry_policy(fast_policy().with_max_body_bytes(256))
        .build()
        .unwrap();

    let err = client
        .execute(
            &request_with_all_secrets(&server.url("/oauth/token")),
            |raw| raw.json::<serde_json::Value>(),
        )
        .await
        .unwrap_err();

    assert!(matches!(err, AuthError::Decode { .. }), "{err:?}");
    assert_no_secret("body cap", &render_error(&err));
}

#[tokio::test]
async fn transport_and_timeout_errors_do_not_quote_the_url() {
    // Orange Connex puts tokens in the query string.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = client()
        .execute(
            &request_with_all_secrets(&format!("http://127.0.0.1:{port}/oauth/token")),
            |_| Ok(()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Transport { .. }), "{err:?}");
    assert_no_secret("transport error", &render_error(&err));

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).delay(Duration::from_secs(2));
        })
        .await;
    let client = TokenHttpClient::builder("auth-leak-test/1.0")
        .retry_policy(
            fast_policy()
                .with_attempt_timeout(Duration::from_millis(50))
                .with_max_attempts(1),
        )
        .build()
        .unwrap();
    let err = client
        .execute(
            &request_with_all_secrets(&server.url("/oauth/token")),
            |_| Ok(()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Timeout { .. }), "{err:?}");
    assert_no_secret("timeout error", &render_error(&err));
}

#[tokio::test]
async fn configuration_errors_do_not_quote_secrets() {
    let mut errors = Vec::new();

    // Plain http to a remote host, with credentials in the user info and the query.
    let url = format!(
        "http://{}:{}@auth.example.com/oauth/token",
        form_encode(API_KEY),
        form_encode(API_SECRET)
    );
    errors.push(
        client()
            .execute(&request_with_all_secrets(&url), |_| Ok(()))
            .await
            .unwrap_err(),
    );
    // A Basic user id with a colon (RFC 7617 forbids it).
    let with_colon = format!("{API_KEY}:{API_SECRET}");
    errors.push(
        TokenRequest::post("https://auth.example.com/t".parse().unwrap())
            .basic_auth(&with_colon, API_SECRET)
            .unwrap_err(),
    );
    // A secret that is not a valid header value.
    errors.push(
        TokenRequest::post("https://auth.example.com/t".parse().unwrap())
            .secret_header(
                HeaderName::from_static("x-api-secret"),
                &format!("{HEADER_SECRET}\n{CLIENT_SECRET}"),
            )
            .unwrap_err(),
    );
    // An access token that is not a valid header value.
    let token = Token::new(AccessToken::new(format!("{ACCESS_TOKEN}\r\n")), None);
    errors.push(AuthScheme::Bearer.header_value(&token).unwrap_err());

    for err in &errors {
        assert!(matches!(err, AuthError::InvalidConfig(_)), "{err:?}");
        assert_no_secret("configuration error", &render_error(err));
    }
}

#[test]
fn every_other_error_variant_prints_without_secrets() {
    let state = State::new();
    let errors = [
        State::from_saved(state.as_str())
            .check("forged")
            .unwrap_err(),
        "rate label unknown".parse::<Scopes<Letter>>().unwrap_err(),
        AuthError::store(
            "cannot save the token",
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied"),
        ),
        AuthError::oauth(
            auth_core::OAuthErrorCode::InvalidGrant,
            Some("refresh token revoked".into()),
            Some(400),
        ),
        AuthError::Timeout {
            vendor: "",
            after: Duration::from_secs(10),
        },
    ];
    for err in &errors {
        let text = render_error(err);
        assert_no_secret("error variant", &text);
        assert!(
            !text.contains(state.as_str()),
            "the state is not echoed: {text}"
        );
    }
}

/// A vendor scope type knowing only `rate` and `label`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Letter {
    Rate,
    Label,
}

impl std::str::FromStr for Letter {
    type Err = auth_core::UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rate" => Ok(Self::Rate),
            "label" => Ok(Self::Label),
            other => Err(auth_core::UnknownScope(other.into())),
        }
    }
}

impl auth_core::Scope for Letter {
    fn as_str(&self) -> &str {
        match self {
            Self::Rate => "rate",
            Self::Label => "label",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn retry_logs_hold_no_secret() {
    // tracing caches each callsite's interest globally: another test thread hitting the
    // retry log first, with no subscriber, can race this thread's subscriber and drop
    // its lines. Try again until they were captured, so the check below is never
    // vacuous (one try almost always suffices).
    let mut logs = String::new();
    for _ in 0..5 {
        logs = logs_of_a_retried_token_call().await;
        if logs.contains("retrying") {
            break;
        }
        tracing::callsite::rebuild_interest_cache();
    }
    assert!(logs.contains("retrying"), "the retries were logged: {logs}");
    assert_no_secret("logs", &logs);
}

/// What a token call that is retried and fails logs, at every level.
async fn logs_of_a_retried_token_call() -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    let body =
        format!("upstream error for client_secret={CLIENT_SECRET} refresh_token={REFRESH_TOKEN}");
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503).body(&body);
        })
        .await;
    let err = client()
        .execute(
            &request_with_all_secrets(&server.url("/oauth/token")),
            |raw| Err::<(), _>(raw.standard_error()),
        )
        .await
        .unwrap_err();
    tracing::error!(error = %err, debug = ?err, "token call failed");
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

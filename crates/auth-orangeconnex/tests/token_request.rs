//! The exact requests Orange Connex receives: every parameter in the query string, each
//! value encoded once, an empty body, the optional `clientKey` header, no client secret.

mod common;

use std::sync::Arc;

use auth_core::{AccessToken, AuthError, ManualClock, RefreshToken, State, Token, VendorClient};
use auth_orangeconnex::{Client, Environment, parse_redirect, refresh_token_expires_at};
use chrono::{DateTime, Duration, Utc};
use common::{
    CLIENT_ID, CLIENT_KEY, SAMPLE_CODE_IN_URL, SAMPLE_REDIRECT_URI, assert_empty_body, header,
    raw_query, sample_code_value, token_endpoint,
};
use httpmock::MockServer;

const OK_BODY: &str = r#"{"access_token":"at-Hk9+/x=","token_type":"bearer","expires_in":3600,"refresh_token":"rt-Zq1+/y="}"#;

fn now() -> DateTime<Utc> {
    "2026-05-01T08:00:00Z".parse().unwrap()
}

fn clocked(server: &MockServer) -> Client {
    common::builder(server)
        .clock(Arc::new(ManualClock::new(now())))
        .build()
        .unwrap()
}

#[tokio::test]
async fn exchange_code_sends_the_vendor_sample_request_with_an_empty_body() {
    let server = MockServer::start_async().await;
    let (mock, seen) = token_endpoint(&server, 200, "application/json", OK_BODY).await;
    let token = clocked(&server)
        .exchange_code(sample_code_value(), SAMPLE_REDIRECT_URI)
        .await
        .unwrap();
    mock.assert_calls_async(1).await;

    let req = seen.only();
    assert_eq!(req.method().as_str(), "POST");
    assert_eq!(req.uri().path(), "/oauth/token");
    // The vendor's sample request, parameter for parameter and in its order; the code
    // reaches the server exactly as in the sample URL (`%252F`), the redirect URI encoded.
    assert_eq!(
        raw_query(&req),
        format!(
            "client_id={CLIENT_ID}&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fwww.baidu.com&code={SAMPLE_CODE_IN_URL}"
        )
    );
    let params = req.query_params();
    assert_eq!(
        params,
        vec![
            ("client_id".to_owned(), CLIENT_ID.to_owned()),
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("redirect_uri".to_owned(), SAMPLE_REDIRECT_URI.to_owned()),
            ("code".to_owned(), sample_code_value()),
        ]
    );
    assert_empty_body(&req);
    assert_eq!(header(&req, "accept").as_deref(), Some("application/json"));
    let agent = header(&req, "user-agent").unwrap();
    assert!(agent.starts_with("auth-orangeconnex/"), "{agent}");
    assert_eq!(header(&req, "authorization"), None);
    assert_eq!(header(&req, "clientkey"), None);

    assert_eq!(token.access_token().expose_secret(), "at-Hk9+/x=");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-Zq1+/y=");
    assert_eq!(token.token_type(), "bearer");
    assert_eq!(token.expires_at(), Some(now() + Duration::seconds(3600)));
    assert_eq!(token.issued_at(), Some(now()));
    assert_eq!(token.refresh_token_issued_at(), Some(now()));
    assert_eq!(
        refresh_token_expires_at(&token),
        Some(now() + Duration::days(365))
    );
}

#[tokio::test]
async fn double_encoded_sample_code_from_the_redirect_is_sent_as_in_the_vendor_sample() {
    // The redirect as the browser brings it back: the code as in the vendor's sample.
    let state = State::from_saved("st-1");
    let redirect = format!("{SAMPLE_REDIRECT_URI}/?code={SAMPLE_CODE_IN_URL}&state=st-1")
        .parse()
        .unwrap();
    let code = parse_redirect(&redirect, &state).unwrap();
    // Decoded once: the value itself carries percent-escapes.
    assert_eq!(code.expose_secret(), sample_code_value());
    assert!(code.expose_secret().starts_with("gTJjJKyOR0F%2FYo5%2BQ0"));
    assert!(code.expose_secret().ends_with("L8%3D"));

    let server = MockServer::start_async().await;
    let sent_once = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("code", sample_code_value())
                .is_true(|req| {
                    req.uri()
                        .query()
                        .is_some_and(|q| q.ends_with(&format!("&code={SAMPLE_CODE_IN_URL}")))
                });
            then.status(200).body(OK_BODY);
        })
        .await;
    let client = common::client(&server);
    client
        .exchange_code(code, SAMPLE_REDIRECT_URI)
        .await
        .unwrap();
    sent_once.assert_calls_async(1).await;

    // Decoding a second time (a common mistake) sends another code: `%2F` instead of
    // `%252F`, which the server decodes to `/`, not the code it issued.
    let (_, seen) = token_endpoint(&server, 400, "application/json", "{}").await;
    let twice = sample_code_value()
        .replace("%2F", "/")
        .replace("%2B", "+")
        .replace("%3D", "=");
    let _ = client.exchange_code(twice, SAMPLE_REDIRECT_URI).await;
    let query = raw_query(&seen.requests()[0]);
    assert!(query.contains("code=gTJjJKyOR0F%2FYo5%2BQ0"), "{query}");
    assert!(!query.contains(SAMPLE_CODE_IN_URL));
}

#[tokio::test]
async fn refresh_encodes_plus_slash_equals_and_percent_exactly_once() {
    let server = MockServer::start_async().await;
    let refresh_token = "a+b/c=d e%2F";
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth/token")
                .query_param("client_id", CLIENT_ID)
                .query_param("grant_type", "refresh_token")
                .query_param("refresh_token", refresh_token)
                .is_true(|req| {
                    req.uri().query()
                        == Some(
                            "client_id=bd1d1971-d0db-11ea-b4a1-00505694c27b&grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd+e%252F",
                        )
                })
                .is_true(|req| req.body_ref().is_empty())
                .header("content-length", "0")
                .header_missing("content-type");
            then.status(200).body(OK_BODY);
        })
        .await;
    let token = common::client(&server)
        .refresh(&RefreshToken::new(refresh_token))
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(token.access_token().expose_secret(), "at-Hk9+/x=");
}

#[tokio::test]
async fn client_key_header_is_sent_and_client_secret_never_is() {
    let server = MockServer::start_async().await;
    let (_, seen) = token_endpoint(&server, 200, "application/json", OK_BODY).await;
    let secret = "cs-Never-Sent-4f9a";
    let client = common::builder(&server)
        .client_secret(secret)
        .client_key(CLIENT_KEY)
        .build()
        .unwrap();
    client
        .exchange_code("c0de", "https://app.example.com/cb")
        .await
        .unwrap();
    client.refresh(&RefreshToken::new("rt-1234")).await.unwrap();
    let requests = seen.requests();
    assert_eq!(requests.len(), 2);
    for req in &requests {
        assert_eq!(header(req, "clientkey").as_deref(), Some(CLIENT_KEY));
        assert_empty_body(req);
        let everything = format!("{} {:?}", req.uri(), req.headers_vec());
        assert!(!everything.contains(secret), "{everything}");
        assert!(!everything.contains("client_secret"), "{everything}");
    }
    assert_eq!(
        raw_query(&requests[1]),
        format!("client_id={CLIENT_ID}&grant_type=refresh_token&refresh_token=rt-1234")
    );
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_and_its_age_unless_it_rotates() {
    let server = MockServer::start_async().await;
    let client = clocked(&server);
    let issued = now() - Duration::days(200);
    let previous = Token::new(AccessToken::new("old-at"), Some(now()))
        .with_refresh_token(RefreshToken::new("rt-same-1"))
        .with_issued_at(issued)
        .with_refresh_token_issued_at(issued);

    // Same refresh token back: it did not rotate, its age is carried over.
    let mut mock = server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200)
                .body(r#"{"access_token":"at-2","refresh_token":"rt-same-1","expires_in":3600}"#);
        })
        .await;
    let token = client.refresh_from(&previous).await.unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-same-1");
    assert_eq!(token.refresh_token_issued_at(), Some(issued));
    // The access token itself was issued now.
    assert_eq!(token.issued_at(), Some(now()));
    assert_eq!(
        refresh_token_expires_at(&token),
        Some(issued + Duration::days(365))
    );
    // Without the previous token, the age of a non-rotated refresh token is unknown.
    let token = client
        .refresh(previous.refresh_token().unwrap())
        .await
        .unwrap();
    assert_eq!(token.refresh_token_issued_at(), None);
    assert_eq!(token.issued_at(), Some(now()));
    mock.delete_async().await;

    // No refresh token back: the one sent is kept, with its age.
    mock = server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200).body(r#"{"access_token":"at-3"}"#);
        })
        .await;
    let token = client.refresh_from(&previous).await.unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-same-1");
    assert_eq!(token.refresh_token_issued_at(), Some(issued));
    assert_eq!(token.expires_at(), Some(now() + Duration::hours(1)));
    mock.delete_async().await;

    // A new one back: it is kept, issued now.
    server
        .mock_async(|when, then| {
            when.path("/oauth/token");
            then.status(200)
                .body(r#"{"access_token":"at-4","refresh_token":"rt-new-2"}"#);
        })
        .await;
    let token = client.refresh_from(&previous).await.unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-new-2");
    assert_eq!(token.refresh_token_issued_at(), Some(now()));
    assert_eq!(token.issued_at(), Some(now()));
}

#[tokio::test]
async fn invalid_configuration_is_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let (mock, _) = token_endpoint(&server, 200, "application/json", OK_BODY).await;
    let config_error = |r: Result<Client, AuthError>| match r {
        Err(AuthError::InvalidConfig(message)) => message,
        other => panic!("expected InvalidConfig, got {other:?}"),
    };
    let message = config_error(Client::builder().build());
    assert!(message.contains("client_id is required"), "{message}");
    config_error(Client::builder().client_id("  ").build());
    let message = config_error(
        Client::builder()
            .client_id("id")
            .base_url("http://orangeconnex.example.com/")
            .build(),
    );
    assert!(message.contains("use https"), "{message}");
    config_error(
        Client::builder()
            .client_id("id")
            .token_url("http://10.1.2.3/oauth/token")
            .build(),
    );
    config_error(
        Client::builder()
            .client_id("id")
            .token_url(server.url("/oauth/token?x=1"))
            .build(),
    );
    config_error(
        Client::builder()
            .client_id("id")
            .base_url(server.url("/?x=1"))
            .build(),
    );
    let message = config_error(
        Client::builder()
            .client_id("id")
            .client_key("bad\nkey-value")
            .build(),
    );
    assert!(!message.contains("key-value"), "{message}");
    for blank in ["", "  "] {
        let message = config_error(
            Client::builder()
                .client_id("id")
                .client_key(blank)
                .token_url(server.url("/oauth/token"))
                .build(),
        );
        assert!(message.contains("client_key"), "{message}");
    }

    let client = common::client(&server);
    for result in [
        client.exchange_code("", "https://app.example.com/cb").await,
        client.exchange_code("c0de", " ").await,
        client.refresh(&RefreshToken::new("")).await,
    ] {
        assert!(
            matches!(result, Err(AuthError::InvalidConfig(_))),
            "{result:?}"
        );
    }
    let no_refresh = client
        .refresh_from(&Token::new(AccessToken::new("at"), None))
        .await
        .unwrap_err();
    assert!(
        matches!(no_refresh, AuthError::NoRefreshToken),
        "{no_refresh}"
    );
    assert!(!no_refresh.is_invalid_grant());
    mock.assert_calls_async(0).await;
}

#[test]
fn endpoints_follow_the_environment_and_the_overrides() {
    let client = Client::builder().client_id("id").build().unwrap();
    assert_eq!(client.environment(), Environment::Production);
    assert_eq!(
        client.token_url().as_str(),
        "https://openapi-hk.orangeconnex.com/oauth/token"
    );
    assert_eq!(
        client.authorize_endpoint().as_str(),
        "https://openapi-hk.orangeconnex.com/oauth/authorize"
    );
    assert_eq!(
        client.api_base_url().as_str(),
        "https://openapi-hk.orangeconnex.com/openapi/"
    );
    let client = Client::builder()
        .client_id("id")
        .environment(Environment::Uk)
        .build()
        .unwrap();
    assert_eq!(
        client.token_url().as_str(),
        "https://openapi-uk.orangeconnex.com/oauth/token"
    );
    let client = Client::builder()
        .client_id("id")
        .environment(Environment::Stage)
        .base_url("http://127.0.0.1:9/oc")
        .token_url("http://localhost:7/t")
        .build()
        .unwrap();
    assert_eq!(client.token_url().as_str(), "http://localhost:7/t");
    assert_eq!(
        client.authorize_endpoint().as_str(),
        "http://127.0.0.1:9/oc/oauth/authorize"
    );
    assert_eq!(client.environment(), Environment::Stage);
}

#[test]
fn store_key_names_vendor_environment_client_and_seller() {
    let client = Client::builder()
        .client_id("my-3pp")
        .environment(Environment::Stage)
        .build()
        .unwrap();
    let key = client.store_key("seller-42");
    assert_eq!(
        (
            key.vendor(),
            key.environment(),
            key.client_id(),
            key.subject()
        ),
        ("orangeconnex", "stage", "my-3pp", "seller-42")
    );
    let emulated = Client::builder()
        .client_id("my-3pp")
        .environment(Environment::Stage)
        .base_url("http://127.0.0.1:8080/")
        .build()
        .unwrap();
    assert_eq!(
        emulated.store_key("seller-42").environment(),
        "stage@127.0.0.1:8080"
    );
}

#[test]
fn access_token_header_defaults_to_the_bearer_prefix() {
    let token = Token::new(AccessToken::new("at-Hk9+/x="), None);
    let client = Client::builder().client_id("id").build().unwrap();
    let (name, value) = client.auth_scheme().header_value(&token).unwrap();
    assert_eq!(name.as_str(), "access-token");
    assert_eq!(value.to_str().unwrap(), "Bearer at-Hk9+/x=");
    assert!(value.is_sensitive());

    let bare = Client::builder()
        .client_id("id")
        .bearer_prefix(false)
        .build()
        .unwrap();
    let (name, value) = bare.auth_scheme().header_value(&token).unwrap();
    assert_eq!(
        (name.as_str(), value.to_str().unwrap()),
        ("access-token", "at-Hk9+/x=")
    );
}

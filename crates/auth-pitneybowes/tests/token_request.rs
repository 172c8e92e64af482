//! The exact request Pitney Bowes receives: method, path, headers, Basic credentials, body.

mod common;

use auth_core::{AccessToken, AuthError, RefreshToken, Token, TokenSource};
use auth_pitneybowes::{Client, ClientCredentialsGrant, Environment, VendorClient};
use common::{SEED_BODY, assert_token_request, client, token_endpoint};
use httpmock::MockServer;

#[tokio::test]
async fn token_request_is_exactly_basic_auth_and_the_form_body() {
    let server = MockServer::start_async().await;
    let (mock, recorder) = token_endpoint(&server, 200, "application/json", SEED_BODY).await;
    let client = client(&server, "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS", "Xq9aLm2p");

    let token = client.client_credentials().await.unwrap();

    mock.assert_calls_async(1).await;
    assert_token_request(
        &recorder.only(),
        "Basic M1c4bU9KMUdoNWxJdG1GQ0h6ejgyU1pPOXJjMkVCd1M6WHE5YUxtMnA=",
    );
    assert_eq!(
        token.access_token().expose_secret(),
        "m22wyEgfHlA0LudkGG9gG2xB04Cv"
    );
    assert_eq!(token.token_type(), "BearerToken");
    assert!(token.refresh_token().is_none());
}

/// `base64(key ":" secret)` of the raw UTF-8 bytes, standard alphabet with padding.
#[tokio::test]
async fn basic_header_encodes_raw_utf8_with_standard_padding() {
    let cases = [
        // (key, secret, expected header); the comment is (key:secret).len() % 3.
        // 2 -> one '='
        (
            "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS",
            "Xq9aLm2p",
            "Basic M1c4bU9KMUdoNWxJdG1GQ0h6ejgyU1pPOXJjMkVCd1M6WHE5YUxtMnA=",
        ),
        // 0 -> no padding
        (
            "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS",
            "Xq9aLm2pz",
            "Basic M1c4bU9KMUdoNWxJdG1GQ0h6ejgyU1pPOXJjMkVCd1M6WHE5YUxtMnB6",
        ),
        // 1 -> "=="
        (
            "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS",
            "Xq9aLm2pzQ",
            "Basic M1c4bU9KMUdoNWxJdG1GQ0h6ejgyU1pPOXJjMkVCd1M6WHE5YUxtMnB6UQ==",
        ),
        // A secret may contain ':' (only the first ':' separates, RFC 7617).
        ("api-key", "se:cr:et", "Basic YXBpLWtleTpzZTpjcjpldA=="),
        // Non-ASCII: the UTF-8 bytes, not Latin-1, not percent-encoded first.
        ("clé-api", "sécret✓", "Basic Y2zDqS1hcGk6c8OpY3JldOKckw=="),
    ];
    for (key, secret, expected) in cases {
        let server = MockServer::start_async().await;
        let (mock, recorder) = token_endpoint(&server, 200, "application/json", SEED_BODY).await;
        client(&server, key, secret)
            .client_credentials()
            .await
            .unwrap();
        mock.assert_calls_async(1).await;
        assert_token_request(&recorder.only(), expected);
    }
}

#[tokio::test]
async fn api_key_with_a_colon_is_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let (mock, _) = token_endpoint(&server, 200, "application/json", SEED_BODY).await;
    let err = common::builder(&server, "key:with-colon", "secret")
        .build()
        .unwrap_err();
    match err {
        AuthError::InvalidConfig(message) => {
            assert!(message.contains("must not contain ':'"), "{message}");
            assert!(
                !message.contains("with-colon"),
                "the key is not quoted: {message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn grant_ignores_the_previous_token_and_sends_the_same_request() {
    let server = MockServer::start_async().await;
    let (mock, recorder) = token_endpoint(&server, 200, "application/json", SEED_BODY).await;
    let grant = ClientCredentialsGrant::new(client(&server, "api-key", "se:cr:et"));
    assert!(!grant.needs_refresh_token());

    let previous = Token::new(AccessToken::new("old-access"), None)
        .with_refresh_token(RefreshToken::new("stray-refresh-token"));
    let first = grant.fetch_token(Some(&previous)).await.unwrap();
    let second = grant.fetch_token(None).await.unwrap();

    mock.assert_calls_async(2).await;
    for request in recorder.requests() {
        assert_token_request(&request, "Basic YXBpLWtleTpzZTpjcjpldA==");
    }
    assert!(first.refresh_token().is_none() && second.refresh_token().is_none());
}

#[tokio::test]
async fn base_url_sends_the_token_request_below_its_path() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/emulator/pb/oauth/token");
            then.status(200)
                .header("content-type", "application/json")
                .body(SEED_BODY);
        })
        .await;
    auth_core::install_crypto_provider();
    let client = Client::builder()
        .api_key("k")
        .api_secret("s")
        .environment(Environment::Production)
        .base_url(server.url("/emulator/pb"))
        .retry_policy(common::policy())
        .build()
        .unwrap();
    client.client_credentials().await.unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(
        client.api_url("v1/rates").unwrap().as_str(),
        server.url("/emulator/pb/shippingservices/v1/rates")
    );
}

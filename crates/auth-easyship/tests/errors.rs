//! Errors: what is refused before any request, what each documented error body becomes,
//! and that no secret ever reaches an error, `Debug` or `Display`.

mod common;

use auth_core::{AuthError, OAuthErrorCode, RefreshToken, Scopes};
use auth_easyship::{Client, Endpoint, Environment, Scope};
use common::*;
use httpmock::MockServer;

/// A mock that must never be called.
async fn untouched(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await
}

#[tokio::test]
async fn mixed_legacy_and_enhanced_scopes_are_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let mock = untouched(&server).await;
    let scopes = Scopes::from([Scope::Rate, Scope::PublicLabelWrite, Scope::Shipment]);
    for client in [partner(&server), enterprise(&server)] {
        let err = if client.endpoint() == Endpoint::Enterprise {
            client.client_credentials(&scopes).await.unwrap_err()
        } else {
            client
                .refresh_with_scopes(&RefreshToken::new("rt"), &scopes)
                .await
                .unwrap_err()
        };
        match &err {
            AuthError::InvalidScope { scopes, reason } => {
                assert_eq!(scopes, &["rate", "public.label:write", "shipment"]);
                assert!(reason.contains("cannot be mixed"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            err.to_string().contains("rate public.label:write shipment"),
            "{err}"
        );
    }
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn empty_scope_is_refused_where_easyship_requires_one() {
    let server = MockServer::start_async().await;
    let mock = untouched(&server).await;
    let empty = Scopes::<Scope>::new();
    let e = enterprise(&server);
    assert!(matches!(
        e.client_credentials(&empty).await,
        Err(AuthError::InvalidScope { .. })
    ));
    let p = partner(&server);
    assert!(matches!(
        p.authorize_url("https://domain.com/cb", &empty),
        Err(AuthError::InvalidScope { .. })
    ));
    assert!(matches!(
        p.refresh_with_scopes(&RefreshToken::new("rt"), &empty)
            .await,
        Err(AuthError::InvalidScope { .. })
    ));
    // Where scope is optional, an empty set simply sends none: not an error.
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn unknown_scope_strings_are_all_named() {
    let err = "rate public.rate:raed shipmnet"
        .parse::<Scopes<Scope>>()
        .unwrap_err();
    match err {
        AuthError::InvalidScope { scopes, reason } => {
            assert_eq!(scopes, ["public.rate:raed", "shipmnet"]);
            assert_eq!(reason, "unknown scope");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn enterprise_scopes_and_delegated_account_need_the_enterprise_endpoint() {
    let server = MockServer::start_async().await;
    let mock = untouched(&server).await;
    let p = partner(&server);
    let err = p
        .client_credentials(&Scopes::from([
            Scope::Rate,
            Scope::EnterpriseChildCompaniesAccess,
        ]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::InvalidScope { scopes, .. } if scopes == &["enterprise.child_companies_access"]),
        "{err:?}"
    );
    let err = p
        .delegated_account("CUS1", &Scopes::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::InvalidConfig(ref m) if m.contains("Enterprise")),
        "{err:?}"
    );
    let err = enterprise(&server)
        .delegated_account(" ", &Scopes::new())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidConfig(_)));
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn partner_client_credentials_401_unauthorized_client_points_to_enterprise() {
    let server = MockServer::start_async().await;
    let (_mock, seen) = endpoint(
        &server,
        "/oauth2/token",
        401,
        r#"{"error":"unauthorized_client","error_description":"The client is not authorized to perform this request using this method."}"#,
    )
    .await;
    let err = partner(&server)
        .client_credentials(&Scopes::from([Scope::PublicRateRead]))
        .await
        .unwrap_err();
    match &err {
        AuthError::OAuth {
            code, status, hint, ..
        } => {
            assert_eq!(*code, OAuthErrorCode::UnauthorizedClient);
            assert_eq!(*status, Some(401));
            assert!(hint.as_deref().unwrap().contains("Endpoint::Enterprise"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(seen.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn spent_refresh_token_is_invalid_grant_saying_the_seller_must_authorize_again() {
    let server = MockServer::start_async().await;
    let (_mock, seen) = endpoint(
        &server,
        "/oauth2/token",
        400,
        r#"{"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."}"#,
    )
    .await;
    let err = partner(&server)
        .refresh(&RefreshToken::new("spent/rt+="))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant());
    assert!(!err.is_retryable());
    let message = err.to_string();
    assert!(message.contains("single-use"), "{message}");
    assert!(
        message.contains("the seller must authorize the app again"),
        "{message}"
    );
    assert_eq!(seen.requests().len(), 1, "invalid_grant is never retried");

    // The same body on the code exchange keeps auth-core's general hint.
    let err = partner(&server)
        .exchange_code("used-code", "https://domain.com/cb")
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant());
    assert!(
        err.to_string().contains("must authorize the app again"),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_scope_from_the_server_is_an_oauth_error() {
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(
        &server,
        "/oauth2/token",
        400,
        r#"{"error":"invalid_scope","error_description":"The requested scope is invalid, unknown, or malformed."}"#,
    )
    .await;
    let err = enterprise(&server)
        .client_credentials(&Scopes::from([Scope::PublicWebhookWrite]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::OAuth {
                code: OAuthErrorCode::InvalidScope,
                status: Some(400),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn secrets_echoed_in_error_bodies_never_reach_the_error() {
    let server = MockServer::start_async().await;
    let body = format!(
        r#"{{"error":"invalid_request","error_description":"bad client_secret {CLIENT_SECRET} for refresh token sekrit-rt/+= and code"}}"#
    );
    let (_mock, _) = endpoint(&server, "/oauth2/token", 400, &body).await;
    let client = partner(&server);
    let err = client
        .refresh(&RefreshToken::new("sekrit-rt/+="))
        .await
        .unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(CLIENT_SECRET), "{shown}");
        assert!(!shown.contains("sekrit-rt"), "{shown}");
    }
    // A non-JSON error body is quoted only as a redacted excerpt.
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(
        &server,
        "/oauth2/token",
        418,
        &format!("<html>teapot {CLIENT_SECRET} auth-code-sekrit</html>"),
    )
    .await;
    let err = partner(&server)
        .exchange_code("auth-code-sekrit", "https://domain.com/cb")
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("teapot"), "{shown}");
    assert!(
        !shown.contains(CLIENT_SECRET) && !shown.contains("auth-code-sekrit"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_2xx_body_that_is_not_a_token_is_described_never_quoted() {
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(
        &server,
        "/oauth2/token",
        200,
        r#"{"accessToken":"sekrit-at","expires":7200}"#,
    )
    .await;
    let err = partner(&server)
        .refresh(&RefreshToken::new("rt"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Decode { status: 200, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("sekrit-at"), "{shown}");
    assert!(shown.contains("accessToken"), "keys are named: {shown}");
}

#[tokio::test]
async fn tokens_and_clients_never_print_secrets() {
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(&server, "/oauth2/token", 200, SEED_BODY).await;
    let client = partner(&server);
    let token = client.refresh(&RefreshToken::new("rt")).await.unwrap();
    let shown = format!("{token:?} {client:?} {:?}", client.clone());
    for secret in [
        "test_3m0V3q5MDgxNIR5Cglw",
        "UhLaQeeduKhGPLoEnQ29aLGuV077VSNEp7LPij_P6Tg",
        CLIENT_SECRET,
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains(CLIENT_ID),
        "the client id is not secret: {shown}"
    );
}

#[tokio::test]
async fn dashboard_api_keys_are_checked_against_the_environment_without_quoting_them() {
    use auth_core::TokenSource;
    use auth_easyship::ApiKeySource;

    let prod = "prod_4e2b327e2ef5471885cd0bc50a0c9fe52481793bd309b2c4f";
    let sand = "sand_4e2b327e2ef5471885cd0bc50a0c9fe52481793bd309b2c4f";
    let source = ApiKeySource::new(prod, Environment::Production).unwrap();
    let token = source.fetch_token(None).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), prod);
    assert_eq!(token.expires_at(), None, "API keys never expire");
    assert!(token.is_fresh(
        chrono::Utc::now() + chrono::Duration::days(3650),
        std::time::Duration::ZERO
    ));
    assert!(!format!("{source:?}").contains("4e2b327e"));
    assert!(ApiKeySource::new(sand, Environment::Sandbox).is_ok());

    for (key, env, needle) in [
        (sand, Environment::Production, "for the sandbox environment"),
        (prod, Environment::Sandbox, "for the production environment"),
        (
            "live_4e2b327e2ef5",
            Environment::Production,
            "starts with `prod_`",
        ),
        ("prod_", Environment::Production, "malformed"),
        ("prod_4e2b 327e", Environment::Production, "malformed"),
    ] {
        let err = ApiKeySource::new(key, env).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(needle), "{shown}");
        assert!(!shown.contains("4e2b327e"), "{shown}");
    }
}

#[test]
fn client_builder_refuses_wrong_config_before_any_request() {
    let err = Client::builder()
        .client_id("id")
        .client_secret("s")
        .environment(Environment::Sandbox)
        .endpoint(Endpoint::Enterprise)
        .token_url("http://sandbox.example.com/oauth2/token")
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("refusing to send credentials over `http`"),
        "{err}"
    );
}

//! The exact requests of each LWA grant, in form and JSON mode, and the answers they get.

mod common;

use std::sync::Arc;
use std::time::Duration;

use auth_amazon_sp::{BodyFormat, GrantlessGrant, RefreshGrant, Scope};
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    AccessToken, AuthError, ManualClock, OAuthErrorCode, RefreshToken, Scopes, Token, TokenSource,
};
use common::*;
use httpmock::When;
use httpmock::prelude::*;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

/// `POST /auth/o2/token` with a form body that is exactly `body`.
fn token_form(when: When, body: impl Into<String>) -> When {
    when.method(POST)
        .path("/auth/o2/token")
        .header("content-type", FORM)
        .body(body.into())
}

/// `POST /auth/o2/token` with a JSON body that is exactly `body`.
fn token_json(when: When, body: serde_json::Value) -> When {
    when.method(POST)
        .path("/auth/o2/token")
        .header("content-type", "application/json")
        .is_true(json_exactly(body))
}

#[tokio::test]
async fn refresh_sends_exact_form_body_without_scope() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .header("content-type", FORM)
                .header("accept", "application/json")
                .header_prefix("user-agent", "auth-amazon-sp/")
                .header_missing("authorization")
                .header_missing("x-amz-access-token")
                .form_urlencoded_tuple_missing("scope")
                .body(form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", REFRESH_TOKEN),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ]));
            then.status(200).json_body(token_body());
        })
        .await;
    let token = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        REFRESH_TOKEN
    );
    assert_eq!(token.token_type(), "bearer");
}

#[tokio::test]
async fn form_body_percent_encodes_pipe_plus_slash_and_equals() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            // Spelled out, not built with the form encoder: the encoding is the point.
            token_form(
                when,
                format!(
                    "grant_type=refresh_token\
                     &refresh_token=Atzr%7CIwEBIA%2Bfake%2Frefresh%3Dtoken\
                     &client_id={CLIENT_ID}\
                     &client_secret={CLIENT_SECRET}"
                ),
            );
            then.status(200).json_body(token_body());
        })
        .await;
    client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn grantless_sends_space_separated_scopes() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .header("content-type", FORM)
                .body(
                    "grant_type=client_credentials\
                     &scope=sellingpartnerapi%3A%3Anotifications+sellingpartnerapi%3A%3Aclient_credential%3Arotation\
                     &client_id=amzn1.application-oa2-client.0123456789abcdef0123456789abcdef\
                     &client_secret=amzn1.oa2-cs.v1.0f1e2d3c4b5a69788796a5b4c3d2e1f0ffeeddccbbaa99887766554433221100",
                );
            then.status(200).json_body(json!({
                "access_token": ACCESS_TOKEN,
                "scope": "sellingpartnerapi::notifications sellingpartnerapi::client_credential:rotation",
                "token_type": "bearer",
                "expires_in": 3600
            }));
        })
        .await;
    let scopes = Scopes::from([
        Scope::Notifications,
        Scope::ClientCredentialRotation,
        Scope::Notifications,
    ]);
    let token = client(&server).grantless(&scopes).await.unwrap();
    mock.assert_calls_async(1).await;
    assert!(token.refresh_token().is_none());
    assert_eq!(
        token.scopes().to_string(),
        "sellingpartnerapi::notifications sellingpartnerapi::client_credential:rotation"
    );
}

#[tokio::test]
#[allow(deprecated)]
async fn grantless_renders_the_deprecated_migration_scope() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            token_form(
                when,
                form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "sellingpartnerapi::migration"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ]),
            );
            then.status(200)
                .json_body(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}));
        })
        .await;
    let scopes: Scopes<Scope> = "sellingpartnerapi::migration".parse().unwrap();
    assert!(scopes.iter().all(Scope::is_deprecated));
    client(&server).grantless(&scopes).await.unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn grantless_without_scope_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(200).json_body(token_body());
        })
        .await;
    let err = client(&server).grantless(&Scopes::new()).await.unwrap_err();
    assert!(matches!(err, AuthError::InvalidScope { .. }), "{err:?}");
    mock.assert_calls_async(0).await;
}

#[test]
fn unknown_grantless_scope_does_not_parse() {
    let err = "sellingpartnerapi::notifications sellingpartnerapi::reports"
        .parse::<Scopes<Scope>>()
        .unwrap_err();
    match err {
        AuthError::InvalidScope { scopes, .. } => {
            assert_eq!(scopes, ["sellingpartnerapi::reports"])
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn exchange_code_sends_code_and_optional_redirect_uri() {
    let server = MockServer::start_async().await;
    let without = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/auth/o2/token")
                .header("content-type", FORM)
                .body(form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "ANDLxeuaQfeUkCQnvEcS"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ]));
            then.status(200).json_body(token_body());
        })
        .await;
    let with = server
        .mock_async(|when, then| {
            token_form(
                when,
                form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "ANDLxeuaQfeUkCQnvEcS"),
                    ("redirect_uri", "https://app.example.com/amazon/callback"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ]),
            );
            then.status(200).json_body(token_body());
        })
        .await;
    let client = client(&server);
    let token = client
        .exchange_code("ANDLxeuaQfeUkCQnvEcS", None)
        .await
        .unwrap();
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        REFRESH_TOKEN
    );
    client
        .exchange_code(
            "ANDLxeuaQfeUkCQnvEcS",
            Some("https://app.example.com/amazon/callback"),
        )
        .await
        .unwrap();
    without.assert_calls_async(1).await;
    with.assert_calls_async(1).await;
}

#[tokio::test]
async fn exchange_code_refuses_empty_code_or_relative_redirect_before_sending() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(200).json_body(token_body());
        })
        .await;
    let client = client(&server);
    assert!(matches!(
        client.exchange_code("", None).await,
        Err(AuthError::InvalidConfig(_))
    ));
    assert!(matches!(
        client.exchange_code("code", Some("/callback")).await,
        Err(AuthError::InvalidConfig(_))
    ));
    assert!(matches!(
        client.refresh(&RefreshToken::new("")).await,
        Err(AuthError::InvalidConfig(_))
    ));
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn json_mode_sends_exact_objects_for_every_grant() {
    let server = MockServer::start_async().await;
    let refresh = server
        .mock_async(|when, then| {
            token_json(
                when,
                json!({
                    "grant_type": "refresh_token",
                    "refresh_token": REFRESH_TOKEN,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }),
            );
            then.status(200).json_body(token_body());
        })
        .await;
    let grantless = server
        .mock_async(|when, then| {
            token_json(
                when,
                json!({
                    "grant_type": "client_credentials",
                    "scope": "sellingpartnerapi::notifications",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }),
            );
            then.status(200)
                .json_body(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}));
        })
        .await;
    let code = server
        .mock_async(|when, then| {
            token_json(
                when,
                json!({
                    "grant_type": "authorization_code",
                    "code": "ANcode",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }),
            );
            then.status(200).json_body(token_body());
        })
        .await;
    let code_redirect = server
        .mock_async(|when, then| {
            token_json(
                when,
                json!({
                    "grant_type": "authorization_code",
                    "code": "ANcode2",
                    "redirect_uri": "https://app.example.com/cb",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }),
            );
            then.status(200).json_body(token_body());
        })
        .await;
    let client = builder(&server)
        .body_format(BodyFormat::Json)
        .build()
        .unwrap();
    client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    client
        .grantless(&Scopes::from([Scope::Notifications]))
        .await
        .unwrap();
    client.exchange_code("ANcode", None).await.unwrap();
    client
        .exchange_code("ANcode2", Some("https://app.example.com/cb"))
        .await
        .unwrap();
    for mock in [refresh, grantless, code, code_redirect] {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn expiry_is_send_time_plus_expires_in() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200).json_body(token_body());
        })
        .await;
    let start: DateTime<Utc> = "2026-05-01T08:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let client = builder(&server).clock(clock).build().unwrap();
    let token = client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    assert_eq!(
        token.expires_at(),
        Some(start + auth_core::chrono::Duration::seconds(3600))
    );
    assert_eq!(token.issued_at(), Some(start));
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_when_lwa_leaves_it_out() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200).json_body(
                json!({"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}),
            );
        })
        .await;
    let token = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        REFRESH_TOKEN
    );
}

#[tokio::test]
async fn refresh_grant_presents_the_previous_tokens_refresh_token() {
    let server = MockServer::start_async().await;
    let refresh_with = |refresh_token: &'static str| {
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
    };
    let stored = server
        .mock_async(|when, then| {
            token_form(when, refresh_with("Atzr|stored"));
            then.status(200).json_body(token_body());
        })
        .await;
    let grant = RefreshGrant::new(client(&server));
    assert!(grant.needs_refresh_token());
    let previous = Token::new(AccessToken::new("old"), None)
        .with_refresh_token(RefreshToken::new("Atzr|stored"));
    grant.fetch_token(Some(&previous)).await.unwrap();
    stored.assert_calls_async(1).await;

    let err = grant.fetch_token(None).await.unwrap_err();
    assert!(err.to_string().contains("authorize"), "{err}");
}

#[tokio::test]
async fn refresh_grant_without_refresh_token_is_no_refresh_token_and_sends_nothing() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(200).json_body(token_body());
        })
        .await;
    let grant = RefreshGrant::new(client(&server));
    let no_refresh_token = Token::new(AccessToken::new("old"), None);
    for previous in [None, Some(&no_refresh_token)] {
        let err = grant.fetch_token(previous).await.unwrap_err();
        // The same answer as Easyship's and Orange Connex's grants; not `invalid_grant`,
        // which would say the seller revoked the authorization.
        assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
        assert!(!err.is_invalid_grant() && !err.is_retryable());
        assert!(err.to_string().contains("authorize the app"), "{err}");
    }
    let provider = auth_core::CachedTokenProvider::new(grant);
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err:?}");
    let status = provider.status();
    assert!(status.reauthorization_required);
    assert!(
        status
            .last_error
            .is_some_and(|e| matches!(e, AuthError::NoRefreshToken))
    );
    mock.assert_calls_async(0).await;
}

#[tokio::test]
async fn grantless_grant_is_a_token_source() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            token_form(
                when,
                form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "sellingpartnerapi::client_credential:rotation"),
                    ("client_id", CLIENT_ID),
                    ("client_secret", CLIENT_SECRET),
                ]),
            );
            then.status(200)
                .json_body(json!({"access_token": ACCESS_TOKEN, "expires_in": 3600}));
        })
        .await;
    let grant = GrantlessGrant::new(
        client(&server),
        Scopes::from([Scope::ClientCredentialRotation]),
    )
    .unwrap();
    assert!(!grant.needs_refresh_token());
    let token = grant.fetch_token(None).await.unwrap();
    assert_eq!(token.access_token().expose_secret(), ACCESS_TOKEN);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_client_is_never_retried_and_hints_at_the_180_day_rotation() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(401)
                .header("x-amzn-requestid", "req-123")
                .json_body(json!({"error_description": "Client authentication failed", "error": "invalid_client"}));
        })
        .await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    match &err {
        AuthError::OAuth {
            code,
            status,
            hint,
            request_id,
            description,
            ..
        } => {
            assert_eq!(*code, OAuthErrorCode::InvalidClient);
            assert_eq!(*status, Some(401));
            assert!(hint.as_deref().unwrap().contains("180 days"));
            assert_eq!(request_id.as_deref(), Some("req-123"));
            assert_eq!(description.as_deref(), Some("Client authentication failed"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("180 days"), "{err}");
}

#[tokio::test]
async fn invalid_grant_says_authorize_again_and_is_not_retried() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(400).json_body(json!({
                "error_index": "YXBwbGljYXRpb24",
                "error_description": "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
                "error": "invalid_grant",
                "request_id": "7c8f0c47-9d8e-4b5e-a1f4-3c1f8f1b2f90"
            }));
        })
        .await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    mock.assert_calls_async(1).await;
    assert!(err.is_invalid_grant());
    assert!(err.to_string().contains("authorize the app again"), "{err}");
    assert!(
        matches!(&err, AuthError::OAuth { request_id: Some(id), .. } if id == "7c8f0c47-9d8e-4b5e-a1f4-3c1f8f1b2f90")
    );
}

#[tokio::test]
async fn server_errors_are_retried_within_the_policy() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(500)
                .json_body(json!({"error": "server_error", "error_description": "Internal error"}));
        })
        .await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    mock.assert_calls_async(3).await;
    assert!(err.is_retryable());
}

#[tokio::test]
async fn refresh_is_idempotent_and_retried_after_an_attempt_timeout() {
    // LWA refresh tokens do not rotate: a refresh may be sent again after a timeout.
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|_, then| {
            then.status(200)
                .json_body(token_body())
                .delay(Duration::from_millis(300));
        })
        .await;
    let client = builder(&server)
        .retry_policy(
            fast_retries()
                .with_max_attempts(2)
                .with_attempt_timeout(Duration::from_millis(100))
                .with_budget(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    let err = client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Timeout { after, .. } if after == Duration::from_millis(100)),
        "{err:?}"
    );
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn error_bodies_echoing_secrets_are_redacted() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(400).json_body(json!({
                "error": "invalid_request",
                "error_description": format!("bad client_secret {CLIENT_SECRET} for refresh_token {REFRESH_TOKEN}"),
            }));
        })
        .await;
    let client = client(&server);
    let err = client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    assert!(matches!(
        &err,
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidRequest,
            ..
        }
    ));
    assert_no_secret(&format!("{err} {err:?} {client:?}"));

    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(502)
                .body(format!("<html>bad gateway {CLIENT_SECRET}</html>"));
        })
        .await;
    let err = common::client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Http { status: 502, .. }),
        "{err:?}"
    );
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn success_body_that_does_not_parse_is_described_not_quoted() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200)
                .json_body(json!({"accessToken": ACCESS_TOKEN, "expires_in": 3600}));
        })
        .await;
    let err = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Decode { status: 200, .. }),
        "{err:?}"
    );
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn token_debug_never_shows_tokens() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200).json_body(token_body());
        })
        .await;
    let token = client(&server)
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap();
    assert_no_secret(&format!("{token:?}"));
}

#[tokio::test]
async fn a_slow_lwa_times_out_per_attempt() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200)
                .delay(Duration::from_millis(500))
                .json_body(token_body());
        })
        .await;
    let client = builder(&server)
        .retry_policy(
            fast_retries()
                .with_attempt_timeout(Duration::from_millis(50))
                .with_max_attempts(1),
        )
        .build()
        .unwrap();
    let err = client
        .refresh(&RefreshToken::new(REFRESH_TOKEN))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Timeout { .. }), "{err:?}");
}

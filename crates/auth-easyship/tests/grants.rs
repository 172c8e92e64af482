//! The exact request of every Easyship token call, and what comes back.

mod common;

use auth_core::{AccessToken, AuthError, ManualClock, RefreshToken, Scopes};
use auth_easyship::{Client, Scope};
use common::*;
use httpmock::MockServer;
use serde_json::json;

/// The exact JSON body and the headers of a token call, with httpmock's exact
/// `json_body` matcher (no extra properties allowed).
async fn assert_exact_body(
    grant: impl AsyncFnOnce(Client) -> Result<auth_core::Token, AuthError>,
    expected: serde_json::Value,
    enterprise_endpoint: bool,
) -> auth_core::Token {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth2/token")
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header_missing("authorization")
                .json_body(expected.clone());
            then.status(200)
                .header("content-type", "application/json")
                .body(SEED_BODY);
        })
        .await;
    let client = if enterprise_endpoint {
        enterprise(&server)
    } else {
        partner(&server)
    };
    let token = grant(client)
        .await
        .expect("the mock matched the exact body");
    mock.assert_calls_async(1).await;
    token
}

#[tokio::test]
async fn authorization_code_body_is_exactly_the_documented_four_properties() {
    let token = assert_exact_body(
        async |c| {
            c.exchange_code("code/with+special=", "https://domain.com/callback")
                .await
        },
        json!({
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": "code/with+special=",
            "redirect_uri": "https://domain.com/callback",
        }),
        false,
    )
    .await;
    assert_eq!(
        token.access_token().expose_secret(),
        "test_3m0V3q5MDgxNIR5Cglw/ONL8ZMPNy91f1Kolt+BOWG8="
    );
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        "UhLaQeeduKhGPLoEnQ29aLGuV077VSNEp7LPij_P6Tg"
    );
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(token.scopes().len(), 9);
}

#[tokio::test]
async fn refresh_body_sends_the_token_with_slash_plus_equals_verbatim() {
    let rt = RefreshToken::new("rt/ab+cd==");
    assert_exact_body(
        async |c| c.refresh(&rt).await,
        json!({
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "rt/ab+cd==",
        }),
        false,
    )
    .await;
}

#[tokio::test]
async fn refresh_with_scopes_adds_the_optional_scope() {
    let rt = RefreshToken::new("rt");
    let scopes = Scopes::from([Scope::Rate, Scope::Label]);
    assert_exact_body(
        async |c| c.refresh_with_scopes(&rt, &scopes).await,
        json!({
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "rt",
            "scope": "rate label",
        }),
        false,
    )
    .await;
}

#[tokio::test]
async fn client_credentials_body_has_the_required_scope() {
    let scopes = Scopes::from([
        Scope::PublicShipmentRead,
        Scope::EnterpriseOrganizationWrite,
    ]);
    assert_exact_body(
        async |c| c.client_credentials(&scopes).await,
        json!({
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "public.shipment:read enterprise.organization:write",
        }),
        true,
    )
    .await;
}

/// [inferred] Easyship documents only `easyship_company_id` for the `delegated_account`
/// grant; the client id and secret are inferred from every other grant of the token
/// endpoint, which all carry them in the body. This pins that inferred shape.
#[tokio::test]
async fn delegated_account_body_is_inferred_client_auth_plus_child_company_and_optional_scope() {
    assert_exact_body(
        async |c| c.delegated_account("CUS123456", &Scopes::new()).await,
        json!({
            "grant_type": "delegated_account",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "easyship_company_id": "CUS123456",
        }),
        true,
    )
    .await;
    let scopes = Scopes::from([Scope::Rate]);
    assert_exact_body(
        async |c| c.delegated_account("CUS123456", &scopes).await,
        json!({
            "grant_type": "delegated_account",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "easyship_company_id": "CUS123456",
            "scope": "rate",
        }),
        true,
    )
    .await;
}

#[tokio::test]
async fn revoke_posts_the_documented_body_and_accepts_empty_object() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/oauth2/revoke")
                .header("content-type", "application/json")
                .json_body(json!({
                    "token": "at/+=",
                    "grant_type": "client_credentials",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                }));
            then.status(200)
                .header("content-type", "application/json")
                .body("{}");
        })
        .await;
    let client = partner(&server);
    client.revoke(&AccessToken::new("at/+=")).await.unwrap();
    mock.assert_calls_async(1).await;

    let (refresh_mock, seen) = endpoint(&server, "/oauth2/revoke", 200, "{}").await;
    mock.delete_async().await;
    client
        .revoke_refresh_token(&RefreshToken::new("rt-9"))
        .await
        .unwrap();
    let request = seen.only();
    assert_eq!(request.method(), "POST");
    assert_eq!(
        header(&request, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        json(&request),
        json!({
            "token": "rt-9",
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        })
    );
    refresh_mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn refresh_response_without_refresh_token_keeps_the_previous_one() {
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(
        &server,
        "/oauth2/token",
        200,
        r#"{"access_token":"at-2","token_type":"Bearer","expires_in":7200,"scope":"rate","created_at":1645532460}"#,
    )
    .await;
    let token = partner(&server)
        .refresh(&RefreshToken::new("rt-1/+="))
        .await
        .unwrap();
    assert_eq!(token.access_token().expose_secret(), "at-2");
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-1/+=");
}

#[tokio::test]
async fn refresh_response_with_refresh_token_replaces_it() {
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(
        &server,
        "/oauth2/token",
        200,
        r#"{"access_token":"at-2","token_type":"Bearer","expires_in":7200,"refresh_token":"rt-2+/=","created_at":1645532460}"#,
    )
    .await;
    let token = partner(&server)
        .refresh(&RefreshToken::new("rt-1"))
        .await
        .unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rt-2+/=");
}

#[tokio::test]
async fn client_credentials_token_has_no_refresh_token() {
    let server = MockServer::start_async().await;
    let (_mock, _) = endpoint(
        &server,
        "/oauth2/token",
        200,
        r#"{"access_token":"app/token+=","token_type":"Bearer","expires_in":7200,"scope":"public.rate:read","created_at":1645532460}"#,
    )
    .await;
    let token = enterprise(&server)
        .client_credentials(&Scopes::from([Scope::PublicRateRead]))
        .await
        .unwrap();
    assert!(token.refresh_token().is_none());
    assert_eq!(token.scopes().to_string(), "public.rate:read");
}

#[tokio::test]
async fn expiry_is_send_time_plus_lifetime_shortened_by_recent_created_at() {
    let sent: chrono::DateTime<chrono::Utc> = "2022-02-22T12:22:00Z".parse().unwrap();
    let server = MockServer::start_async().await;
    // created_at (12:21:00) is 60 s before our send time: the server's expiry is earlier.
    let (_mock, _) = endpoint(&server, "/oauth2/token", 200, SEED_BODY).await;
    let clock = std::sync::Arc::new(ManualClock::new(sent));
    let client = builder(&server).clock(clock).build().unwrap();
    let token = client.refresh(&RefreshToken::new("rt")).await.unwrap();
    assert_eq!(
        token.expires_at().unwrap().timestamp(),
        1_645_532_460 + 7200
    );
    assert_eq!(token.issued_at(), Some(sent));

    // A server clock a day off is ignored: send time + expires_in.
    let later = sent + chrono::Duration::days(1);
    let client = builder(&server)
        .clock(std::sync::Arc::new(ManualClock::new(later)))
        .build()
        .unwrap();
    let token = client.refresh(&RefreshToken::new("rt")).await.unwrap();
    assert_eq!(
        token.expires_at(),
        Some(later + chrono::Duration::seconds(7200))
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start_async().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let _mock = server
        .mock_async(move |when, then| {
            when.method("POST").path("/oauth2/token");
            then.respond_with(move |_| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (status, body) = if n == 0 {
                    (503, "upstream down")
                } else {
                    (200, SEED_BODY)
                };
                httpmock::HttpMockResponse::builder()
                    .status(status)
                    .body(body)
                    .build()
            });
        })
        .await;
    let token = partner(&server)
        .exchange_code("c", "https://domain.com/callback")
        .await
        .unwrap();
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn exact_body_matcher_refuses_an_extra_property() {
    // Guards the tests above: httpmock's `json_body` is an exact match, so a body with one
    // property more than expected is not answered (404).
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/oauth2/token").json_body(json!({
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": "rt",
            }));
            then.status(200).body(SEED_BODY);
        })
        .await;
    let err = partner(&server)
        .refresh_with_scopes(&RefreshToken::new("rt"), &Scopes::from([Scope::Rate]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    mock.assert_calls_async(0).await;
}

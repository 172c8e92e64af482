//! Exit codes and messages: 1 with the problem and the fix when the vendor refuses, 2 for
//! usage errors; never a secret.

use httpmock::MockServer;

use crate::common::*;

#[test]
fn invalid_grant_exits_1_and_says_to_authorize_again() {
    let server = MockServer::start();
    let endpoint = easyship_refresh(
        &server,
        REFRESH_TOKEN,
        400,
        fixture("easyship-invalid-grant.json"),
    );
    let cache = tempfile::tempdir().unwrap();
    let ran = run(authtoken()
        .args(["easyship", "token", "--token-url"])
        .arg(server.url("/oauth2/token"))
        .arg("--cache")
        .arg(cache.path())
        .env("AUTHTOKEN_REFRESH_TOKEN", REFRESH_TOKEN));
    ran.assert_no_secret(CONFIGURED);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    assert!(
        ran.stderr.starts_with("error: easyship: "),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("invalid_grant"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "the seller must authorize the app again: run `authtoken easyship authorize-url`"
        ),
        "{}",
        ran.stderr
    );
    endpoint.assert_calls(1);
}

/// A cached refresh token the vendor refuses is marked dead in the store: `status` says
/// the seller must authorize again, and the next `token` fails at once, without sending
/// it again.
#[test]
fn a_refused_cached_refresh_token_shows_as_reauthorize_in_status() {
    let server = MockServer::start();
    easyship_refresh(
        &server,
        REFRESH_TOKEN,
        200,
        easyship_rotation("at-Dead-1", "rt-Dead-2", 1),
    );
    let refused = easyship_refresh(
        &server,
        "rt-Dead-2",
        400,
        fixture("easyship-invalid-grant.json"),
    );
    let cache = tempfile::tempdir().unwrap();
    let token = || {
        let ran = run(authtoken()
            .args(["easyship", "token", "--token-url"])
            .arg(server.url("/oauth2/token"))
            .arg("--cache")
            .arg(cache.path())
            .env("AUTHTOKEN_REFRESH_TOKEN", REFRESH_TOKEN));
        ran.assert_no_secret(&[CLIENT_SECRET, REFRESH_TOKEN, "rt-Dead-2"]);
        ran
    };
    assert_eq!(token().ok(), "at-Dead-1\n");
    std::thread::sleep(std::time::Duration::from_millis(1300));
    for _ in 0..2 {
        let ran = token();
        assert_eq!(ran.code, Some(1), "{}", ran.stderr);
        assert!(
            ran.stderr.contains("authtoken easyship authorize-url"),
            "{}",
            ran.stderr
        );
    }
    refused.assert_calls(1);

    let ran = run(authtoken()
        .args(["status", "--json"])
        .arg("--cache")
        .arg(cache.path()));
    ran.assert_no_secret(&[CLIENT_SECRET, REFRESH_TOKEN, "rt-Dead-2", "at-Dead-1"]);
    let json: serde_json::Value = serde_json::from_str(&ran.ok()).unwrap();
    assert_eq!(json[0]["reauthorization_required"], true, "{json}");
}

/// Orange Connex quotes the refused refresh token in its error description: the message
/// keeps the description with the token removed.
#[test]
fn an_error_body_quoting_the_refresh_token_prints_without_it() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("POST").path("/oauth/token");
        then.status(200)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"error":"invalid_grant","error_description":"Invalid refresh token: {REFRESH_TOKEN}"}}"#
            ));
    });
    let ran = run(authtoken()
        .args(["orangeconnex", "token", "--base-url"])
        .arg(server.base_url())
        .env("AUTHTOKEN_REFRESH_TOKEN", REFRESH_TOKEN)
        .env("AUTHTOKEN_CLIENT_KEY", CLIENT_KEY));
    ran.assert_no_secret(CONFIGURED);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stderr.contains("invalid_grant"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("authtoken orangeconnex authorize-url"),
        "{}",
        ran.stderr
    );
}

#[test]
fn usage_errors_exit_2_before_any_request() {
    let unreachable = "http://127.0.0.1:9/oauth2/token";
    let cases: &[&[&str]] = &[
        &["salesforce", "token"],
        &["easyship"],
        &["pitneybowes", "token", "--show-refresh-token"],
        &["pitneybowes", "token", "--json", "--header"],
        &["pitneybowes", "authorize-url"],
        &["amazon-sp", "token", "--env", "staging"],
        // Easyship spends the refresh token: without a cache the new one would be lost.
        &[
            "easyship",
            "token",
            "--refresh-token",
            REFRESH_TOKEN,
            "--token-url",
            unreachable,
        ],
        // No refresh token anywhere.
        &["orangeconnex", "token", "--token-url", unreachable],
        &[
            "amazon-sp",
            "token",
            "--refresh-token",
            REFRESH_TOKEN,
            "--scope",
            "sellingpartnerapi::notifications",
        ],
        // The vendor crate refuses the configuration (a plain-http host that is not loopback).
        &[
            "pitneybowes",
            "token",
            "--token-url",
            "http://example.com/oauth/token",
        ],
        // A secret given on the command line next to an unknown option.
        &[
            "pitneybowes",
            "token",
            "--client-secret",
            CLIENT_SECRET,
            "--bogus",
        ],
    ];
    for args in cases {
        let ran = run(authtoken().args(*args));
        ran.assert_no_secret(CONFIGURED);
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr);
        assert!(
            ran.stderr.starts_with("error: "),
            "{args:?}: {}",
            ran.stderr
        );
        assert_eq!(ran.stdout, "", "{args:?}");
    }
}

#[test]
fn missing_credentials_are_a_usage_error_that_names_the_variables() {
    let ran = run(authtoken()
        .env_remove("AUTHTOKEN_CLIENT_ID")
        .args(["pitneybowes", "token"]));
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(ran.stderr.contains("api_key"), "{}", ran.stderr);
    assert!(ran.stderr.contains("AUTHTOKEN_"), "{}", ran.stderr);
}

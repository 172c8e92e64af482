//! `--cache DIR` across invocations: a fresh token is reused, a single-use refresh token
//! rotates through the store, `exchange-code` seeds it; every file stays mode 0600.

use std::time::Duration;

use httpmock::MockServer;

use crate::common::*;

#[test]
fn a_cached_token_is_reused_by_the_next_invocation() {
    let server = MockServer::start();
    let endpoint = pitneybowes_endpoint(&server);
    let cache = tempfile::tempdir().unwrap();
    let token = || {
        let ran = run(authtoken()
            .args(["pitneybowes", "token", "--token-url"])
            .arg(server.url("/oauth/token"))
            .arg("--cache")
            .arg(cache.path()));
        ran.assert_no_secret(CONFIGURED);
        ran.ok()
    };
    let first = token();
    let second = token();
    assert_eq!(first, second);
    endpoint.assert_calls(1);
    #[cfg(unix)]
    assert_private_files(cache.path());
}

/// `--store redis://...`: two invocations share the token through Redis (as two hosts
/// would), under the fleet's key prefix; `--store file:DIR` is `--cache DIR`.
#[test]
fn a_token_in_a_redis_or_file_store_is_reused_by_the_next_invocation() {
    let Some(url) = redis_url() else { return };
    let server = MockServer::start();
    let endpoint = pitneybowes_endpoint(&server);
    let prefix = format!("authtoken-cli-test:{}:", std::process::id());
    let token = |store: &str| {
        let ran = run(authtoken()
            .args(["pitneybowes", "token", "--token-url"])
            .arg(server.url("/oauth/token"))
            .env("AUTHTOKEN_STORE", store)
            .args(["--store-prefix", &prefix]));
        ran.assert_no_secret(CONFIGURED);
        ran.ok()
    };
    let first = token(&url);
    assert_eq!(token(&url), first);
    endpoint.assert_calls(1);

    let dir = tempfile::tempdir().unwrap();
    let file = format!("file:{}", dir.path().display());
    let from_file = token(&file);
    assert_eq!(token(&file), from_file);
    endpoint.assert_calls(2);
}

/// A Redis URL's password is never printed, not even when Redis cannot be reached.
#[test]
fn an_unreachable_redis_store_fails_without_printing_its_password() {
    let ran = run(authtoken()
        .args([
            "pitneybowes",
            "token",
            "--token-url",
            "http://127.0.0.1:9/t",
        ])
        .env("AUTHTOKEN_STORE", "redis://:pw-Redis-9d1@127.0.0.1:9/0"));
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("redis://***@127.0.0.1:9/0"),
        "{}",
        ran.stderr
    );
    ran.assert_no_secret(&["pw-Redis-9d1"]);
}

/// The first invocation spends the configured refresh token and caches the rotated one
/// with a one-second access token; the second, once that expired, presents the rotated
/// one from the store, although the configured one is still given.
#[test]
fn a_rotated_refresh_token_is_presented_by_the_next_invocation() {
    let server = MockServer::start();
    let first = easyship_refresh(
        &server,
        REFRESH_TOKEN,
        200,
        easyship_rotation("at-One-1", "rt-Rotated-2", 1),
    );
    let second = easyship_refresh(
        &server,
        "rt-Rotated-2",
        200,
        easyship_rotation("at-Two-2", "rt-Rotated-3", 7200),
    );
    let cache = tempfile::tempdir().unwrap();
    let token = || {
        let ran = run(authtoken()
            .args(["easyship", "token", "--token-url"])
            .arg(server.url("/oauth2/token"))
            .arg("--cache")
            .arg(cache.path())
            .env("AUTHTOKEN_REFRESH_TOKEN", REFRESH_TOKEN));
        ran.assert_no_secret(&[CLIENT_SECRET, REFRESH_TOKEN, "rt-Rotated-2", "rt-Rotated-3"]);
        ran.ok()
    };

    assert_eq!(token(), "at-One-1\n");
    first.assert_calls(1);
    // Real time: another process must see the cached token expire.
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(token(), "at-Two-2\n");
    first.assert_calls(1);
    second.assert_calls(1);
    #[cfg(unix)]
    assert_private_files(cache.path());
}

/// `exchange-code --cache` installs the seller's tokens; `token --cache` then serves the
/// cached access token without a refresh token on the command line.
#[test]
fn exchange_code_seeds_the_cache_for_token() {
    let server = MockServer::start();
    let exchange = server.mock(|when, then| {
        when.method("POST")
            .path("/oauth/token")
            .query_param("grant_type", "authorization_code")
            .query_param("code", CODE)
            .query_param("redirect_uri", "https://app.example.com/callback");
        then.status(200)
            .header("content-type", "application/json")
            .body(fixture("orangeconnex-exchange.json"));
    });
    let cache = tempfile::tempdir().unwrap();
    let orangeconnex = |args: &[&str]| {
        let ran = run(authtoken()
            .arg("orangeconnex")
            .args(args)
            .arg("--base-url")
            .arg(server.base_url())
            .arg("--cache")
            .arg(cache.path())
            .env("AUTHTOKEN_CLIENT_KEY", CLIENT_KEY));
        ran.assert_no_secret(&[
            CLIENT_SECRET,
            CLIENT_KEY,
            CODE,
            "6a1f1f4c-3b1e-4d8e-8a5e-0e2d2c7b9f34",
        ]);
        ran.ok()
    };

    let printed = orangeconnex(&[
        "exchange-code",
        "--redirect-uri",
        "https://app.example.com/callback",
        "--code",
        CODE,
    ]);
    assert_eq!(printed, "0f3e5d0a-7c55-4c5e-9d6c-2b1f5f0c9a11\n");
    assert_eq!(orangeconnex(&["token"]), printed);
    exchange.assert_calls(1);
    #[cfg(unix)]
    assert_private_files(cache.path());
}

#[test]
fn exchange_code_without_a_cache_refuses_to_lose_the_refresh_token() {
    let ran = run(authtoken().args([
        "easyship",
        "exchange-code",
        "--code",
        CODE,
        "--redirect-uri",
        "https://app.example.com/callback",
        "--token-url",
        "http://127.0.0.1:9/oauth2/token",
    ]));
    ran.assert_no_secret(CONFIGURED);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(ran.stderr.contains("--cache DIR"), "{}", ran.stderr);
}

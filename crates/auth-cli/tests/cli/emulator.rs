//! `authtoken` against the Easyship emulator: the vendor's real single-use rotation, so a
//! refresh token presented twice would be refused.

use std::time::Duration;

use auth_easyship::emulator::Emulator;

use crate::common::{Ran, authtoken, run};

/// The access tokens' lifetime. Easyship's whole-second `created_at` makes a token's
/// measured life up to a second shorter, and the next invocation must find the first
/// token well before its refresh window even on a loaded machine: not 1 s.
const LIFETIME: Duration = Duration::from_secs(3);
/// Long enough for a token to have expired.
const PAST_EXPIRY: Duration = Duration::from_millis(3_200);

#[test]
fn cache_reuse_rotation_and_a_revoked_grant_across_invocations() {
    // A current-thread runtime drives the emulator while each invocation runs on a
    // blocking thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime.block_on(async { Emulator::start().await });
    emulator.set_access_token_lifetime(LIFETIME);
    let seed = emulator.issue_refresh_token("seller-1", None);
    let dir = tempfile::tempdir().unwrap();
    let invoke = || -> Ran {
        let mut command = authtoken();
        command
            .env("AUTHTOKEN_CLIENT_ID", emulator.client_id())
            .env("AUTHTOKEN_CLIENT_SECRET", emulator.client_secret())
            .env("AUTHTOKEN_REFRESH_TOKEN", &seed)
            .args(["easyship", "token", "--base-url", emulator.url().as_str()])
            .arg("--cache")
            .arg(dir.path());
        runtime.block_on(async move {
            tokio::task::spawn_blocking(move || run(&mut command))
                .await
                .unwrap()
        })
    };

    // The seed is spent once; the rotated refresh token goes to the cache.
    let first = invoke();
    let secret = emulator.client_secret();
    first.assert_no_secret(&[seed.as_str(), secret.as_str()]);
    let first = first.ok();
    assert!(!first.trim().is_empty());
    // At once: the cached token, no request.
    assert_eq!(invoke().ok(), first);
    assert_eq!(emulator.counts().grant("refresh_token"), 1);

    // Expired: the stored rotation is presented (the seed again would be invalid_grant).
    std::thread::sleep(PAST_EXPIRY);
    let second = invoke().ok();
    assert_ne!(second, first);
    assert_eq!(emulator.counts().grant("refresh_token"), 2);
    assert_eq!(emulator.counts().token_errors(), 0);

    // The seller revokes the app: exit 1, the fix named, no secret.
    emulator.revoke_seller("seller-1");
    std::thread::sleep(PAST_EXPIRY);
    let failed = invoke();
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("authorize"), "{}", failed.stderr);
    failed.assert_no_secret(&[seed.as_str(), secret.as_str()]);
}

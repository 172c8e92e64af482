//! `authtoken status`: what the cache holds, and no secret.

use httpmock::MockServer;

use crate::common::*;

#[test]
fn status_lists_each_cached_token_without_a_secret() {
    let server = MockServer::start();
    pitneybowes_endpoint(&server);
    easyship_refresh(
        &server,
        REFRESH_TOKEN,
        200,
        easyship_rotation("at-Status-1", "rt-Status-2", 7200),
    );
    let cache = tempfile::tempdir().unwrap();
    run(authtoken()
        .args(["pitneybowes", "token", "--env", "sandbox", "--token-url"])
        .arg(server.url("/oauth/token"))
        .arg("--cache")
        .arg(cache.path()))
    .ok();
    run(authtoken()
        .args(["easyship", "token", "--subject", "seller 42", "--token-url"])
        .arg(server.url("/oauth2/token"))
        .arg("--cache")
        .arg(cache.path())
        .env("AUTHTOKEN_REFRESH_TOKEN", REFRESH_TOKEN))
    .ok();
    let secrets = [
        CLIENT_SECRET,
        REFRESH_TOKEN,
        "rt-Status-2",
        "at-Status-1",
        "kT7yP2mQ9vXb4nRc1sLd8wZeHj3",
    ];

    let ran = run(authtoken().arg("status").arg("--cache").arg(cache.path()));
    ran.assert_no_secret(&secrets);
    let table = ran.ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("VENDOR"), "{table}");
    let easyship = lines.iter().find(|l| l.starts_with("easyship")).unwrap();
    assert!(easyship.contains("seller 42"), "{easyship}");
    assert!(easyship.contains("fresh, 1h 59m left"), "{easyship}");
    assert!(easyship.contains("held"), "{easyship}");
    let pitneybowes = lines.iter().find(|l| l.starts_with("pitneybowes")).unwrap();
    assert!(pitneybowes.contains("(app)"), "{pitneybowes}");

    let ran = run(authtoken()
        .args(["status", "--json"])
        .env("AUTHTOKEN_CACHE", cache.path()));
    ran.assert_no_secret(&secrets);
    let json: serde_json::Value = serde_json::from_str(&ran.ok()).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let easyship = entries.iter().find(|e| e["vendor"] == "easyship").unwrap();
    assert_eq!(easyship["subject"], "seller 42");
    assert_eq!(easyship["has_refresh_token"], true);
    assert_eq!(easyship["reauthorization_required"], false);
    assert_eq!(easyship["version"], 1);
    assert_eq!(easyship["fresh"], true);
    assert!(
        easyship["environment"]
            .as_str()
            .unwrap()
            .starts_with("production@127.0.0.1:")
    );
    #[cfg(unix)]
    assert_private_files(cache.path());
}

#[test]
fn status_of_an_empty_cache_says_so() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(authtoken().arg("status").arg("--cache").arg(cache.path())).ok();
    assert!(out.starts_with("no tokens cached in "), "{out}");
}

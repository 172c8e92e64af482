//! What `token` prints: the bare access token, `--json` (the refresh token only with
//! `--show-refresh-token`), and `--header` per vendor.

use httpmock::MockServer;

use crate::common::*;

const PB_ACCESS: &str = "kT7yP2mQ9vXb4nRc1sLd8wZeHj3";
const AMAZON_ACCESS: &str = "Atza|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSREXAMPLE";
const AMAZON_REFRESH: &str = "Atzr|IQEBLzAtAhRPpMJxdwVz2Nn6f2y-tpJX2DeXEXAMPLE";

#[test]
fn token_prints_the_access_token_and_nothing_else_when_piped() {
    let server = MockServer::start();
    let endpoint = pitneybowes_endpoint(&server);
    let ran = run(authtoken()
        .args(["pitneybowes", "token", "--env", "sandbox", "--token-url"])
        .arg(server.url("/oauth/token")));
    ran.assert_no_secret(CONFIGURED);
    assert_eq!(ran.stderr, "", "no spinner or note on a pipe");
    assert_eq!(ran.ok(), format!("{PB_ACCESS}\n"));
    endpoint.assert_calls(1);
}

/// Amazon's refresh answer through `--json`, first without, then with
/// `--show-refresh-token`.
#[test]
fn json_holds_the_refresh_token_only_with_show_refresh_token() {
    let server = MockServer::start();
    let endpoint = server.mock(|when, then| {
        when.method("POST")
            .path("/auth/o2/token")
            .form_urlencoded_tuple("grant_type", "refresh_token")
            .form_urlencoded_tuple("refresh_token", REFRESH_TOKEN);
        then.status(200)
            .header("content-type", "application/json")
            .body(fixture("amazon-sp-refresh.json"));
    });
    let amazon = |extra: &[&str]| {
        run(authtoken()
            .args(["amazon-sp", "token", "--json", "--base-url"])
            .arg(server.base_url())
            .env("AUTHTOKEN_REFRESH_TOKEN", REFRESH_TOKEN)
            .args(extra))
    };

    let ran = amazon(&[]);
    ran.assert_no_secret(&[CLIENT_SECRET, REFRESH_TOKEN, AMAZON_REFRESH]);
    let json: serde_json::Value = serde_json::from_str(&ran.ok()).unwrap();
    assert_eq!(json["access_token"], AMAZON_ACCESS);
    assert_eq!(json["token_type"], "bearer");
    assert_eq!(json["vendor"], "amazon-sp");
    assert_eq!(json["scopes"], serde_json::json!([]));
    let expires_in = json["expires_in"].as_u64().unwrap();
    assert!((3500..=3600).contains(&expires_in), "{expires_in}");
    assert!(
        json["expires_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .is_ok()
    );
    assert!(json.get("refresh_token").is_none(), "{json}");

    let ran = amazon(&["--show-refresh-token"]);
    ran.assert_no_secret(&[CLIENT_SECRET, REFRESH_TOKEN]);
    let json: serde_json::Value = serde_json::from_str(&ran.ok()).unwrap();
    assert_eq!(json["refresh_token"], AMAZON_REFRESH);
    endpoint.assert_calls(2);
}

#[test]
fn header_prints_the_line_each_vendors_api_expects() {
    let server = MockServer::start();
    pitneybowes_endpoint(&server);
    server.mock(|when, then| {
        when.method("POST")
            .path("/auth/o2/token")
            .form_urlencoded_tuple("grant_type", "client_credentials")
            .form_urlencoded_tuple("scope", "sellingpartnerapi::notifications");
        then.status(200)
            .header("content-type", "application/json")
            .body(fixture("amazon-sp-grantless.json"));
    });
    server.mock(|when, then| {
        when.method("POST")
            .path("/oauth2/token")
            .json_body_includes(
                r#"{"grant_type":"client_credentials","scope":"public.rate:read"}"#,
            );
        then.status(200)
            .header("content-type", "application/json")
            .body(fixture("easyship-client-credentials.json"));
    });
    server.mock(|when, then| {
        when.method("POST")
            .path("/oauth/token")
            .query_param("grant_type", "refresh_token")
            .query_param("refresh_token", REFRESH_TOKEN);
        then.status(200)
            .header("content-type", "application/json")
            .body(fixture("orangeconnex-refresh.json"));
    });
    let cache = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "easyship",
                "token",
                "--endpoint",
                "enterprise",
                "--scope",
                "public.rate:read",
            ],
            "Authorization: Bearer app_7Yv1/GZ+q==",
        ),
        (
            &[
                "amazon-sp",
                "token",
                "--scope",
                "sellingpartnerapi::notifications",
            ],
            "x-amz-access-token: Atc|MQEWYJxEnP3I1ND03ZmWEXAMPLE",
        ),
        (
            &["pitneybowes", "token"],
            "Authorization: Bearer kT7yP2mQ9vXb4nRc1sLd8wZeHj3",
        ),
        (
            &["orangeconnex", "token", "--refresh-token", REFRESH_TOKEN],
            "Access-Token: Bearer 9b7c1e22-4a0f-4c3e-8f7d-5e6a1b2c3d4e",
        ),
    ];
    for (args, line) in cases {
        // Each vendor's default paths under the one server; Pitney Bowes' and Easyship's
        // through --token-url, the others through --base-url.
        let mut command = authtoken();
        command
            .args(args)
            .arg("--header")
            .arg("--cache")
            .arg(cache.path());
        match args[0] {
            "pitneybowes" => command.arg("--token-url").arg(server.url("/oauth/token")),
            "easyship" => command.arg("--token-url").arg(server.url("/oauth2/token")),
            _ => command.arg("--base-url").arg(server.base_url()),
        };
        let ran = run(&mut command);
        ran.assert_no_secret(CONFIGURED);
        assert_eq!(ran.ok(), format!("{line}\n"), "{args:?}");
    }
}

//! The builder and the vendor contract, through the public API only: default environment,
//! URL overrides (any `IntoUrl`), validation at `build()` naming the setting, store keys
//! (format pinned: stored tokens must survive upgrades), and redacted `Debug`.

use auth_core::AuthError;
use auth_core::redact::fingerprint;
use auth_pitneybowes::{Client, ClientBuilder, Environment, VendorClient};
use url::Url;

fn builder() -> ClientBuilder {
    Client::builder().api_key("key").api_secret("secret")
}

#[test]
fn client_is_clone_send_sync_debug() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<Client>();
    check::<ClientBuilder>();
}

#[test]
fn default_environment_is_production() {
    let client = builder().build().unwrap();
    assert_eq!(client.environment(), Environment::Production);
    assert_eq!(client.vendor(), "pitneybowes");
    assert_eq!(
        client.token_url().as_str(),
        "https://shipping-api.pitneybowes.com/oauth/token"
    );
    assert_eq!(
        client.api_base_url().as_str(),
        "https://shipping-api.pitneybowes.com/shippingservices/"
    );
}

#[test]
fn environment_decides_both_urls() {
    let sandbox = builder().environment(Environment::Sandbox).build().unwrap();
    assert_eq!(
        sandbox.token_url().as_str(),
        "https://shipping-api-sandbox.pitneybowes.com/oauth/token"
    );
    assert_eq!(
        sandbox.api_url("v1/addresses/verify").unwrap().as_str(),
        "https://shipping-api-sandbox.pitneybowes.com/shippingservices/v1/addresses/verify"
    );
    let legacy = builder()
        .environment(Environment::LegacyProduction)
        .build()
        .unwrap();
    assert_eq!(
        legacy.token_url().as_str(),
        "https://api.pitneybowes.com/oauth/token"
    );
    assert_eq!(
        legacy.api_base_url().as_str(),
        "https://api.pitneybowes.com/shippingservices/"
    );
}

#[test]
fn auth_scheme_is_bearer() {
    let client = builder().build().unwrap();
    assert_eq!(client.auth_scheme(), &auth_core::AuthScheme::Bearer);
}

#[test]
fn url_setters_take_str_string_and_url() {
    let by_str = builder()
        .token_url("http://127.0.0.1:1234/oauth/token")
        .build()
        .unwrap();
    let by_string = builder()
        .token_url(String::from("http://127.0.0.1:1234/oauth/token"))
        .build()
        .unwrap();
    let url: Url = "http://127.0.0.1:1234/oauth/token".parse().unwrap();
    let by_ref = builder().token_url(&url).build().unwrap();
    let by_url = builder().token_url(url.clone()).build().unwrap();
    for client in [by_str, by_string, by_ref, by_url] {
        assert_eq!(client.token_url(), &url);
    }
    let api = builder()
        .api_base_url("https://api.example.com/ship/")
        .build()
        .unwrap();
    assert_eq!(
        api.api_url("/v1/rates").unwrap().as_str(),
        "https://api.example.com/ship/v1/rates"
    );
}

#[test]
fn token_host_is_configured_apart_from_api_host() {
    let client = builder()
        .token_url("https://auth.example.com/pb/oauth/token")
        .build()
        .unwrap();
    assert_eq!(
        client.token_url().as_str(),
        "https://auth.example.com/pb/oauth/token"
    );
    assert_eq!(
        client.api_base_url().as_str(),
        "https://shipping-api.pitneybowes.com/shippingservices/"
    );
    let client = builder()
        .base_url("http://127.0.0.1:1/emu")
        .api_base_url("https://api.example.com/ship/")
        .build()
        .unwrap();
    assert_eq!(
        client.token_url().as_str(),
        "http://127.0.0.1:1/emu/oauth/token"
    );
    assert_eq!(
        client.api_url("/v1/rates").unwrap().as_str(),
        "https://api.example.com/ship/v1/rates"
    );
}

#[test]
fn base_url_moves_every_host_and_keeps_its_path() {
    for (base, token, api) in [
        (
            "http://localhost:8080/pb/",
            "http://localhost:8080/pb/oauth/token",
            "http://localhost:8080/pb/shippingservices/",
        ),
        (
            "http://127.0.0.1:9/pb",
            "http://127.0.0.1:9/pb/oauth/token",
            "http://127.0.0.1:9/pb/shippingservices/",
        ),
        (
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/oauth/token",
            "http://127.0.0.1:9/shippingservices/",
        ),
    ] {
        let client = builder()
            .environment(Environment::Sandbox)
            .base_url(base)
            .build()
            .unwrap();
        assert_eq!(client.token_url().as_str(), token);
        assert_eq!(client.api_base_url().as_str(), api);
        assert_eq!(client.environment(), Environment::Sandbox);
    }
}

#[test]
fn bad_urls_are_refused_at_build_naming_the_setting() {
    type Set = fn(ClientBuilder, &'static str) -> ClientBuilder;
    let setters: [(&str, Set); 3] = [
        ("token_url", |b, u| b.token_url(u)),
        ("api_base_url", |b, u| b.api_base_url(u)),
        ("base_url", |b, u| b.base_url(u)),
    ];
    for (setting, set) in setters {
        for bad in [
            "http://pb.example.com/oauth/token",
            "https://pb.example.com/?x=1",
            "https://pb.example.com/#f",
            "https://user:pw@pb.example.com/",
            "not a url",
        ] {
            match set(builder(), bad).build() {
                Err(AuthError::InvalidConfig(message)) => {
                    assert!(message.contains(setting), "{bad}: {message}");
                    assert!(!message.contains("pw"), "{message}");
                }
                other => panic!("{setting}({bad}): expected InvalidConfig, got {other:?}"),
            }
        }
    }
}

#[test]
fn wrong_credentials_are_refused_by_build() {
    let cases: Vec<(ClientBuilder, &str)> = vec![
        (Client::builder().api_secret("s"), "api_key is not set"),
        (Client::builder().api_key("k"), "api_secret is not set"),
        (
            Client::builder().api_key("").api_secret("s"),
            "API key is empty",
        ),
        (
            Client::builder().api_key("k").api_secret(""),
            "API secret is empty",
        ),
        (
            Client::builder().api_key("  ").api_secret("s"),
            "API key is empty or blank",
        ),
        (
            Client::builder().api_key("k").api_secret("\t \n"),
            "API secret is empty or blank",
        ),
        (
            Client::builder().api_key("k\n").api_secret("s"),
            "whitespace",
        ),
        (
            Client::builder().api_key("k").api_secret(" s"),
            "whitespace",
        ),
        (
            Client::builder().api_key("a:b").api_secret("s"),
            "must not contain ':'",
        ),
    ];
    for (builder, expected) in cases {
        match builder.build() {
            Err(AuthError::InvalidConfig(message)) => {
                assert!(message.contains(expected), "{message:?} lacks {expected:?}")
            }
            other => panic!("expected InvalidConfig({expected}), got {other:?}"),
        }
    }
}

#[test]
fn store_key_format_is_stable() {
    // Keys written by earlier versions (empty subject, `key-` + FNV-1a of the API key)
    // must still be found.
    let key = builder().build().unwrap().store_key(Client::APP_SUBJECT);
    assert_eq!(
        key.to_string(),
        "pitneybowes/production/key-3dc94a19365b10ec/"
    );
    assert_eq!(key.client_id(), fingerprint("key"));
    assert_eq!(key.subject(), "");
    let named = builder().build().unwrap().store_key("labels");
    assert_eq!(
        named.to_string(),
        "pitneybowes/production/key-3dc94a19365b10ec/labels"
    );
    // A reference vector of FNV-1a 64 (Fowler, Noll, Vo).
    let foobar = Client::builder()
        .api_key("foobar")
        .api_secret("s")
        .build()
        .unwrap();
    assert_eq!(
        foobar.store_key(Client::APP_SUBJECT).client_id(),
        "key-85944171f73967e8"
    );
}

#[test]
fn store_key_separates_environments_and_stand_ins() {
    let sandbox = builder()
        .environment(Environment::Sandbox)
        .build()
        .unwrap()
        .store_key(Client::APP_SUBJECT);
    assert_eq!(sandbox.environment(), "sandbox");
    let emulator = builder()
        .environment(Environment::Sandbox)
        .token_url("http://127.0.0.1:8080/oauth/token")
        .build()
        .unwrap()
        .store_key(Client::APP_SUBJECT);
    assert_eq!(emulator.environment(), "sandbox@127.0.0.1:8080");
}

#[test]
fn store_key_holds_a_fingerprint_not_the_api_key() {
    const KEY: &str = "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS";
    let client = Client::builder()
        .api_key(KEY)
        .api_secret("secret")
        .build()
        .unwrap();
    let key = client.store_key(Client::APP_SUBJECT);
    for shown in [
        key.to_string(),
        format!("{key:?}"),
        key.client_id().to_owned(),
    ] {
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains("3W8mOJ1G"), "{shown}");
    }
    let other = builder().build().unwrap().store_key(Client::APP_SUBJECT);
    assert_ne!(other.client_id(), key.client_id());
    assert_eq!(client.clone().store_key(Client::APP_SUBJECT), key);
}

#[test]
fn debug_of_client_and_builder_shows_no_url_credentials_or_query() {
    let builder = builder()
        .token_url("https://u:pw@host.example:8443/x?k=v")
        .api_base_url("https://u:pw@host.example:8443/x?k=v");
    let shown = format!("{builder:?} {builder:#?}");
    assert!(!shown.contains("pw") && !shown.contains("k=v"), "{shown}");
    // Such URLs are refused, without quoting the credentials or the query either.
    let error = builder.build().unwrap_err().to_string();
    assert!(!error.contains("pw") && !error.contains("k=v"), "{error}");

    let client = Client::builder()
        .api_key("k")
        .api_secret("s")
        .token_url("https://host.example:8443/x")
        .build()
        .unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(shown.contains("https://host.example:8443/x"), "{shown}");
}

#[test]
fn debug_shows_neither_the_secret_nor_the_api_key() {
    let builder = Client::builder()
        .api_key("hidden-key-1")
        .api_secret("hidden-secret-1");
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hidden-secret-1") && !shown.contains("hidden-key-1"),
        "{shown}"
    );
    assert!(shown.contains(&fingerprint("hidden-key-1")), "{shown}");
    let client = builder.build().unwrap();
    let dbg = format!("{client:?} {client:#?}");
    assert!(!dbg.contains("hidden-key-1"), "{dbg}");
    assert!(dbg.contains(&fingerprint("hidden-key-1")), "{dbg}");
    assert!(!dbg.contains("hidden-secret-1"), "{dbg}");
    assert!(dbg.contains("ClientSecret([REDACTED])"), "{dbg}");
}

//! The builder and the vendor contract, through the public API only: defaults, URL
//! overrides (any `IntoUrl`), validation at `build()` naming the setting, the store-key
//! format (pinned: stored seller tokens must survive upgrades), and redacted `Debug`.

use std::sync::Arc;

use auth_amazon_sp::{
    Client, ClientBuilder, ConsentRequest, Credentials, Environment, Marketplace, Region,
    StaticCredentials, VendorClient,
};
use auth_core::{AuthError, AuthScheme, Url};

fn builder() -> ClientBuilder {
    Client::builder()
        .client_id("amzn1.application-oa2-client.x")
        .client_secret("cs")
}

#[test]
fn client_is_clone_send_sync_debug() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<Client>();
    check::<ClientBuilder>();
}

#[test]
fn defaults_are_global_lwa_and_north_america_production() {
    let client = builder().build().unwrap();
    assert_eq!(client.vendor(), "amazon-sp");
    assert_eq!(client.environment(), Environment::Production);
    assert_eq!(client.region(), Region::NorthAmerica);
    assert_eq!(
        client.token_url().as_str(),
        "https://api.amazon.com/auth/o2/token"
    );
    assert_eq!(
        client.api_base_url().as_str(),
        "https://sellingpartnerapi-na.amazon.com/"
    );
    assert_eq!(
        client.auth_scheme(),
        &AuthScheme::header("x-amz-access-token")
    );
    let eu = builder().lwa_region(Region::Europe).build().unwrap();
    assert_eq!(
        eu.token_url().as_str(),
        "https://api.amazon.co.uk/auth/o2/token"
    );
    let sandbox = builder()
        .region(Region::Europe)
        .environment(Environment::Sandbox)
        .build()
        .unwrap();
    assert_eq!(
        sandbox
            .api_url("sellers/v1/marketplaceParticipations")
            .unwrap()
            .as_str(),
        "https://sandbox.sellingpartnerapi-eu.amazon.com/sellers/v1/marketplaceParticipations"
    );
}

#[test]
fn url_setters_take_str_string_and_url() {
    let url: Url = "http://127.0.0.1:1234/auth/o2/token".parse().unwrap();
    let clients = [
        builder().token_url("http://127.0.0.1:1234/auth/o2/token"),
        builder().token_url(String::from("http://127.0.0.1:1234/auth/o2/token")),
        builder().token_url(&url),
        builder().token_url(url.clone()),
    ];
    for client in clients {
        assert_eq!(client.build().unwrap().token_url(), &url);
    }
    // The SP-API base gets its trailing `/`, so paths go below it.
    let client = builder()
        .api_base_url(String::from("http://127.0.0.1:9/spapi"))
        .build()
        .unwrap();
    assert_eq!(client.api_base_url().as_str(), "http://127.0.0.1:9/spapi/");
    assert_eq!(
        client.api_url("/orders/v0/orders").unwrap().as_str(),
        "http://127.0.0.1:9/spapi/orders/v0/orders"
    );
}

#[test]
fn base_url_moves_every_host_and_keeps_its_path() {
    let client = builder()
        .base_url("http://127.0.0.1:9/amazon")
        .build()
        .unwrap();
    assert_eq!(
        client.token_url().as_str(),
        "http://127.0.0.1:9/amazon/auth/o2/token"
    );
    assert_eq!(client.api_base_url().as_str(), "http://127.0.0.1:9/amazon/");
    let (url, _) = client
        .consent_url(&ConsentRequest::new(
            "amzn1.sp.solution.x",
            Marketplace::UnitedStates,
        ))
        .unwrap();
    assert!(
        url.as_str()
            .starts_with("http://127.0.0.1:9/amazon/apps/authorize/consent?"),
        "{url}"
    );
}

#[test]
fn token_and_api_overrides_win_over_base_url() {
    let client = builder()
        .base_url("http://127.0.0.1:9/")
        .token_url("http://127.0.0.1:8/t")
        .api_base_url("http://127.0.0.1:7/api/")
        .build()
        .unwrap();
    assert_eq!(client.token_url().as_str(), "http://127.0.0.1:8/t");
    assert_eq!(client.api_base_url().as_str(), "http://127.0.0.1:7/api/");
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
            "http://api.example.com/auth/o2/token",
            "http://10.0.0.1/",
            "https://api.example.com/?x=1",
            "https://api.example.com/#f",
            "https://user:pw@api.example.com/",
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
fn wrong_credentials_are_refused_at_build_naming_the_setting() {
    let cases = [
        (Client::builder().client_secret("cs"), "client id"),
        (Client::builder().client_id("id"), "client secret"),
        (
            Client::builder().client_id("").client_secret("cs"),
            "client id",
        ),
        (
            Client::builder().client_id("id").client_secret(""),
            "client secret",
        ),
        (
            Client::builder().client_id(" ").client_secret("cs"),
            "client id",
        ),
        (
            Client::builder().client_id("id").client_secret("\t"),
            "client secret",
        ),
        (
            Client::builder().credentials(Arc::new(StaticCredentials::new(Credentials::new(
                "  ", "cs",
            )))),
            "client id",
        ),
        (
            builder().credentials(Arc::new(StaticCredentials::new(Credentials::new(
                "id", "cs",
            )))),
            "not both",
        ),
    ];
    for (builder, setting) in cases {
        match builder.build() {
            Err(AuthError::InvalidConfig(message)) => {
                assert!(message.contains(setting), "{message:?} lacks {setting:?}")
            }
            other => panic!("expected InvalidConfig naming {setting}, got {other:?}"),
        }
    }
}

#[test]
fn store_key_format_is_stable() {
    // The format SellerTokens has always stored seller tokens under.
    let key = builder().build().unwrap().store_key("A1SELLER");
    assert_eq!(
        key.to_string(),
        "amazon-sp/production/amzn1.application-oa2-client.x/A1SELLER"
    );
    assert_eq!(
        (
            key.vendor(),
            key.environment(),
            key.client_id(),
            key.subject()
        ),
        (
            "amazon-sp",
            "production",
            "amzn1.application-oa2-client.x",
            "A1SELLER"
        )
    );
}

#[test]
fn store_key_names_the_environment_and_the_host_of_a_stand_in_lwa() {
    let environment = |client: Client| client.store_key("A1").environment().to_owned();
    assert_eq!(environment(builder().build().unwrap()), "production");
    for region in Region::ALL {
        let regional = builder().lwa_region(*region).build().unwrap();
        assert_eq!(environment(regional), "production");
    }
    let sandbox = builder().environment(Environment::Sandbox).build().unwrap();
    assert_eq!(environment(sandbox), "sandbox");
    let proxy = builder()
        .token_url("https://lwa-proxy.example.com/auth/o2/token")
        .build()
        .unwrap();
    assert_eq!(environment(proxy), "production@lwa-proxy.example.com");
    let emulator = builder()
        .base_url("http://127.0.0.1:9/amazon")
        .build()
        .unwrap();
    assert_eq!(environment(emulator), "production@127.0.0.1:9");
}

#[test]
fn debug_is_redacted_and_shows_no_url_credentials_or_query() {
    let client = Client::builder()
        .client_id("amzn1.application-oa2-client.x")
        .client_secret("amzn1.oa2-cs.v1.sekrit")
        .build()
        .unwrap();
    let dbg = format!("{client:?} {client:#?}");
    assert!(!dbg.contains("sekrit"), "{dbg}");
    assert!(dbg.contains("amzn1.application-oa2-client.x"), "{dbg}");

    let builder = builder()
        .client_secret("amzn1.oa2-cs.v1.sekrit")
        .token_url("https://u:pw@host.example:8443/x?k=v")
        .api_base_url("https://u:pw@host.example:8443/x?k=v")
        .base_url("https://u:pw@host.example:8443/x?k=v");
    let shown = format!("{builder:?} {builder:#?}");
    assert!(
        !shown.contains("pw") && !shown.contains("k=v") && !shown.contains("sekrit"),
        "{shown}"
    );
    assert!(shown.contains("https://host.example:8443/x"), "{shown}");
    let error = builder.build().unwrap_err().to_string();
    assert!(!error.contains("pw") && !error.contains("k=v"), "{error}");
}

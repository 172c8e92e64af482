//! The client's public surface: the builder (URL setters, validation), the vendor
//! contract (`VendorClient`), the authorize URL, `Debug`.

use std::fmt;

use auth_core::vendor::VendorClient;
use auth_core::{AuthError, AuthScheme, Scopes, State, Url};
use auth_easyship::{ApiFamily, Client, ClientBuilder, Endpoint, Environment, Scope};

fn client() -> Client {
    Client::builder()
        .client_id("id")
        .client_secret("sekrit-client-secret")
        .build()
        .unwrap()
}

fn build_error(builder: ClientBuilder) -> String {
    match builder.build() {
        Err(AuthError::InvalidConfig(message)) => message,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

fn credentials() -> ClientBuilder {
    Client::builder().client_id("i").client_secret("s")
}

#[test]
fn authorize_url_matches_easyship_example_encoding() {
    let scopes: Scopes<Scope> = "rate shipment label".parse().unwrap();
    let state = State::from_saved("Ml_Wdv6hFqy2N9EkNJdi7g");
    let url = client()
        .authorize_url_with_state("https://domain.com/callback", &scopes, &state)
        .unwrap();
    assert_eq!(
        url.as_str(),
        "https://auth.easyship.com/oauth2/authorize?client_id=id&redirect_uri=https%3A%2F%2Fdomain.com%2Fcallback&response_type=code&scope=rate%20shipment%20label&state=Ml_Wdv6hFqy2N9EkNJdi7g"
    );
}

#[test]
fn authorize_url_returns_a_fresh_state_each_time() {
    let scopes = Scopes::from([Scope::PublicRateRead]);
    let (url_a, a) = client()
        .authorize_url("https://x.example/cb", &scopes)
        .unwrap();
    let (_, b) = client()
        .authorize_url("https://x.example/cb", &scopes)
        .unwrap();
    assert_ne!(a.as_str(), b.as_str());
    assert!(
        url_a
            .query()
            .unwrap()
            .ends_with(&format!("&state={}", a.as_str()))
    );
    assert!(a.check(b.as_str()).is_err());
}

#[test]
fn authorize_url_refuses_bad_input_before_anything_else() {
    let c = client();
    let empty = Scopes::<Scope>::new();
    assert!(matches!(
        c.authorize_url("https://x.example/cb", &empty),
        Err(AuthError::InvalidScope { .. })
    ));
    let mixed = Scopes::from([Scope::Rate, Scope::PublicRateRead]);
    assert!(matches!(
        c.authorize_url("https://x.example/cb", &mixed),
        Err(AuthError::InvalidScope { .. })
    ));
    let enterprise = Scopes::from([Scope::Rate, Scope::EnterpriseChildCompaniesAccess]);
    match c.authorize_url("https://x.example/cb", &enterprise) {
        Err(AuthError::InvalidScope { scopes, .. }) => {
            assert_eq!(scopes, ["enterprise.child_companies_access"])
        }
        other => panic!("unexpected {other:?}"),
    }
    let ok = Scopes::from([Scope::Rate]);
    assert!(matches!(
        c.authorize_url("/relative", &ok),
        Err(AuthError::InvalidConfig(_))
    ));
    assert!(matches!(
        c.authorize_url("https://", &ok),
        Err(AuthError::InvalidConfig(_))
    ));
    // Custom schemes (mobile apps) are absolute URLs too.
    assert!(c.authorize_url("com.example.app:/oauth", &ok).is_ok());
}

#[test]
fn build_refuses_missing_or_blank_credentials_naming_the_setting() {
    let cases = [
        (Client::builder().client_secret("s"), "client_id"),
        (
            Client::builder().client_id(" \t").client_secret("s"),
            "client_id",
        ),
        (Client::builder().client_id("i"), "client_secret"),
        (
            Client::builder().client_id("i").client_secret(" "),
            "client_secret",
        ),
    ];
    for (builder, setting) in cases {
        let message = build_error(builder);
        assert!(message.contains(setting), "{message:?} lacks {setting}");
    }
}

#[test]
fn url_setters_take_str_string_and_url() {
    let from_str = credentials()
        .token_url("http://127.0.0.1:1234/oauth2/token")
        .build()
        .unwrap();
    let from_string = credentials()
        .token_url(String::from("http://127.0.0.1:1234/oauth2/token"))
        .build()
        .unwrap();
    let url: Url = "http://127.0.0.1:1234/oauth2/token".parse().unwrap();
    let from_url = credentials().token_url(url.clone()).build().unwrap();
    let from_ref = credentials().token_url(&url).build().unwrap();
    for client in [from_str, from_string, from_url, from_ref] {
        assert_eq!(client.token_url(), &url);
    }
    let base = credentials()
        .base_url(String::from("http://127.0.0.1:1234"))
        .api_base_url("http://127.0.0.1:5678/api")
        .build()
        .unwrap();
    assert_eq!(
        base.token_url().as_str(),
        "http://127.0.0.1:1234/oauth2/token"
    );
    assert_eq!(base.api_base_url().as_str(), "http://127.0.0.1:5678/api/");
    assert_eq!(
        base.api_base_url_for(ApiFamily::Legacy).as_str(),
        "http://127.0.0.1:5678/api/"
    );
}

#[test]
fn bad_urls_are_refused_at_build_naming_the_setting() {
    type Set = fn(ClientBuilder, &'static str) -> ClientBuilder;
    let cases: [(Set, &str); 3] = [
        (|b, u| b.token_url(u), "token_url"),
        (|b, u| b.base_url(u), "base_url"),
        (|b, u| b.api_base_url(u), "api_base_url"),
    ];
    for (set, setting) in cases {
        for bad in [
            "http://api.example.com/oauth2/token",
            "https://api.example.com/oauth2/token?x=1",
            "https://api.example.com/oauth2/token#frag",
            "https://user:pw@api.example.com/oauth2/token",
            "not a url",
        ] {
            let message = build_error(set(credentials(), bad));
            assert!(message.contains(setting), "{bad}: {message}");
            assert!(!message.contains("pw"), "{message}");
        }
    }
    let plain = build_error(credentials().token_url("http://api.example.com/oauth2/token"));
    assert!(
        plain.contains("refusing to send credentials over `http`"),
        "{plain}"
    );
}

#[test]
fn sandbox_without_a_token_url_is_refused_at_build_naming_token_url_and_base_url() {
    for endpoint in [Endpoint::Partner, Endpoint::Enterprise] {
        let message = build_error(
            credentials()
                .environment(Environment::Sandbox)
                .endpoint(endpoint),
        );
        assert!(
            message.contains("token_url")
                && message.contains("base_url")
                && message.contains(&format!(
                    "no {endpoint} OAuth token endpoint in the sandbox"
                )),
            "{message}"
        );
    }
    // With a stand-in it builds; the authorize page stays undocumented.
    let overridden = credentials()
        .environment(Environment::Sandbox)
        .token_url("https://api-sandbox.example.com/oauth2/token")
        .build()
        .unwrap();
    assert_eq!(overridden.environment(), Environment::Sandbox);
    assert!(matches!(
        overridden.authorize_url("https://x.example/cb", &Scopes::from([Scope::Rate])),
        Err(AuthError::InvalidConfig(_))
    ));
}

#[test]
fn base_url_moves_every_host_and_keeps_paths() {
    let c = credentials()
        .endpoint(Endpoint::Enterprise)
        .base_url("http://127.0.0.1:7777/es/")
        .build()
        .unwrap();
    assert_eq!(
        c.token_url().as_str(),
        "http://127.0.0.1:7777/es/oauth2/token"
    );
    assert_eq!(c.api_base_url().as_str(), "http://127.0.0.1:7777/es/");
    assert_eq!(
        c.api_url("2024-09/shipments").unwrap().as_str(),
        "http://127.0.0.1:7777/es/2024-09/shipments"
    );
    let (url, _) = c
        .authorize_url("https://x.example/cb", &Scopes::from([Scope::Rate]))
        .unwrap();
    assert!(
        url.as_str()
            .starts_with("http://127.0.0.1:7777/es/oauth2/authorize?client_id=i&")
    );
    assert_eq!(
        credentials()
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap()
            .token_url()
            .as_str(),
        "http://127.0.0.1:9/oauth2/token"
    );
}

#[test]
fn the_vendor_contract_in_production_the_default() {
    let c = client();
    assert_eq!(c.vendor(), "easyship");
    assert_eq!(c.environment(), Environment::Production);
    assert_eq!(
        c.token_url().as_str(),
        "https://api.easyship.com/oauth2/token"
    );
    assert_eq!(
        c.api_base_url().as_str(),
        "https://public-api.easyship.com/"
    );
    assert_eq!(
        c.api_base_url_for(ApiFamily::Public),
        c.api_base_url(),
        "the default family is the Public API"
    );
    assert_eq!(
        c.api_base_url_for(ApiFamily::Legacy).as_str(),
        "https://api.easyship.com/"
    );
    assert_eq!(*c.auth_scheme(), AuthScheme::Bearer);
    assert_eq!(c.api_access().vendor(), "easyship");
    let e = credentials()
        .endpoint(Endpoint::Enterprise)
        .build()
        .unwrap();
    assert_eq!(
        e.token_url().as_str(),
        "https://enterprise-api.easyship.com/oauth2/token"
    );
}

#[test]
fn store_key_separates_environments_and_stand_ins() {
    let key = client().store_key("seller-1");
    assert_eq!(
        (
            key.vendor(),
            key.environment(),
            key.client_id(),
            key.subject()
        ),
        ("easyship", "production", "id", "seller-1")
    );
    let enterprise = Client::builder()
        .client_id("id")
        .client_secret("s")
        .endpoint(Endpoint::Enterprise)
        .build()
        .unwrap();
    assert_eq!(enterprise.store_key("c").environment(), "production");
    let emulator = Client::builder()
        .client_id("id")
        .client_secret("s")
        .base_url("http://127.0.0.1:7777/")
        .build()
        .unwrap();
    assert_eq!(
        emulator.store_key("c").environment(),
        "production@127.0.0.1:7777"
    );
    // No documented sandbox token endpoint: any URL there is a stand-in.
    let sandbox = Client::builder()
        .client_id("id")
        .client_secret("s")
        .environment(Environment::Sandbox)
        .token_url("https://api-sandbox.example.com/oauth2/token")
        .build()
        .unwrap();
    assert_eq!(
        sandbox.store_key("c").environment(),
        "sandbox@api-sandbox.example.com"
    );
}

#[test]
fn debug_of_client_and_builder_shows_no_secret_url_credentials_or_query() {
    let builder = Client::builder()
        .client_id("id")
        .client_secret("sekrit-client-secret")
        .token_url("https://u:pw@host.example:8443/x?k=v")
        .base_url("https://u:pw@host.example:8443/x?k=v");
    let shown = format!("{builder:?} {builder:#?}");
    assert!(!shown.contains("pw") && !shown.contains("k=v"), "{shown}");
    assert!(!shown.contains("sekrit"), "{shown}");
    assert!(shown.contains("https://host.example:8443/x"), "{shown}");
    // Such URLs are refused by build(), without quoting them.
    let err = builder.build().unwrap_err().to_string();
    assert!(!err.contains("pw") && !err.contains("k=v"), "{err}");

    let client = Client::builder()
        .client_id("id")
        .client_secret("sekrit-client-secret")
        .token_url("https://host.example:8443/x")
        .build()
        .unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(!shown.contains("sekrit"), "{shown}");
    assert!(shown.contains("ClientSecret([REDACTED])"), "{shown}");
    assert!(shown.contains("https://host.example:8443/x"), "{shown}");
}

#[test]
fn client_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + fmt::Debug + 'static>() {}
    check::<Client>();
}

//! The client's public surface: the builder (URL setters, validation), the vendor
//! contract (`VendorClient`), `Debug`.

use auth_core::{AuthError, AuthScheme, Url, VendorClient};
use auth_orangeconnex::{ACCESS_TOKEN_HEADER, Client, ClientBuilder, Endpoints, Environment};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

#[test]
fn blank_client_id_or_client_key_is_refused_at_build() {
    let cases = [
        (Client::builder(), "client_id"),
        (Client::builder().client_id(""), "client_id"),
        (Client::builder().client_id(" \t "), "client_id"),
        (
            Client::builder().client_id("id").client_key(""),
            "client_key",
        ),
        (
            Client::builder().client_id("id").client_key("   "),
            "client_key",
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
    let client = Client::builder()
        .client_id("id")
        .client_key("k-1")
        .build()
        .unwrap();
    assert_eq!(client.client_id().as_str(), "id");
}

#[test]
fn debug_of_client_and_builder_shows_no_url_credentials_or_query() {
    let with_query = "https://u:pw@host.example:8443/x?k=v";
    let builder = Client::builder()
        .client_id("id")
        .client_key("sekrit-key")
        .token_url(with_query)
        .base_url(with_query);
    let shown = format!("{builder:?} {builder:#?}");
    assert!(!shown.contains("pw") && !shown.contains("k=v"), "{shown}");
    assert!(!shown.contains("sekrit"), "{shown}");
    assert!(shown.contains("https://host.example:8443/x"), "{shown}");
    // A query on either URL is refused by build(), without quoting it.
    let err = builder.build().unwrap_err().to_string();
    assert!(!err.contains("pw") && !err.contains("k=v"), "{err}");

    let client = Client::builder()
        .client_id("id")
        .base_url("https://host.example:8443/x")
        .build()
        .unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(
        shown.contains("https://host.example:8443/x/oauth/token"),
        "{shown}"
    );
    let endpoints = Endpoints::under(&"https://u:pw@host.example/x".parse().unwrap()).unwrap();
    let shown = format!("{endpoints:?}");
    assert!(!shown.contains("pw"), "{shown}");
}

fn build_error(builder: ClientBuilder) -> String {
    match builder.build() {
        Err(AuthError::InvalidConfig(message)) => message,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn url_setters_take_str_string_and_url() {
    let url: Url = "http://127.0.0.1:1234/oauth/token".parse().unwrap();
    let clients = [
        Client::builder()
            .client_id("id")
            .token_url("http://127.0.0.1:1234/oauth/token"),
        Client::builder()
            .client_id("id")
            .token_url(String::from("http://127.0.0.1:1234/oauth/token")),
        Client::builder().client_id("id").token_url(url.clone()),
        Client::builder().client_id("id").token_url(&url),
    ];
    for builder in clients {
        assert_eq!(builder.build().unwrap().token_url(), &url);
    }
    let client = Client::builder()
        .client_id("id")
        .base_url(String::from("http://127.0.0.1:1234/oc"))
        .api_base_url("http://127.0.0.1:5678/api")
        .build()
        .unwrap();
    assert_eq!(
        client.token_url().as_str(),
        "http://127.0.0.1:1234/oc/oauth/token"
    );
    assert_eq!(client.api_base_url().as_str(), "http://127.0.0.1:5678/api/");
    assert_eq!(
        client.api_url("3pp/sku/v3/creation").unwrap().as_str(),
        "http://127.0.0.1:5678/api/3pp/sku/v3/creation"
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
            "http://openapi.example.com/oauth/token",
            "https://openapi.example.com/oauth/token?grant_type=x",
            "https://openapi.example.com/oauth/token#frag",
            "https://user:pw@openapi.example.com/oauth/token",
            "not a url",
        ] {
            let message = build_error(set(Client::builder().client_id("id"), bad));
            assert!(message.contains(setting), "{bad}: {message}");
            assert!(!message.contains("pw"), "{message}");
        }
    }
}

#[test]
fn the_vendor_contract_in_production_the_default() {
    let client = Client::builder().client_id("id").build().unwrap();
    assert_eq!(client.vendor(), "orangeconnex");
    assert_eq!(client.environment(), Environment::Production);
    assert_eq!(
        client.token_url().as_str(),
        "https://openapi-hk.orangeconnex.com/oauth/token"
    );
    assert_eq!(
        client.api_base_url().as_str(),
        "https://openapi-hk.orangeconnex.com/openapi/"
    );
    assert_eq!(
        client.auth_scheme(),
        &AuthScheme::header_with_prefix(ACCESS_TOKEN_HEADER, "Bearer ")
    );
    let headers = HeaderMap::new();
    assert!(client.token_rejected(StatusCode::UNAUTHORIZED, &headers, b""));
    assert!(!client.token_rejected(StatusCode::FORBIDDEN, &headers, b"{}"));
    assert_eq!(client.api_access().vendor(), "orangeconnex");
}

#[test]
fn client_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    check::<Client>();
}

//! Every vendor client, built with known credentials, is `Clone + Send + Sync` and never
//! prints a credential, whatever the formatting.

use auth_core::Url;

const SECRETS: [&str; 3] = [
    "S3CRET-client-secret",
    "S3CRET-api-secret",
    "S3CRET-client-key",
];

fn assert_redacted(name: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{name} prints a credential:\n{text}"
        );
    }
}

fn assert_client<T: Clone + Send + Sync + std::fmt::Debug + 'static>(name: &str, client: &T) {
    assert_redacted(name, &format!("{client:?}"));
    assert_redacted(name, &format!("{client:#?}"));
    assert_redacted(name, &format!("{:?}", client.clone()));
}

fn local() -> Url {
    "http://127.0.0.1:9/token".parse().unwrap()
}

#[test]
fn easyship_client_is_shareable_and_redacted() {
    let client = auth_easyship::Client::builder()
        .client_id("client-1")
        .client_secret(SECRETS[0])
        .token_url(local())
        .build()
        .unwrap();
    assert_client("auth_easyship::Client", &client);
}

#[test]
fn amazon_client_is_shareable_and_redacted() {
    let client = auth_amazon_sp::Client::builder()
        .client_id("amzn1.application-oa2-client.1")
        .client_secret(SECRETS[0])
        .token_url(local())
        .build()
        .unwrap();
    assert_client("auth_amazon_sp::Client", &client);
}

#[test]
fn pitneybowes_client_is_shareable_and_redacted() {
    let client = auth_pitneybowes::Client::builder()
        .api_key("key-1")
        .api_secret(SECRETS[1])
        .token_url(local())
        .build()
        .unwrap();
    assert_client("auth_pitneybowes::Client", &client);
}

#[test]
fn orangeconnex_client_is_shareable_and_redacted() {
    let client = auth_orangeconnex::Client::builder()
        .client_id("client-1")
        .client_secret(SECRETS[0])
        .client_key(SECRETS[2])
        .token_url(local())
        .build()
        .unwrap();
    assert_client("auth_orangeconnex::Client", &client);
}

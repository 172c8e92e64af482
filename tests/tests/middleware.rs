//! `TokenMiddleware` in a `reqwest_middleware` stack does what `provider.send` does: the
//! token on the vendor's header, one retry with a new token after the API rejects it.

use auth_core::TokenMiddleware;
use auth_pitneybowes::emulator::Emulator;

#[tokio::test]
async fn a_rejected_token_is_replaced_and_the_request_sent_once_more() {
    let emulator = Emulator::start().await;
    let client = emulator.client_builder().build().unwrap();
    let provider = client.provider();
    let api = reqwest_middleware::ClientBuilder::new(auth_core::api_http_client().unwrap())
        .with(TokenMiddleware::new(provider.clone()))
        .build();

    // A first call gets a token and is accepted.
    let response = api.get(emulator.probe_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(emulator.counts().token(), 1);

    // The vendor revokes it: the next call is refused once, then sent with a new token.
    emulator.revoke_access_tokens();
    let response = api.get(emulator.probe_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(emulator.counts().token(), 2);
    assert_eq!(emulator.counts().api_rejected(), 1);
}

#[tokio::test]
async fn a_token_error_comes_back_as_the_auth_error() {
    let emulator = Emulator::start().await;
    let client = emulator
        .client_builder()
        .api_secret("wrong")
        .build()
        .unwrap();
    let api = reqwest_middleware::ClientBuilder::new(auth_core::api_http_client().unwrap())
        .with(TokenMiddleware::new(client.provider()))
        .build();
    let error = api.get(emulator.probe_url()).send().await.unwrap_err();
    let reqwest_middleware::Error::Middleware(error) = error else {
        panic!("expected the middleware's error, got {error:?}");
    };
    let auth = error
        .downcast_ref::<auth_core::AuthError>()
        .expect("an AuthError");
    assert!(
        auth.to_string().contains("pitneybowes token endpoint"),
        "{auth}"
    );
    assert!(!auth.to_string().contains("wrong"), "{auth}");
}

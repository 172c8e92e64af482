//! Compile-time checks: the public types can be shared across tasks and threads (clients
//! and providers live in an `Arc`), errors can be cloned to every waiter, the token call's
//! future can be spawned, and secrets cannot be displayed or serialized.
//!
//! If this file compiles, the checks hold; the tests only make them show up in the count.

#![allow(dead_code)]

use std::sync::Arc;

use auth_core::http::{RawResponse, RetryPolicy, TokenHttpClient, TokenRequest};
use auth_core::redact::Redactor;
use auth_core::{
    AccessToken, AuthError, AuthScheme, CachedTokenProvider, CachedTokenProviderBuilder, ClientId,
    ClientSecret, Clock, FileStore, FnSource, Lease, ManualClock, MemoryStore, OAuthErrorCode,
    ProviderStatus, RefreshToken, Scopes, Secret, State, StaticSource, StoreKey, SystemClock,
    Token, TokenCache, TokenRecord, TokenSource, TokenStore, UnknownScope,
};

fn send_sync<T: Send + Sync>() {}
fn send_sync_clone_static<T: Send + Sync + Clone + 'static>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<AccessToken>();
    send_sync::<RefreshToken>();
    send_sync::<ClientSecret>();
    send_sync::<Secret>();
    send_sync::<ClientId>();
    send_sync::<State>();
    send_sync::<Token>();
    send_sync::<Scopes<String>>();
    send_sync::<UnknownScope>();
    send_sync::<AuthScheme>();
    send_sync::<OAuthErrorCode>();
    send_sync::<AuthError>();
    send_sync::<TokenRequest>();
    send_sync::<TokenHttpClient>();
    send_sync::<auth_core::http::TokenHttpClientBuilder>();
    send_sync::<RetryPolicy>();
    send_sync::<RawResponse<'static>>();
    send_sync::<Redactor>();
    send_sync::<SystemClock>();
    send_sync::<ManualClock>();
    send_sync::<StaticSource>();
    send_sync::<FnSource>();
    send_sync::<Arc<dyn TokenSource>>();
    send_sync::<Arc<dyn Clock>>();
    send_sync::<CachedTokenProvider>();
    send_sync::<CachedTokenProviderBuilder>();
    send_sync::<ProviderStatus>();
    send_sync::<TokenCache<String>>();
    send_sync::<StoreKey>();
    send_sync::<TokenRecord>();
    send_sync::<Lease>();
    send_sync::<MemoryStore>();
    send_sync::<FileStore>();
    send_sync::<Arc<dyn TokenStore>>();
}

#[test]
fn shared_values_are_clone_and_static() {
    send_sync_clone_static::<AuthError>();
    send_sync_clone_static::<Token>();
    send_sync_clone_static::<TokenHttpClient>();
    send_sync_clone_static::<TokenRequest>();
    send_sync_clone_static::<RetryPolicy>();
    send_sync_clone_static::<AuthScheme>();
    send_sync_clone_static::<Scopes<String>>();
}

#[test]
fn auth_error_is_a_std_error_usable_with_boxed_errors() {
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    error::<AuthError>();
    error::<UnknownScope>();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(AuthError::StateMismatch);
    assert!(boxed.to_string().contains("state"));
}

/// Never called: it only has to type-check. The token call's future is `Send`, so a
/// provider can run it in a spawned task.
async fn execute_future_is_send(client: TokenHttpClient, request: TokenRequest) {
    let future = client.execute(&request, |raw| raw.json::<serde_json::Value>());
    send(&future);
    let _ = future.await;
}

/// Never called: the provider's and the cache's futures are `Send`, so users can call
/// them from spawned tasks and axum/tonic handlers.
async fn provider_futures_are_send(
    provider: Arc<CachedTokenProvider>,
    cache: Arc<TokenCache<String>>,
    request: reqwest::RequestBuilder,
) {
    let token = provider.token();
    send(&token);
    let _ = token.await;
    let key = "seller".to_owned();
    let cached = cache.token(&key);
    send(&cached);
    let _ = cached.await;
    let sent = provider.send_with_token(request, &AuthScheme::Bearer, |_, _, _| false);
    send(&sent);
    let _ = sent.await;
}

/// Never called: a `TokenSource`'s future is `Send` (async-trait boxes it as such).
fn fetch_token_future_is_send(source: Arc<dyn TokenSource>, previous: Option<Token>) {
    let future = async move { source.fetch_token(previous.as_ref()).await };
    send(&future);
}

#[test]
fn futures_are_send() {
    // The functions above are the checks; naming them keeps them compiled.
    let _ = execute_future_is_send;
    let _ = fetch_token_future_is_send;
    let _ = provider_futures_are_send;
}

/// `assert_not_impl_any!` from static_assertions, without the dependency: if `T`
/// implemented the trait, both impls would apply and `some_item` would be ambiguous.
macro_rules! assert_not_impl {
    ($ty:ty, $($trait:tt)+) => {{
        trait AmbiguousIfImpl<A> {
            fn some_item() {}
        }
        impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
        struct Invalid;
        impl<T: ?Sized + $($trait)+> AmbiguousIfImpl<Invalid> for T {}
        let _ = <$ty as AmbiguousIfImpl<_>>::some_item;
    }};
}

#[test]
fn secrets_have_no_display_and_no_serialize() {
    assert_not_impl!(AccessToken, std::fmt::Display);
    assert_not_impl!(RefreshToken, std::fmt::Display);
    assert_not_impl!(ClientSecret, std::fmt::Display);
    assert_not_impl!(Secret, std::fmt::Display);
    assert_not_impl!(Token, std::fmt::Display);
    assert_not_impl!(AccessToken, serde::Serialize);
    assert_not_impl!(RefreshToken, serde::Serialize);
    assert_not_impl!(ClientSecret, serde::Serialize);
    assert_not_impl!(Secret, serde::Serialize);
    assert_not_impl!(Token, serde::Serialize);
}

//! A seller's authorization as an app keeps it (a provider over the store), and the
//! refresh chain every seller grant runs: the parts the vendors' flows share.

use std::collections::HashSet;
use std::sync::Arc;

use auth_core::emulator::{Emulator, Vendor};
use auth_core::{
    CachedTokenProvider, CachedTokenProviderBuilder, StoreKey, Token, TokenRecord, TokenStore,
};

use super::{Outcome, call_api, ensure, expect_eq, failed};

/// A seller's authorization in use.
pub(super) struct Seller {
    /// Whom the emulator issued the grant to.
    pub(super) subject: String,
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) key: StoreKey,
    pub(super) provider: CachedTokenProvider,
}

impl Seller {
    /// Builds `builder`'s provider over `store` under `key`, and installs `token` (a code
    /// exchange's) with `replace_token`, which saves it: what an app does after the
    /// redirect.
    pub(super) async fn install(
        builder: CachedTokenProviderBuilder,
        store: Arc<dyn TokenStore>,
        key: StoreKey,
        subject: &str,
        token: Token,
    ) -> Result<Self, String> {
        let provider = builder.store(store.clone(), key.clone()).build();
        provider
            .replace_token(token)
            .await
            .map_err(failed("saving the token"))?;
        Ok(Self {
            subject: subject.to_owned(),
            store,
            key,
            provider,
        })
    }

    /// The record the store holds.
    pub(super) async fn record(&self) -> Result<TokenRecord, String> {
        self.store
            .load(&self.key)
            .await
            .map_err(failed("reading the store"))?
            .ok_or_else(|| "the store holds no record".to_owned())
    }

    /// The refresh token the store holds.
    pub(super) async fn stored_refresh_token(&self) -> Result<String, String> {
        refresh_token_of(&self.record().await?.token)
    }
}

/// After a code exchange: installs `token` in `builder`'s provider over `store` (see
/// [`Seller::install`]) and calls the API with it; the exchange must have been the only
/// token request.
pub(super) async fn first_use<V: Vendor>(
    emulator: &Emulator<V>,
    builder: CachedTokenProviderBuilder,
    store: Arc<dyn TokenStore>,
    key: StoreKey,
    subject: &str,
    token: Token,
) -> Result<Seller, String> {
    let seller = Seller::install(builder, store, key, subject, token).await?;
    call_api(emulator, &seller.provider).await?;
    let counts = emulator.counts();
    expect_eq("code exchanges", counts.grant("authorization_code"), 1)?;
    expect_eq("token requests", counts.token(), 1)?;
    Ok(seller)
}

/// The refresh token of `token`, which must have one.
pub(super) fn refresh_token_of(token: &Token) -> Result<String, String> {
    token
        .refresh_token()
        .map(|rt| rt.expose_secret().to_owned())
        .ok_or_else(|| "the token has no refresh token".to_owned())
}

/// Whether the vendor rotates refresh tokens on every refresh.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Rotates {
    /// Single use: every refresh spends the one presented and returns a new one.
    Yes,
    /// Long-lived: every refresh returns the same one.
    No,
}

/// `steps` refreshes through the seller's provider, each followed by an API call: the
/// store holds the refresh token each one returned before anything uses it, and the
/// emulator accepts exactly that one.
pub(super) async fn refresh_chain<V: Vendor>(
    emulator: &Emulator<V>,
    seller: &Seller,
    steps: usize,
    rotates: Rotates,
) -> Outcome {
    let first = seller.stored_refresh_token().await?;
    let mut seen = HashSet::from([first.clone()]);
    for step in 1..=steps {
        let token = seller
            .provider
            .force_refresh()
            .await
            .map_err(|e| format!("refresh {step}: {e}"))?;
        let received = refresh_token_of(&token)?;
        ensure(
            emulator.live_refresh_tokens(&seller.subject) == [received.clone()],
            || format!("refresh {step}: the emulator's live refresh token is another"),
        )?;
        ensure(seller.stored_refresh_token().await? == received, || {
            format!("refresh {step}: the store does not hold the refresh token received")
        })?;
        seen.insert(received);
        call_api(emulator, &seller.provider).await?;
    }
    expect_eq(
        "refreshes",
        emulator.counts().grant("refresh_token"),
        steps as u64,
    )?;
    match rotates {
        Rotates::Yes => {
            expect_eq("distinct refresh tokens", seen.len(), steps + 1)?;
            Ok(format!("{steps} rotations, each saved before use"))
        }
        Rotates::No => {
            expect_eq("distinct refresh tokens", seen.len(), 1)?;
            Ok("the refresh token stays the same".to_owned())
        }
    }
}

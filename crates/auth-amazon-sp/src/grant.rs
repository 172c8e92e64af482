//! The LWA grants as [`TokenSource`]s, for `CachedTokenProvider` to drive.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{AuthError, CachedTokenProvider, RefreshToken, Scopes, Token, TokenSource};

use crate::client::{Client, RdtOutcome, check_grantless_scopes, check_rdt_request};
use crate::scope::Scope;
use crate::wire::CreateRestrictedDataTokenRequest;

/// A seller's access tokens from its refresh token (`grant_type=refresh_token`).
///
/// Uses the refresh token of the previous token (what the provider holds, or loaded from
/// its store) and falls back to the one given here, so a provider built on
/// `RefreshGrant::new(client, Some(refresh_token))` needs no seed: its first fetch
/// presents `refresh_token`. LWA refresh tokens do not rotate, so the token returned
/// carries the same refresh token, and later fetches present it again. With no refresh
/// token at all, a fetch sends nothing (see [`fetch_token`](Self::fetch_token)).
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, RefreshGrant};
/// use auth_core::{CachedTokenProvider, RefreshToken, TokenSource};
///
/// let client = Client::builder().client_id("id").client_secret("secret").build().unwrap();
/// let grant = RefreshGrant::new(client, Some(RefreshToken::new("Atzr|...")));
/// assert!(grant.needs_refresh_token());
/// // The first `provider.token().await` refreshes with "Atzr|...".
/// let provider = CachedTokenProvider::new(grant);
/// # drop(provider);
/// ```
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    client: Client,
    refresh_token: Option<RefreshToken>,
}

impl RefreshGrant {
    /// A refresh grant; `refresh_token` is used when the previous token has none.
    pub fn new(client: Client, refresh_token: Option<RefreshToken>) -> Self {
        Self {
            client,
            refresh_token,
        }
    }
}

#[async_trait]
impl TokenSource for RefreshGrant {
    /// Refreshes with `previous`'s refresh token, else the one given to
    /// [`new`](Self::new).
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) with neither: the selling partner must
    /// authorize the application, or the provider be seeded with its refresh token. It is
    /// deliberately not `invalid_grant`, which is LWA's own answer for a refresh token
    /// the seller revoked. Otherwise as [`Client::refresh`].
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let refresh_token = previous
            .and_then(Token::refresh_token)
            .or(self.refresh_token.as_ref())
            .ok_or(AuthError::NoRefreshToken)?;
        self.client.refresh(refresh_token).await
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }
}

/// Grantless access tokens (`grant_type=client_credentials`) for a fixed set of scopes.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, GrantlessGrant, Scope};
/// use auth_core::Scopes;
///
/// let client = Client::builder().client_id("id").client_secret("secret").build().unwrap();
/// let grant = GrantlessGrant::new(client.clone(), Scopes::from([Scope::Notifications])).unwrap();
/// assert!(GrantlessGrant::new(client, Scopes::new()).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct GrantlessGrant {
    client: Client,
    scopes: Scopes<Scope>,
}

impl GrantlessGrant {
    /// A grantless grant for `scopes`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty set.
    pub fn new(client: Client, scopes: Scopes<Scope>) -> Result<Self, AuthError> {
        check_grantless_scopes(&scopes)?;
        Ok(Self { client, scopes })
    }

    /// The scopes requested.
    pub fn scopes(&self) -> &Scopes<Scope> {
        &self.scopes
    }
}

#[async_trait]
impl TokenSource for GrantlessGrant {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        self.client.grantless(&self.scopes).await
    }
}

/// Restricted Data Tokens for one set of restricted resources, paid for with a selling
/// partner's LWA access tokens.
///
/// The LWA token comes from the seller's [`CachedTokenProvider`]. When the Tokens API
/// rejects it (expired or revoked before its time), it is invalidated there and the call
/// made once more with a new one.
///
/// Drive it with its own `CachedTokenProvider` (no store: RDTs are short-lived and give
/// access to personal data), or let [`RestrictedDataTokens`](crate::RestrictedDataTokens)
/// keep one per resource set.
#[derive(Debug, Clone)]
pub struct RestrictedDataTokenSource {
    client: Client,
    lwa: Arc<CachedTokenProvider>,
    request: CreateRestrictedDataTokenRequest,
}

impl RestrictedDataTokenSource {
    /// A source of RDTs for `request`'s resources.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for no resources, more than 50, or a path not starting
    /// with `/`.
    pub fn new(
        client: Client,
        lwa: Arc<CachedTokenProvider>,
        request: CreateRestrictedDataTokenRequest,
    ) -> Result<Self, AuthError> {
        check_rdt_request(&request)?;
        Ok(Self {
            client,
            lwa,
            request,
        })
    }

    /// The resources the RDTs cover.
    pub fn request(&self) -> &CreateRestrictedDataTokenRequest {
        &self.request
    }
}

#[async_trait]
impl TokenSource for RestrictedDataTokenSource {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        let lwa = self.lwa.token().await?;
        match self.client.rdt_call(&lwa, &self.request).await? {
            RdtOutcome::Issued(token) => Ok(token),
            RdtOutcome::Rejected(_) => {
                tracing::info!(
                    "the Tokens API rejected the LWA access token; refreshing it and retrying once"
                );
                self.lwa.invalidate_token(&lwa);
                let lwa = self.lwa.token().await?;
                match self.client.rdt_call(&lwa, &self.request).await? {
                    RdtOutcome::Issued(token) => Ok(token),
                    RdtOutcome::Rejected(error) => Err(error),
                }
            }
        }
    }
}

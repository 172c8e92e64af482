//! The LWA grants as [`TokenSource`]s, for `CachedTokenProvider` to drive.

use async_trait::async_trait;
use auth_core::{AuthError, RefreshToken, Scopes, Token, TokenSource};

use crate::client::{Client, check_grantless_scopes};
use crate::scope::Scope;

/// A seller's access tokens from its refresh token (`grant_type=refresh_token`).
///
/// Uses the refresh token of the previous token (what the provider loaded from its store)
/// and falls back to the one given here. LWA refresh tokens do not rotate, so the token
/// returned carries the same refresh token.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, RefreshGrant};
/// use auth_core::{RefreshToken, TokenSource};
///
/// let client = Client::builder().client_id("id").client_secret("secret").build().unwrap();
/// let grant = RefreshGrant::new(client, Some(RefreshToken::new("Atzr|...")));
/// assert!(grant.needs_refresh_token());
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
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let refresh_token = previous
            .and_then(Token::refresh_token)
            .or(self.refresh_token.as_ref())
            .ok_or_else(|| {
                AuthError::InvalidConfig(
                    "no LWA refresh token: the selling partner must authorize the application \
                     and its refresh token be given to the provider"
                        .into(),
                )
            })?;
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

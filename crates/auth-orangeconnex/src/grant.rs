//! Grant flows as [`TokenSource`]s, and the refresh token's one-year lifetime.
//!
//! # Refresh tokens live one year
//!
//! Orange Connex refresh tokens are valid for one year. When one lapses, refreshing fails
//! with `invalid_grant` and the seller must go through the browser step again, so
//! operators want to know ahead of time. Every [`Token`] this crate returns carries, in
//! [`Token::refresh_token_issued_at`], when its refresh token was issued (by our clock):
//! set on a code exchange and whenever a refresh returns a different refresh token,
//! carried over unchanged when the vendor returns the same one or none (stores keep it).
//! [`refresh_token_expires_at`]
//! adds [`REFRESH_TOKEN_LIFETIME`] to it; each refresh also logs a warning (no secret in
//! it) within [`ClientBuilder::refresh_token_warn_before`](crate::ClientBuilder::refresh_token_warn_before)
//! of that date.
//!
//! ```
//! use auth_core::{AccessToken, RefreshToken, Token};
//! use auth_orangeconnex::{refresh_token_expires_at, REFRESH_TOKEN_LIFETIME};
//! use chrono::{Duration, Utc};
//!
//! # let issued = Utc::now() - Duration::days(350);
//! # let token = Token::new(AccessToken::new("a"), None)
//! #     .with_refresh_token(RefreshToken::new("r"))
//! #     .with_refresh_token_issued_at(issued);
//! // `token` as returned by the provider or the client:
//! if let Some(lapses) = refresh_token_expires_at(&token) {
//!     if lapses - Utc::now() < Duration::days(30) {
//!         // alert: ask the seller to authorize the app again before `lapses`
//!     }
//! }
//! # assert_eq!(refresh_token_expires_at(&token), Some(issued + REFRESH_TOKEN_LIFETIME));
//! ```
//!
//! A refresh token obtained elsewhere (seeded into the provider) has no known issue time
//! until it rotates; give it with [`RefreshGrant::refresh_token_issued_at`].

use std::time::Duration;

use async_trait::async_trait;
use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, CachedTokenProvider, CachedTokenProviderBuilder, RefreshToken, SubjectClient,
    SubjectTokens, SubjectTokensBuilder, Token, TokenSource,
};
use chrono::{DateTime, Utc};

use crate::Client;

/// How long an Orange Connex refresh token is valid: one year, counted as 365 days (the
/// shorter reading, so an alert is never late in a leap year).
pub const REFRESH_TOKEN_LIFETIME: chrono::Duration = chrono::Duration::days(365);

/// Default of [`ClientBuilder::refresh_token_warn_before`](crate::ClientBuilder::refresh_token_warn_before):
/// 30 days.
pub const DEFAULT_WARN_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

/// When the token's refresh token stops working
/// ([`Token::refresh_token_issued_at`] + one year), if the token has a refresh token
/// whose issue time is known.
pub fn refresh_token_expires_at(token: &Token) -> Option<DateTime<Utc>> {
    token.refresh_token()?;
    token
        .refresh_token_issued_at()
        .map(|at| at + REFRESH_TOKEN_LIFETIME)
}

/// The refresh grant: each fetch refreshes the previous token with its refresh token.
///
/// What [`CachedTokenProvider`](auth_core::CachedTokenProvider) drives once a token (or a
/// seed refresh token) is known. The refresh token the response returns is kept; if the
/// response has none, the previous one is kept (the vendor did not rotate it, so it still
/// works). Each refresh request itself is sent once, as if the refresh token were
/// single-use: see [`Client::refresh`](crate::Client::refresh).
///
/// # Examples
///
/// [`Client::refresh_provider`] builds the provider for you; the grant itself is for a
/// seeded refresh token whose issue time you know:
///
/// ```
/// use auth_core::{RefreshToken, VendorClient};
/// use auth_orangeconnex::{Client, RefreshGrant};
/// use chrono::{Duration, Utc};
///
/// let client = Client::builder().client_id("my-3pp").build().unwrap();
/// let grant = RefreshGrant::new(client.clone())
///     .refresh_token_issued_at(Utc::now() - Duration::days(200));
/// let provider = client
///     .provider_builder(grant)
///     .seed_refresh_token(RefreshToken::new("from exchange_code"))
///     .build();
/// # drop(provider);
/// ```
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    client: Client,
    seed_issued_at: Option<DateTime<Utc>>,
}

impl RefreshGrant {
    /// A refresh grant over `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            seed_issued_at: None,
        }
    }

    /// When the seeded refresh token was issued, for a previous token that does not say
    /// (a refresh token configured by hand or loaded from elsewhere).
    #[must_use]
    pub fn refresh_token_issued_at(mut self, issued_at: DateTime<Utc>) -> Self {
        self.seed_issued_at = Some(issued_at);
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait]
impl TokenSource for RefreshGrant {
    /// Refreshes `previous`.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) without a previous refresh token
    /// (seed the provider with one, or have the seller authorize the app); otherwise as
    /// [`Client::refresh`], whose `invalid_grant` is the vendor's: the refresh token
    /// lapsed or was revoked.
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        match previous {
            Some(previous) => {
                self.client
                    .refresh_from_or(previous, self.seed_issued_at)
                    .await
            }
            None => Err(AuthError::NoRefreshToken),
        }
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }

    /// Orange Connex may rotate refresh tokens: treated as single-use.
    fn rotates_refresh_token(&self) -> bool {
        crate::client::REFRESH_TOKEN_MAY_ROTATE
    }
}

/// The authorization-code grant followed by refreshes: auth-core's
/// [`AuthorizationCodeGrant`](auth_core::grant::AuthorizationCodeGrant) over this crate's
/// [`Client`] (the same take-the-code-once logic in every vendor crate). The first fetch
/// exchanges the code (once; kept for one more try after a retryable failure), later
/// ones refresh with [`Client::refresh_from`], which keeps the refresh token's age and
/// warns before it lapses.
///
/// Give it to a provider right after the redirect, so the provider stores the whole first
/// token (and when its refresh token was issued) instead of only a seeded refresh token.
///
/// # Examples
///
/// ```
/// use auth_core::{State, VendorClient};
/// use auth_orangeconnex::{parse_redirect, AuthorizationCodeGrant, Client};
///
/// let client = Client::builder().client_id("my-3pp").build().unwrap();
/// let state = State::from_saved("saved-in-session");
/// let redirect = "https://app.example.com/cb?code=c0de&state=saved-in-session".parse().unwrap();
/// let code = parse_redirect(&redirect, &state).unwrap();
/// let grant = AuthorizationCodeGrant::new(client.clone(), code, "https://app.example.com/cb");
/// let provider = client.provider_builder(grant).build();
/// # drop(provider);
/// ```
pub type AuthorizationCodeGrant = auth_core::grant::AuthorizationCodeGrant<Client>;

impl Client {
    /// A provider of the seller's token from `refresh_token` (the one from
    /// [`exchange_code`](Self::exchange_code)): [`RefreshGrant`], seeded, knowing the
    /// Open API's `Access-Token` header and how it says a token was rejected, so that
    /// [`CachedTokenProvider::send`] needs nothing else. Use
    /// [`refresh_provider_builder`](Self::refresh_provider_builder) to add a store.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AuthError> {
    /// use auth_core::{RefreshToken, VendorClient};
    /// use auth_orangeconnex::Client;
    ///
    /// let client = Client::builder().client_id("my-3pp").build()?;
    /// let provider = client.refresh_provider(RefreshToken::new("from exchange_code"));
    /// let response = provider
    ///     .send(client.http_client().post(client.api_url("3pp/sku/v3/creation")?))
    ///     .await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub fn refresh_provider(&self, refresh_token: impl Into<RefreshToken>) -> CachedTokenProvider {
        self.refresh_provider_builder(refresh_token).build()
    }

    /// Like [`refresh_provider`](Self::refresh_provider), as a builder: add a store (a
    /// stored token wins over `refresh_token`, which only seeds an empty store) or
    /// settings, then `build()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use auth_core::{MemoryStore, RefreshToken, VendorClient};
    /// use auth_orangeconnex::Client;
    ///
    /// let client = Client::builder().client_id("my-3pp").build()?;
    /// let provider = client
    ///     .refresh_provider_builder(RefreshToken::new("from exchange_code"))
    ///     .store(Arc::new(MemoryStore::new()), client.store_key("seller-42"))
    ///     .build();
    /// # drop(provider);
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    pub fn refresh_provider_builder(
        &self,
        refresh_token: impl Into<RefreshToken>,
    ) -> CachedTokenProviderBuilder {
        self.provider_builder(RefreshGrant::new(self.clone()))
            .seed_refresh_token(refresh_token.into())
    }
}

/// Access tokens for every seller that authorized the application: auth-core's
/// [`SubjectTokens`] over [`RefreshGrant`], one cached, auto-refreshing provider per
/// seller, all sharing one [`Client`] (one connection pool, one set of credentials, one
/// cap on token requests in flight).
///
/// Each seller's refresh token lives in the [`TokenStore`](auth_core::TokenStore) under
/// `client.store_key(seller)`; put it there with [`authorize`](SubjectTokens::authorize)
/// after [`exchange_code`](Client::exchange_code), or let
/// [`refresh_tokens`](SubjectTokensBuilder::refresh_tokens) seed it from where you keep
/// them. Orange Connex refresh tokens are treated as single-use and live one year: give
/// it a store that outlives the process (a [`FileStore`](auth_core::FileStore), or a
/// Redis store shared by every process serving these sellers), and watch
/// [`refresh_token_expires_at`] to ask sellers to authorize again in time.
///
/// # Examples
///
/// ```no_run
/// # async fn run(code: String) -> Result<(), auth_core::AuthError> {
/// use std::sync::Arc;
/// use auth_core::FileStore;
/// use auth_orangeconnex::{Client, SellerTokens, VendorClient};
///
/// let client = Client::builder().client_id("my-3pp").build()?;
/// let sellers = SellerTokens::builder(client.clone())
///     .store(Arc::new(FileStore::new("/var/lib/myapp/tokens")))
///     .capacity(10_000)
///     .build()?;
///
/// // Onboarding: the seller's refresh token goes into the store.
/// let token = client.exchange_code(code, "https://myapp.example/callback").await?;
/// sellers.authorize("seller-42", token).await?;
///
/// // Any later call for that seller: a cached token, refreshed when due, and one retry
/// // with a new token if Orange Connex rejects it.
/// let url = client.api_url("3pp/sku/v3/creation")?;
/// let response = sellers.send("seller-42", client.http_client().post(url)).await?;
/// # let _ = response; Ok(()) }
/// ```
pub type SellerTokens = SubjectTokens<Client>;

/// Builds [`SellerTokens`].
pub type SellerTokensBuilder = SubjectTokensBuilder<Client>;

impl SubjectClient for Client {
    /// [`RefreshGrant`], knowing Orange Connex's API.
    fn subject_provider_builder(&self) -> CachedTokenProviderBuilder {
        self.provider_builder(RefreshGrant::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder().client_id("id").build().unwrap()
    }

    /// Orange Connex may rotate refresh tokens: treated as single-use.
    #[test]
    fn refresh_grants_declare_possibly_single_use_refresh_tokens() {
        assert!(RefreshGrant::new(client()).rotates_refresh_token());
        assert!(
            AuthorizationCodeGrant::new(client(), "code", "https://app/cb").rotates_refresh_token()
        );
    }
}

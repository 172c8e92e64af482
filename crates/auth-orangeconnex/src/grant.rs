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
//! adds [`REFRESH_TOKEN_LIFETIME`] to it; [`RefreshGrant`] also logs a warning (no
//! secret in it) on each refresh within [`RefreshGrant::warn_before`] of that date.
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

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{AuthError, Secret, Token, TokenSource};
use chrono::{DateTime, Utc};

use crate::Client;

/// How long an Orange Connex refresh token is valid: one year, counted as 365 days (the
/// shorter reading, so an alert is never late in a leap year).
pub const REFRESH_TOKEN_LIFETIME: chrono::Duration = chrono::Duration::days(365);

/// Default of [`RefreshGrant::warn_before`]: 30 days.
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
/// ```
/// use auth_core::{CachedTokenProvider, RefreshToken};
/// use auth_orangeconnex::{Client, RefreshGrant};
///
/// let client = Client::builder().client_id("my-3pp").build().unwrap();
/// let grant = RefreshGrant::new(client);
/// let provider = CachedTokenProvider::builder(grant)
///     .seed_refresh_token(RefreshToken::new("from exchange_code"))
///     .build();
/// # drop(provider);
/// ```
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    client: Client,
    seed_issued_at: Option<DateTime<Utc>>,
    warn_before: Duration,
}

impl RefreshGrant {
    /// A refresh grant over `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            seed_issued_at: None,
            warn_before: DEFAULT_WARN_BEFORE,
        }
    }

    /// When the seeded refresh token was issued, for a previous token that does not say
    /// (a refresh token configured by hand or loaded from elsewhere).
    #[must_use]
    pub fn refresh_token_issued_at(mut self, issued_at: DateTime<Utc>) -> Self {
        self.seed_issued_at = Some(issued_at);
        self
    }

    /// How long before the refresh token lapses each refresh logs a warning (default
    /// [`DEFAULT_WARN_BEFORE`]). `Duration::ZERO` turns the warning off.
    #[must_use]
    pub fn warn_before(mut self, warn_before: Duration) -> Self {
        self.warn_before = warn_before;
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn refresh(&self, previous: &Token) -> Result<Token, AuthError> {
        let Some(refresh_token) = previous.refresh_token() else {
            return Err(AuthError::NoRefreshToken);
        };
        let issued_at = previous.refresh_token_issued_at().or(self.seed_issued_at);
        let token = self.client.refresh_with(refresh_token, issued_at).await?;
        self.warn_if_lapsing(&token);
        Ok(token)
    }

    fn warn_if_lapsing(&self, token: &Token) {
        let (Some(lapses), Ok(window)) = (
            refresh_token_expires_at(token),
            chrono::Duration::from_std(self.warn_before),
        ) else {
            return;
        };
        let now = self.client.now();
        if self.warn_before > Duration::ZERO && lapses - now <= window {
            tracing::warn!(
                environment = %self.client.environment(),
                client_id = %self.client.client_id(),
                refresh_token_expires_at = %lapses.to_rfc3339(),
                days_left = (lapses - now).num_days(),
                "the Orange Connex refresh token lapses soon; the seller must authorize the app again before then"
            );
        }
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
            Some(previous) => self.refresh(previous).await,
            None => Err(AuthError::NoRefreshToken),
        }
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }
}

/// The authorization-code grant followed by refreshes: the first fetch exchanges the code
/// (once), later ones refresh.
///
/// Give it to a [`CachedTokenProvider`](auth_core::CachedTokenProvider) right after the
/// redirect, so the provider stores the whole first token (and when its refresh token was
/// issued) instead of only a seeded refresh token.
///
/// # Examples
///
/// ```
/// use auth_core::State;
/// use auth_orangeconnex::{parse_redirect, AuthorizationCodeGrant, Client};
///
/// let client = Client::builder().client_id("my-3pp").build().unwrap();
/// let state = State::from_saved("saved-in-session");
/// let redirect = "https://app.example.com/cb?code=c0de&state=saved-in-session".parse().unwrap();
/// let code = parse_redirect(&redirect, &state).unwrap();
/// let grant = AuthorizationCodeGrant::new(client, code, "https://app.example.com/cb");
/// # let _ = grant;
/// ```
#[derive(Debug)]
pub struct AuthorizationCodeGrant {
    code: Mutex<Option<Secret>>,
    redirect_uri: String,
    refresh: RefreshGrant,
}

impl AuthorizationCodeGrant {
    /// A grant exchanging `code` (as decoded once from the redirect, see
    /// [`Client::exchange_code`]) with `redirect_uri`.
    pub fn new(client: Client, code: impl Into<Secret>, redirect_uri: impl Into<String>) -> Self {
        Self {
            code: Mutex::new(Some(code.into())),
            redirect_uri: redirect_uri.into(),
            refresh: RefreshGrant::new(client),
        }
    }

    /// Sets [`RefreshGrant::warn_before`] for the refreshes.
    #[must_use]
    pub fn warn_before(mut self, warn_before: Duration) -> Self {
        self.refresh = self.refresh.warn_before(warn_before);
        self
    }

    fn take_code(&self) -> Option<Secret> {
        self.code.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn put_back(&self, code: Secret) {
        *self.code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
    }
}

#[async_trait]
impl TokenSource for AuthorizationCodeGrant {
    /// Refreshes `previous` if it has a refresh token; otherwise exchanges the code, once.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) when the code was already exchanged
    /// and there is no refresh token; otherwise as [`Client::exchange_code`] or
    /// [`Client::refresh`]. After an error that may be temporary
    /// ([`AuthError::is_retryable`]) the code is kept for the next attempt.
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        if let Some(previous) = previous.filter(|t| t.refresh_token().is_some()) {
            return self.refresh.refresh(previous).await;
        }
        let Some(code) = self.take_code() else {
            return Err(AuthError::NoRefreshToken);
        };
        match self
            .refresh
            .client
            .exchange_code(code.clone(), &self.redirect_uri)
            .await
        {
            Ok(token) => Ok(token),
            Err(e) => {
                if e.is_retryable() {
                    self.put_back(code);
                }
                Err(e)
            }
        }
    }
}

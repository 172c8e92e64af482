//! [`TokenSource`]: a grant flow, and the ready-made sources.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

use crate::{AuthError, Token};

/// A grant flow: how to get a token from the vendor.
///
/// Pure: it does not read or write a store. The
/// [`CachedTokenProvider`](crate::CachedTokenProvider) calls it with the current token
/// (whose refresh token it should use, if it has one) and saves what it returns; a rotated
/// refresh token is simply in the returned [`Token`].
///
/// # Examples
///
/// A library author's own grant:
///
/// ```
/// use async_trait::async_trait;
/// use auth_core::{AccessToken, AuthError, Token, TokenSource};
///
/// #[derive(Debug)]
/// struct MyGrant;
///
/// #[async_trait]
/// impl TokenSource for MyGrant {
///     async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
///         Ok(Token::new(AccessToken::new("from my vendor"), None))
///     }
/// }
/// ```
#[async_trait]
pub trait TokenSource: fmt::Debug + Send + Sync + 'static {
    /// Gets a new token. `previous` is the last token known (from memory or the store),
    /// whose refresh token a refresh grant uses.
    ///
    /// # Errors
    ///
    /// Any [`AuthError`]. [`AuthError::is_invalid_grant`] (the vendor refused the code or
    /// refresh token) and [`AuthError::NoRefreshToken`] (a refresh grant with no refresh
    /// token to present: return it without sending anything) tell the provider that the
    /// grant is dead until the user authorizes again. A request whose outcome is unknown
    /// after it spent a single-use credential is [`AuthError::OutcomeUnknown`].
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError>;

    /// Whether a refresh needs `previous` to carry a refresh token (refresh grants), for
    /// tools that describe a grant. The provider does not consult it: the grant itself
    /// answers [`AuthError::NoRefreshToken`]. Default `false`.
    fn needs_refresh_token(&self) -> bool {
        false
    }

    /// Whether a refresh may spend a single-use credential that other processes sharing
    /// the store could spend too: a refresh token the vendor rotates on every use
    /// (Easyship), or may rotate (undocumented). Two processes refreshing at once with
    /// such a token break the chain, and the user must authorize again.
    ///
    /// The provider asks only when its store is unreachable and its token would run out:
    /// then it refreshes without the store's lease if this is `false`, and for `true`
    /// (with a refresh token to present) it sends nothing and returns
    /// [`AuthError::StoreUnavailable`]. Grants whose refresh token is reusable (Login
    /// with Amazon), or that have none (client credentials, API keys), return `false`.
    /// Default `true`: the safe answer for a grant that does not say.
    fn rotates_refresh_token(&self) -> bool {
        true
    }

    /// Whether the vendor revokes the previous access token when it answers a refresh
    /// (Doorkeeper, Easyship's token server, does it in the same transaction that issues
    /// the new one): then that token must not be handed out once the refresh request is
    /// on its way.
    ///
    /// For `true` the provider stops handing out the token a refresh presents right
    /// before the request goes out (callers wait for the refresh instead, at most the
    /// store's lease TTL), and the lease holder announces the refresh through the store
    /// ([`TokenStore::announce_refresh`](crate::TokenStore::announce_refresh)) so that
    /// other processes sharing the key stop handing out their copy too. A failed refresh
    /// hands the old token out again while it is valid. Default `false`: the old token
    /// is served during the refresh, as long as it is valid.
    fn revokes_previous_access_token(&self) -> bool {
        false
    }
}

#[async_trait]
impl<T: TokenSource + ?Sized> TokenSource for std::sync::Arc<T> {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        (**self).fetch_token(previous).await
    }
    fn needs_refresh_token(&self) -> bool {
        (**self).needs_refresh_token()
    }
    fn rotates_refresh_token(&self) -> bool {
        (**self).rotates_refresh_token()
    }
    fn revokes_previous_access_token(&self) -> bool {
        (**self).revokes_previous_access_token()
    }
}

/// A source that always returns the same token: API keys that never expire, and users'
/// tests.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use auth_core::{AccessToken, StaticSource, Token, TokenSource};
///
/// let source = StaticSource::new(Token::new(AccessToken::new("k"), None));
/// let token = source.fetch_token(None).await.unwrap();
/// assert_eq!(token.access_token().expose_secret(), "k");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StaticSource {
    token: Token,
}

impl StaticSource {
    /// A source handing out `token`.
    pub fn new(token: Token) -> Self {
        Self { token }
    }
}

#[async_trait]
impl TokenSource for StaticSource {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        Ok(self.token.clone())
    }

    /// It never refreshes anything.
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Token, AuthError>> + Send + 'static>>;

/// A source from a closure returning a future: the quickest custom grant.
///
/// # Examples
///
/// ```
/// use auth_core::{AccessToken, FnSource, Token};
///
/// let source = FnSource::new(|_previous| async {
///     Ok(Token::new(AccessToken::new("fresh"), None))
/// });
/// ```
pub struct FnSource {
    fetch: Box<dyn Fn(Option<Token>) -> BoxFuture + Send + Sync>,
}

impl FnSource {
    /// A source calling `fetch` with a copy of the previous token.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn(Option<Token>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Token, AuthError>> + Send + 'static,
    {
        Self {
            fetch: Box::new(move |previous| Box::pin(fetch(previous))),
        }
    }
}

impl fmt::Debug for FnSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSource").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for FnSource {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        (self.fetch)(previous.cloned()).await
    }
}

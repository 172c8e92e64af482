//! Grant flows shared by vendors: the authorization code exchanged once, then refresh.

use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::{AuthError, Secret, Token, TokenSource};

/// A vendor client that can exchange an authorization code and refresh a token: what
/// [`AuthorizationCodeGrant`] drives. Vendor crates implement it for their `Client`.
#[async_trait]
pub trait AuthorizationCodeClient: fmt::Debug + Send + Sync + 'static {
    /// Exchanges `code` (sent to `redirect_uri`) for the first token.
    ///
    /// # Errors
    ///
    /// The vendor's error.
    async fn exchange_authorization_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
    ) -> Result<Token, AuthError>;

    /// Refreshes with `previous`'s refresh token (the caller checked it has one).
    ///
    /// # Errors
    ///
    /// The vendor's error.
    async fn refresh_previous(&self, previous: &Token) -> Result<Token, AuthError>;

    /// Whether the vendor's refresh token is single-use (rotated on every refresh): see
    /// [`TokenSource::rotates_refresh_token`]. Default `true`, the safe answer.
    fn rotates_refresh_token(&self) -> bool {
        true
    }

    /// Whether a refresh revokes the previous access token: see
    /// [`TokenSource::revokes_previous_access_token`]. Default `false`.
    fn revokes_previous_access_token(&self) -> bool {
        false
    }
}

/// The authorization-code grant followed by refreshes: the first fetch without a refresh
/// token exchanges the code, later fetches refresh.
///
/// A code is single-use: once exchanged (successfully, or with a definite refusal) it is
/// dropped, and a fetch that needs it again fails with [`AuthError::NoRefreshToken`]
/// (nothing sent; the user must authorize again). After a retryable failure (a timeout,
/// a 5xx) the code is kept for one more try: the vendor answers `invalid_grant` if the
/// lost attempt had spent it.
///
/// Give it to a [`CachedTokenProvider`](crate::CachedTokenProvider) right after the
/// redirect (vendor crates name it `AuthorizationCodeGrant` with their `Client`), so the
/// provider stores the whole first token.
pub struct AuthorizationCodeGrant<C> {
    client: C,
    code: Mutex<Option<Secret>>,
    redirect_uri: String,
}

impl<C: fmt::Debug> fmt::Debug for AuthorizationCodeGrant<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unused = self.code.lock().map(|c| c.is_some()).unwrap_or(false);
        f.debug_struct("AuthorizationCodeGrant")
            .field("client", &self.client)
            .field("code_unused", &unused)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl<C> AuthorizationCodeGrant<C> {
    /// A grant for the `code` the vendor sent to `redirect_uri` (the same string as in
    /// the authorize step). Check the redirect's `state` before building it.
    pub fn new(client: C, code: impl Into<Secret>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client,
            code: Mutex::new(Some(code.into())),
            redirect_uri: redirect_uri.into(),
        }
    }

    /// The client.
    pub fn client(&self) -> &C {
        &self.client
    }
}

#[async_trait]
impl<C: AuthorizationCodeClient> TokenSource for AuthorizationCodeGrant<C> {
    /// Refreshes `previous` if it has a refresh token; otherwise exchanges the code, once.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) when the code was already exchanged
    /// and there is no refresh token; otherwise the vendor's error. After an error that
    /// may be temporary ([`AuthError::is_retryable`]) the code is kept for the next
    /// attempt.
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        if let Some(previous) = previous.filter(|p| p.refresh_token().is_some()) {
            return self.client.refresh_previous(previous).await;
        }
        let code = self
            .code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or(AuthError::NoRefreshToken)?;
        let result = self
            .client
            .exchange_authorization_code(&code, &self.redirect_uri)
            .await;
        if result.as_ref().is_err_and(AuthError::is_retryable) {
            *self.code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
        }
        result
    }

    /// As the client says ([`AuthorizationCodeClient::rotates_refresh_token`]); the code
    /// itself is held by this process alone.
    fn rotates_refresh_token(&self) -> bool {
        self.client.rotates_refresh_token()
    }

    /// As the client says ([`AuthorizationCodeClient::revokes_previous_access_token`]);
    /// the code exchange has no previous access token.
    fn revokes_previous_access_token(&self) -> bool {
        self.client.revokes_previous_access_token()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{AccessToken, RefreshToken};

    #[derive(Debug, Default)]
    struct Scripted {
        exchanges: AtomicUsize,
        refreshes: AtomicUsize,
        fail_first_exchange: bool,
    }

    #[async_trait]
    impl AuthorizationCodeClient for Scripted {
        async fn exchange_authorization_code(
            &self,
            code: &Secret,
            _redirect_uri: &str,
        ) -> Result<Token, AuthError> {
            let n = self.exchanges.fetch_add(1, Ordering::SeqCst);
            if self.fail_first_exchange && n == 0 {
                return Err(AuthError::Http {
                    vendor: "",
                    status: 503,
                    excerpt: String::new(),
                    retry_after: None,
                });
            }
            assert_eq!(code.expose_secret(), "the-code");
            Ok(Token::new(AccessToken::new("first"), None)
                .with_refresh_token(RefreshToken::new("rt-1")))
        }

        async fn refresh_previous(&self, previous: &Token) -> Result<Token, AuthError> {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            assert_eq!(previous.refresh_token().unwrap().expose_secret(), "rt-1");
            Ok(Token::new(AccessToken::new("refreshed"), None))
        }
    }

    #[tokio::test]
    async fn the_code_is_exchanged_once_then_refreshes_follow() {
        let grant = AuthorizationCodeGrant::new(Scripted::default(), "the-code", "https://cb");
        let first = grant.fetch_token(None).await.unwrap();
        assert_eq!(first.access_token().expose_secret(), "first");
        let next = grant.fetch_token(Some(&first)).await.unwrap();
        assert_eq!(next.access_token().expose_secret(), "refreshed");
        // Without a refresh token and with the code spent: nothing is sent.
        let spent = grant.fetch_token(None).await.unwrap_err();
        assert!(matches!(spent, AuthError::NoRefreshToken), "{spent}");
        assert_eq!(grant.client().exchanges.load(Ordering::SeqCst), 1);
        assert!(!format!("{grant:?}").contains("the-code"));
    }

    #[tokio::test]
    async fn a_retryable_failure_keeps_the_code_for_one_more_try() {
        let client = Scripted {
            fail_first_exchange: true,
            ..Scripted::default()
        };
        let grant = AuthorizationCodeGrant::new(client, "the-code", "https://cb");
        assert!(grant.fetch_token(None).await.unwrap_err().is_retryable());
        assert!(grant.fetch_token(None).await.is_ok());
        assert_eq!(grant.client().exchanges.load(Ordering::SeqCst), 2);
    }
}

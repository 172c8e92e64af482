//! [`TokenMiddleware`]: what [`CachedTokenProvider::send`] does, as a
//! `reqwest_middleware::Middleware` (feature `middleware`).

use async_trait::async_trait;
use reqwest_middleware::{Error, Middleware, Next, Result};

use crate::{AuthError, CachedTokenProvider, Token};

/// Puts the provider's token on every request and, when the API says the token was
/// rejected (the provider's [`ApiAccess`](crate::ApiAccess)), invalidates it and sends
/// the request once more with a new one (if its body can be cloned).
///
/// For users who already build a `reqwest_middleware::ClientWithMiddleware` with retry
/// and tracing middlewares: token handling is one `.with(..)`. Put it after a retry
/// middleware, so each retry gets a current token.
///
/// # Examples
///
/// ```
/// use auth_core::{AccessToken, CachedTokenProvider, StaticSource, Token, TokenMiddleware};
///
/// let provider = CachedTokenProvider::new(StaticSource::new(Token::new(AccessToken::new("t"), None)));
/// auth_core::install_crypto_provider();
/// let client = reqwest_middleware::ClientBuilder::new(auth_core::api_http_client().unwrap())
///     .with(TokenMiddleware::new(provider))
///     .build();
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
pub struct TokenMiddleware {
    provider: CachedTokenProvider,
}

impl TokenMiddleware {
    /// Middleware handing out `provider`'s token (vendor crates' one-call providers know
    /// their API's header and rejection check).
    pub fn new(provider: CachedTokenProvider) -> Self {
        Self { provider }
    }

    /// The provider.
    pub fn provider(&self) -> &CachedTokenProvider {
        &self.provider
    }

    fn authorize(&self, request: &mut reqwest::Request, token: &Token) -> Result<()> {
        let (name, value) = self
            .provider
            .api_access()
            .scheme()
            .header_value(token)
            .map_err(Error::middleware)?;
        request.headers_mut().insert(name, value);
        Ok(())
    }

    async fn token(&self) -> Result<std::sync::Arc<Token>> {
        self.provider.token().await.map_err(Error::middleware)
    }
}

#[async_trait]
impl Middleware for TokenMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        let token = self.token().await?;
        let retry = request.try_clone();
        self.authorize(&mut request, &token)?;
        let response = next.clone().run(request, extensions).await?;
        if !matches!(response.status().as_u16(), 401 | 403) {
            return Ok(response);
        }
        let rejected = self.provider.api_access().rejected();
        let (was_rejected, response) = crate::send::inspect(response, rejected)
            .await
            .map_err(Error::middleware)?;
        if !was_rejected {
            return Ok(response);
        }
        self.provider.invalidate_token(&token);
        let Some(mut retry) = retry else {
            return Ok(response);
        };
        drop(response);
        let token = self.token().await?;
        self.authorize(&mut retry, &token)?;
        next.run(retry, extensions).await
    }
}

// `AuthError` travels inside `reqwest_middleware::Error::Middleware` (an `anyhow::Error`):
// callers get it back with `downcast_ref::<AuthError>()`.
const _: fn() = || {
    fn is_std_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_std_error::<AuthError>();
};

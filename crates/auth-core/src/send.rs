//! [`CachedTokenProvider::send_with_token`]: an API call with the provider's token, sent
//! once more with a new token when the API rejects the first.

use crate::{AuthError, CachedTokenProvider};

impl CachedTokenProvider {
    /// Sends `request` with the token put on it as `scheme` says. When the response says
    /// the token was rejected (`rejected`, the vendor crate's check, is consulted on 401
    /// and 403 only), the token is invalidated and the request sent once more with a new
    /// one, if it can be cloned (streaming bodies cannot).
    ///
    /// Use a client that does not carry tokens across origins on redirects, such as
    /// [`api_http_client`](crate::api_http_client).
    ///
    /// # Errors
    ///
    /// The token's error, or [`AuthError::Transport`] when the API call fails.
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as the request itself: dropping the future abandons the API call
    /// (the vendor may have processed it); a refresh it started completes regardless.
    pub async fn send_with_token(
        &self,
        request: reqwest::RequestBuilder,
        scheme: &crate::AuthScheme,
        rejected: crate::RejectedTokenCheck,
    ) -> Result<reqwest::Response, AuthError> {
        use crate::RequestBuilderExt as _;
        let token = self.token().await?;
        let retry = request.try_clone();
        let response = request
            .auth_token(scheme, &token)
            .send()
            .await
            .map_err(AuthError::transport)?;
        let status = response.status();
        if !matches!(status.as_u16(), 401 | 403) {
            return Ok(response);
        }
        let (response, body) = buffer(response).await?;
        if !rejected(status, response.headers(), &body) {
            return Ok(rebuild(response, body));
        }
        tracing::info!(
            status = status.as_u16(),
            "the API rejected the access token; refreshing and retrying once"
        );
        self.invalidate_token(&token);
        let Some(retry) = retry else {
            return Ok(rebuild(response, body));
        };
        let token = self.token().await?;
        retry
            .auth_token(scheme, &token)
            .send()
            .await
            .map_err(AuthError::transport)
    }
}

async fn buffer(
    response: reqwest::Response,
) -> Result<(http::Response<()>, bytes::Bytes), AuthError> {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers().clone();
    }
    let body = response.bytes().await.map_err(AuthError::transport)?;
    let parts = builder
        .body(())
        .map_err(|e| AuthError::InvalidConfig(format!("cannot rebuild the response: {e}")))?;
    Ok((parts, body))
}

fn rebuild(parts: http::Response<()>, body: bytes::Bytes) -> reqwest::Response {
    let (parts, ()) = parts.into_parts();
    reqwest::Response::from(http::Response::from_parts(parts, body))
}

//! [`CachedTokenProvider::send_with_token`]: an API call with the provider's token, sent
//! once more with a new token when the API rejects the first.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use reqwest::ResponseBuilderExt as _;

use crate::{AuthError, AuthScheme, CachedTokenProvider, RejectedTokenCheck, RequestBuilderExt};

/// How much of a 401 or 403 response body [`CachedTokenProvider::send_with_token`] reads
/// before asking the [`RejectedTokenCheck`]: 64 KiB.
///
/// A longer body is not read whole: the check sees its first `REJECTED_BODY_PREFIX` bytes
/// (a vendor says "token expired" in a small JSON document, well inside them), and a
/// response handed back to the caller still yields the whole body, the rest streamed
/// from the connection after the part already read.
pub const REJECTED_BODY_PREFIX: usize = 64 * 1024;

impl CachedTokenProvider {
    /// Sends `request` with the token put on it the way the vendor's API expects
    /// ([`api_access`](Self::api_access): set by the vendor crates' one-call providers,
    /// `Authorization: Bearer` otherwise). When the API says the token was rejected, the
    /// token is invalidated and the request sent once more with a new one, if it can be
    /// cloned (streaming bodies cannot). Everything else is as
    /// [`send_with_token`](Self::send_with_token).
    ///
    /// # Errors
    ///
    /// The token's error, or [`AuthError::ApiTransport`] when the API call gets no
    /// response.
    ///
    /// # Cancel safety
    ///
    /// As [`send_with_token`](Self::send_with_token).
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, AuthError> {
        let api = self.api_access();
        self.send_with_token(request, api.scheme(), api.rejected())
            .await
            .map_err(|e| e.with_vendor(api.vendor()))
    }

    /// Sends `request` with the token put on it as `scheme` says. When the response says
    /// the token was rejected (`rejected`, the vendor crate's check, is consulted on 401
    /// and 403 only), the token is invalidated and the request sent once more with a new
    /// one, if it can be cloned (streaming bodies cannot).
    ///
    /// The check sees at most the first [`REJECTED_BODY_PREFIX`] bytes of the body. A 401
    /// or 403 response returned to the caller (the check said no, the request could not
    /// be cloned, or the new token was rejected as well) keeps its status, headers, URL
    /// and whole body.
    ///
    /// Use a client that does not carry tokens across origins on redirects, such as
    /// [`api_http_client`](crate::api_http_client).
    ///
    /// # Errors
    ///
    /// The token's error, or [`AuthError::ApiTransport`] when the API call gets no
    /// response (or its 401/403 body cannot be read).
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as the request itself: dropping the future abandons the API call
    /// (the vendor may have processed it); a refresh it started completes regardless.
    pub async fn send_with_token(
        &self,
        request: reqwest::RequestBuilder,
        scheme: &AuthScheme,
        rejected: RejectedTokenCheck,
    ) -> Result<reqwest::Response, AuthError> {
        let token = self.token().await?;
        let retry = request.try_clone();
        let response = request
            .auth_token(scheme, &token)
            .send()
            .await
            .map_err(AuthError::api_transport)?;
        let status = response.status();
        if !matches!(status.as_u16(), 401 | 403) {
            return Ok(response);
        }
        let (was_rejected, response) = inspect(response, rejected).await?;
        if !was_rejected {
            return Ok(response);
        }
        self.invalidate_token(&token);
        let Some(retry) = retry else {
            return Ok(response);
        };
        // The rejected response's connection is dropped with the rest of its body unread.
        drop(response);
        let token = self.token().await?;
        retry
            .auth_token(scheme, &token)
            .send()
            .await
            .map_err(AuthError::api_transport)
    }
}

/// Whether a 401 or 403 `response` says the token was rejected (`rejected` sees at most
/// [`REJECTED_BODY_PREFIX`] bytes of its body), and the response again, whole.
pub(crate) async fn inspect(
    response: reqwest::Response,
    rejected: RejectedTokenCheck,
) -> Result<(bool, reqwest::Response), AuthError> {
    let status = response.status();
    let read = Prefix::read(response).await?;
    let was_rejected = rejected(status, read.response.headers(), read.checked());
    if was_rejected {
        tracing::info!(
            status = status.as_u16(),
            "the API rejected the access token; refreshing and retrying once"
        );
    }
    Ok((was_rejected, read.into_response()))
}

/// A response whose body was read up to [`REJECTED_BODY_PREFIX`] bytes.
struct Prefix {
    url: reqwest::Url,
    /// The response with the rest of its body (empty if `complete`).
    response: reqwest::Response,
    /// The bytes read: at most the limit plus the last chunk the transport delivered,
    /// which is never split so that nothing is lost.
    read: Bytes,
    complete: bool,
}

impl Prefix {
    async fn read(mut response: reqwest::Response) -> Result<Self, AuthError> {
        let url = response.url().clone();
        let mut read = BytesMut::new();
        let complete = loop {
            if read.len() >= REJECTED_BODY_PREFIX {
                break false;
            }
            match response.chunk().await.map_err(AuthError::api_transport)? {
                Some(chunk) => read.extend_from_slice(&chunk),
                None => break true,
            }
        };
        Ok(Self {
            url,
            response,
            read: read.freeze(),
            complete,
        })
    }

    /// What the rejected-token check sees.
    fn checked(&self) -> &[u8] {
        &self.read[..self.read.len().min(REJECTED_BODY_PREFIX)]
    }

    /// The response again: status, version, headers, extensions and URL as received, the
    /// bytes read followed by the rest of the body.
    fn into_response(self) -> reqwest::Response {
        let (mut parts, rest) = http::Response::<reqwest::Body>::from(self.response).into_parts();
        // `reqwest::Response::from(http::Response)` takes its URL from an extension that
        // only `ResponseBuilderExt::url` can set; without it the URL would read
        // `http://no.url.provided.local/`.
        let carrier = http::Response::builder()
            .url(self.url)
            .body(())
            .unwrap_or_default();
        parts.extensions.extend(carrier.into_parts().0.extensions);
        let body = if self.complete {
            reqwest::Body::from(self.read)
        } else {
            reqwest::Body::wrap(Prefixed {
                read: Some(self.read).filter(|read| !read.is_empty()),
                rest,
            })
        };
        reqwest::Response::from(http::Response::from_parts(parts, body))
    }
}

/// The bytes already read, then the rest of the body.
struct Prefixed {
    read: Option<Bytes>,
    rest: reqwest::Body,
}

impl http_body::Body for Prefixed {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        if let Some(read) = self.read.take() {
            return Poll::Ready(Some(Ok(Frame::data(read))));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_none() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let read = self.read.as_ref().map_or(0, |read| read.len() as u64);
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower().saturating_add(read));
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper.saturating_add(read));
        }
        hint
    }
}

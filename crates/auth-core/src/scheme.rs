//! Where a token goes on an API request.

use std::borrow::Cow;

use reqwest::header::{self, HeaderName, HeaderValue};

use crate::{AuthError, Token};

/// How a vendor's API expects the access token.
///
/// # Examples
///
/// ```
/// use auth_core::{AccessToken, AuthScheme, Token};
///
/// let token = Token::new(AccessToken::new("abc"), None);
/// let (name, value) = AuthScheme::Bearer.header_value(&token).unwrap();
/// assert_eq!(name, "authorization");
/// assert_eq!(value.to_str().unwrap(), "Bearer abc");
/// assert!(value.is_sensitive());
///
/// let amazon = AuthScheme::header("x-amz-access-token");
/// let (name, value) = amazon.header_value(&token).unwrap();
/// assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-amz-access-token", "abc"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>` (RFC 6750).
    Bearer,
    /// A named header holding the token, with an optional prefix (`"Bearer "`).
    Header {
        /// The header name.
        name: HeaderName,
        /// Text put before the token, if any.
        prefix: Option<Cow<'static, str>>,
    },
}

impl AuthScheme {
    /// A named header holding the bare token.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name (a programming error: names are constants).
    pub fn header(name: &'static str) -> Self {
        Self::Header {
            name: HeaderName::from_static(name),
            prefix: None,
        }
    }

    /// A named header holding `prefix` followed by the token.
    ///
    /// # Panics
    ///
    /// As [`header`](Self::header).
    pub fn header_with_prefix(name: &'static str, prefix: impl Into<Cow<'static, str>>) -> Self {
        Self::Header {
            name: HeaderName::from_static(name),
            prefix: Some(prefix.into()),
        }
    }

    /// The header name and the (sensitive) value for `token`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the token is not a valid header value (the token
    /// is not quoted).
    pub fn header_value(&self, token: &Token) -> Result<(HeaderName, HeaderValue), AuthError> {
        self.header_for(token.access_token().expose_secret())
    }

    /// Like [`header_value`](Self::header_value) for a raw token string.
    ///
    /// # Errors
    ///
    /// As [`header_value`](Self::header_value).
    pub fn header_for(&self, token: &str) -> Result<(HeaderName, HeaderValue), AuthError> {
        let (name, value) = match self {
            Self::Bearer => (header::AUTHORIZATION, format!("Bearer {token}")),
            Self::Header { name, prefix } => (
                name.clone(),
                format!("{}{token}", prefix.as_deref().unwrap_or("")),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            AuthError::InvalidConfig("the access token is not a valid HTTP header value".into())
        })?;
        value.set_sensitive(true);
        Ok((name, value))
    }
}

/// A `reqwest::Client` for API calls that carry a token: it follows redirects only within
/// the same origin (scheme, host and port), so a redirect can never carry a token header
/// to another host. reqwest itself strips only `Authorization` on a cross-host redirect,
/// not named headers such as `x-amz-access-token` or `Access-Token`.
///
/// Installs the crypto provider first (see [`install_crypto_provider`](crate::install_crypto_provider)).
///
/// # Errors
///
/// [`AuthError::InvalidConfig`] if reqwest cannot build a client.
///
/// # Examples
///
/// ```
/// let client = auth_core::api_http_client().unwrap();
/// # let _ = client;
/// ```
pub fn api_http_client() -> Result<reqwest::Client, AuthError> {
    crate::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(same_origin_redirects())
        .build()
        .map_err(|e| {
            AuthError::InvalidConfig(format!("cannot build the HTTP client: {}", e.without_url()))
        })
}

/// A redirect policy that follows at most 10 redirects, all within the first request's
/// origin.
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            attempt.stop()
        } else if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// Puts a [`Token`] on a `reqwest::RequestBuilder`.
///
/// # Examples
///
/// ```
/// use auth_core::{AccessToken, AuthScheme, RequestBuilderExt, Token};
///
/// let token = Token::new(AccessToken::new("abc"), None);
/// auth_core::install_crypto_provider();
/// let request = reqwest::Client::new()
///     .get("https://api.example.com/v1/orders")
///     .auth_token(&AuthScheme::Bearer, &token)
///     .build()
///     .unwrap();
/// assert_eq!(request.headers()["authorization"], "Bearer abc");
/// ```
pub trait RequestBuilderExt: Sized {
    /// Sets the token's header as `scheme` says. A token that is not a valid header value
    /// makes the request fail when it is sent (reqwest's builder error), without quoting it.
    fn auth_token(self, scheme: &AuthScheme, token: &Token) -> Self;
}

impl RequestBuilderExt for reqwest::RequestBuilder {
    fn auth_token(self, scheme: &AuthScheme, token: &Token) -> Self {
        match scheme.header_value(token) {
            Ok((name, value)) => self.header(name, value),
            // An invalid value makes reqwest's builder carry an error; HeaderValue's
            // error does not include the value.
            Err(_) => self.header(header::AUTHORIZATION, "\u{0}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessToken;

    #[tokio::test]
    async fn api_client_does_not_follow_a_redirect_to_another_origin() {
        use httpmock::prelude::*;
        let elsewhere = MockServer::start_async().await;
        let stolen = elsewhere
            .mock_async(|when, then| {
                when.any_request();
                then.status(200);
            })
            .await;
        let api = MockServer::start_async().await;
        api.mock_async(|when, then| {
            when.path("/orders");
            then.status(307).header("location", elsewhere.url("/steal"));
        })
        .await;
        let token = Token::new(AccessToken::new("t"), None);
        let response = api_http_client()
            .unwrap()
            .get(api.url("/orders"))
            .auth_token(&AuthScheme::header("x-amz-access-token"), &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 307);
        stolen.assert_calls_async(0).await;
    }

    #[test]
    fn prefix_is_applied_and_value_is_sensitive() {
        let token = Token::new(AccessToken::new("t/+="), None);
        let scheme = AuthScheme::header_with_prefix("access-token", "Bearer ");
        let (name, value) = scheme.header_value(&token).unwrap();
        assert_eq!(name, "access-token");
        assert_eq!(value, "Bearer t/+=");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("t/+="));
    }

    #[test]
    fn invalid_token_is_an_error_without_the_value() {
        let token = Token::new(AccessToken::new("bad\nvalue"), None);
        let err = AuthScheme::Bearer.header_value(&token).unwrap_err();
        assert!(!err.to_string().contains("bad"));
        crate::install_crypto_provider();
        let built = reqwest::Client::new()
            .get("https://api.example.com/")
            .auth_token(&AuthScheme::Bearer, &token)
            .build();
        assert!(built.is_err());
    }
}

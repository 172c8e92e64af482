//! [`Client`]: the Pitney Bowes token endpoint, typed in and typed out, and the vendor
//! contract ([`VendorClient`]) every vendor crate's client implements.

use std::fmt;
use std::sync::Arc;

use auth_core::http::{RawResponse, TokenHttpClient, TokenRequest, show_url, store_environment};
use auth_core::redact::fingerprint;
use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, AuthScheme, ClientId, ClientSecret, RejectedTokenCheck, StoreKey, Token,
};
use tracing::Instrument as _;
use url::Url;

use crate::builder::ClientBuilder;
use crate::endpoint::Environment;
use crate::error::{TokenEndpoint, VENDOR, token_error, token_rejected};
use crate::wire::{GRANT_TYPE, TokenResponse};

/// A client of the Pitney Bowes token endpoint for one API key and environment.
///
/// Cheap to clone (one `Arc`), `Send + Sync`. `Debug` shows a fingerprint of the API key,
/// the environment and the URLs, never the secret. The vendor contract (token URL, API
/// base URL, auth scheme, rejected-token check, store key, API HTTP client) is its
/// [`VendorClient`] implementation; bring the trait into scope to call those methods.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::{Client, Environment, VendorClient};
///
/// let client = Client::builder()
///     .api_key("my-api-key")
///     .api_secret("my-api-secret")
///     .build()
///     .unwrap();
/// assert_eq!(client.environment(), Environment::Production); // the default
/// assert_eq!(client.token_url().as_str(), "https://shipping-api.pitneybowes.com/oauth/token");
/// assert!(!format!("{client:?}").contains("my-api-secret"));
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) api_key: ClientId,
    pub(crate) api_secret: ClientSecret,
    pub(crate) environment: Environment,
    pub(crate) token_url: Url,
    pub(crate) api_base_url: Url,
    pub(crate) endpoint: TokenEndpoint,
    pub(crate) http: TokenHttpClient,
    pub(crate) api_http: reqwest::Client,
}

/// Where Pitney Bowes APIs expect the token: `Authorization: Bearer <token>` (the token
/// response's `tokenType` `"BearerToken"` means this).
static AUTH_SCHEME: AuthScheme = AuthScheme::Bearer;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("api_key", &fingerprint(inner.api_key.as_str()))
            .field("api_secret", &inner.api_secret)
            .field("environment", &inner.environment)
            .field("token_url", &show_url(&inner.token_url))
            .field("api_base_url", &show_url(&inner.api_base_url))
            .field("http", &inner.http)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The subject of the application-wide token in [`store_key`](VendorClient::store_key)
    /// (a Pitney Bowes token belongs to the developer account, not to a merchant): empty,
    /// so keys written by earlier versions stay valid.
    pub const APP_SUBJECT: &'static str = "";

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A builder: set [`api_key`](ClientBuilder::api_key),
    /// [`api_secret`](ClientBuilder::api_secret) and, for the sandbox,
    /// [`environment`](ClientBuilder::environment) (production is the default).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Gets a token: `POST {token host}/oauth/token` with
    /// `Authorization: Basic base64(key:secret)` and `grant_type=client_credentials`.
    ///
    /// The token's expiry is the local send time plus `expiresIn`, made earlier by the
    /// server's `issuedAt + expiresIn` when the server clock is close to ours
    /// ([`TokenResponse::expires_at`]). Transport errors, timeouts, 429 and 5xx are
    /// retried as the [`RetryPolicy`](auth_core::http::RetryPolicy) says.
    ///
    /// Pitney Bowes allows several valid tokens at once and advises reusing one until it
    /// expires: use [`provider`](Self::provider) rather than calling this per API request.
    ///
    /// # Errors
    ///
    /// - [`AuthError::OAuth`] with code `invalid_client` and a hint naming the environment
    ///   when the key or secret is rejected (HTTP 401);
    /// - [`AuthError::Vendor`] for Pitney Bowes' own error bodies (code and description);
    /// - [`AuthError::Http`] with a short redacted excerpt for other bodies (HTML pages);
    /// - [`AuthError::Decode`] for a 2xx body without a usable token (described by shape);
    /// - [`AuthError::Transport`] / [`AuthError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; Pitney Bowes may still issue the token,
    /// which is harmless (several tokens may be valid at once).
    pub async fn client_credentials(&self) -> Result<Token, AuthError> {
        let span = tracing::info_span!("pitneybowes.client_credentials", environment = %self.inner.environment);
        async move {
            let request = self.token_request()?;
            let endpoint = &self.inner.endpoint;
            self.inner
                .http
                .execute(&request, |raw| parse_token_response(raw, endpoint))
                .await
        }
        .instrument(span)
        .await
    }

    /// The API key (not secret: Pitney Bowes echoes it as `clientID`).
    pub fn api_key(&self) -> &ClientId {
        &self.inner.api_key
    }

    fn token_request(&self) -> Result<TokenRequest, AuthError> {
        build_token_request(
            &self.inner.token_url,
            &self.inner.api_key,
            &self.inner.api_secret,
        )
    }
}

impl VendorClient for Client {
    type Environment = Environment;

    /// `"pitneybowes"`.
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    /// The environment; with URL overrides, the one they stand in for (default
    /// production).
    fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The token endpoint (`{token host}/oauth/token`).
    fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// The base of Shipping API calls (`{API host}/shippingservices/`): `api_url("v1/rates")`
    /// is `{API host}/shippingservices/v1/rates`.
    fn api_base_url(&self) -> &Url {
        &self.inner.api_base_url
    }

    /// `Authorization: Bearer <token>`.
    fn auth_scheme(&self) -> &AuthScheme {
        &AUTH_SCHEME
    }

    /// A Shipping API answer rejects the token on HTTP 401, on a
    /// `WWW-Authenticate: Bearer error="invalid_token"` header, and on a body (in any of
    /// Pitney Bowes' error formats) carrying [`INVALID_ACCESS_TOKEN`](crate::INVALID_ACCESS_TOKEN)
    /// (`PB-APIM-ERR-1002`) or [`EXPIRED_ACCESS_TOKEN`](crate::EXPIRED_ACCESS_TOKEN)
    /// (`PB-APIM-ERR-1003`), whatever the status. A 403 alone is not a rejected token:
    /// Pitney Bowes uses it for an account not enabled for the operation, which a new token
    /// does not fix.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_pitneybowes::{Client, VendorClient};
    /// use reqwest::{StatusCode, header::HeaderMap};
    ///
    /// let client = Client::builder().api_key("k").api_secret("s").build().unwrap();
    /// let expired = br#"{"errorCode":"PB-APIM-ERR-1003","errorDescription":"Access Token Expired"}"#;
    /// assert!(client.token_rejected(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b""));
    /// assert!(client.token_rejected(StatusCode::FORBIDDEN, &HeaderMap::new(), expired));
    /// assert!(!client.token_rejected(StatusCode::FORBIDDEN, &HeaderMap::new(), b"{}"));
    /// ```
    fn rejected_token_check(&self) -> RejectedTokenCheck {
        token_rejected
    }

    /// The key this client's token is stored under: vendor `pitneybowes`, the
    /// environment, a fingerprint of the API key
    /// ([`auth_core::redact::fingerprint`]: `key-` and 16 hex digits), and `subject`.
    ///
    /// A Pitney Bowes token belongs to the developer account, not to a merchant: pass
    /// [`Client::APP_SUBJECT`] (`""`, the subject of every key this crate has written),
    /// or your own fixed name per use. [`provider_builder`](Client::provider_builder)
    /// users write `.store(store, client.store_key(Client::APP_SUBJECT))`.
    ///
    /// When the token URL is not the environment's own (an emulator, a proxy), its host is
    /// part of the environment, so such a token is never served to the real environment.
    /// The API key itself is not in the key: a store key is printed (tracing fields, store
    /// errors) and names a [`FileStore`](auth_core::FileStore) file.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_pitneybowes::{Client, VendorClient};
    ///
    /// let client = Client::builder().api_key("my-api-key").api_secret("s").build().unwrap();
    /// let key = client.store_key(Client::APP_SUBJECT);
    /// assert_eq!(key.to_string(), "pitneybowes/production/key-0745af4911418620/");
    /// assert!(!key.to_string().contains("my-api-key"));
    /// ```
    fn store_key(&self, subject: &str) -> StoreKey {
        let inner = &self.inner;
        let environment = store_environment(
            inner.environment.as_str(),
            &inner.token_url,
            Some(&inner.environment.token_url()),
        );
        StoreKey::new(
            VENDOR,
            environment,
            fingerprint(inner.api_key.as_str()),
            subject,
        )
    }

    /// The client for Shipping API calls ([`auth_core::api_http_client`]): it follows
    /// redirects only within the origin of the request, so the token never reaches another
    /// host. Token calls use their own client, which follows none.
    fn http_client(&self) -> &reqwest::Client {
        &self.inner.api_http
    }
}

/// The token request; also run by `build()`, so a key the request could not carry is
/// refused before any network call.
pub(crate) fn build_token_request(
    url: &Url,
    api_key: &ClientId,
    api_secret: &ClientSecret,
) -> Result<TokenRequest, AuthError> {
    Ok(TokenRequest::post(url.clone())
        .basic_auth(api_key.as_str(), api_secret.expose_secret())
        .map_err(|e| match e {
            AuthError::InvalidConfig(reason) => AuthError::InvalidConfig(format!(
                "the Pitney Bowes API key cannot be sent: {reason}"
            )),
            other => other,
        })?
        .form([("grant_type", GRANT_TYPE)]))
}

fn parse_token_response(
    raw: &RawResponse<'_>,
    endpoint: &TokenEndpoint,
) -> Result<Token, AuthError> {
    if !raw.status.is_success() {
        return Err(token_error(raw, endpoint));
    }
    let response: TokenResponse = match raw.json() {
        Ok(response) => response,
        // A 2xx carrying an error body (some gateways do that) is that error.
        Err(decode) => {
            return Err(
                if serde_json::from_slice::<crate::wire::ErrorResponse>(&raw.body)
                    .is_ok_and(|e| !e.is_empty())
                {
                    token_error(raw, endpoint)
                } else {
                    decode
                },
            );
        }
    };
    if response.access_token.expose_secret().trim().is_empty() {
        return Err(AuthError::Decode {
            vendor: "",
            status: raw.status.as_u16(),
            detail: "the access_token is empty".into(),
        });
    }
    Ok(response.into_token(raw.sent_at))
}

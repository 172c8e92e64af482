//! [`ClientBuilder`]: the client id, the optional `clientKey`, the environment, the
//! `Access-Token` form and the shared endpoint settings ([`EndpointConfig`]), checked once
//! by [`build`](ClientBuilder::build).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::endpoint::{EndpointConfig, IntoUrl, UrlRole};
use auth_core::http::{RetryPolicy, url_under};
use auth_core::{AuthError, AuthScheme, ClientId, ClientSecret, Clock, Secret};

use crate::client::{ACCESS_TOKEN_HEADER, Client, Inner};
use crate::endpoint::{Endpoints, Environment};
use crate::grant::DEFAULT_WARN_BEFORE;

/// Builds a [`Client`]; see [`Client::builder`].
///
/// Defaults: [`Environment::Production`] (as in every vendor crate of this workspace),
/// `Access-Token: Bearer <token>`, a warning during the last [`DEFAULT_WARN_BEFORE`]
/// of a refresh token's life, auth-core's [`RetryPolicy::default`] and the system clock.
///
/// Wrong configuration is refused by [`build`](Self::build), before any network call, with
/// [`AuthError::InvalidConfig`] naming the setting. `Debug` shows no secret, nor a URL's
/// credentials or query.
///
/// # Examples
///
/// ```
/// use auth_core::VendorClient; // token_url(), api_base_url(), store_key(..), …
/// use auth_orangeconnex::Client;
///
/// // Point every Orange Connex endpoint at a local stand-in (an emulator, httpmock):
/// let client = Client::builder()
///     .client_id("my-3pp")
///     .base_url("http://127.0.0.1:8080/")
///     .build()?;
/// assert_eq!(client.token_url().as_str(), "http://127.0.0.1:8080/oauth/token");
///
/// // The token call puts its own parameters in the query: a URL with one is refused.
/// let bad = Client::builder()
///     .client_id("my-3pp")
///     .token_url("https://openapi-hk.orangeconnex.com/oauth/token?debug=1")
///     .build();
/// assert!(bad.unwrap_err().to_string().contains("token_url"));
/// # Ok::<(), auth_core::AuthError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    client_key: Option<Secret>,
    environment: Environment,
    bearer_prefix: bool,
    refresh_token_warn_before: Duration,
    config: EndpointConfig,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            client_key: None,
            environment: Environment::default(),
            bearer_prefix: true,
            refresh_token_warn_before: DEFAULT_WARN_BEFORE,
            config: EndpointConfig::default(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_key", &self.client_key)
            .field("environment", &self.environment)
            .field("bearer_prefix", &self.bearer_prefix)
            .field("refresh_token_warn_before", &self.refresh_token_warn_before)
            .field("config", &self.config)
            .finish()
    }
}

impl ClientBuilder {
    /// The id Orange Connex gave the integrating party ("3PP") offline. Required.
    pub fn client_id(mut self, client_id: impl Into<ClientId>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Accepts a client secret, which is **never sent**.
    ///
    /// Orange Connex documents no client secret on its authorize or token calls, and
    /// every token parameter travels in the URL, where a secret would end up in proxy
    /// and access logs. The setter exists so that configuration shared with the other
    /// vendor crates works unchanged; the value is kept (redacted in `Debug`) and not
    /// used.
    pub fn client_secret(mut self, client_secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// Sends the optional `clientKey` header on both token calls (documented on the
    /// code exchange as an optional header; its value is a key Orange Connex issues).
    /// Treated as a secret: the header is marked sensitive and the value is removed from
    /// any quoted error body.
    pub fn client_key(mut self, client_key: impl Into<Secret>) -> Self {
        self.client_key = Some(client_key.into());
        self
    }

    /// The environment (default [`Environment::Production`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Overrides the host of every endpoint at once, keeping its path
    /// (`http://127.0.0.1:8080/oc` serves `/oc/oauth/authorize`, `/oc/oauth/token` and
    /// `/oc/openapi/`): for emulators (`.base_url(server.base_url())`), proxies and hosts
    /// not in [`Environment`]. The environment still names the credentials' environment
    /// (store keys, logs). A `&str`, `String` or `Url`; checked by `build()`: `https`
    /// unless the host is loopback, no query, fragment or credentials.
    pub fn base_url(mut self, url: impl IntoUrl) -> Self {
        self.config.set_url(UrlRole::Base, url);
        self
    }

    /// Overrides the token endpoint only (wins over [`base_url`](Self::base_url)).
    /// Checked like `base_url`: a query in particular is refused, since the token call
    /// puts its own parameters there.
    pub fn token_url(mut self, url: impl IntoUrl) -> Self {
        self.config.set_url(UrlRole::Token, url);
        self
    }

    /// Overrides the base of the Open API calls only (wins over
    /// [`base_url`](Self::base_url)): a proxy in front of the API. Checked like `base_url`.
    pub fn api_base_url(mut self, url: impl IntoUrl) -> Self {
        self.config.set_url(UrlRole::Api, url);
        self
    }

    /// Uses this `reqwest::Client` for token calls. It must not follow redirects
    /// (`reqwest::redirect::Policy::none()`); see
    /// [`TokenHttpClient`](auth_core::http::TokenHttpClient).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config.set_http_client(client);
        self
    }

    /// Timeouts, retries and body limit of the token calls (default
    /// [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.set_retry_policy(policy);
        self
    }

    /// The clock the send time of token calls is read from (default: the system clock).
    /// Expiry and refresh-token age are computed from it.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.set_clock(clock);
        self
    }

    /// Whether `Client::auth_scheme` writes `Access-Token: Bearer <token>` (`true`, the
    /// default) or `Access-Token: <token>` (`false`).
    ///
    /// The default follows the vendor's reference, whose one page that spells out the
    /// header's value gives `Bearer <access_token>`; the other pages show only the header
    /// name. Switch it off if your account's gateway expects the bare token.
    pub fn bearer_prefix(mut self, bearer_prefix: bool) -> Self {
        self.bearer_prefix = bearer_prefix;
        self
    }

    /// How long before a refresh token lapses (one year after it was issued, see
    /// [`refresh_token_expires_at`](crate::refresh_token_expires_at)) each refresh logs a
    /// warning (default [`DEFAULT_WARN_BEFORE`], 30 days). `Duration::ZERO` turns the
    /// warning off.
    pub fn refresh_token_warn_before(mut self, warn_before: Duration) -> Self {
        self.refresh_token_warn_before = warn_before;
        self
    }

    /// Builds the client. Nothing is sent.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`], naming the setting, if the client id is missing or
    /// blank, a client key is set but blank or not a valid header value, a URL does not
    /// parse, is plain `http` to a host that is not loopback, or has a query, fragment or
    /// credentials (auth-core's [`EndpointConfig::resolve`], the same rule in every
    /// vendor crate), or the HTTP client cannot be created.
    pub fn build(self) -> Result<Client, AuthError> {
        let client_id = self
            .client_id
            .filter(|id| !id.as_str().trim().is_empty())
            .ok_or_else(|| {
                AuthError::InvalidConfig(
                    "an Orange Connex client_id is required (ClientBuilder::client_id)".into(),
                )
            })?;
        if let Some(key) = &self.client_key
            && key.expose_secret().trim().is_empty()
        {
            // An empty `clientKey` header is worse than none: the gateway would see a key
            // and refuse it. Usually an unset environment variable.
            return Err(AuthError::InvalidConfig(
                "the Orange Connex client_key is empty or blank (ClientBuilder::client_key); \
                 leave it unset if Orange Connex issued you none"
                    .into(),
            ));
        }
        if let Some(key) = &self.client_key
            && reqwest::header::HeaderValue::from_str(key.expose_secret()).is_err()
        {
            return Err(AuthError::InvalidConfig(
                "the client_key is not a valid HTTP header value".into(),
            ));
        }
        let urls = self.config.resolve()?;
        let mut endpoints = match &urls.base_url {
            Some(base) => Endpoints::under(base)?,
            None => Endpoints::of(self.environment),
        };
        if let Some(token_url) = urls.token_url {
            endpoints.token_url = token_url;
        }
        if let Some(api_base_url) = &urls.api_base_url {
            endpoints.api_base_url = url_under(api_base_url, "")?;
        }
        let auth_scheme = if self.bearer_prefix {
            AuthScheme::header_with_prefix(ACCESS_TOKEN_HEADER, "Bearer ")
        } else {
            AuthScheme::header(ACCESS_TOKEN_HEADER)
        };
        Ok(Client::from_inner(Inner {
            client_id,
            client_secret: self.client_secret,
            client_key: self.client_key,
            environment: self.environment,
            endpoints,
            http: self.config.token_http_client(auth_core::product!())?,
            api_http: auth_core::api_http_client()?,
            auth_scheme,
            refresh_token_warn_before: self.refresh_token_warn_before,
        }))
    }
}

//! [`ClientBuilder`]: credentials, environment, token endpoint flavour and the shared
//! endpoint settings ([`EndpointConfig`]), checked once by [`build`](ClientBuilder::build).

use std::fmt;
use std::sync::Arc;

use auth_core::endpoint::{EndpointConfig, IntoUrl, UrlRole};
use auth_core::http::{RetryPolicy, url_under};
use auth_core::{AuthError, ClientId, ClientSecret, Clock};

use crate::client::{Client, Inner};
use crate::endpoint::{ApiFamily, Endpoint, Environment, parse_static};

/// Builds a [`Client`]; see [`Client::builder`].
///
/// Defaults: [`Environment::Production`] (as in every vendor crate of this workspace),
/// the partner token endpoint ([`Endpoint::Partner`]), auth-core's
/// [`RetryPolicy::default`] and the system clock.
///
/// Wrong configuration is refused by [`build`](Self::build), before any network call, with
/// [`AuthError::InvalidConfig`] naming the setting. `Debug` never shows the client secret,
/// nor a URL's credentials or query.
///
/// # Examples
///
/// ```
/// use auth_core::VendorClient; // token_url(), api_base_url(), store_key(..), …
/// use auth_easyship::{Client, Environment};
///
/// // Point every Easyship host at a local stand-in (an emulator, httpmock):
/// let client = Client::builder()
///     .client_id("my-client-id")
///     .client_secret("my-client-secret")
///     .base_url("http://127.0.0.1:8080/")
///     .build()?;
/// assert_eq!(client.token_url().as_str(), "http://127.0.0.1:8080/oauth2/token");
///
/// // Easyship documents no sandbox token endpoint: refused here, not at the first call.
/// let sandbox = Client::builder()
///     .client_id("my-client-id")
///     .client_secret("my-client-secret")
///     .environment(Environment::Sandbox)
///     .build();
/// assert!(sandbox.unwrap_err().to_string().contains("token_url"));
/// # Ok::<(), auth_core::AuthError>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    environment: Environment,
    endpoint: Endpoint,
    config: EndpointConfig,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("environment", &self.environment)
            .field("endpoint", &self.endpoint)
            .field("config", &self.config)
            .finish()
    }
}

impl ClientBuilder {
    /// The OAuth application's client id (required).
    pub fn client_id(mut self, client_id: impl Into<ClientId>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The OAuth application's client secret (required).
    pub fn client_secret(mut self, client_secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// [`Environment::Production`] (the default) or the sandbox. Easyship documents OAuth
    /// for production only: a sandbox client needs [`token_url`](Self::token_url) or
    /// [`base_url`](Self::base_url) (a stand-in), or `build()` refuses it.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The partner token endpoint (the default) or the Enterprise one.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Sends token requests to this URL instead of the environment's (tests, emulators, a
    /// proxy): a `&str`, `String` or `Url`. `POST /oauth2/revoke` goes to the same URL with
    /// its last path segment replaced by `revoke`. Checked by `build()`: `https` unless the
    /// host is loopback, no query, fragment or credentials.
    pub fn token_url(mut self, url: impl IntoUrl) -> Self {
        self.config.set_url(UrlRole::Token, url);
        self
    }

    /// Replaces every Easyship host at once, keeping the paths: token
    /// `{base}/oauth2/token` (partner and Enterprise alike), authorize
    /// `{base}/oauth2/authorize`, and the API bases of both families `{base}`. What a
    /// local stand-in of Easyship needs (`.base_url(server.base_url())`).
    /// [`token_url`](Self::token_url) wins for the token endpoint,
    /// [`api_base_url`](Self::api_base_url) for the API. Checked like `token_url`.
    pub fn base_url(mut self, url: impl IntoUrl) -> Self {
        self.config.set_url(UrlRole::Base, url);
        self
    }

    /// The base URL of API calls, for both [`ApiFamily`]s (the API version is the first
    /// path segment below it): a proxy in front of Easyship's API. Checked like
    /// `token_url`.
    pub fn api_base_url(mut self, url: impl IntoUrl) -> Self {
        self.config.set_url(UrlRole::Api, url);
        self
    }

    /// Uses this `reqwest::Client` for token calls (share one across your app). It must
    /// not follow redirects (`reqwest::redirect::Policy::none()`): a followed redirect
    /// would carry the client secret to another host.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config.set_http_client(client);
        self
    }

    /// Timeouts and retries of token calls (default: auth-core's
    /// [`RetryPolicy::default`]). A refresh, which spends a single-use refresh token, is
    /// retried only when it never reached Easyship; see [`Client::refresh`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.set_retry_policy(policy);
        self
    }

    /// The clock the send time (the base of every expiry) is read from (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.set_clock(clock);
        self
    }

    /// Builds the client. Nothing is sent.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`], naming the setting, when:
    /// - the client id or secret is missing or blank;
    /// - a URL does not parse, is plain `http` to a host that is not loopback, or has a
    ///   query, fragment or credentials (auth-core's
    ///   [`EndpointConfig::resolve`], the same rule in every vendor crate);
    /// - Easyship documents no token endpoint for the environment and endpoint (the
    ///   sandbox) and neither `token_url` nor `base_url` names one.
    pub fn build(self) -> Result<Client, AuthError> {
        let client_id = self
            .client_id
            .filter(|id| !id.as_str().trim().is_empty())
            .ok_or_else(|| {
                AuthError::InvalidConfig(
                    "an Easyship client_id is required (ClientBuilder::client_id)".into(),
                )
            })?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                AuthError::InvalidConfig(
                    "an Easyship client_secret is required (ClientBuilder::client_secret)".into(),
                )
            })?;
        let urls = self.config.resolve()?;
        let (environment, endpoint) = (self.environment, self.endpoint);
        let token_url = match (urls.token_url, &urls.base_url) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, "oauth2/token")?,
            (None, None) => endpoint
                .token_url_in(environment)
                .map(parse_static)
                .ok_or_else(|| {
                    AuthError::InvalidConfig(format!(
                        "Easyship documents no {endpoint} OAuth token endpoint in the \
                         {environment} environment: set token_url or base_url (a stand-in or \
                         proxy), or use a dashboard API key (ApiKeySource) there"
                    ))
                })?,
        };
        let revoke_url = token_url.join("revoke").map_err(|e| {
            AuthError::InvalidConfig(format!("cannot derive the revoke URL from token_url: {e}"))
        })?;
        let authorize_url = match &urls.base_url {
            Some(base) => Some(url_under(base, "oauth2/authorize")?),
            None => environment.authorize_url().map(parse_static),
        };
        let (public_api_base, legacy_api_base) = match (urls.api_base_url, &urls.base_url) {
            (Some(api), _) => (url_under(&api, "")?, url_under(&api, "")?),
            (None, Some(base)) => (url_under(base, "")?, url_under(base, "")?),
            (None, None) => (
                environment.api_base_url_for(ApiFamily::Public),
                environment.api_base_url_for(ApiFamily::Legacy),
            ),
        };
        Ok(Client::from_inner(Inner {
            client_id,
            client_secret,
            environment,
            endpoint,
            token_url,
            revoke_url,
            authorize_url,
            public_api_base,
            legacy_api_base,
            http: self.config.token_http_client(auth_core::product!())?,
            api_http: auth_core::api_http_client()?,
        }))
    }
}

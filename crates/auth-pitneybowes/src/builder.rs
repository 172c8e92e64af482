//! [`ClientBuilder`]: the API key and secret, the environment, and auth-core's shared
//! endpoint settings ([`EndpointConfig`]).

use std::fmt;
use std::sync::Arc;

use auth_core::endpoint::{EndpointConfig, IntoUrl, UrlRole};
use auth_core::http::{RetryPolicy, url_under};
use auth_core::redact::fingerprint;
use auth_core::{AuthError, ClientId, ClientSecret, Clock};

use crate::client::{Client, Inner, build_token_request};
use crate::endpoint::{API_BASE_PATH, Environment, TOKEN_PATH};
use crate::error::TokenEndpoint;

/// Builds a [`Client`]. Wrong configuration is refused by [`build`](Self::build), before
/// any network call.
///
/// The environment defaults to [`Environment::Production`] (as in every vendor crate of
/// this workspace); URL setters take a `&str`, a `String` or a `Url`, and a URL that does
/// not parse or is unsafe is reported by `build()`, naming the setting.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::{Client, Environment, VendorClient};
///
/// let client = Client::builder()
///     .api_key("my-api-key")
///     .api_secret("my-api-secret")
///     .environment(Environment::Sandbox)
///     .base_url("http://127.0.0.1:8080/pb") // an emulator: every host at once
///     .build()?;
/// assert_eq!(client.token_url().as_str(), "http://127.0.0.1:8080/pb/oauth/token");
///
/// let wrong = Client::builder().api_key("k").api_secret("s").token_url("http://pb.example/t").build();
/// assert!(wrong.unwrap_err().to_string().contains("token_url"));
/// # Ok::<(), auth_core::AuthError>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    api_key: Option<ClientId>,
    api_secret: Option<ClientSecret>,
    environment: Option<Environment>,
    endpoint: EndpointConfig,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "api_key",
                &self.api_key.as_ref().map(|k| fingerprint(k.as_str())),
            )
            .field("api_secret", &self.api_secret)
            .field("environment", &self.environment)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl ClientBuilder {
    /// The API key (Developer Hub, API Keys; one per environment). Required. It must not
    /// contain `:` (RFC 7617: it is the user id of Basic authentication).
    #[must_use]
    pub fn api_key(mut self, api_key: impl Into<ClientId>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The API secret that goes with the key. Required; it may contain `:`.
    #[must_use]
    pub fn api_secret(mut self, api_secret: impl Into<ClientSecret>) -> Self {
        self.api_secret = Some(api_secret.into());
        self
    }

    /// The environment (default [`Environment::Production`]; sandbox and production have
    /// separate keys).
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The token endpoint itself, overriding the environment's and
    /// [`base_url`](Self::base_url)'s (the token host may differ from the API host).
    #[must_use]
    pub fn token_url(mut self, url: impl IntoUrl) -> Self {
        self.endpoint.set_url(UrlRole::Token, url);
        self
    }

    /// The base of Shipping API calls, overriding the environment's and
    /// [`base_url`](Self::base_url)'s (it is used as given: include `/shippingservices/`).
    #[must_use]
    pub fn api_base_url(mut self, url: impl IntoUrl) -> Self {
        self.endpoint.set_url(UrlRole::Api, url);
        self
    }

    /// One host for everything, its path kept: tokens from `{base}/oauth/token`, API
    /// calls below `{base}/shippingservices/` (an emulator or a proxy).
    #[must_use]
    pub fn base_url(mut self, url: impl IntoUrl) -> Self {
        self.endpoint.set_url(UrlRole::Base, url);
        self
    }

    /// The `reqwest::Client` token calls are sent with (share one across your app). It
    /// must not follow redirects (`reqwest::redirect::Policy::none()`): a followed
    /// redirect would carry the credentials to another host.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.set_http_client(client);
        self
    }

    /// Timeouts, attempts and backoff of the token call (default: auth-core's).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.endpoint.set_retry_policy(policy);
        self
    }

    /// The clock the send time, and so the expiry, is read from (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.endpoint.set_clock(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`], before any network call, when the key or secret is
    /// missing or empty or has surrounding whitespace, or the key contains `:`; or, naming
    /// the setting, when a URL does not parse, is plain `http` to a host that is not
    /// loopback, or has a query, a fragment or credentials
    /// ([`EndpointConfig::resolve`]).
    pub fn build(self) -> Result<Client, AuthError> {
        let api_key = self.api_key.ok_or_else(|| missing("api_key"))?;
        let api_secret = self.api_secret.ok_or_else(|| missing("api_secret"))?;
        check_credential("API key", api_key.as_str())?;
        check_credential("API secret", api_secret.expose_secret())?;

        let urls = self.endpoint.resolve()?;
        let environment = self.environment.unwrap_or_default();
        let token_url = match (urls.token_url, &urls.base_url) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, TOKEN_PATH)?,
            (None, None) => environment.token_url(),
        };
        let api_base_url = match (urls.api_base_url, &urls.base_url) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, API_BASE_PATH)?,
            (None, None) => environment.api_base_url(),
        };
        build_token_request(&token_url, &api_key, &api_secret)?;

        let endpoint = TokenEndpoint {
            environment: environment.as_str(),
            host: token_url.host_str().unwrap_or_default().to_owned(),
        };
        Ok(Client::from_inner(Inner {
            api_key,
            api_secret,
            environment,
            token_url,
            api_base_url,
            endpoint,
            http: self.endpoint.token_http_client(auth_core::product!())?,
            api_http: auth_core::api_http_client()?,
        }))
    }
}

fn missing(what: &str) -> AuthError {
    AuthError::InvalidConfig(format!(
        "the Pitney Bowes {what} is not set (find it in the Developer Hub under API Keys)"
    ))
}

fn check_credential(what: &str, value: &str) -> Result<(), AuthError> {
    if value.trim().is_empty() {
        return Err(AuthError::InvalidConfig(format!(
            "the Pitney Bowes {what} is empty or blank"
        )));
    }
    if value.trim() != value {
        return Err(AuthError::InvalidConfig(format!(
            "the Pitney Bowes {what} has leading or trailing whitespace (a copy-paste error?)"
        )));
    }
    Ok(())
}

//! [`ClientBuilder`]: the LWA credentials, environment, region and body format, and
//! auth-core's shared endpoint settings ([`EndpointConfig`]).

use std::fmt;
use std::sync::Arc;

use auth_core::endpoint::{EndpointConfig, IntoUrl, UrlRole};
use auth_core::http::{RetryPolicy, url_under};
use auth_core::{AuthError, AuthScheme, ClientId, ClientSecret, Clock, Url};

use crate::client::{ACCESS_TOKEN_HEADER, Client, Inner};
use crate::credentials::{Credentials, CredentialsProvider, StaticCredentials};
use crate::endpoint::{DEFAULT_TOKEN_URL, Environment, Region, TOKEN_PATH};

/// How the token request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum BodyFormat {
    /// `application/x-www-form-urlencoded`, as Amazon's LWA documentation shows.
    #[default]
    Form,
    /// `application/json`, as the official Java, C# and PHP SDKs send (LWA accepts both).
    Json,
}

/// Builds a [`Client`]. Wrong configuration is refused by [`build`](Self::build), before
/// any request. `Debug` never shows the client secret, nor a URL's credentials or query.
///
/// The environment defaults to [`Environment::Production`] (as in every vendor crate of
/// this workspace) and the region to North America. URL setters take a `&str`, a `String`
/// or a `Url`; a URL that does not parse or is unsafe is reported by `build()`, naming the
/// setting.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, VendorClient};
///
/// let client = Client::builder()
///     .client_id("amzn1.application-oa2-client.example")
///     .client_secret("amzn1.oa2-cs.v1.example")
///     .token_url("http://127.0.0.1:1234/auth/o2/token") // a local stand-in of LWA
///     .build()?;
/// assert_eq!(client.token_url().as_str(), "http://127.0.0.1:1234/auth/o2/token");
///
/// let wrong = Client::builder()
///     .client_id("id")
///     .client_secret("s")
///     .api_base_url("http://sellingpartnerapi.example/")
///     .build();
/// assert!(wrong.unwrap_err().to_string().contains("api_base_url"));
/// # Ok::<(), auth_core::AuthError>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    credentials: Option<Arc<dyn CredentialsProvider>>,
    environment: Environment,
    region: Region,
    lwa_region: Option<Region>,
    body_format: BodyFormat,
    endpoint: EndpointConfig,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("credentials", &self.credentials)
            .field("environment", &self.environment)
            .field("region", &self.region)
            .field("lwa_region", &self.lwa_region)
            .field("body_format", &self.body_format)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl ClientBuilder {
    /// The application's LWA client id (`amzn1.application-oa2-client.…`).
    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<ClientId>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The application's LWA client secret (`amzn1.oa2-cs.v1.…`), fixed for the client's
    /// life. To rotate it without a restart use [`credentials`](Self::credentials) with a
    /// [`RotatingCredentials`](crate::RotatingCredentials).
    #[must_use]
    pub fn client_secret(mut self, client_secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// A credentials provider read on every token request, instead of a fixed client id
    /// and secret.
    #[must_use]
    pub fn credentials(mut self, provider: Arc<dyn CredentialsProvider>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Production (the default) or sandbox SP-API hosts.
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The SP-API region (default North America).
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Gets tokens from the regional LWA host of `region` (`api.amazon.co.uk` for Europe,
    /// `api.amazon.co.jp` for the Far East) instead of the default `api.amazon.com`, which
    /// serves every region and is what the official SDKs call.
    #[must_use]
    pub fn lwa_region(mut self, region: Region) -> Self {
        self.lwa_region = Some(region);
        self
    }

    /// Overrides the token endpoint URL (tests, proxies). Wins over `base_url`.
    #[must_use]
    pub fn token_url(mut self, url: impl IntoUrl) -> Self {
        self.endpoint.set_url(UrlRole::Token, url);
        self
    }

    /// Overrides the SP-API base URL (where API calls and the Tokens API go; a trailing
    /// `/` is added). Wins over `base_url`.
    #[must_use]
    pub fn api_base_url(mut self, url: impl IntoUrl) -> Self {
        self.endpoint.set_url(UrlRole::Api, url);
        self
    }

    /// Points every Amazon host at `url` at once, paths kept: the token endpoint becomes
    /// `{url}/auth/o2/token`, the SP-API `{url}/`, the consent page
    /// `{url}/apps/authorize/consent`. For emulators and tests.
    #[must_use]
    pub fn base_url(mut self, url: impl IntoUrl) -> Self {
        self.endpoint.set_url(UrlRole::Base, url);
        self
    }

    /// Shares a `reqwest::Client` for the token calls. It must not follow redirects
    /// (`reqwest::redirect::Policy::none()`).
    #[must_use]
    pub fn http_client(mut self, client: auth_core::reqwest::Client) -> Self {
        self.endpoint.set_http_client(client);
        self
    }

    /// Timeouts and retries of the token calls.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.endpoint.set_retry_policy(policy);
        self
    }

    /// Form (default) or JSON token request bodies.
    #[must_use]
    pub fn body_format(mut self, format: BodyFormat) -> Self {
        self.body_format = format;
        self
    }

    /// The clock the send time (the base of every expiry) is read from (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.endpoint.set_clock(clock);
        self
    }

    /// Builds the client. Nothing is sent.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] when credentials are missing, empty or blank, or given
    /// twice (`credentials` together with `client_id`/`client_secret`); or, naming the
    /// setting, when a URL does not parse, is plain `http` to a host that is not loopback,
    /// or has a query, a fragment or credentials ([`EndpointConfig::resolve`]). A
    /// [`credentials`](Self::credentials) provider's client id is checked here when it
    /// reports one; its secrets are checked before every token call.
    pub fn build(self) -> Result<Client, AuthError> {
        let credentials = credentials(self.credentials, self.client_id, self.client_secret)?;
        let urls = self.endpoint.resolve()?;
        let base = urls
            .base_url
            .as_ref()
            .map(|base| url_under(base, ""))
            .transpose()?;
        let token_url = match (urls.token_url, &base) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, TOKEN_PATH)?,
            (None, None) => match self.lwa_region {
                Some(region) => region.lwa_url(),
                None => Url::parse(DEFAULT_TOKEN_URL).expect("static LWA URL is valid"),
            },
        };
        let api_base_url = match (urls.api_base_url, &base) {
            (Some(url), _) => url_under(&url, "")?,
            (None, Some(base)) => base.clone(),
            (None, None) => self.region.api_base_url(self.environment),
        };

        Ok(Client::from_inner(Inner {
            http: self.endpoint.token_http_client(auth_core::product!())?,
            api_http: auth_core::api_http_client()?,
            auth_scheme: AuthScheme::header(ACCESS_TOKEN_HEADER),
            credentials,
            token_url,
            api_base_url,
            consent_base: base,
            body_format: self.body_format,
            environment: self.environment,
            region: self.region,
        }))
    }
}

/// The credentials provider of the builder's settings.
fn credentials(
    provider: Option<Arc<dyn CredentialsProvider>>,
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
) -> Result<Arc<dyn CredentialsProvider>, AuthError> {
    match (provider, client_id, client_secret) {
        (Some(provider), None, None) => {
            // The secret of a provider is only known asynchronously (and may rotate): it
            // is checked before every token call instead.
            if provider
                .client_id()
                .is_some_and(|id| id.as_str().trim().is_empty())
            {
                return Err(AuthError::InvalidConfig(
                    "the LWA client id is empty".into(),
                ));
            }
            Ok(provider)
        }
        (Some(_), _, _) => Err(AuthError::InvalidConfig(
            "set either credentials(..) or client_id(..) and client_secret(..), not both".into(),
        )),
        (None, Some(id), Some(secret)) => {
            let credentials = Credentials::new(id, secret);
            credentials.check()?;
            Ok(Arc::new(StaticCredentials::new(credentials)))
        }
        (None, None, _) => Err(AuthError::InvalidConfig(
            "the LWA client id is not set".into(),
        )),
        (None, Some(_), None) => Err(AuthError::InvalidConfig(
            "the LWA client secret is not set".into(),
        )),
    }
}

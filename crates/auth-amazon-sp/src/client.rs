//! [`Client`]: one method per Login with Amazon grant, the consent URL, and the Tokens
//! API's Restricted Data Token.

use auth_core::http::show_url;
use std::fmt;
use std::sync::Arc;

use auth_core::http::{
    RawResponse, RetryPolicy, TokenHttpClient, TokenHttpClientBuilder, TokenRequest,
    check_endpoint, store_environment, url_under,
};
use auth_core::reqwest::header::HeaderName;
use auth_core::{
    AuthError, AuthScheme, ClientId, ClientSecret, Clock, OAuthErrorCode, RefreshToken, Scopes,
    Secret, State, Token, Url,
};

use crate::consent::ConsentRequest;
use crate::credentials::{Credentials, CredentialsProvider, StaticCredentials};
use crate::endpoint::{DEFAULT_TOKEN_URL, Environment, RDT_PATH, Region, TOKEN_PATH};
use crate::error;
use crate::scope::Scope;
use crate::wire::{
    CreateRestrictedDataTokenRequest, CreateRestrictedDataTokenResponse, TokenRequestBody,
    TokenResponse,
};

/// The header SP-API calls carry the access token (or an RDT) in.
pub const ACCESS_TOKEN_HEADER: &str = "x-amz-access-token";

/// The `User-Agent` product of token calls.
const PRODUCT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

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

/// A Login with Amazon client for one SP-API application.
///
/// Cheap to clone (one `Arc`); `Send + Sync`; `Debug` shows no secret.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, Environment, Region};
///
/// let client = Client::builder()
///     .client_id("amzn1.application-oa2-client.example")
///     .client_secret("amzn1.oa2-cs.v1.example")
///     .region(Region::Europe)
///     .environment(Environment::Sandbox)
///     .build()
///     .unwrap();
/// assert_eq!(client.sp_api_url().as_str(), "https://sandbox.sellingpartnerapi-eu.amazon.com/");
/// assert!(!format!("{client:?}").contains("amzn1.oa2-cs"));
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: TokenHttpClient,
    auth_scheme: AuthScheme,
    credentials: Arc<dyn CredentialsProvider>,
    token_url: Url,
    sp_api_url: Url,
    consent_base: Option<Url>,
    body_format: BodyFormat,
    environment: Environment,
    region: Region,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("token_url", &show_url(&inner.token_url))
            .field("sp_api_url", &show_url(&inner.sp_api_url))
            .field("environment", &inner.environment)
            .field("region", &inner.region)
            .field("body_format", &inner.body_format)
            .field("credentials", &inner.credentials)
            .finish_non_exhaustive()
    }
}

/// The answer of the Tokens API.
pub(crate) enum RdtOutcome {
    /// The RDT.
    Issued(Token),
    /// The LWA access token was rejected; a new one may succeed.
    Rejected(AuthError),
}

/// The grant of one token request.
#[derive(Clone, Copy)]
enum Grant<'a> {
    Refresh(&'a RefreshToken),
    ClientCredentials(&'a str),
    AuthorizationCode {
        code: &'a Secret,
        redirect_uri: Option<&'a str>,
    },
}

impl Client {
    /// A builder; `client_id` and `client_secret` (or `credentials`) are required.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            client_id: None,
            client_secret: None,
            credentials: None,
            environment: Environment::default(),
            region: Region::default(),
            lwa_region: None,
            token_url: None,
            sp_api_url: None,
            base_url: None,
            body_format: BodyFormat::default(),
            http: TokenHttpClient::builder(PRODUCT),
        }
    }

    /// Exchanges a seller's refresh token for an access token (the call behind every
    /// seller-authorized SP-API operation).
    ///
    /// The body is `grant_type=refresh_token`, `refresh_token`, `client_id`,
    /// `client_secret` and never a `scope` (Amazon: "If you include refresh_token, do not
    /// include scope"). The returned token carries the refresh token: the one LWA sent
    /// back (it does not rotate), or the one given here if it sent none.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty refresh token (nothing sent);
    /// `invalid_grant` when the seller revoked the authorization (authorize again);
    /// `invalid_client` with the secret-rotation hint; transport errors after retries.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; nothing is lost (LWA refresh tokens are
    /// not single-use).
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<Token, AuthError> {
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the LWA refresh token is empty".into(),
            ));
        }
        let token = self.token_call(Grant::Refresh(refresh_token)).await?;
        Ok(match token.refresh_token() {
            Some(_) => token,
            None => token.with_refresh_token(refresh_token.clone()),
        })
    }

    /// Gets a grantless access token (the `client_credentials` grant) for operations that
    /// no seller authorizes: notifications destinations, client-secret rotation.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty set (nothing sent); LWA's `invalid_scope`
    /// for a scope the application may not use; as [`refresh`](Self::refresh) otherwise.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request.
    pub async fn grantless(&self, scopes: &Scopes<Scope>) -> Result<Token, AuthError> {
        check_grantless_scopes(scopes)?;
        let scope = scopes.to_string();
        self.token_call(Grant::ClientCredentials(&scope)).await
    }

    /// Exchanges the `spapi_oauth_code` of the website or Appstore workflow for the
    /// seller's refresh token (and a first access token). The code is valid for five
    /// minutes and only once.
    ///
    /// `redirect_uri` is sent only when given (Amazon's example and SDKs leave it out).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty code or a redirect URI that is not an
    /// absolute URL (nothing sent); `invalid_grant` for a spent or expired code; as
    /// [`refresh`](Self::refresh) otherwise.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request, and the single-use code may be spent
    /// without its refresh token being seen: let the future finish.
    pub async fn exchange_code(
        &self,
        code: impl Into<Secret>,
        redirect_uri: Option<&str>,
    ) -> Result<Token, AuthError> {
        let code = code.into();
        if code.expose_secret().trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the authorization code is empty".into(),
            ));
        }
        if let Some(uri) = redirect_uri {
            Url::parse(uri).map_err(|_| {
                AuthError::InvalidConfig("the redirect URI is not an absolute URL".into())
            })?;
        }
        self.token_call(Grant::AuthorizationCode {
            code: &code,
            redirect_uri,
        })
        .await
    }

    /// The consent URL of the website authorization workflow on this client's hosts
    /// (Amazon's, or the `base_url` override), and the random state to keep in the
    /// user's session and check with
    /// [`AuthorizationRedirect::parse`](crate::AuthorizationRedirect::parse).
    ///
    /// # Errors
    ///
    /// As [`ConsentRequest::url_on`].
    pub fn consent_url(&self, request: &ConsentRequest) -> Result<(Url, State), AuthError> {
        request.url_on(self.inner.consent_base.as_ref())
    }

    /// Exchanges an LWA access token for a Restricted Data Token covering `request`'s
    /// resources (`POST /tokens/2021-03-01/restrictedDataToken`). Use the RDT instead of
    /// the access token on those restricted calls.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for no resources, more than 50, or a path not starting
    /// with `/` (nothing sent); [`AuthError::Vendor`] with the SP-API error code
    /// (`Unauthorized`, `InvalidInput`, ...) otherwise. 429 and 5xx are retried.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request.
    pub async fn restricted_data_token(
        &self,
        access_token: &Token,
        request: &CreateRestrictedDataTokenRequest,
    ) -> Result<Token, AuthError> {
        match self.rdt_call(access_token, request).await? {
            RdtOutcome::Issued(token) => Ok(token),
            RdtOutcome::Rejected(error) => Err(error),
        }
    }

    /// The Tokens API call, telling a rejected access token (401, or 403 with an
    /// expired/invalid token message: worth one more try with a new one) from other errors.
    pub(crate) async fn rdt_call(
        &self,
        access_token: &Token,
        request: &CreateRestrictedDataTokenRequest,
    ) -> Result<RdtOutcome, AuthError> {
        check_rdt_request(request)?;
        let url = self
            .inner
            .sp_api_url
            .join(RDT_PATH.trim_start_matches('/'))
            .map_err(|e| {
                AuthError::InvalidConfig(format!("cannot build the Tokens API URL: {e}"))
            })?;
        let request = TokenRequest::post(url).json(request)?.secret_header(
            HeaderName::from_static(ACCESS_TOKEN_HEADER),
            access_token.access_token().expose_secret(),
        )?;
        self.inner
            .http
            .execute(&request, |raw| {
                if raw.status.is_success() {
                    let body = raw.json::<CreateRestrictedDataTokenResponse>()?;
                    Ok(RdtOutcome::Issued(body.into_token(raw.sent_at)))
                } else if error::token_rejected(raw.status, &raw.headers, &raw.body) {
                    Ok(RdtOutcome::Rejected(error::api_error(raw)))
                } else {
                    Err(error::api_error(raw))
                }
            })
            .await
    }

    /// The application's LWA client id, when the credentials provider knows it without
    /// I/O (always for fixed and rotating credentials).
    pub fn client_id(&self) -> Option<ClientId> {
        self.inner.credentials.client_id()
    }

    /// Where SP-API calls carry the token: the `x-amz-access-token` header
    /// ([`auth_scheme`](crate::auth_scheme())).
    pub fn auth_scheme(&self) -> &AuthScheme {
        &self.inner.auth_scheme
    }

    /// The LWA token endpoint in use.
    pub fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// The SP-API base URL in use (region and environment, or the override).
    pub fn sp_api_url(&self) -> &Url {
        &self.inner.sp_api_url
    }

    /// The SP-API environment.
    pub fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The environment part of this client's store keys: the SP-API environment when
    /// tokens come from one of Amazon's LWA endpoints, else `environment@host[:port]`
    /// (an emulator, a proxy), so that such a token is never served to the real
    /// environment ([`store_environment`](auth_core::http::store_environment)).
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::Client;
    ///
    /// let real = Client::builder().client_id("id").client_secret("s").build().unwrap();
    /// assert_eq!(real.store_environment(), "production");
    /// let emulator = Client::builder()
    ///     .client_id("id")
    ///     .client_secret("s")
    ///     .base_url("http://127.0.0.1:8080/".parse().unwrap())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(emulator.store_environment(), "production@127.0.0.1:8080");
    /// ```
    pub fn store_environment(&self) -> String {
        let token_url = &self.inner.token_url;
        let own = Region::ALL
            .iter()
            .map(Region::lwa_url)
            .find(|lwa| lwa == token_url);
        store_environment(self.inner.environment.as_str(), token_url, own.as_ref())
    }

    /// The SP-API region.
    pub fn region(&self) -> Region {
        self.inner.region
    }

    /// The `reqwest::Client` the token calls use; it follows no redirects at all.
    ///
    /// For SP-API calls, above all those sent with `send_with_token` (or
    /// [`SellerTokens`](crate::SellerTokens) and
    /// [`RestrictedDataTokens`](crate::RestrictedDataTokens)), build one
    /// [`auth_core::api_http_client`] and share it: it follows redirects, but only within
    /// the origin of the request, so `x-amz-access-token` never reaches another host.
    pub fn http_client(&self) -> &auth_core::reqwest::Client {
        self.inner.http.http()
    }

    /// The credentials provider.
    pub fn credentials(&self) -> &Arc<dyn CredentialsProvider> {
        &self.inner.credentials
    }

    /// Sends `grant` with the provider's first secret and, when LWA answers
    /// `invalid_client` and the provider holds a second secret (a rotation window), once
    /// more with that one. The token call itself never retries `invalid_client`; this is
    /// a change of credentials, not a retry.
    async fn token_call(&self, grant: Grant<'_>) -> Result<Token, AuthError> {
        let credentials = self.inner.credentials.credentials().await?;
        credentials.check()?;
        let first = self
            .send_grant(grant, &credentials, credentials.secret())
            .await;
        match (first, credentials.alternate()) {
            (Err(e), Some(alternate)) if is_invalid_client(&e) => {
                tracing::warn!(
                    "LWA refused the client secret (invalid_client); trying the other secret of the rotation window"
                );
                let token = self.send_grant(grant, &credentials, alternate).await?;
                self.inner.credentials.secret_accepted(alternate);
                Ok(token)
            }
            (result, _) => result,
        }
    }

    async fn send_grant(
        &self,
        grant: Grant<'_>,
        credentials: &Credentials,
        secret: &ClientSecret,
    ) -> Result<Token, AuthError> {
        let client_id = credentials.client_id();
        let body = grant_body(grant, client_id, secret);
        let mut request = TokenRequest::post(self.inner.token_url.clone());
        request = match self.inner.body_format {
            BodyFormat::Form => request.form(body.fields()),
            BodyFormat::Json => request.json(&body)?,
        };
        request = request.redact(secret.expose_secret());
        request = match grant {
            Grant::Refresh(refresh_token) => request.redact(refresh_token.expose_secret()),
            Grant::AuthorizationCode { code, .. } => request.redact(code.expose_secret()),
            Grant::ClientCredentials(_) => request,
        };
        self.inner
            .http
            .execute(&request, parse_token_response)
            .await
    }
}

fn grant_body<'a>(
    grant: Grant<'a>,
    client_id: &'a ClientId,
    client_secret: &'a ClientSecret,
) -> TokenRequestBody<'a> {
    match grant {
        Grant::Refresh(refresh_token) => TokenRequestBody::RefreshToken {
            refresh_token,
            client_id,
            client_secret,
        },
        Grant::ClientCredentials(scope) => TokenRequestBody::ClientCredentials {
            scope,
            client_id,
            client_secret,
        },
        Grant::AuthorizationCode { code, redirect_uri } => TokenRequestBody::AuthorizationCode {
            code,
            redirect_uri,
            client_id,
            client_secret,
        },
    }
}

fn parse_token_response(raw: &RawResponse<'_>) -> Result<Token, AuthError> {
    if raw.status.is_success() {
        Ok(raw.json::<TokenResponse>()?.into_token(raw.sent_at))
    } else {
        Err(error::lwa_error(raw))
    }
}

fn is_invalid_client(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::OAuth {
            code: OAuthErrorCode::InvalidClient,
            ..
        }
    )
}

pub(crate) fn check_grantless_scopes(scopes: &Scopes<Scope>) -> Result<(), AuthError> {
    if scopes.is_empty() {
        return Err(AuthError::InvalidScope {
            scopes: Vec::new(),
            reason: "a grantless token needs at least one scope (for example sellingpartnerapi::notifications)"
                .into(),
        });
    }
    scopes.validate()
}

pub(crate) fn check_rdt_request(
    request: &CreateRestrictedDataTokenRequest,
) -> Result<(), AuthError> {
    let count = request.restricted_resources.len();
    if count == 0 {
        return Err(AuthError::InvalidConfig(
            "a restricted data token needs at least one restricted resource".into(),
        ));
    }
    if count > CreateRestrictedDataTokenRequest::MAX_RESOURCES {
        return Err(AuthError::InvalidConfig(format!(
            "a restricted data token covers at most {} restricted resources; {count} were given: split them",
            CreateRestrictedDataTokenRequest::MAX_RESOURCES
        )));
    }
    if let Some(bad) = request
        .restricted_resources
        .iter()
        .find(|r| !r.path.starts_with('/'))
    {
        return Err(AuthError::InvalidConfig(format!(
            "restricted resource path `{}` must start with `/`",
            bad.path
        )));
    }
    Ok(())
}

/// Builds a [`Client`]. `Debug` never shows the client secret, nor a URL's credentials or
/// query.
#[derive(Clone)]
pub struct ClientBuilder {
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    credentials: Option<Arc<dyn CredentialsProvider>>,
    environment: Environment,
    region: Region,
    lwa_region: Option<Region>,
    token_url: Option<Url>,
    sp_api_url: Option<Url>,
    base_url: Option<Url>,
    body_format: BodyFormat,
    http: TokenHttpClientBuilder,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |url: &Option<Url>| url.as_ref().map(show_url);
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("credentials", &self.credentials)
            .field("environment", &self.environment)
            .field("region", &self.region)
            .field("lwa_region", &self.lwa_region)
            .field("token_url", &url(&self.token_url))
            .field("sp_api_url", &url(&self.sp_api_url))
            .field("base_url", &url(&self.base_url))
            .field("body_format", &self.body_format)
            .field("http", &self.http)
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

    /// Production (default) or sandbox SP-API hosts.
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
    pub fn token_url(mut self, url: Url) -> Self {
        self.token_url = Some(url);
        self
    }

    /// Overrides the SP-API base URL (where the Tokens API is called). Wins over `base_url`.
    #[must_use]
    pub fn sp_api_url(mut self, url: Url) -> Self {
        self.sp_api_url = Some(url);
        self
    }

    /// Points every Amazon host at `url` at once, paths kept: the token endpoint becomes
    /// `{url}/auth/o2/token`, the SP-API `{url}/`, the consent page
    /// `{url}/apps/authorize/consent`. For emulators and tests.
    #[must_use]
    pub fn base_url(mut self, url: Url) -> Self {
        self.base_url = Some(url);
        self
    }

    /// Shares a `reqwest::Client`. It must not follow redirects
    /// (`reqwest::redirect::Policy::none()`).
    #[must_use]
    pub fn http_client(mut self, client: auth_core::reqwest::Client) -> Self {
        self.http = self.http.http_client(client);
        self
    }

    /// Timeouts and retries of the token calls.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.http = self.http.retry_policy(policy);
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
        self.http = self.http.clock(clock);
        self
    }

    /// Builds the client. Nothing is sent.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] when credentials are missing, empty or blank, or given
    /// twice (`credentials` together with `client_id`/`client_secret`), or an endpoint is
    /// not `https` (plain `http` only to loopback hosts). A
    /// [`credentials`](Self::credentials) provider's client id is checked here when it
    /// reports one; its secrets are checked before every token call.
    pub fn build(self) -> Result<Client, AuthError> {
        let credentials: Arc<dyn CredentialsProvider> =
            match (self.credentials, self.client_id, self.client_secret) {
                (Some(provider), None, None) => {
                    // The secret of a provider is only known asynchronously (and may
                    // rotate): it is checked before every token call instead.
                    if provider
                        .client_id()
                        .is_some_and(|id| id.as_str().trim().is_empty())
                    {
                        return Err(AuthError::InvalidConfig(
                            "the LWA client id is empty".into(),
                        ));
                    }
                    provider
                }
                (Some(_), _, _) => {
                    return Err(AuthError::InvalidConfig(
                    "set either credentials(..) or client_id(..) and client_secret(..), not both"
                        .into(),
                ));
                }
                (None, Some(id), Some(secret)) => {
                    let credentials = Credentials::new(id, secret);
                    credentials.check()?;
                    Arc::new(StaticCredentials::new(credentials))
                }
                (None, None, _) => {
                    return Err(AuthError::InvalidConfig(
                        "the LWA client id is not set".into(),
                    ));
                }
                (None, Some(_), None) => {
                    return Err(AuthError::InvalidConfig(
                        "the LWA client secret is not set".into(),
                    ));
                }
            };

        let base = self
            .base_url
            .as_ref()
            .map(|base| url_under(base, ""))
            .transpose()?;
        let token_url = match (self.token_url, &base) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, TOKEN_PATH)?,
            (None, None) => match self.lwa_region {
                Some(region) => region.lwa_url(),
                None => Url::parse(DEFAULT_TOKEN_URL).expect("static LWA URL is valid"),
            },
        };
        let sp_api_url = match (self.sp_api_url, &base) {
            (Some(url), _) => url_under(&url, "")?,
            (None, Some(base)) => base.clone(),
            (None, None) => self.region.sp_api_url(self.environment),
        };
        check_endpoint(&token_url)?;
        check_endpoint(&sp_api_url)?;

        Ok(Client {
            inner: Arc::new(Inner {
                http: self.http.build()?,
                auth_scheme: crate::auth_scheme(),
                credentials,
                token_url,
                sp_api_url,
                consent_base: base,
                body_format: self.body_format,
                environment: self.environment,
                region: self.region,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ClientBuilder {
        Client::builder()
            .client_id("amzn1.application-oa2-client.x")
            .client_secret("cs")
    }

    #[test]
    fn base_url_moves_every_host_and_keeps_its_path() {
        let client = builder()
            .base_url("http://127.0.0.1:9/amazon".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "http://127.0.0.1:9/amazon/auth/o2/token"
        );
        assert_eq!(client.sp_api_url().as_str(), "http://127.0.0.1:9/amazon/");
        let (url, _) = client
            .consent_url(&ConsentRequest::new(
                "amzn1.sp.solution.x",
                crate::Marketplace::UnitedStates,
            ))
            .unwrap();
        assert!(
            url.as_str()
                .starts_with("http://127.0.0.1:9/amazon/apps/authorize/consent?"),
            "{url}"
        );
    }

    #[test]
    fn token_url_override_wins_over_base_url() {
        let client = builder()
            .base_url("http://127.0.0.1:9/".parse().unwrap())
            .token_url("http://127.0.0.1:8/t".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(client.token_url().as_str(), "http://127.0.0.1:8/t");
    }

    #[test]
    fn defaults_are_global_lwa_and_north_america_production() {
        let client = builder().build().unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "https://api.amazon.com/auth/o2/token"
        );
        assert_eq!(
            client.sp_api_url().as_str(),
            "https://sellingpartnerapi-na.amazon.com/"
        );
        let eu = builder().lwa_region(Region::Europe).build().unwrap();
        assert_eq!(
            eu.token_url().as_str(),
            "https://api.amazon.co.uk/auth/o2/token"
        );
    }

    #[test]
    fn wrong_configuration_is_refused_at_build() {
        let cases = [
            Client::builder().client_secret("cs").build(),
            Client::builder().client_id("id").build(),
            Client::builder().client_id("").client_secret("cs").build(),
            Client::builder().client_id("id").client_secret("").build(),
            builder()
                .token_url("http://api.example.com/t".parse().unwrap())
                .build(),
            builder()
                .base_url("http://10.0.0.1/".parse().unwrap())
                .build(),
            builder()
                .credentials(Arc::new(StaticCredentials::new(Credentials::new(
                    "id", "cs",
                ))))
                .build(),
        ];
        for case in cases {
            assert!(matches!(case, Err(AuthError::InvalidConfig(_))), "{case:?}");
        }
    }

    #[test]
    fn blank_credentials_are_refused_at_build_naming_the_setting() {
        let cases = [
            (
                Client::builder().client_id(" ").client_secret("cs"),
                "client id",
            ),
            (
                Client::builder().client_id("id").client_secret("\t"),
                "client secret",
            ),
            (
                Client::builder().credentials(Arc::new(StaticCredentials::new(Credentials::new(
                    "  ", "cs",
                )))),
                "client id",
            ),
        ];
        for (builder, setting) in cases {
            match builder.build() {
                Err(AuthError::InvalidConfig(message)) => {
                    assert!(message.contains(setting), "{message:?} lacks {setting:?}")
                }
                other => panic!("expected InvalidConfig naming {setting}, got {other:?}"),
            }
        }
    }

    #[test]
    fn client_is_clone_send_sync_and_debug_is_redacted() {
        fn check<T: Clone + Send + Sync + fmt::Debug>() {}
        check::<Client>();
        let client = Client::builder()
            .client_id("amzn1.application-oa2-client.x")
            .client_secret("amzn1.oa2-cs.v1.sekrit")
            .build()
            .unwrap();
        let dbg = format!("{client:?} {:#?}", client);
        assert!(!dbg.contains("sekrit"), "{dbg}");
        assert!(dbg.contains("amzn1.application-oa2-client.x"), "{dbg}");
    }

    #[test]
    fn store_environment_names_the_host_of_a_stand_in_lwa() {
        assert_eq!(builder().build().unwrap().store_environment(), "production");
        for region in Region::ALL {
            let regional = builder().lwa_region(*region).build().unwrap();
            assert_eq!(regional.store_environment(), "production");
        }
        let sandbox = builder().environment(Environment::Sandbox).build().unwrap();
        assert_eq!(sandbox.store_environment(), "sandbox");
        let proxy = builder()
            .token_url(
                "https://lwa-proxy.example.com/auth/o2/token"
                    .parse()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(
            proxy.store_environment(),
            "production@lwa-proxy.example.com"
        );
        let emulator = builder()
            .base_url("http://127.0.0.1:9/amazon".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(emulator.store_environment(), "production@127.0.0.1:9");
    }

    #[test]
    fn debug_of_client_and_builder_shows_no_url_credentials_or_query() {
        let url: Url = "https://u:pw@host.example:8443/x?k=v".parse().unwrap();
        let builder = builder()
            .token_url(url.clone())
            .sp_api_url(url.clone())
            .base_url(url);
        let shown = format!("{builder:?} {builder:#?}");
        assert!(!shown.contains("pw") && !shown.contains("k=v"), "{shown}");
        assert!(shown.contains("https://host.example:8443/x"), "{shown}");
        let client = builder.build().unwrap();
        let shown = format!("{client:?} {client:#?}");
        assert!(!shown.contains("pw") && !shown.contains("k=v"), "{shown}");
        assert!(shown.contains("https://host.example:8443/x"), "{shown}");
    }

    #[test]
    fn rdt_resource_count_is_checked_before_sending() {
        use crate::wire::{RestrictedMethod, RestrictedResource};
        let one = RestrictedResource::new(RestrictedMethod::Get, "/orders/v0/orders");
        assert!(check_rdt_request(&CreateRestrictedDataTokenRequest::new([])).is_err());
        assert!(
            check_rdt_request(&CreateRestrictedDataTokenRequest::new(vec![
                one.clone();
                50
            ]))
            .is_ok()
        );
        assert!(check_rdt_request(&CreateRestrictedDataTokenRequest::new(vec![one; 51])).is_err());
        let relative = RestrictedResource::new(RestrictedMethod::Get, "orders/v0/orders");
        assert!(check_rdt_request(&CreateRestrictedDataTokenRequest::new([relative])).is_err());
    }
}

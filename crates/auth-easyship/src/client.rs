//! [`Client`]: one async method per Easyship OAuth endpoint, and [`ClientBuilder`].

use auth_core::http::show_url;
use std::fmt;
use std::sync::Arc;

use auth_core::http::{
    RetryPolicy, TokenHttpClient, TokenHttpClientBuilder, TokenRequest, check_endpoint,
    store_environment, url_under,
};
use auth_core::{
    AccessToken, AuthError, AuthScheme, ClientId, ClientSecret, Clock, OAuthErrorCode,
    RefreshToken, Scopes, Secret, State, StoreKey, Token, Url,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::endpoint::{ApiFamily, Endpoint, Environment, parse_static};
use crate::error::{self, VENDOR};
use crate::scope::{Generation, Scope};
use crate::wire;

/// How Easyship's API takes the token: `Authorization: Bearer <token>`.
pub const AUTH_SCHEME: AuthScheme = AuthScheme::Bearer;

/// The `User-Agent` product of token calls.
const PRODUCT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// What RFC 3986 leaves unreserved stays; everything else in a query value is
/// percent-encoded (spaces as `%20`, as in Easyship's own authorize URL example).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const REFRESH_SPENT_HINT: &str = "Easyship refresh tokens are single-use: this one was already \
     used (by this or another process), expired or revoked; the seller must authorize the \
     app again";

const PARTNER_CLIENT_CREDENTIALS_HINT: &str = "Easyship grants client credentials to Enterprise \
     API clients: build the client with .endpoint(Endpoint::Enterprise)";

/// An Easyship OAuth client: the token calls of one application (client id and secret) in
/// one environment, on the partner or the Enterprise token endpoint.
///
/// Cheap to clone (one `Arc`), `Send + Sync`; `Debug` never shows the client secret.
/// Every method checks its input (scopes, redirect URI, ids) before anything is sent.
/// Retries, timeouts and redirect refusal are auth-core's
/// [`TokenHttpClient`](auth_core::http::TokenHttpClient).
///
/// # Examples
///
/// ```
/// use auth_core::Scopes;
/// use auth_easyship::{Client, Scope};
///
/// let client = Client::builder()
///     .client_id("my-client-id")
///     .client_secret("my-client-secret")
///     .build()?;
/// let scopes = Scopes::from([Scope::PublicShipmentWrite, Scope::PublicRateRead]);
/// let (url, state) = client.authorize_url("https://example.com/callback", &scopes)?;
/// assert!(url.as_str().starts_with("https://auth.easyship.com/oauth2/authorize?client_id=my-client-id"));
/// // Keep `state` in the user's session; check it when Easyship redirects back.
/// assert!(state.verify(state.as_str()));
/// # Ok::<(), auth_core::AuthError>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: ClientId,
    client_secret: ClientSecret,
    environment: Environment,
    endpoint: Endpoint,
    /// `None` where Easyship documents no token endpoint (the sandbox) and none was set.
    token_url: Option<Url>,
    revoke_url: Option<Url>,
    authorize_url: Option<Url>,
    public_api_base: Url,
    legacy_api_base: Url,
    http: TokenHttpClient,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("client_id", &inner.client_id)
            .field("client_secret", &inner.client_secret)
            .field("environment", &inner.environment)
            .field("endpoint", &inner.endpoint)
            .field("token_url", &inner.token_url.as_ref().map(show_url))
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; see [`Client::builder`].
///
/// Wrong configuration is refused by [`build`](Self::build), before any network call.
/// `Debug` never shows the client secret, nor a URL's credentials or query.
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    environment: Environment,
    endpoint: Endpoint,
    token_url: Option<Url>,
    base_url: Option<Url>,
    http: TokenHttpClientBuilder,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("environment", &self.environment)
            .field("endpoint", &self.endpoint)
            .field("token_url", &self.token_url.as_ref().map(show_url))
            .field("base_url", &self.base_url.as_ref().map(show_url))
            .field("http", &self.http)
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

    /// Production (the default) or the sandbox.
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
    /// proxy). `POST /oauth2/revoke` goes to the same URL with its last path segment
    /// replaced by `revoke`. Must be `https` unless the host is loopback.
    pub fn token_url(mut self, url: Url) -> Self {
        self.token_url = Some(url);
        self
    }

    /// Replaces every Easyship host at once, keeping the paths: token
    /// `{base}/oauth2/token` (partner and Enterprise alike), authorize
    /// `{base}/oauth2/authorize`, and the API bases of both families `{base}`. What a
    /// local stand-in of Easyship needs. [`token_url`](Self::token_url) wins for the
    /// token endpoint.
    pub fn base_url(mut self, url: Url) -> Self {
        self.base_url = Some(url);
        self
    }

    /// Uses this `reqwest::Client` (share one across your app). It must not follow
    /// redirects (`reqwest::redirect::Policy::none()`): a followed redirect would carry
    /// the client secret to another host.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = self.http.http_client(client);
        self
    }

    /// Timeouts and retries of token calls (default: auth-core's
    /// [`RetryPolicy::default`]). A refresh, which spends a single-use refresh token, is
    /// retried only when it never reached Easyship; see [`Client::refresh`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.http = self.http.retry_policy(policy);
        self
    }

    /// The clock the send time (the base of every expiry) is read from (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.http = self.http.clock(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] when the client id or secret is missing or empty, or
    /// an endpoint is not `https` (plain `http` is allowed for loopback hosts only).
    ///
    /// Where Easyship documents no token endpoint (the sandbox, for both the partner and
    /// the Enterprise endpoint) and neither [`token_url`](Self::token_url) nor
    /// [`base_url`](Self::base_url) is set, the client still builds, as in every other
    /// vendor crate: its token calls then fail with [`AuthError::InvalidConfig`] naming
    /// `token_url` and `base_url`, before anything is sent.
    pub fn build(self) -> Result<Client, AuthError> {
        let client_id = self
            .client_id
            .filter(|id| !id.as_str().trim().is_empty())
            .ok_or_else(|| AuthError::InvalidConfig("an Easyship client_id is required".into()))?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                AuthError::InvalidConfig("an Easyship client_secret is required".into())
            })?;
        let (environment, endpoint) = (self.environment, self.endpoint);
        let token_url = match (self.token_url, &self.base_url) {
            (Some(url), _) => Some(url),
            (None, Some(base)) => Some(url_under(base, "oauth2/token")?),
            (None, None) => endpoint.token_url_in(environment).map(parse_static),
        };
        let revoke_url = match &token_url {
            Some(token_url) => {
                check_endpoint(token_url)?;
                Some(token_url.join("revoke").map_err(|e| {
                    AuthError::InvalidConfig(format!(
                        "cannot derive the revoke URL from token_url: {e}"
                    ))
                })?)
            }
            None => None,
        };
        let authorize_url = match &self.base_url {
            Some(base) => Some(url_under(base, "oauth2/authorize")?),
            None => environment.authorize_url().map(parse_static),
        };
        if let Some(url) = &authorize_url {
            check_endpoint(url)?;
        }
        let (public_api_base, legacy_api_base) = match &self.base_url {
            Some(base) => (url_under(base, "")?, url_under(base, "")?),
            None => (
                environment.api_base_url(ApiFamily::Public),
                environment.api_base_url(ApiFamily::Legacy),
            ),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                client_id,
                client_secret,
                environment,
                endpoint,
                token_url,
                revoke_url,
                authorize_url,
                public_api_base,
                legacy_api_base,
                http: self.http.build()?,
            }),
        })
    }
}

impl Client {
    /// A builder: set at least [`client_id`](ClientBuilder::client_id) and
    /// [`client_secret`](ClientBuilder::client_secret).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            client_id: None,
            client_secret: None,
            environment: Environment::default(),
            endpoint: Endpoint::default(),
            token_url: None,
            base_url: None,
            http: TokenHttpClient::builder(PRODUCT),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The token endpoint flavour.
    pub fn endpoint(&self) -> Endpoint {
        self.inner.endpoint
    }

    /// The token endpoint URL in use; `None` where Easyship documents none (the sandbox)
    /// and neither [`ClientBuilder::token_url`] nor [`ClientBuilder::base_url`] was set
    /// (token calls then fail with [`AuthError::InvalidConfig`]).
    pub fn token_url(&self) -> Option<&Url> {
        self.inner.token_url.as_ref()
    }

    /// The token (or revoke) endpoint, or the error every token call of a client without
    /// one fails with.
    fn endpoint_url<'a>(&self, url: &'a Option<Url>) -> Result<&'a Url, AuthError> {
        url.as_ref().ok_or_else(|| {
            AuthError::InvalidConfig(format!(
                "Easyship documents no {} OAuth token endpoint in the {} environment: set \
                 ClientBuilder::token_url or ClientBuilder::base_url (a sandbox stand-in or \
                 proxy), or use a dashboard API key (ApiKeySource) there; nothing was sent",
                self.inner.endpoint, self.inner.environment
            ))
        })
    }

    /// The base URL of the Public API of `family` (with the `base_url` override applied).
    /// The API version is the first path segment: `{base}2024-09/shipments`.
    pub fn api_base_url(&self, family: ApiFamily) -> &Url {
        match family {
            ApiFamily::Legacy => &self.inner.legacy_api_base,
            ApiFamily::Public => &self.inner.public_api_base,
        }
    }

    /// The `reqwest::Client` token calls use; it follows no redirects at all.
    ///
    /// For API calls, above all those sent with `CachedTokenProvider::send_with_token`,
    /// build one [`auth_core::api_http_client`] and share it: it follows redirects, but
    /// only within the origin of the request, so the token is never carried to another
    /// host.
    pub fn http_client(&self) -> &reqwest::Client {
        self.inner.http.http()
    }

    /// How Easyship's API expects the token: `Authorization: Bearer <token>`
    /// ([`AUTH_SCHEME`]).
    pub fn auth_scheme(&self) -> &AuthScheme {
        &AUTH_SCHEME
    }

    /// The key this client's tokens for `subject` are stored under: vendor `easyship`,
    /// the environment, the client id, and `subject` (whatever identifies, in your system,
    /// the seller who authorized the app, or the Enterprise child company). When the
    /// token URL is not the one Easyship documents for the environment and endpoint (an
    /// emulator, a proxy), its host is part of the environment, so such a token is never
    /// served to the real environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::Client;
    ///
    /// let client = Client::builder().client_id("id").client_secret("secret").build()?;
    /// let key = client.store_key("seller-42");
    /// assert_eq!((key.vendor(), key.environment(), key.subject()), ("easyship", "production", "seller-42"));
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    pub fn store_key(&self, subject: &str) -> StoreKey {
        let inner = &self.inner;
        let own = inner
            .endpoint
            .token_url_in(inner.environment)
            .map(parse_static);
        let environment = match &inner.token_url {
            Some(token_url) => {
                store_environment(inner.environment.as_str(), token_url, own.as_ref())
            }
            // No token endpoint: nothing is fetched, only seeded tokens are stored.
            None => inner.environment.as_str().to_owned(),
        };
        StoreKey::new(VENDOR, environment, inner.client_id.as_str(), subject)
    }

    /// The URL to send the seller's browser to, and the random `state` it carries.
    ///
    /// Keep the state (for example in the user's session) and read Easyship's redirect
    /// with [`parse_redirect`], which checks its `state` (constant time) and returns the
    /// code for [`exchange_code`](Self::exchange_code). `redirect_uri` is sent
    /// exactly as given: it must match one registered with Easyship, character for
    /// character.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] if `scopes` is empty (Easyship requires a scope here),
    /// mixes legacy and enhanced scopes, or holds Enterprise scopes on the partner
    /// endpoint; [`AuthError::InvalidConfig`] if `redirect_uri` is not an absolute URL or
    /// Easyship documents no authorize page in this environment (without `base_url`).
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scopes: &Scopes<Scope>,
    ) -> Result<(Url, State), AuthError> {
        let state = State::new();
        let url = self.authorize_url_with_state(redirect_uri, scopes, &state)?;
        Ok((url, state))
    }

    /// Like [`authorize_url`](Self::authorize_url) with a `state` of your own.
    ///
    /// # Errors
    ///
    /// As [`authorize_url`](Self::authorize_url).
    pub fn authorize_url_with_state(
        &self,
        redirect_uri: &str,
        scopes: &Scopes<Scope>,
        state: &State,
    ) -> Result<Url, AuthError> {
        self.check_scopes(scopes, true)?;
        check_redirect_uri(redirect_uri)?;
        let mut url = self.inner.authorize_url.clone().ok_or_else(|| {
            AuthError::InvalidConfig(format!(
                "Easyship documents no authorize page in the {} environment; set base_url",
                self.inner.environment
            ))
        })?;
        let scope = scopes.to_string();
        let query = [
            ("client_id", self.inner.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", state.as_str()),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
        .collect::<Vec<_>>()
        .join("&");
        let query = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
            _ => query,
        };
        url.set_query(Some(&query));
        Ok(url)
    }

    /// Exchanges the `code` from the authorization redirect for an access token and the
    /// seller's first refresh token (`grant_type=authorization_code`).
    ///
    /// Save the refresh token before using the access token: it is single-use and the
    /// only way to a new access token without the seller. Seed a
    /// [`CachedTokenProvider`](auth_core::CachedTokenProvider) with the result
    /// (`replace_token`) so it does the rotation from here on.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty code or a redirect URI that is not an
    /// absolute URL (nothing sent); `invalid_grant` (a code already used, expired, or a
    /// `redirect_uri` different from the authorize step's), `invalid_client`, and the
    /// transport errors of [`TokenHttpClient::execute`](auth_core::http::TokenHttpClient::execute).
    pub async fn exchange_code(
        &self,
        code: impl Into<Secret>,
        redirect_uri: &str,
    ) -> Result<Token, AuthError> {
        let code = code.into();
        let code = code.expose_secret();
        if code.trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the authorization code is empty".into(),
            ));
        }
        check_redirect_uri(redirect_uri)?;
        let body = wire::AuthorizationCodeRequest {
            grant_type: wire::AUTHORIZATION_CODE,
            client_id: self.inner.client_id.as_str(),
            client_secret: self.inner.client_secret.expose_secret(),
            code,
            redirect_uri,
        };
        self.token_call(&body, &[code]).await
    }

    /// Trades a refresh token for a new access token **and a new refresh token**
    /// (`grant_type=refresh_token`).
    ///
    /// Easyship refresh tokens are single-use: after this call `refresh_token` is spent
    /// and only the returned token's refresh token works. Store it before using the
    /// access token, or let a [`CachedTokenProvider`](auth_core::CachedTokenProvider) with
    /// a store and [`RefreshGrant`](crate::RefreshGrant) do it.
    ///
    /// If a successful response carries **no** refresh token (Easyship documents that it
    /// always sends one), the returned token keeps `refresh_token` and a warning is
    /// logged. Keeping it is the safer choice: if the server did not rotate, it still
    /// works; if it did rotate and lost the new one, the next refresh fails with
    /// `invalid_grant` and the seller must authorize again, exactly as an error here would
    /// have demanded, but the access token just issued serves until then instead of being
    /// thrown away.
    ///
    /// The request is sent once: it is sent again only when it provably never reached
    /// Easyship (a connect, DNS or TLS error; an HTTP 429 or 503 answer), and a slow answer
    /// is awaited for the retry policy's whole budget rather than one attempt's timeout,
    /// because it holds the only copy of the next refresh token
    /// ([`TokenRequest::spends_single_use_credential`]).
    ///
    /// # Errors
    ///
    /// `invalid_grant` when the refresh token was already used, expired or revoked: the
    /// error says the seller must authorize the app again
    /// ([`AuthError::is_invalid_grant`]); [`AuthError::OutcomeUnknown`] when the request
    /// was sent but no answer came within the budget, the connection was lost
    /// mid-response, or Easyship answered a 5xx other than 503: the refresh token may or
    /// may not have been rotated, and the next refresh with it tells (it is not
    /// `invalid_grant`); otherwise as [`exchange_code`](Self::exchange_code).
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<Token, AuthError> {
        self.refresh_inner(refresh_token, None).await
    }

    /// Like [`refresh`](Self::refresh), asking for `scopes` (a subset of the granted ones).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty or mixed set, or Enterprise scopes on the
    /// partner endpoint (nothing sent); otherwise as [`refresh`](Self::refresh).
    pub async fn refresh_with_scopes(
        &self,
        refresh_token: &RefreshToken,
        scopes: &Scopes<Scope>,
    ) -> Result<Token, AuthError> {
        self.check_scopes(scopes, true)?;
        self.refresh_inner(refresh_token, Some(scopes.to_string()))
            .await
    }

    async fn refresh_inner(
        &self,
        refresh_token: &RefreshToken,
        scope: Option<String>,
    ) -> Result<Token, AuthError> {
        if refresh_token.expose_secret().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the refresh token is empty".into(),
            ));
        }
        let body = wire::RefreshTokenRequest {
            grant_type: wire::REFRESH_TOKEN,
            client_id: self.inner.client_id.as_str(),
            client_secret: self.inner.client_secret.expose_secret(),
            refresh_token: refresh_token.expose_secret(),
            scope,
        };
        // Easyship spends the refresh token on receipt: the request must never be sent
        // twice, and its answer holds the only copy of the next refresh token.
        let request = self
            .token_request(&body, &[refresh_token.expose_secret()])?
            .spends_single_use_credential();
        let token = self
            .inner
            .http
            .execute(&request, error::parse_token_response)
            .await
            .map_err(|e| e.with_hint_for(&OAuthErrorCode::InvalidGrant, REFRESH_SPENT_HINT))?;
        if token.refresh_token().is_some() {
            Ok(token)
        } else {
            tracing::warn!(
                client_id = %self.inner.client_id,
                "Easyship refresh response carried no new refresh token; keeping the previous one"
            );
            Ok(token.with_refresh_token(refresh_token.clone()))
        }
    }

    /// An application token for `scopes` (`grant_type=client_credentials`): no seller,
    /// no refresh token. Easyship grants it on the Enterprise endpoint; the partner
    /// endpoint answers `401 unauthorized_client` (the error then says so).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty or mixed set, or Enterprise scopes on the
    /// partner endpoint (nothing sent); `unauthorized_client`, `invalid_client`,
    /// `invalid_scope`, and the transport errors.
    pub async fn client_credentials(&self, scopes: &Scopes<Scope>) -> Result<Token, AuthError> {
        self.check_scopes(scopes, true)?;
        let body = wire::ClientCredentialsRequest {
            grant_type: wire::CLIENT_CREDENTIALS,
            client_id: self.inner.client_id.as_str(),
            client_secret: self.inner.client_secret.expose_secret(),
            scope: scopes.to_string(),
        };
        let result = self.token_call(&body, &[]).await;
        match self.inner.endpoint {
            Endpoint::Partner => result.map_err(|e| {
                e.with_hint_for(
                    &OAuthErrorCode::UnauthorizedClient,
                    PARTNER_CLIENT_CREDENTIALS_HINT,
                )
            }),
            Endpoint::Enterprise => result,
        }
    }

    /// Enterprise only: a token for the child company `easyship_company_id`
    /// (`grant_type=delegated_account`), with a refresh token. An empty `scopes` sends no
    /// `scope` property.
    ///
    /// The body is `{grant_type, client_id, client_secret, easyship_company_id[, scope]}`.
    /// Easyship documents only `easyship_company_id` for this grant; `client_id` and
    /// `client_secret` are **inferred**: every other grant of the endpoint carries them in
    /// the body, and without them the grant would hand a child company's token to an
    /// unauthenticated caller.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] on the partner endpoint or for an empty company id,
    /// [`AuthError::InvalidScope`] for a mixed set (nothing sent); `invalid_account` (the
    /// company is not a child of this Enterprise account), and as
    /// [`client_credentials`](Self::client_credentials).
    pub async fn delegated_account(
        &self,
        easyship_company_id: &str,
        scopes: &Scopes<Scope>,
    ) -> Result<Token, AuthError> {
        if self.inner.endpoint != Endpoint::Enterprise {
            return Err(AuthError::InvalidConfig(
                "the delegated_account grant exists only on Easyship's Enterprise token \
                 endpoint: build the client with .endpoint(Endpoint::Enterprise)"
                    .into(),
            ));
        }
        if easyship_company_id.trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "easyship_company_id is empty".into(),
            ));
        }
        self.check_scopes(scopes, false)?;
        let body = wire::DelegatedAccountRequest {
            grant_type: wire::DELEGATED_ACCOUNT,
            client_id: self.inner.client_id.as_str(),
            client_secret: self.inner.client_secret.expose_secret(),
            easyship_company_id,
            scope: (!scopes.is_empty()).then(|| scopes.to_string()),
        };
        self.token_call(&body, &[]).await
    }

    /// Revokes an access token (`POST /oauth2/revoke`).
    ///
    /// # Errors
    ///
    /// `invalid_client` and the transport errors. Revoking an unknown or already revoked
    /// token succeeds (RFC 7009).
    pub async fn revoke(&self, token: &AccessToken) -> Result<(), AuthError> {
        self.revoke_raw(token.expose_secret()).await
    }

    /// Revokes a refresh token (`POST /oauth2/revoke`), for example when a seller
    /// disconnects.
    ///
    /// # Errors
    ///
    /// As [`revoke`](Self::revoke).
    pub async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<(), AuthError> {
        self.revoke_raw(token.expose_secret()).await
    }

    async fn revoke_raw(&self, token: &str) -> Result<(), AuthError> {
        let body = wire::RevokeRequest {
            token,
            grant_type: wire::CLIENT_CREDENTIALS,
            client_id: self.inner.client_id.as_str(),
            client_secret: self.inner.client_secret.expose_secret(),
        };
        let request = TokenRequest::post(self.endpoint_url(&self.inner.revoke_url)?.clone())
            .json(&body)?
            .redact(self.inner.client_secret.expose_secret())
            .redact(token);
        self.inner
            .http
            .execute(&request, error::empty_response)
            .await
    }

    async fn token_call<B: Serialize>(
        &self,
        body: &B,
        secrets: &[&str],
    ) -> Result<Token, AuthError> {
        let request = self.token_request(body, secrets)?;
        self.inner
            .http
            .execute(&request, error::parse_token_response)
            .await
    }

    /// A `POST` of `body` to the token endpoint, the client secret and `secrets`
    /// registered for redaction.
    fn token_request<B: Serialize>(
        &self,
        body: &B,
        secrets: &[&str],
    ) -> Result<TokenRequest, AuthError> {
        let mut request = TokenRequest::post(self.endpoint_url(&self.inner.token_url)?.clone())
            .json(body)?
            .redact(self.inner.client_secret.expose_secret());
        for secret in secrets {
            request = request.redact(secret);
        }
        Ok(request)
    }

    /// The checks every grant shares: non-empty when `required`, one generation, and
    /// Enterprise scopes only on the Enterprise endpoint.
    pub(crate) fn check_scopes(
        &self,
        scopes: &Scopes<Scope>,
        required: bool,
    ) -> Result<(), AuthError> {
        if required && scopes.is_empty() {
            return Err(AuthError::InvalidScope {
                scopes: Vec::new(),
                reason: "no scope given; Easyship requires at least one for this request".into(),
            });
        }
        scopes.validate()?;
        if self.inner.endpoint == Endpoint::Partner {
            let enterprise: Vec<String> = scopes
                .iter()
                .filter(|s| s.generation() == Generation::Enterprise)
                .map(|s| s.as_str().to_owned())
                .collect();
            if !enterprise.is_empty() {
                return Err(AuthError::InvalidScope {
                    scopes: enterprise,
                    reason: "Enterprise scopes are granted only on Easyship's Enterprise token \
                             endpoint: build the client with .endpoint(Endpoint::Enterprise)"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

/// Reads the authorization redirect (the full URL the seller's browser came back to:
/// `{redirect_uri}?code=…&state=…`), checks its `state` and returns the authorization
/// code for [`Client::exchange_code`].
///
/// # Errors
///
/// - [`AuthError::StateMismatch`] if `state` is missing, repeated or not `expected`
///   (compared in constant time by [`State::check`]). Checked first: nothing else of a
///   forged redirect is trusted.
/// - [`AuthError::OAuth`] with the redirect's `error` and `error_description` (Easyship's
///   Doorkeeper server sends `error=access_denied` when the seller declines, or
///   `invalid_scope` for a scope the application may not ask), or `invalid_request` when
///   there is no code, an empty one, or more than one.
///
/// # Examples
///
/// ```
/// use auth_core::State;
/// use auth_easyship::parse_redirect;
///
/// let state = State::from_saved("Ml_Wdv6hFqy2N9EkNJdi7g");
/// let url = "https://example.com/callback?code=6b2f9c&state=Ml_Wdv6hFqy2N9EkNJdi7g".parse().unwrap();
/// assert_eq!(parse_redirect(&url, &state).unwrap().expose_secret(), "6b2f9c");
///
/// let forged = "https://example.com/callback?code=x&state=other".parse().unwrap();
/// assert!(parse_redirect(&forged, &state).is_err());
/// ```
pub fn parse_redirect(redirect: &Url, expected: &State) -> Result<Secret, AuthError> {
    parse_redirect_query(redirect.query().unwrap_or(""), expected)
}

/// Like [`parse_redirect`] for the raw (still encoded) query string of the redirect,
/// without the leading `?`.
///
/// # Errors
///
/// As [`parse_redirect`].
pub fn parse_redirect_query(query: &str, expected: &State) -> Result<Secret, AuthError> {
    auth_core::redirect::code_from_query(query, expected, "code")
}

fn check_redirect_uri(redirect_uri: &str) -> Result<(), AuthError> {
    match Url::parse(redirect_uri) {
        Ok(url) if url.has_host() || (url.scheme() != "http" && url.scheme() != "https") => Ok(()),
        _ => Err(AuthError::InvalidConfig(
            "redirect_uri must be an absolute URL registered with Easyship".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder()
            .client_id("id")
            .client_secret("sekrit-client-secret")
            .build()
            .unwrap()
    }

    #[test]
    fn authorize_url_matches_easyship_example_encoding() {
        let scopes: Scopes<Scope> = "rate shipment label".parse().unwrap();
        let state = State::from_saved("Ml_Wdv6hFqy2N9EkNJdi7g");
        let url = client()
            .authorize_url_with_state("https://domain.com/callback", &scopes, &state)
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://auth.easyship.com/oauth2/authorize?client_id=id&redirect_uri=https%3A%2F%2Fdomain.com%2Fcallback&response_type=code&scope=rate%20shipment%20label&state=Ml_Wdv6hFqy2N9EkNJdi7g"
        );
    }

    #[test]
    fn authorize_url_returns_a_fresh_state_each_time() {
        let scopes = Scopes::from([Scope::PublicRateRead]);
        let (url_a, a) = client()
            .authorize_url("https://x.example/cb", &scopes)
            .unwrap();
        let (_, b) = client()
            .authorize_url("https://x.example/cb", &scopes)
            .unwrap();
        assert_ne!(a.as_str(), b.as_str());
        assert!(
            url_a
                .query()
                .unwrap()
                .ends_with(&format!("&state={}", a.as_str()))
        );
        assert!(a.check(b.as_str()).is_err());
    }

    #[test]
    fn authorize_url_refuses_bad_input_before_anything_else() {
        let c = client();
        let empty = Scopes::<Scope>::new();
        assert!(matches!(
            c.authorize_url("https://x.example/cb", &empty),
            Err(AuthError::InvalidScope { .. })
        ));
        let mixed = Scopes::from([Scope::Rate, Scope::PublicRateRead]);
        assert!(matches!(
            c.authorize_url("https://x.example/cb", &mixed),
            Err(AuthError::InvalidScope { .. })
        ));
        let enterprise = Scopes::from([Scope::Rate, Scope::EnterpriseChildCompaniesAccess]);
        match c.authorize_url("https://x.example/cb", &enterprise) {
            Err(AuthError::InvalidScope { scopes, .. }) => {
                assert_eq!(scopes, ["enterprise.child_companies_access"])
            }
            other => panic!("unexpected {other:?}"),
        }
        let ok = Scopes::from([Scope::Rate]);
        assert!(matches!(
            c.authorize_url("/relative", &ok),
            Err(AuthError::InvalidConfig(_))
        ));
        assert!(matches!(
            c.authorize_url("https://", &ok),
            Err(AuthError::InvalidConfig(_))
        ));
        // Custom schemes (mobile apps) are absolute URLs too.
        assert!(c.authorize_url("com.example.app:/oauth", &ok).is_ok());
    }

    #[test]
    fn build_refuses_missing_credentials_and_plain_http() {
        let err = |b: ClientBuilder| b.build().unwrap_err().to_string();
        assert!(err(Client::builder().client_secret("s")).contains("client_id is required"));
        assert!(
            err(Client::builder().client_id(" \t").client_secret("s"))
                .contains("client_id is required")
        );
        assert!(err(Client::builder().client_id("i")).contains("client_secret is required"));
        assert!(
            err(Client::builder().client_id("i").client_secret(" "))
                .contains("client_secret is required")
        );
        let plain = Client::builder()
            .client_id("i")
            .client_secret("s")
            .token_url("http://api.example.com/oauth2/token".parse().unwrap());
        assert!(err(plain).contains("refusing to send credentials over `http`"));
        let plain_base = Client::builder()
            .client_id("i")
            .client_secret("s")
            .environment(Environment::Sandbox)
            .base_url("http://api.example.com/".parse().unwrap());
        assert!(err(plain_base).contains("refusing to send credentials over `http`"));
        // The sandbox without a token URL builds (token calls refuse: tests/errors.rs).
        let sandbox = Client::builder()
            .client_id("i")
            .client_secret("s")
            .environment(Environment::Sandbox)
            .build()
            .unwrap();
        assert_eq!(sandbox.token_url(), None);
        assert_eq!(sandbox.store_key("c").environment(), "sandbox");
        let overridden = Client::builder()
            .client_id("i")
            .client_secret("s")
            .environment(Environment::Sandbox)
            .token_url(
                "https://api-sandbox.example.com/oauth2/token"
                    .parse()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let scopes = Scopes::from([Scope::Rate]);
        assert!(matches!(
            overridden.authorize_url("https://x.example/cb", &scopes),
            Err(AuthError::InvalidConfig(_))
        ));
    }

    #[test]
    fn base_url_moves_every_host_and_keeps_paths() {
        let c = Client::builder()
            .client_id("i")
            .client_secret("s")
            .endpoint(Endpoint::Enterprise)
            .base_url("http://127.0.0.1:7777/es/".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            c.token_url().unwrap().as_str(),
            "http://127.0.0.1:7777/es/oauth2/token"
        );
        assert_eq!(
            c.inner.revoke_url.as_ref().unwrap().as_str(),
            "http://127.0.0.1:7777/es/oauth2/revoke"
        );
        assert_eq!(
            c.api_base_url(ApiFamily::Public).as_str(),
            "http://127.0.0.1:7777/es/"
        );
        let (url, _) = c
            .authorize_url("https://x.example/cb", &Scopes::from([Scope::Rate]))
            .unwrap();
        assert!(
            url.as_str()
                .starts_with("http://127.0.0.1:7777/es/oauth2/authorize?client_id=i&")
        );
    }

    #[test]
    fn base_url_keeps_its_path_and_drops_its_query() {
        let under = |base: &str| {
            Client::builder()
                .client_id("i")
                .client_secret("s")
                .base_url(base.parse().unwrap())
                .build()
                .unwrap()
        };
        assert_eq!(
            under("http://127.0.0.1:9/easyship?x=1")
                .token_url()
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/easyship/oauth2/token"
        );
        assert_eq!(
            under("http://127.0.0.1:9").token_url().unwrap().as_str(),
            "http://127.0.0.1:9/oauth2/token"
        );
    }

    #[test]
    fn default_endpoints_per_flavour() {
        let c = client();
        assert_eq!(
            c.token_url().unwrap().as_str(),
            "https://api.easyship.com/oauth2/token"
        );
        assert_eq!(
            c.inner.revoke_url.as_ref().unwrap().as_str(),
            "https://api.easyship.com/oauth2/revoke"
        );
        assert_eq!(
            c.api_base_url(ApiFamily::Legacy).as_str(),
            "https://api.easyship.com/"
        );
        let e = Client::builder()
            .client_id("i")
            .client_secret("s")
            .endpoint(Endpoint::Enterprise)
            .build()
            .unwrap();
        assert_eq!(
            e.token_url().unwrap().as_str(),
            "https://enterprise-api.easyship.com/oauth2/token"
        );
        assert_eq!(*e.auth_scheme(), AuthScheme::Bearer);
    }

    #[test]
    fn store_key_separates_environments_and_stand_ins() {
        let key = client().store_key("seller-1");
        assert_eq!(
            (
                key.vendor(),
                key.environment(),
                key.client_id(),
                key.subject()
            ),
            ("easyship", "production", "id", "seller-1")
        );
        let enterprise = Client::builder()
            .client_id("id")
            .client_secret("s")
            .endpoint(Endpoint::Enterprise)
            .build()
            .unwrap();
        assert_eq!(enterprise.store_key("c").environment(), "production");
        let emulator = Client::builder()
            .client_id("id")
            .client_secret("s")
            .base_url("http://127.0.0.1:7777/".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            emulator.store_key("c").environment(),
            "production@127.0.0.1:7777"
        );
        // No documented sandbox token endpoint: any URL there is a stand-in.
        let sandbox = Client::builder()
            .client_id("id")
            .client_secret("s")
            .environment(Environment::Sandbox)
            .token_url(
                "https://api-sandbox.example.com/oauth2/token"
                    .parse()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(
            sandbox.store_key("c").environment(),
            "sandbox@api-sandbox.example.com"
        );
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let c = Client::builder()
            .client_id("id")
            .client_secret("sekrit-client-secret")
            .token_url(
                "https://user:pw@h.example/oauth2/token?k=v"
                    .parse()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sekrit"), "{dbg}");
        assert!(!dbg.contains("pw") && !dbg.contains("k=v"), "{dbg}");
        assert!(dbg.contains("ClientSecret([REDACTED])"), "{dbg}");
        let builder = format!(
            "{:?}",
            Client::builder().client_secret("sekrit-client-secret")
        );
        assert!(!builder.contains("sekrit"), "{builder}");
    }

    #[test]
    fn debug_of_client_and_builder_shows_no_url_credentials_or_query() {
        let url: Url = "https://u:pw@host.example:8443/x?k=v".parse().unwrap();
        let builder = Client::builder()
            .client_id("id")
            .client_secret("s")
            .token_url(url.clone())
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
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + fmt::Debug + 'static>() {}
        check::<Client>();
    }
}

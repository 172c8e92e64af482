//! [`Client`]: one async method per Easyship OAuth endpoint, and the vendor contract
//! ([`VendorClient`]). Built by [`ClientBuilder`](crate::ClientBuilder).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use auth_core::grant::AuthorizationCodeClient;
use auth_core::http::{TokenHttpClient, TokenRequest, show_url, store_environment};
use auth_core::vendor::VendorClient;
use auth_core::{
    AccessToken, AuthError, AuthScheme, ClientId, ClientSecret, OAuthErrorCode, RefreshToken,
    RejectedTokenCheck, Scopes, Secret, State, StoreKey, Token, Url,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::builder::ClientBuilder;
use crate::endpoint::{ApiFamily, Endpoint, Environment, parse_static};
use crate::error::{self, VENDOR};
use crate::scope::{Generation, Scope};
use crate::wire;

/// How Easyship's API takes the token: `Authorization: Bearer <token>`.
const AUTH_SCHEME: AuthScheme = AuthScheme::Bearer;

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
/// The vendor contract every vendor crate's client shares (token URL, API base URL, auth
/// scheme, rejected-token check, store key, API HTTP client) is [`VendorClient`]: bring it
/// into scope with `use auth_core::VendorClient;`. The one-call providers are
/// [`refresh_provider`](Self::refresh_provider) and
/// [`client_credentials_provider`](Self::client_credentials_provider).
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

pub(crate) struct Inner {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    pub(crate) environment: Environment,
    pub(crate) endpoint: Endpoint,
    pub(crate) token_url: Url,
    pub(crate) revoke_url: Url,
    /// `None` where Easyship documents no authorize page (the sandbox) and no `base_url`
    /// was set.
    pub(crate) authorize_url: Option<Url>,
    pub(crate) public_api_base: Url,
    pub(crate) legacy_api_base: Url,
    /// Token calls: no redirects followed.
    pub(crate) http: TokenHttpClient,
    /// API calls: redirects followed within the origin only.
    pub(crate) api_http: reqwest::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("client_id", &inner.client_id)
            .field("client_secret", &inner.client_secret)
            .field("environment", &inner.environment)
            .field("endpoint", &inner.endpoint)
            .field("token_url", &show_url(&inner.token_url))
            .field("api_base_url", &show_url(&inner.public_api_base))
            .finish_non_exhaustive()
    }
}

impl VendorClient for Client {
    type Environment = Environment;

    /// `"easyship"`.
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The token endpoint in use (the environment's and [`Endpoint`]'s, or the
    /// `token_url` / `base_url` override).
    fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// The base URL of the Public API 2024-09 and newer ([`ApiFamily::Public`], with the
    /// overrides applied); [`Client::api_base_url_for`] gives either family. The API
    /// version is the first path segment: `client.api_url("2024-09/shipments")`.
    fn api_base_url(&self) -> &Url {
        &self.inner.public_api_base
    }

    /// `Authorization: Bearer <token>`.
    fn auth_scheme(&self) -> &AuthScheme {
        &AUTH_SCHEME
    }

    /// A `401` whose body is Easyship's `invalid_token` error
    /// (`{"error":{"code":"invalid_token",…}}`) or carries no Easyship error code at all
    /// (a bare 401 from a proxy: the token is the only credential on the request). A 401
    /// naming another code, and every other status (403 `forbidden` is a missing scope,
    /// which a new token does not fix), is not a rejected token.
    fn rejected_token_check(&self) -> RejectedTokenCheck {
        error::token_rejected
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
    /// use auth_core::VendorClient;
    /// use auth_easyship::Client;
    ///
    /// let client = Client::builder().client_id("id").client_secret("secret").build()?;
    /// let key = client.store_key("seller-42");
    /// assert_eq!((key.vendor(), key.environment(), key.subject()), ("easyship", "production", "seller-42"));
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    fn store_key(&self, subject: &str) -> StoreKey {
        let inner = &self.inner;
        let own = inner
            .endpoint
            .token_url_in(inner.environment)
            .map(parse_static);
        let environment =
            store_environment(inner.environment.as_str(), &inner.token_url, own.as_ref());
        StoreKey::new(VENDOR, environment, inner.client_id.as_str(), subject)
    }

    /// The client for API calls: it follows redirects only within the origin of the
    /// request, so the token is never carried to another host. (Token calls use their
    /// own client, which follows no redirects at all.)
    fn http_client(&self) -> &reqwest::Client {
        &self.inner.api_http
    }
}

/// Easyship (Doorkeeper with refresh-token rotation) spends a refresh token on receipt
/// and returns the next one. One fact, read twice: the refresh request is sent as
/// spending a single-use credential, and the grants answer
/// [`TokenSource::rotates_refresh_token`](auth_core::TokenSource::rotates_refresh_token)
/// with it (no refresh without the store's lease).
pub(crate) const REFRESH_TOKEN_SINGLE_USE: bool = true;

/// Easyship (Doorkeeper) revokes the previous access token in the same transaction that
/// issues the new one on a refresh. Inferred, not documented by Easyship: a real
/// Doorkeeper 5.5 does it, and Easyship's token endpoint answers with Doorkeeper's texts
/// (`/work/shared/vendors/easyship.md`, "What Doorkeeper itself does"; issue 14, item 3).
/// The refresh grants answer
/// [`TokenSource::revokes_previous_access_token`](auth_core::TokenSource::revokes_previous_access_token)
/// with it: a provider stops handing out the old token once the refresh is sent.
pub(crate) const REFRESH_REVOKES_PREVIOUS_ACCESS_TOKEN: bool = true;

#[async_trait]
impl AuthorizationCodeClient for Client {
    async fn exchange_authorization_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
    ) -> Result<Token, AuthError> {
        self.exchange_code(code.clone(), redirect_uri).await
    }

    async fn refresh_previous(&self, previous: &Token) -> Result<Token, AuthError> {
        let refresh_token = previous.refresh_token().ok_or(AuthError::NoRefreshToken)?;
        self.refresh(refresh_token).await
    }

    fn rotates_refresh_token(&self) -> bool {
        REFRESH_TOKEN_SINGLE_USE
    }

    fn revokes_previous_access_token(&self) -> bool {
        REFRESH_REVOKES_PREVIOUS_ACCESS_TOKEN
    }
}

impl Client {
    /// A builder: set at least [`client_id`](ClientBuilder::client_id) and
    /// [`client_secret`](ClientBuilder::client_secret). The environment defaults to
    /// [`Environment::Production`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The token endpoint flavour.
    pub fn endpoint(&self) -> Endpoint {
        self.inner.endpoint
    }

    /// The base URL of the Public API of `family` (with the overrides applied).
    /// [`VendorClient::api_base_url`] is the one of [`ApiFamily::Public`].
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::{ApiFamily, Client};
    ///
    /// let client = Client::builder().client_id("id").client_secret("secret").build()?;
    /// assert_eq!(client.api_base_url_for(ApiFamily::Legacy).as_str(), "https://api.easyship.com/");
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    pub fn api_base_url_for(&self, family: ApiFamily) -> &Url {
        match family {
            ApiFamily::Legacy => &self.inner.legacy_api_base,
            ApiFamily::Public => &self.inner.public_api_base,
        }
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
        let mut request = self.token_request(&body, &[refresh_token.expose_secret()])?;
        if REFRESH_TOKEN_SINGLE_USE {
            request = request.spends_single_use_credential();
        }
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
        let request = TokenRequest::post(self.inner.revoke_url.clone())
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
        let mut request = TokenRequest::post(self.inner.token_url.clone())
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

    #[test]
    fn revoke_url_sits_beside_the_token_url() {
        let revoke = |builder: ClientBuilder| {
            let client = builder.client_id("i").client_secret("s").build().unwrap();
            client.inner.revoke_url.as_str().to_owned()
        };
        assert_eq!(
            revoke(Client::builder()),
            "https://api.easyship.com/oauth2/revoke"
        );
        assert_eq!(
            revoke(Client::builder().base_url("http://127.0.0.1:7777/es/")),
            "http://127.0.0.1:7777/es/oauth2/revoke"
        );
    }
}

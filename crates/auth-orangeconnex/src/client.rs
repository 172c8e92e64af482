//! [`Client`]: the Orange Connex OAuth endpoints, typed in and typed out, and the vendor
//! contract ([`VendorClient`]). Built by [`ClientBuilder`](crate::ClientBuilder).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::grant::AuthorizationCodeClient;
use auth_core::http::{RawResponse, TokenHttpClient, TokenRequest, show_url, store_environment};
use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, AuthScheme, ClientId, ClientSecret, RefreshToken, RejectedTokenCheck, Secret, State,
    StoreKey, Token,
};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderName;
use tracing::Instrument as _;
use url::Url;

use crate::builder::ClientBuilder;
use crate::endpoint::{Endpoints, Environment};
use crate::error::{VENDOR, check_response, token_rejected};
use crate::grant::refresh_token_expires_at;
use crate::wire::PreviousRefreshToken;

/// The header API calls carry the access token in.
pub const ACCESS_TOKEN_HEADER: &str = "access-token";

/// The optional header of the token calls that names the integrating party's key.
pub const CLIENT_KEY_HEADER: &str = "clientkey";

/// An Orange Connex OAuth client: builds the authorization URL, exchanges the code and
/// refreshes tokens.
///
/// Cheap to clone (one `Arc`), `Send + Sync`; `Debug` shows no secret.
///
/// # What goes on the wire
///
/// Both token calls are `POST {host}/oauth/token` with **every parameter in the query
/// string** and an empty body (`Content-Length: 0`, no `Content-Type`), as the vendor
/// documents:
///
/// ```text
/// POST /oauth/token?client_id=…&grant_type=authorization_code&redirect_uri=…&code=…
/// POST /oauth/token?client_id=…&grant_type=refresh_token&refresh_token=…
/// ```
///
/// Each value is percent-encoded exactly once (`application/x-www-form-urlencoded`
/// rules, so a `+` in a token reaches the server as `%2B`). Because the code and the
/// refresh token travel in the URL, the URL is never logged, put in a tracing span or
/// quoted in an error, and both are registered for redaction from error bodies.
///
/// No client secret is sent: the vendor documents none on these calls (see
/// [`ClientBuilder::client_secret`]). The optional `clientKey` header is sent when
/// configured with [`ClientBuilder::client_key`].
///
/// The vendor contract every vendor crate's client shares (token URL, API base URL, auth
/// scheme, rejected-token check, store key, API HTTP client) is [`VendorClient`]: bring it
/// into scope with `use auth_core::VendorClient;`. The one-call providers are
/// [`refresh_provider`](Self::refresh_provider) and
/// [`refresh_provider_builder`](Self::refresh_provider_builder).
///
/// # Examples
///
/// ```
/// use auth_core::VendorClient;
/// use auth_orangeconnex::{Client, Environment};
///
/// let client = Client::builder()
///     .client_id("bd1d1971-d0db-11ea-b4a1-00505694c27b")
///     .environment(Environment::Stage)
///     .build()
///     .unwrap();
/// assert_eq!(
///     client.token_url().as_str(),
///     "https://openapi-stage-hk.orangeconnex.com/oauth/token"
/// );
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: Option<ClientSecret>,
    pub(crate) client_key: Option<Secret>,
    pub(crate) environment: Environment,
    pub(crate) endpoints: Endpoints,
    /// Token calls: no redirects followed.
    pub(crate) http: TokenHttpClient,
    /// API calls: redirects followed within the origin only.
    pub(crate) api_http: reqwest::Client,
    pub(crate) auth_scheme: AuthScheme,
    pub(crate) refresh_token_warn_before: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("client_id", &inner.client_id)
            .field("environment", &inner.environment)
            .field("authorize_url", &show_url(&inner.endpoints.authorize_url))
            .field("token_url", &show_url(&inner.endpoints.token_url))
            .field("api_base_url", &show_url(&inner.endpoints.api_base_url))
            .field("client_secret", &inner.client_secret)
            .field("client_key", &inner.client_key)
            .field("auth_scheme", &inner.auth_scheme)
            .finish_non_exhaustive()
    }
}

impl VendorClient for Client {
    type Environment = Environment;

    /// `"orangeconnex"`.
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    /// The environment the credentials belong to.
    fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The token endpoint (`…/oauth/token`).
    fn token_url(&self) -> &Url {
        &self.inner.endpoints.token_url
    }

    /// The base of the Open API calls (`…/openapi/`), for example
    /// `client.api_url("3pp/sku/v3/creation")`.
    fn api_base_url(&self) -> &Url {
        &self.inner.endpoints.api_base_url
    }

    /// Where the access token goes on an API call: the `Access-Token` header, with the
    /// `Bearer ` prefix unless [`ClientBuilder::bearer_prefix`] turned it off.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_core::{AccessToken, Token, VendorClient};
    /// use auth_orangeconnex::Client;
    ///
    /// let client = Client::builder().client_id("id").build().unwrap();
    /// let token = Token::new(AccessToken::new("abc"), None);
    /// let (name, value) = client.auth_scheme().header_value(&token).unwrap();
    /// assert_eq!((name.as_str(), value.to_str().unwrap()), ("access-token", "Bearer abc"));
    /// ```
    fn auth_scheme(&self) -> &AuthScheme {
        &self.inner.auth_scheme
    }

    /// True for HTTP 401, for a `WWW-Authenticate` header naming `invalid_token`, and for
    /// a JSON body whose `error` is `invalid_token` (the OAuth 2.0 resource-server answer
    /// for an expired or revoked token). A 403 alone is a permission problem, not a token
    /// one.
    fn rejected_token_check(&self) -> RejectedTokenCheck {
        token_rejected
    }

    /// The key this client's tokens for one seller are stored under: vendor
    /// `orangeconnex`, the environment, the client id, and `subject` (whatever identifies
    /// the seller who authorized the app in your system). When the token URL is not the
    /// environment's own (an emulator, a proxy), its host is part of the environment, so
    /// such a token is never served to the real environment.
    fn store_key(&self, subject: &str) -> StoreKey {
        let inner = &self.inner;
        let environment = store_environment(
            inner.environment.as_str(),
            &inner.endpoints.token_url,
            Some(&inner.environment.token_url()),
        );
        StoreKey::new(VENDOR, environment, inner.client_id.as_str(), subject)
    }

    /// The client for Open API calls: it follows redirects only within the origin of the
    /// request, so `Access-Token` never reaches another host. (Token calls use their own
    /// client, which follows no redirects at all.)
    fn http_client(&self) -> &reqwest::Client {
        &self.inner.api_http
    }
}

/// Orange Connex "may or may not rotate" refresh tokens (vendors/orangeconnex.md): treat
/// them as single-use. One fact, read twice: the refresh request is sent as spending a
/// single-use credential, and the grants answer
/// [`TokenSource::rotates_refresh_token`](auth_core::TokenSource::rotates_refresh_token)
/// with it (no refresh without the store's lease).
pub(crate) const REFRESH_TOKEN_MAY_ROTATE: bool = true;

#[async_trait]
impl AuthorizationCodeClient for Client {
    async fn exchange_authorization_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
    ) -> Result<Token, AuthError> {
        self.exchange_code(code.clone(), redirect_uri).await
    }

    /// As [`Client::refresh_from`]: the refresh token's age is carried over, and a refresh
    /// token about to lapse is warned about.
    async fn refresh_previous(&self, previous: &Token) -> Result<Token, AuthError> {
        self.refresh_from(previous).await
    }

    fn rotates_refresh_token(&self) -> bool {
        REFRESH_TOKEN_MAY_ROTATE
    }
}

impl Client {
    /// A builder with the defaults: [`Environment::Production`], `Bearer ` prefix, default
    /// retry policy.
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

    /// The authorization endpoint of the browser step (`…/oauth/authorize`).
    pub fn authorize_endpoint(&self) -> &Url {
        &self.inner.endpoints.authorize_url
    }

    /// The URL to send the seller's browser to, and the random `state` to keep (in the
    /// user's session) and check on the redirect with [`parse_redirect`].
    ///
    /// `GET {host}/oauth/authorize?response_type=code&client_id=…&redirect_uri=…&state=…`.
    /// `redirect_uri` is sent exactly as given (it must equal the one registered with
    /// Orange Connex and the one later passed to [`exchange_code`](Self::exchange_code);
    /// it is not normalized, so `https://example.com` stays without a trailing `/`).
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_orangeconnex::Client;
    ///
    /// let client = Client::builder().client_id("my-3pp").build().unwrap();
    /// let (url, state) = client.authorize_url("https://app.example.com/oc/callback");
    /// assert!(url.as_str().starts_with(
    ///     "https://openapi-hk.orangeconnex.com/oauth/authorize?response_type=code&client_id=my-3pp&redirect_uri=https%3A%2F%2Fapp.example.com%2Foc%2Fcallback&state="
    /// ));
    /// assert!(url.query_pairs().any(|(k, v)| k == "state" && v == state.as_str()));
    /// ```
    pub fn authorize_url(&self, redirect_uri: &str) -> (Url, State) {
        let state = State::new();
        (self.authorize_url_with_state(redirect_uri, &state), state)
    }

    /// Like [`authorize_url`](Self::authorize_url) with a state you made (for example
    /// one restored with [`State::from_saved`]).
    pub fn authorize_url_with_state(&self, redirect_uri: &str, state: &State) -> Url {
        let mut url = self.inner.endpoints.authorize_url.clone();
        url.query_pairs_mut().extend_pairs([
            ("response_type", "code"),
            ("client_id", self.inner.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("state", state.as_str()),
        ]);
        url
    }

    /// Exchanges the authorization code from the redirect for an access token and a
    /// refresh token.
    ///
    /// `code` is the value of the redirect's `code` parameter **after the query string
    /// was decoded once**, as every web framework and [`parse_redirect`] hand it over; it
    /// is encoded once again here. Orange Connex codes may themselves contain
    /// percent-escapes: the vendor's sample redirect carries `code=gTJjJKyOR0F%252FYo5…`,
    /// whose value is `gTJjJKyOR0F%2FYo5…`, which this method sends as
    /// `code=gTJjJKyOR0F%252FYo5…`, exactly like the vendor's sample token request. Do not
    /// decode the code a second time (the server would receive `/` and `+` instead of the
    /// code it issued and answer `invalid_grant`), and do not pass the raw, undecoded query
    /// value (it would be encoded twice).
    ///
    /// `redirect_uri` must be the one given to [`authorize_url`](Self::authorize_url),
    /// character for character.
    ///
    /// The returned token's refresh token was issued now
    /// ([`Token::refresh_token_issued_at`]); see
    /// [`refresh_token_expires_at`](crate::refresh_token_expires_at).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for a blank code or redirect URI (nothing sent);
    /// otherwise as described in [the crate docs](crate#errors). An authorization code is single-use:
    /// `invalid_grant` means it was used, expired, or `redirect_uri` differs.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; Orange Connex may still have consumed the
    /// code.
    pub async fn exchange_code(
        &self,
        code: impl Into<Secret>,
        redirect_uri: &str,
    ) -> Result<Token, AuthError> {
        let span = tracing::info_span!(
            "orangeconnex.exchange_code",
            environment = %self.inner.environment
        );
        self.exchange_code_inner(code.into(), redirect_uri)
            .instrument(span)
            .await
    }

    async fn exchange_code_inner(
        &self,
        code: Secret,
        redirect_uri: &str,
    ) -> Result<Token, AuthError> {
        if code.expose_secret().trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the authorization code is empty".into(),
            ));
        }
        if redirect_uri.trim().is_empty() {
            return Err(AuthError::InvalidConfig("the redirect URI is empty".into()));
        }
        let request = TokenRequest::post(self.inner.endpoints.token_url.clone())
            .query([
                ("client_id", self.inner.client_id.as_str()),
                ("grant_type", "authorization_code"),
                ("redirect_uri", redirect_uri),
                ("code", code.expose_secret()),
            ])
            .redact(code.expose_secret());
        let request = self.with_client_key(request)?;
        let token = self
            .inner
            .http
            .execute(&request, |raw| parse_token_response(raw, None))
            .await?;
        if token.refresh_token().is_none() {
            tracing::warn!(
                "the Orange Connex token response carried no refresh_token; the seller will have to authorize again when the access token expires"
            );
        }
        Ok(token)
    }

    /// Gets a new access token with a refresh token.
    ///
    /// The returned token holds the refresh token the response carried, or, when it
    /// carried none, the one sent (Orange Connex does not document refresh tokens as
    /// single-use; it may or may not rotate them). Its
    /// [`refresh_token_issued_at`](Token::refresh_token_issued_at) is set only when the
    /// refresh token rotated (then it is now); to keep the age of a refresh token that did
    /// not rotate, use [`refresh_from`](Self::refresh_from) with the previous token (as
    /// [`RefreshGrant`](crate::RefreshGrant) does).
    ///
    /// Since a rotation is possible, the request is treated as spending a single-use
    /// credential ([`TokenRequest::spends_single_use_credential`]): sent again only when
    /// it provably never reached the vendor, and a slow answer is awaited for the retry
    /// policy's whole budget.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for a blank refresh token (nothing sent); otherwise as
    /// described in [the crate docs](crate#errors): [`AuthError::is_invalid_grant`] means the refresh
    /// token is expired (after one year) or revoked and the seller must authorize again;
    /// [`AuthError::OutcomeUnknown`] means the request was sent but no usable answer came
    /// (none within the budget, a connection lost mid-response, a 5xx other than 503), so
    /// the refresh token may have rotated; the next refresh with it tells.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; the vendor may still have processed it.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<Token, AuthError> {
        self.refresh_with(refresh_token, None).await
    }

    /// Refreshes `previous` with its refresh token, carrying over when that refresh
    /// token was issued if the vendor does not rotate it (what the grants do). Like every
    /// refresh, it logs a warning when the refresh token lapses within
    /// [`ClientBuilder::refresh_token_warn_before`].
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) if `previous` has no refresh token;
    /// otherwise as [`refresh`](Self::refresh).
    pub async fn refresh_from(&self, previous: &Token) -> Result<Token, AuthError> {
        self.refresh_from_or(previous, None).await
    }

    /// [`refresh_from`](Self::refresh_from), taking `issued_at` as the refresh token's
    /// issue time when `previous` does not say.
    pub(crate) async fn refresh_from_or(
        &self,
        previous: &Token,
        issued_at: Option<DateTime<Utc>>,
    ) -> Result<Token, AuthError> {
        let Some(refresh_token) = previous.refresh_token() else {
            return Err(AuthError::NoRefreshToken);
        };
        let issued_at = previous.refresh_token_issued_at().or(issued_at);
        self.refresh_with(refresh_token, issued_at).await
    }

    pub(crate) async fn refresh_with(
        &self,
        refresh_token: &RefreshToken,
        refresh_token_issued_at: Option<DateTime<Utc>>,
    ) -> Result<Token, AuthError> {
        let span =
            tracing::info_span!("orangeconnex.refresh", environment = %self.inner.environment);
        let token = async move {
            let secret = refresh_token.expose_secret();
            if secret.trim().is_empty() {
                return Err(AuthError::InvalidConfig(
                    "the refresh token is empty".into(),
                ));
            }
            let request = TokenRequest::post(self.inner.endpoints.token_url.clone())
                .query([
                    ("client_id", self.inner.client_id.as_str()),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", secret),
                ])
                .redact(secret);
            // Orange Connex does not say whether it rotates refresh tokens; if it does, a
            // second send would spend one twice and lose the new one.
            let request = if REFRESH_TOKEN_MAY_ROTATE {
                request.spends_single_use_credential()
            } else {
                request
            };
            let request = self.with_client_key(request)?;
            let previous = PreviousRefreshToken {
                refresh_token,
                issued_at: refresh_token_issued_at,
            };
            self.inner
                .http
                .execute(&request, |raw| parse_token_response(raw, Some(previous)))
                .await
        }
        .instrument(span)
        .await?;
        self.warn_if_lapsing(&token);
        Ok(token)
    }

    /// Logs a warning (no secret in it) when `token`'s refresh token lapses within
    /// [`ClientBuilder::refresh_token_warn_before`].
    fn warn_if_lapsing(&self, token: &Token) {
        let warn_before = self.inner.refresh_token_warn_before;
        let (Some(lapses), Ok(window)) = (
            refresh_token_expires_at(token),
            chrono::Duration::from_std(warn_before),
        ) else {
            return;
        };
        let now = self.now();
        if warn_before > Duration::ZERO && lapses - now <= window {
            tracing::warn!(
                environment = %self.inner.environment,
                client_id = %self.inner.client_id,
                refresh_token_expires_at = %lapses.to_rfc3339(),
                days_left = (lapses - now).num_days(),
                "the Orange Connex refresh token lapses soon; the seller must authorize the app again before then"
            );
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.http.clock().now()
    }

    fn with_client_key(&self, request: TokenRequest) -> Result<TokenRequest, AuthError> {
        match &self.inner.client_key {
            Some(key) => request.secret_header(
                HeaderName::from_static(CLIENT_KEY_HEADER),
                key.expose_secret(),
            ),
            None => Ok(request),
        }
    }
}

fn parse_token_response(
    raw: &RawResponse<'_>,
    previous: Option<PreviousRefreshToken<'_>>,
) -> Result<Token, AuthError> {
    check_response(raw)?.into_token(raw.status.as_u16(), raw.sent_at, previous)
}

/// Reads the authorization redirect (the full URL the seller's browser came back to),
/// checks its `state` and returns the authorization code.
///
/// The code is returned as decoded once from the query string, which is what
/// [`Client::exchange_code`] expects (see there for the vendor's percent-encoded codes).
///
/// # Errors
///
/// - [`AuthError::StateMismatch`] if `state` is missing, repeated or not `expected`
///   (compared in constant time). Checked first: nothing else of a forged redirect is
///   trusted.
/// - [`AuthError::OAuth`] with the redirect's `error` (for example `access_denied` when
///   the seller declined), or `invalid_request` when there is no code or more than one.
///
/// # Examples
///
/// ```
/// use auth_core::State;
/// use auth_orangeconnex::parse_redirect;
///
/// let state = State::from_saved("s-123");
/// let url = "https://app.example.com/cb?code=ab%252Fcd&state=s-123".parse().unwrap();
/// let code = parse_redirect(&url, &state).unwrap();
/// assert_eq!(code.expose_secret(), "ab%2Fcd");
///
/// let forged = "https://app.example.com/cb?code=x&state=other".parse().unwrap();
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

//! [`Client`]: the Orange Connex OAuth endpoints, typed in and typed out.

use auth_core::http::show_url;
use std::fmt;
use std::sync::Arc;

use auth_core::http::{
    RawResponse, RetryPolicy, TokenHttpClient, TokenHttpClientBuilder, TokenRequest,
    check_endpoint, store_environment,
};
use auth_core::{
    AuthError, AuthScheme, ClientId, ClientSecret, Clock, RefreshToken, Secret, State, StoreKey,
    Token,
};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderName;
use tracing::Instrument as _;
use url::Url;

use crate::endpoint::{Endpoints, Environment};
use crate::error::{VENDOR, check_response};
use crate::wire::PreviousRefreshToken;

/// The header API calls carry the access token in.
pub const ACCESS_TOKEN_HEADER: &str = "access-token";

/// The optional header of the token calls that names the integrating party's key.
pub const CLIENT_KEY_HEADER: &str = "clientkey";

const PRODUCT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

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
/// # Examples
///
/// ```
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

struct Inner {
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    client_key: Option<Secret>,
    environment: Environment,
    endpoints: Endpoints,
    http: TokenHttpClient,
    auth_scheme: AuthScheme,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("client_id", &inner.client_id)
            .field("environment", &inner.environment)
            .field("authorize_url", &show_url(&inner.endpoints.authorize_url))
            .field("token_url", &show_url(&inner.endpoints.token_url))
            .field("client_secret", &inner.client_secret)
            .field("client_key", &inner.client_key)
            .field("auth_scheme", &inner.auth_scheme)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; see [`Client::builder`]. `Debug` shows no secret, nor a URL's
/// credentials or query.
#[derive(Clone)]
pub struct ClientBuilder {
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    client_key: Option<Secret>,
    environment: Environment,
    base_url: Option<Url>,
    token_url: Option<Url>,
    bearer_prefix: bool,
    http: TokenHttpClientBuilder,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_key", &self.client_key)
            .field("environment", &self.environment)
            .field("base_url", &self.base_url.as_ref().map(show_url))
            .field("token_url", &self.token_url.as_ref().map(show_url))
            .field("bearer_prefix", &self.bearer_prefix)
            .field("http", &self.http)
            .finish()
    }
}

impl ClientBuilder {
    /// The id Orange Connex gave the integrating party ("3PP") offline. Required.
    #[must_use]
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
    #[must_use]
    pub fn client_secret(mut self, client_secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// Sends the optional `clientKey` header on both token calls (documented on the
    /// code exchange as an optional header; its value is a key Orange Connex issues).
    /// Treated as a secret: the header is marked sensitive and the value is removed from
    /// any quoted error body.
    #[must_use]
    pub fn client_key(mut self, client_key: impl Into<Secret>) -> Self {
        self.client_key = Some(client_key.into());
        self
    }

    /// The environment (default [`Environment::Production`]).
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Overrides the host of every endpoint at once, keeping its path
    /// (`http://127.0.0.1:8080/oc` serves `/oc/oauth/authorize`, `/oc/oauth/token` and
    /// `/oc/openapi/`): for emulators, proxies and hosts not in [`Environment`]. The
    /// environment still names the credentials' environment (store keys, logs).
    #[must_use]
    pub fn base_url(mut self, base_url: Url) -> Self {
        self.base_url = Some(base_url);
        self
    }

    /// Overrides the token endpoint only (wins over [`base_url`](Self::base_url)).
    #[must_use]
    pub fn token_url(mut self, token_url: Url) -> Self {
        self.token_url = Some(token_url);
        self
    }

    /// Uses this `reqwest::Client` for token calls. It must not follow redirects
    /// (`reqwest::redirect::Policy::none()`); see [`TokenHttpClient`].
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = self.http.http_client(client);
        self
    }

    /// Timeouts, retries and body limit of the token calls (default
    /// [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.http = self.http.retry_policy(policy);
        self
    }

    /// The clock the send time of token calls is read from (default: the system clock).
    /// Expiry and refresh-token age are computed from it.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.http = self.http.clock(clock);
        self
    }

    /// Whether [`Client::auth_scheme`] writes `Access-Token: Bearer <token>` (`true`, the
    /// default) or `Access-Token: <token>` (`false`).
    ///
    /// The default follows the vendor's reference, whose one page that spells out the
    /// header's value gives `Bearer <access_token>`; the other pages show only the header
    /// name. Switch it off if your account's gateway expects the bare token.
    #[must_use]
    pub fn bearer_prefix(mut self, bearer_prefix: bool) -> Self {
        self.bearer_prefix = bearer_prefix;
        self
    }

    /// Builds the client. Nothing is sent.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the client id is missing or blank, a client key is
    /// set but blank or not a valid header value, a URL override
    /// is not `https` (plain `http` is allowed for loopback hosts only), has a query or
    /// fragment, or the HTTP client cannot be created.
    pub fn build(self) -> Result<Client, AuthError> {
        let client_id = self
            .client_id
            .filter(|id| !id.as_str().trim().is_empty())
            .ok_or_else(|| {
                AuthError::InvalidConfig(
                    "an Orange Connex client id is required (ClientBuilder::client_id)".into(),
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
                "the clientKey is not a valid HTTP header value".into(),
            ));
        }
        let mut endpoints = match &self.base_url {
            Some(base) => {
                check_endpoint(base)?;
                Endpoints::under(base)?
            }
            None => Endpoints::of(self.environment),
        };
        if let Some(token_url) = self.token_url {
            check_endpoint(&token_url)?;
            if token_url.query().is_some() || token_url.fragment().is_some() {
                return Err(AuthError::InvalidConfig(
                    "the token URL must not have a query or fragment: the token call puts its own parameters there".into(),
                ));
            }
            endpoints.token_url = token_url;
        }
        let auth_scheme = if self.bearer_prefix {
            AuthScheme::header_with_prefix(ACCESS_TOKEN_HEADER, "Bearer ")
        } else {
            AuthScheme::header(ACCESS_TOKEN_HEADER)
        };
        Ok(Client {
            inner: Arc::new(Inner {
                client_id,
                client_secret: self.client_secret,
                client_key: self.client_key,
                environment: self.environment,
                endpoints,
                http: self.http.build()?,
                auth_scheme,
            }),
        })
    }
}

impl Client {
    /// A builder with the defaults: production, `Bearer ` prefix, default retry policy.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            client_id: None,
            client_secret: None,
            client_key: None,
            environment: Environment::default(),
            base_url: None,
            token_url: None,
            bearer_prefix: true,
            http: TokenHttpClient::builder(PRODUCT),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The environment the credentials belong to.
    pub fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The token endpoint (`…/oauth/token`).
    pub fn token_url(&self) -> &Url {
        &self.inner.endpoints.token_url
    }

    /// The authorization endpoint of the browser step (`…/oauth/authorize`).
    pub fn authorize_endpoint(&self) -> &Url {
        &self.inner.endpoints.authorize_url
    }

    /// The base of the Open API calls (`…/openapi/`), for example
    /// `client.api_base_url().join("3pp/sku/v3/creation")`.
    pub fn api_base_url(&self) -> &Url {
        &self.inner.endpoints.api_base_url
    }

    /// Where the access token goes on an API call: the `Access-Token` header, with the
    /// `Bearer ` prefix unless [`ClientBuilder::bearer_prefix`] turned it off.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_core::{AccessToken, Token};
    /// use auth_orangeconnex::Client;
    ///
    /// let client = Client::builder().client_id("id").build().unwrap();
    /// let token = Token::new(AccessToken::new("abc"), None);
    /// let (name, value) = client.auth_scheme().header_value(&token).unwrap();
    /// assert_eq!((name.as_str(), value.to_str().unwrap()), ("access-token", "Bearer abc"));
    /// ```
    pub fn auth_scheme(&self) -> &AuthScheme {
        &self.inner.auth_scheme
    }

    /// The key this client's tokens for one seller are stored under: vendor
    /// `orangeconnex`, the environment, the client id, and `seller` (whatever identifies
    /// the seller who authorized the app in your system). When the token URL is not the
    /// environment's own (an emulator, a proxy), its host is part of the environment, so
    /// such a token is never served to the real environment.
    pub fn store_key(&self, seller: &str) -> StoreKey {
        let inner = &self.inner;
        let environment = store_environment(
            inner.environment.as_str(),
            &inner.endpoints.token_url,
            Some(&inner.environment.token_url()),
        );
        StoreKey::new(VENDOR, environment, inner.client_id.as_str(), seller)
    }

    /// The HTTP client of the token calls; it follows no redirects at all.
    ///
    /// For Open API calls, above all those sent with `send_with_token`, build one
    /// [`auth_core::api_http_client`] and share it: it follows redirects, but only within
    /// the origin of the request, so `Access-Token` never reaches another host.
    pub fn http_client(&self) -> &reqwest::Client {
        self.inner.http.http()
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
        let span = tracing::info_span!("orangeconnex.exchange_code", environment = %self.inner.environment);
        async move {
        let code = code.into();
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
        .instrument(span)
        .await
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
    /// token was issued if the vendor does not rotate it.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) if `previous` has no refresh token;
    /// otherwise as [`refresh`](Self::refresh).
    pub async fn refresh_from(&self, previous: &Token) -> Result<Token, AuthError> {
        let Some(refresh_token) = previous.refresh_token() else {
            return Err(AuthError::NoRefreshToken);
        };
        self.refresh_with(refresh_token, previous.refresh_token_issued_at())
            .await
    }

    pub(crate) async fn refresh_with(
        &self,
        refresh_token: &RefreshToken,
        refresh_token_issued_at: Option<DateTime<Utc>>,
    ) -> Result<Token, AuthError> {
        let span =
            tracing::info_span!("orangeconnex.refresh", environment = %self.inner.environment);
        async move {
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
                .redact(secret)
                // Orange Connex does not say whether it rotates refresh tokens; if it does, a
                // second send would spend one twice and lose the new one.
                .spends_single_use_credential();
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
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_client_id_or_client_key_is_refused_at_build() {
        let cases = [
            (Client::builder(), "client_id"),
            (Client::builder().client_id(""), "client_id"),
            (Client::builder().client_id(" \t "), "client_id"),
            (
                Client::builder().client_id("id").client_key(""),
                "client_key",
            ),
            (
                Client::builder().client_id("id").client_key("   "),
                "client_key",
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
        let client = Client::builder()
            .client_id("id")
            .client_key("k-1")
            .build()
            .unwrap();
        assert_eq!(client.client_id().as_str(), "id");
    }

    #[test]
    fn debug_of_client_and_builder_shows_no_url_credentials_or_query() {
        let with_query: Url = "https://u:pw@host.example:8443/x?k=v".parse().unwrap();
        let builder = Client::builder()
            .client_id("id")
            .token_url(with_query.clone())
            .base_url(with_query);
        let shown = format!("{builder:?} {builder:#?}");
        assert!(!shown.contains("pw") && !shown.contains("k=v"), "{shown}");
        assert!(shown.contains("https://host.example:8443/x"), "{shown}");
        // A query on either URL is refused by build(), without quoting it.
        let err = builder.build().unwrap_err().to_string();
        assert!(!err.contains("pw") && !err.contains("k=v"), "{err}");

        let client = Client::builder()
            .client_id("id")
            .base_url("https://u:pw@host.example:8443/x".parse().unwrap())
            .build()
            .unwrap();
        let shown = format!("{client:?} {client:#?}");
        assert!(!shown.contains("pw"), "{shown}");
        assert!(
            shown.contains("https://host.example:8443/x/oauth/token"),
            "{shown}"
        );
        let endpoints = Endpoints::under(&"https://u:pw@host.example/x".parse().unwrap()).unwrap();
        let shown = format!("{endpoints:?}");
        assert!(!shown.contains("pw"), "{shown}");
    }
}

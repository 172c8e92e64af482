//! [`Client`]: the Pitney Bowes token endpoint, typed in and typed out.

use auth_core::http::show_url;
use std::fmt;
use std::sync::Arc;

use auth_core::http::{
    RawResponse, RetryPolicy, TokenHttpClient, TokenHttpClientBuilder, TokenRequest,
    check_endpoint, store_environment, url_under,
};
use auth_core::{
    AuthError, AuthScheme, CachedTokenProvider, ClientId, ClientSecret, Clock, StoreKey, Token,
};
use tracing::Instrument as _;
use url::Url;

use crate::endpoint::{API_BASE_PATH, Environment, TOKEN_PATH};
use crate::error::{TokenEndpoint, VENDOR, token_error};
use crate::grant::ClientCredentialsGrant;
use crate::wire::{GRANT_TYPE, TokenResponse};

/// Where Pitney Bowes APIs expect the token: `Authorization: Bearer <token>` (the token
/// response's `tokenType` `"BearerToken"` means this).
pub const AUTH_SCHEME: AuthScheme = AuthScheme::Bearer;

/// The `User-Agent` product of token calls.
const PRODUCT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A client of the Pitney Bowes token endpoint for one API key and environment.
///
/// Cheap to clone (one `Arc`), `Send + Sync`. `Debug` shows the API key, environment and
/// URLs, never the secret.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::{Client, Environment};
///
/// let client = Client::builder()
///     .api_key("my-api-key")
///     .api_secret("my-api-secret")
///     .environment(Environment::Production)
///     .build()
///     .unwrap();
/// assert_eq!(client.token_url().as_str(), "https://shipping-api.pitneybowes.com/oauth/token");
/// assert!(!format!("{client:?}").contains("my-api-secret"));
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    api_key: ClientId,
    api_secret: ClientSecret,
    environment: Environment,
    token_url: Url,
    api_base_url: Url,
    endpoint: TokenEndpoint,
    http: TokenHttpClient,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("api_key", &api_key_fingerprint(inner.api_key.as_str()))
            .field("api_secret", &inner.api_secret)
            .field("environment", &inner.environment)
            .field("token_url", &show_url(&inner.token_url))
            .field("api_base_url", &show_url(&inner.api_base_url))
            .field("http", &inner.http)
            .finish()
    }
}

/// `key-` and the 64-bit FNV-1a hash of `api_key` in 16 hex digits: the client-id part of
/// [`Client::store_key`].
///
/// FNV-1a because the value names stored tokens, so it must never change: it is the same
/// on every platform and Rust version (std's `DefaultHasher` promises neither), and needs
/// no dependency. It is not a keyed or cryptographic hash: it keeps the API key out of
/// logs and file names (64 bits cannot hold a key of Pitney Bowes' ~32 random characters,
/// so the key cannot be read back from it), but it would not protect a guessable key.
fn api_key_fingerprint(api_key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in api_key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("key-{hash:016x}")
}

impl Client {
    /// A builder: set [`api_key`](ClientBuilder::api_key),
    /// [`api_secret`](ClientBuilder::api_secret) and usually
    /// [`environment`](ClientBuilder::environment).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            api_key: None,
            api_secret: None,
            environment: None,
            token_url: None,
            api_base_url: None,
            base_url: None,
            http: TokenHttpClient::builder(PRODUCT),
        }
    }

    /// Gets a token: `POST {token host}/oauth/token` with
    /// `Authorization: Basic base64(key:secret)` and `grant_type=client_credentials`.
    ///
    /// The token's expiry is the local send time plus `expiresIn`, made earlier by the
    /// server's `issuedAt + expiresIn` when the server clock is close to ours
    /// ([`TokenResponse::expires_at`]). Transport errors, timeouts, 429 and 5xx are
    /// retried as the [`RetryPolicy`] says.
    ///
    /// Pitney Bowes allows several valid tokens at once and advises reusing one until it
    /// expires: use a cached provider over [`ClientCredentialsGrant`] rather than calling this
    /// per API request.
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

    /// This client as a [`TokenSource`](auth_core::TokenSource) (the client-credentials
    /// grant), for a cached provider to drive.
    pub fn grant(&self) -> ClientCredentialsGrant {
        ClientCredentialsGrant::new(self.clone())
    }

    /// A cached, auto-refreshing token over [`grant`](Self::grant), held in memory.
    ///
    /// For a token shared across processes, build the provider yourself with a store:
    /// `CachedTokenProvider::builder(client.grant()).store(store, client.store_key())`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = auth_pitneybowes::Client::builder().api_key("k").api_secret("s").build().unwrap();
    /// let provider = client.provider();
    /// // let token = provider.token().await?; // one request, then the cached token
    /// # drop(provider);
    /// ```
    pub fn provider(&self) -> CachedTokenProvider {
        CachedTokenProvider::new(self.grant())
    }

    /// The key this client's tokens are stored under: vendor `pitneybowes`, the
    /// environment, a fingerprint of the API key (`key-` and 16 hex digits, see below),
    /// and an empty subject (a token belongs to the developer account, not to a
    /// merchant). When the token URL is not the environment's own (an emulator, a proxy),
    /// its host is part of the environment, so such a token is never served to the real
    /// environment.
    ///
    /// The API key itself is not in the key: a store key is printed (its `Display` goes
    /// into tracing fields and store errors) and names a [`FileStore`](auth_core::FileStore)
    /// file, while the API key is half of the Basic credentials of the token call (whose
    /// error bodies are scrubbed of it). The fingerprint tells keys apart without showing
    /// one.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = auth_pitneybowes::Client::builder().api_key("my-api-key").api_secret("s").build().unwrap();
    /// let key = client.store_key();
    /// assert!(key.client_id().starts_with("key-") && key.client_id().len() == 20);
    /// assert!(!key.to_string().contains("my-api-key"));
    /// ```
    pub fn store_key(&self) -> StoreKey {
        let inner = &self.inner;
        let environment = store_environment(
            inner.environment.as_str(),
            &inner.token_url,
            Some(&inner.environment.token_url()),
        );
        StoreKey::new(
            VENDOR,
            environment,
            api_key_fingerprint(inner.api_key.as_str()),
            "",
        )
    }

    /// The API key (not secret: Pitney Bowes echoes it as `clientID`).
    pub fn api_key(&self) -> &ClientId {
        &self.inner.api_key
    }

    /// The environment; with URL overrides, the one they stand in for (default sandbox).
    pub fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// The base of Shipping API calls (`{API host}/shippingservices/`).
    pub fn api_base_url(&self) -> &Url {
        &self.inner.api_base_url
    }

    /// An API URL: `path` (such as `v1/addresses/verify`) below
    /// [`api_base_url`](Self::api_base_url).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if `path` is not a valid relative URL.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = auth_pitneybowes::Client::builder().api_key("k").api_secret("s").build().unwrap();
    /// let url = client.api_url("v1/addresses/verify").unwrap();
    /// assert_eq!(
    ///     url.as_str(),
    ///     "https://shipping-api-sandbox.pitneybowes.com/shippingservices/v1/addresses/verify"
    /// );
    /// ```
    pub fn api_url(&self, path: &str) -> Result<Url, AuthError> {
        self.inner
            .api_base_url
            .join(path.trim_start_matches('/'))
            .map_err(|e| AuthError::InvalidConfig(format!("invalid API path: {e}")))
    }

    /// Where the API expects the token: `Authorization: Bearer <token>`
    /// ([`AUTH_SCHEME`]).
    pub fn auth_scheme(&self) -> &AuthScheme {
        &AUTH_SCHEME
    }

    /// The `reqwest::Client` token calls use; it follows no redirects (unless you supplied
    /// your own).
    ///
    /// For Shipping API calls, above all those sent with `send_with_token`, build one
    /// [`auth_core::api_http_client`] and share it: it follows redirects, but only within
    /// the origin of the request, so the token is never carried to another host.
    pub fn http_client(&self) -> &reqwest::Client {
        self.inner.http.http()
    }

    fn token_request(&self) -> Result<TokenRequest, AuthError> {
        build_token_request(
            &self.inner.token_url,
            &self.inner.api_key,
            &self.inner.api_secret,
        )
    }
}

/// The token request; also run by `build()`, so a key the request could not carry is
/// refused before any network call.
fn build_token_request(
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
            status: raw.status.as_u16(),
            detail: "the access_token is empty".into(),
        });
    }
    Ok(response.into_token(raw.sent_at))
}

/// Builds a [`Client`]. Wrong configuration is refused by [`build`](Self::build), before
/// any network call.
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<ClientId>,
    api_secret: Option<ClientSecret>,
    environment: Option<Environment>,
    token_url: Option<Url>,
    api_base_url: Option<Url>,
    base_url: Option<Url>,
    http: TokenHttpClientBuilder,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "api_key",
                &self
                    .api_key
                    .as_ref()
                    .map(|k| api_key_fingerprint(k.as_str())),
            )
            .field("api_secret", &self.api_secret)
            .field("environment", &self.environment)
            .field("token_url", &self.token_url.as_ref().map(show_url))
            .field("api_base_url", &self.api_base_url.as_ref().map(show_url))
            .field("base_url", &self.base_url.as_ref().map(show_url))
            .field("http", &self.http)
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

    /// The environment (default [`Environment::Sandbox`]).
    #[must_use]
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The token endpoint itself, overriding the environment's and
    /// [`base_url`](Self::base_url)'s (the token host may differ from the API host).
    #[must_use]
    pub fn token_url(mut self, url: Url) -> Self {
        self.token_url = Some(url);
        self
    }

    /// The base of Shipping API calls, overriding the environment's and
    /// [`base_url`](Self::base_url)'s (it is used as given: include `/shippingservices/`).
    #[must_use]
    pub fn api_base_url(mut self, url: Url) -> Self {
        self.api_base_url = Some(url);
        self
    }

    /// One host for everything, its path kept: tokens from `{base}/oauth/token`, API
    /// calls below `{base}/shippingservices/` (an emulator or a proxy).
    #[must_use]
    pub fn base_url(mut self, url: Url) -> Self {
        self.base_url = Some(url);
        self
    }

    /// The `reqwest::Client` to send with (share one across your app). It must not follow
    /// redirects (`reqwest::redirect::Policy::none()`): a followed redirect would carry
    /// the credentials to another host.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = self.http.http_client(client);
        self
    }

    /// Timeouts, attempts and backoff of the token call (default: auth-core's).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.http = self.http.retry_policy(policy);
        self
    }

    /// The clock the send time, and so the expiry, is read from (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.http = self.http.clock(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`], before any network call, when the key or secret is
    /// missing or empty or has surrounding whitespace, the key contains `:`, or the token
    /// URL is not `https` (plain `http` is allowed for loopback hosts only).
    pub fn build(self) -> Result<Client, AuthError> {
        let api_key = self.api_key.ok_or_else(|| missing("api_key"))?;
        let api_secret = self.api_secret.ok_or_else(|| missing("api_secret"))?;
        check_credential("API key", api_key.as_str())?;
        check_credential("API secret", api_secret.expose_secret())?;

        let environment = self.environment.unwrap_or_default();
        let token_url = match (self.token_url, &self.base_url) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, TOKEN_PATH)?,
            (None, None) => environment.token_url(),
        };
        let api_base_url = match (self.api_base_url, &self.base_url) {
            (Some(url), _) => url,
            (None, Some(base)) => url_under(base, API_BASE_PATH)?,
            (None, None) => environment.api_base_url(),
        };
        check_endpoint(&token_url)?;
        build_token_request(&token_url, &api_key, &api_secret)?;

        let endpoint = TokenEndpoint {
            environment: environment.as_str(),
            host: token_url.host_str().unwrap_or_default().to_owned(),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                api_key,
                api_secret,
                environment,
                token_url,
                api_base_url,
                endpoint,
                http: self.http.build()?,
            }),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ClientBuilder {
        Client::builder().api_key("key").api_secret("secret")
    }

    #[test]
    fn client_is_clone_send_sync() {
        fn check<T: Clone + Send + Sync + fmt::Debug + 'static>() {}
        check::<Client>();
    }

    #[test]
    fn environment_decides_both_urls_by_default() {
        let client = builder().build().unwrap();
        assert_eq!(client.environment(), Environment::Sandbox);
        assert_eq!(
            client.token_url().as_str(),
            "https://shipping-api-sandbox.pitneybowes.com/oauth/token"
        );
        let client = builder()
            .environment(Environment::LegacyProduction)
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "https://api.pitneybowes.com/oauth/token"
        );
        assert_eq!(
            client.api_base_url().as_str(),
            "https://api.pitneybowes.com/shippingservices/"
        );
    }

    #[test]
    fn token_host_is_configured_apart_from_api_host() {
        let client = builder()
            .environment(Environment::Production)
            .token_url("https://auth.example.com/pb/oauth/token".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "https://auth.example.com/pb/oauth/token"
        );
        assert_eq!(
            client.api_base_url().as_str(),
            "https://shipping-api.pitneybowes.com/shippingservices/"
        );
        let client = builder()
            .base_url("http://127.0.0.1:1/emu".parse().unwrap())
            .api_base_url("https://api.example.com/ship/".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "http://127.0.0.1:1/emu/oauth/token"
        );
        assert_eq!(
            client.api_url("/v1/rates").unwrap().as_str(),
            "https://api.example.com/ship/v1/rates"
        );
    }

    #[test]
    fn base_url_moves_every_host_and_keeps_its_path() {
        let client = builder()
            .environment(Environment::Production)
            .base_url("http://localhost:8080/pb/".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "http://localhost:8080/pb/oauth/token"
        );
        assert_eq!(
            client.api_base_url().as_str(),
            "http://localhost:8080/pb/shippingservices/"
        );
        assert_eq!(client.environment(), Environment::Production);
    }

    #[test]
    fn paths_below_a_base_are_kept() {
        let client = builder()
            .base_url("http://127.0.0.1:9/pb?x=1".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(
            client.token_url().as_str(),
            "http://127.0.0.1:9/pb/oauth/token"
        );
        assert_eq!(
            client.api_base_url().as_str(),
            "http://127.0.0.1:9/pb/shippingservices/"
        );
        let root = builder()
            .base_url("http://127.0.0.1:9".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(root.token_url().as_str(), "http://127.0.0.1:9/oauth/token");
    }

    #[test]
    fn wrong_configuration_is_refused_by_build() {
        let cases: Vec<(ClientBuilder, &str)> = vec![
            (Client::builder().api_secret("s"), "api_key is not set"),
            (Client::builder().api_key("k"), "api_secret is not set"),
            (
                Client::builder().api_key("").api_secret("s"),
                "API key is empty",
            ),
            (
                Client::builder().api_key("k").api_secret(""),
                "API secret is empty",
            ),
            (
                Client::builder().api_key("  ").api_secret("s"),
                "API key is empty or blank",
            ),
            (
                Client::builder().api_key("k").api_secret("\t \n"),
                "API secret is empty or blank",
            ),
            (
                Client::builder().api_key("k\n").api_secret("s"),
                "whitespace",
            ),
            (
                Client::builder().api_key("k").api_secret(" s"),
                "whitespace",
            ),
            (
                Client::builder().api_key("a:b").api_secret("s"),
                "must not contain ':'",
            ),
            (
                builder().token_url("http://auth.example.com/oauth/token".parse().unwrap()),
                "refusing to send credentials over `http`",
            ),
        ];
        for (builder, expected) in cases {
            match builder.build() {
                Err(AuthError::InvalidConfig(message)) => {
                    assert!(message.contains(expected), "{message:?} lacks {expected:?}")
                }
                other => panic!("expected InvalidConfig({expected}), got {other:?}"),
            }
        }
    }

    #[test]
    fn store_key_separates_environments_and_stand_ins() {
        let sandbox = builder().build().unwrap().store_key();
        assert_eq!(
            (
                sandbox.vendor(),
                sandbox.environment(),
                sandbox.client_id(),
                sandbox.subject()
            ),
            (
                "pitneybowes",
                "sandbox",
                api_key_fingerprint("key").as_str(),
                ""
            )
        );
        let production = builder()
            .environment(Environment::Production)
            .build()
            .unwrap()
            .store_key();
        assert_eq!(production.environment(), "production");
        let emulator = builder()
            .token_url("http://127.0.0.1:8080/oauth/token".parse().unwrap())
            .build()
            .unwrap()
            .store_key();
        assert_eq!(emulator.environment(), "sandbox@127.0.0.1:8080");
    }

    #[test]
    fn store_key_display_holds_a_fingerprint_not_the_api_key() {
        const KEY: &str = "3W8mOJ1Gh5lItmFCHzz82SZO9rc2EBwS";
        let client = Client::builder()
            .api_key(KEY)
            .api_secret("secret")
            .build()
            .unwrap();
        let key = client.store_key();
        for shown in [
            key.to_string(),
            format!("{key:?}"),
            key.client_id().to_owned(),
        ] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(!shown.contains("3W8mOJ1G"), "{shown}");
        }
        assert_eq!(key.client_id(), api_key_fingerprint(KEY));
        // Another key, another fingerprint; the same key, the same one.
        let other = builder().build().unwrap().store_key();
        assert_ne!(other.client_id(), key.client_id());
        assert_eq!(client.clone().store_key(), key);
    }

    #[test]
    fn api_key_fingerprint_is_fnv1a_64() {
        // Reference vectors of FNV-1a 64 (Fowler, Noll, Vo).
        assert_eq!(api_key_fingerprint(""), "key-cbf29ce484222325");
        assert_eq!(api_key_fingerprint("a"), "key-af63dc4c8601ec8c");
        assert_eq!(api_key_fingerprint("foobar"), "key-85944171f73967e8");
    }

    #[test]
    fn debug_of_client_and_builder_shows_no_url_credentials_or_query() {
        let url: Url = "https://u:pw@host.example:8443/x?k=v".parse().unwrap();
        let builder = builder()
            .token_url(url.clone())
            .api_base_url(url.clone())
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
    fn debug_shows_neither_the_secret_nor_the_api_key() {
        let builder = Client::builder()
            .api_key("hidden-key-1")
            .api_secret("hidden-secret-1");
        let shown = format!("{builder:?}");
        assert!(
            !shown.contains("hidden-secret-1") && !shown.contains("hidden-key-1"),
            "{shown}"
        );
        assert!(
            shown.contains(&api_key_fingerprint("hidden-key-1")),
            "{shown}"
        );
        let client = builder.build().unwrap();
        let dbg = format!("{client:?} {client:#?}");
        assert!(!dbg.contains("hidden-key-1"), "{dbg}");
        assert!(dbg.contains(&api_key_fingerprint("hidden-key-1")), "{dbg}");
        assert!(!dbg.contains("hidden-secret-1"), "{dbg}");
        assert!(dbg.contains("ClientSecret([REDACTED])"), "{dbg}");
    }
}

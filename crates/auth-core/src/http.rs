//! The token HTTP call every vendor crate makes: one place for timeouts, retries,
//! redirects, body limits and the send time.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::redact::{Redactor, describe_shape};
use crate::{AccessToken, AuthError, Clock, OAuthErrorCode, RefreshToken, SystemClock, Token};

/// How many token requests one [`TokenHttpClient`] sends at once by default
/// ([`RetryPolicy::max_concurrent_requests`]).
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 8;

/// Limits of the token call. Every field has a documented default.
///
/// A request that spends a single-use credential
/// ([`TokenRequest::spends_single_use_credential`]) is retried only when it provably never
/// reached the vendor (a connect, DNS or TLS error, an HTTP 429 or 503 answer), and once
/// sent it waits for its answer until the budget runs out instead of one attempt's
/// timeout: see [`TokenHttpClient::execute`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use auth_core::http::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_attempt_timeout(Duration::from_secs(5));
/// assert_eq!(policy.max_attempts(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    attempt_timeout: Duration,
    max_attempts: u32,
    budget: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_body_bytes: usize,
    max_concurrent_requests: usize,
}

impl Default for RetryPolicy {
    /// 10 s per attempt, at most 3 attempts within 60 s, backoff from 250 ms doubling up
    /// to 5 s (each delay jittered down to half), bodies up to 64 KiB, at most
    /// [`DEFAULT_MAX_CONCURRENT_REQUESTS`] requests in flight per client.
    fn default() -> Self {
        Self {
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            attempt_timeout: Duration::from_secs(10),
            max_attempts: 3,
            budget: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_body_bytes: 64 * 1024,
        }
    }
}

impl RetryPolicy {
    /// Timeout of one attempt, connection and body included (default 10 s). Also the
    /// connect timeout of [`default_http_client`]. A request that spends a single-use
    /// credential waits for its answer until the [`budget`](Self::budget) runs out
    /// instead.
    pub fn attempt_timeout(&self) -> Duration {
        self.attempt_timeout
    }
    /// Attempts in all, the first included (default 3; at least 1).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// Time for all attempts and waits together (default 60 s).
    pub fn budget(&self) -> Duration {
        self.budget
    }
    /// Largest response body read (default 64 KiB).
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
    /// Most token requests one [`TokenHttpClient`] (and its clones) has in flight at once
    /// (default [`DEFAULT_MAX_CONCURRENT_REQUESTS`]; at least 1). More wait their turn,
    /// so a burst of refreshes (many sellers at once) queues here instead of tripping the
    /// vendor's rate limit. The wait counts against the [`budget`](Self::budget), not
    /// the attempt's timeout: a request that never got its turn was never sent.
    pub fn max_concurrent_requests(&self) -> usize {
        self.max_concurrent_requests
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }
    /// Sets the number of attempts (values below 1 mean 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }
    /// Sets the total time budget.
    #[must_use]
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }
    /// Sets the first backoff delay and the largest one.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }
    /// Sets the most token requests in flight at once per client (values below 1 mean 1).
    #[must_use]
    pub fn with_max_concurrent_requests(mut self, requests: usize) -> Self {
        self.max_concurrent_requests = requests.max(1);
        self
    }
    /// Sets the largest response body read.
    #[must_use]
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The backoff before attempt `attempt + 1` after `attempt` failed (1-based), for a
    /// jitter draw in `[0, 1)`: `initial * 2^(attempt-1)`, capped at the maximum, then
    /// scaled into `[50%, 100%]` of itself. Jitter only ever shortens the wait.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        base.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// The wait before the next attempt, or `None` to stop: after the last attempt, or when
    /// the wait (the larger of the backoff and the server's `Retry-After`) would not leave
    /// time for another attempt in the `remaining` budget.
    pub fn next_delay(
        &self,
        attempt: u32,
        jitter: f64,
        retry_after: Option<Duration>,
        remaining: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let delay = self
            .backoff(attempt, jitter)
            .max(retry_after.unwrap_or_default());
        (delay < remaining).then_some(delay)
    }
}

/// The body of a token request. Shared, not copied, by each attempt.
#[derive(Clone)]
enum RequestBody {
    Empty,
    Bytes(Bytes),
}

/// One token request, built by a vendor crate and sent by [`TokenHttpClient::execute`].
///
/// `Debug` shows the method, host and path only: never the query (Orange Connex puts
/// tokens there), headers or body.
#[derive(Clone)]
pub struct TokenRequest {
    method: Method,
    url: Url,
    /// The body's `Content-Type`, kept out of `headers` so that a request with no other
    /// header allocates no map.
    content_type: Option<HeaderValue>,
    headers: HeaderMap,
    body: RequestBody,
    redactor: Redactor,
    single_use: bool,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .field("path", &self.url.path())
            .field("single_use", &self.single_use)
            .finish_non_exhaustive()
    }
}

impl TokenRequest {
    /// A request with no body.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            content_type: None,
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
            redactor: Redactor::new(),
            single_use: false,
        }
    }

    /// A `POST` with no body (yet).
    pub fn post(url: Url) -> Self {
        Self::new(Method::POST, url)
    }

    /// Appends query parameters, each value percent-encoded exactly once
    /// (`application/x-www-form-urlencoded` rules: `+` becomes `%2B`).
    #[must_use]
    pub fn query<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        self.url.query_pairs_mut().extend_pairs(pairs);
        self
    }

    /// Sets a JSON body (`Content-Type: application/json`).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if `body` cannot be serialized.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self, AuthError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| AuthError::InvalidConfig(format!("cannot encode request body: {e}")))?;
        self.set_content_type(HeaderValue::from_static("application/json"));
        self.body = RequestBody::Bytes(Bytes::from(bytes));
        Ok(self)
    }

    /// Sets a form body (`Content-Type: application/x-www-form-urlencoded`).
    #[must_use]
    pub fn form<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.set_content_type(HeaderValue::from_static(
            "application/x-www-form-urlencoded",
        ));
        self.body = RequestBody::Bytes(Bytes::from(body));
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets a header, replacing any value set before (the body's `Content-Type` included).
    fn set_header(&mut self, name: HeaderName, value: HeaderValue) {
        if name == header::CONTENT_TYPE {
            self.content_type = None;
        }
        self.headers.insert(name, value);
    }

    /// Sets the body's `Content-Type`, replacing one set with [`header`](Self::header).
    fn set_content_type(&mut self, value: HeaderValue) {
        self.headers.remove(header::CONTENT_TYPE);
        self.content_type = Some(value);
    }

    /// Adds a header holding a secret: marked sensitive and registered for redaction.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the value is not a valid header value (it is not
    /// quoted in the error).
    pub fn secret_header(mut self, name: HeaderName, value: &str) -> Result<Self, AuthError> {
        let mut header = HeaderValue::from_str(value).map_err(|_| {
            AuthError::InvalidConfig(format!(
                "the value for header `{name}` is not a valid header value"
            ))
        })?;
        header.set_sensitive(true);
        self.set_header(name, header);
        self.redactor.add(value);
        Ok(self)
    }

    /// Sets `Authorization: Basic base64(user:password)` of the raw UTF-8 values
    /// (RFC 7617), and registers both for redaction.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if `user` contains `:` (RFC 7617 forbids it).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Result<Self, AuthError> {
        if user.contains(':') {
            return Err(AuthError::InvalidConfig(
                "a Basic authentication user id must not contain ':' (RFC 7617)".into(),
            ));
        }
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.redactor.add_basic_pair(user, password);
        self = self.secret_header(header::AUTHORIZATION, &format!("Basic {encoded}"))?;
        Ok(self)
    }

    /// Registers a secret this request carries (in the body or query), so that an error
    /// body echoing it is quoted without it.
    #[must_use]
    pub fn redact(mut self, secret: &str) -> Self {
        self.redactor.add(secret);
        self
    }

    /// Marks this request as spending a single-use credential: a refresh token the vendor
    /// rotates on use (Easyship), or may rotate (Orange Connex). Sending it twice would
    /// spend the credential twice, and the second answer would be `invalid_grant` while
    /// the first one, lost, held the only copy of the new refresh token.
    ///
    /// [`TokenHttpClient::execute`] then sends it again only when it provably never
    /// reached the vendor (a connect, DNS or TLS error; an HTTP 429 or 503 answer), waits
    /// for its answer until the policy's budget runs out rather than one attempt's
    /// timeout, and reports a failure after sending with no answer to go by (none in
    /// time, the connection lost mid-response, another 5xx) as
    /// [`AuthError::OutcomeUnknown`].
    ///
    /// Leave idempotent requests (client credentials, a refresh token that does not
    /// rotate) unmarked: they keep the full retries.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_core::http::TokenRequest;
    ///
    /// let url = "https://api.example.com/oauth/token".parse().unwrap();
    /// let request = TokenRequest::post(url)
    ///     .form([("grant_type", "refresh_token")])
    ///     .spends_single_use_credential();
    /// assert!(request.is_single_use());
    /// ```
    #[must_use]
    pub fn spends_single_use_credential(mut self) -> Self {
        self.single_use = true;
        self
    }

    /// Whether this request spends a single-use credential
    /// ([`spends_single_use_credential`](Self::spends_single_use_credential)).
    pub fn is_single_use(&self) -> bool {
        self.single_use
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request URL. Holds secrets for some vendors: never log it.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redactor holding this request's secrets.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

/// A response to a token request, read in full (up to the body cap), handed to the vendor
/// crate's parser.
pub struct RawResponse<'a> {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// Local time at which the request of this attempt was sent: the base of the expiry.
    pub sent_at: DateTime<Utc>,
    /// The response's `Date` header, if present and valid.
    pub date: Option<DateTime<Utc>>,
    redactor: &'a Redactor,
}

impl fmt::Debug for RawResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("body", &describe_shape(&self.body))
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

impl RawResponse<'_> {
    /// Parses the body as JSON.
    ///
    /// # Errors
    ///
    /// [`AuthError::Decode`] describing the body by its shape only (a 2xx body that fails
    /// to parse may still hold a valid token, so it is never quoted).
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, AuthError> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(&e))
    }

    /// A [`AuthError::Decode`] for this body, naming what was wrong without quoting it.
    pub fn decode_error(&self, error: &serde_json::Error) -> AuthError {
        // serde_json's message names the field and type ("invalid type: integer, expected
        // a string at line 1 column 40") but for string values may quote them, so keep
        // only its category and position.
        let what = match error.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "unexpected fields or value types",
            serde_json::error::Category::Eof => "truncated JSON",
        };
        AuthError::Decode {
            vendor: "",
            status: self.status.as_u16(),
            detail: format!(
                "{what} at line {} column {}; the body was {}",
                error.line(),
                error.column(),
                describe_shape(&self.body)
            ),
        }
    }

    /// At most 512 bytes of the body with every secret of the request removed.
    pub fn excerpt(&self) -> String {
        self.redactor.excerpt(&self.body)
    }

    /// Vendor text from this body (a message, a code) made safe to keep in an error:
    /// every secret of the request removed, cut to 512 bytes.
    pub fn scrub(&self, text: &str) -> String {
        crate::redact::truncate_excerpt(&self.redactor.scrub(text))
    }

    /// The redactor of the request this answers.
    pub fn redactor(&self) -> &Redactor {
        self.redactor
    }

    /// The `Retry-After` header in seconds or as an HTTP date (relative to `Date`, or the
    /// send time when there is none).
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        let at = DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc);
        let base = self.date.unwrap_or(self.sent_at);
        Some((at - base).to_std().unwrap_or(Duration::ZERO))
    }

    /// The standard OAuth error in the body (`{"error": ..., "error_description": ...}`),
    /// if there is one.
    pub fn oauth_error(&self) -> Option<AuthError> {
        #[derive(serde::Deserialize)]
        struct Body {
            error: String,
            error_description: Option<String>,
            request_id: Option<String>,
        }
        let body: Body = serde_json::from_slice(&self.body).ok()?;
        let code = match OAuthErrorCode::parse(&body.error) {
            // An unknown code is free text from the server: scrub it like a description.
            OAuthErrorCode::Other(text) => OAuthErrorCode::Other(self.scrub(&text)),
            known => known,
        };
        Some(AuthError::OAuth {
            code,
            description: body.error_description.map(|d| self.scrub(&d)),
            status: Some(self.status.as_u16()),
            request_id: body
                .request_id
                .or_else(|| self.request_id_header())
                .map(|id| self.scrub(&id)),
            hint: None,
            vendor: "",
        })
    }

    /// The error for a response no vendor format explained: the OAuth error if the body
    /// is one, else [`AuthError::Http`] with a redacted excerpt.
    pub fn standard_error(&self) -> AuthError {
        self.oauth_error().unwrap_or_else(|| {
            AuthError::http(self.status.as_u16(), self.excerpt(), self.retry_after())
        })
    }

    /// An [`AuthError::Vendor`] for this response: its status, and retryable exactly when
    /// the status is 429 or 5xx (the rule of [`AuthError::is_retryable`]).
    ///
    /// `code` and `message` are quoted as given: pass vendor text through
    /// [`scrub`](Self::scrub) first.
    pub fn vendor_error(
        &self,
        vendor: &'static str,
        code: Option<String>,
        message: String,
    ) -> AuthError {
        let status = self.status.as_u16();
        AuthError::Vendor {
            vendor,
            status: Some(status),
            code,
            message,
            retryable: status == 429 || self.status.is_server_error(),
        }
    }

    fn request_id_header(&self) -> Option<String> {
        [
            "x-amzn-requestid",
            "x-amzn-request-id",
            "x-request-id",
            "x-amz-request-id",
        ]
        .iter()
        .find_map(|name| self.headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
    }
}

/// Sends token requests: the one place that knows about retries, timeouts and limits.
///
/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct TokenHttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The vendor errors name: `product`'s crate name without `auth-`.
    vendor: &'static str,
    policy: RetryPolicy,
    user_agent: HeaderValue,
    clock: Arc<dyn Clock>,
    /// One permit per request in flight ([`RetryPolicy::max_concurrent_requests`]).
    in_flight: tokio::sync::Semaphore,
}

impl fmt::Debug for TokenHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenHttpClient")
            .field("user_agent", &self.inner.user_agent)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TokenHttpClient`].
///
/// Vendor crates' `ClientBuilder`s hold one (created with their product name) and
/// delegate their `http_client`, `retry_policy` and `clock` setters to it.
#[derive(Debug, Clone)]
pub struct TokenHttpClientBuilder {
    product: &'static str,
    http: Option<reqwest::Client>,
    policy: RetryPolicy,
    clock: Option<Arc<dyn Clock>>,
}

impl TokenHttpClientBuilder {
    /// Uses this `reqwest::Client` (share one across your app). It must not follow
    /// redirects (`reqwest::redirect::Policy::none()`): a followed redirect would send
    /// the credentials to another host. A response that arrives from another host than
    /// the one asked is refused.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sets the retry and limit policy.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the clock the send time is read from (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the HTTP client cannot be created (no TLS backend).
    pub fn build(self) -> Result<TokenHttpClient, AuthError> {
        let http = match self.http {
            Some(http) => http,
            None => default_http_client(self.policy.attempt_timeout)?,
        };
        let user_agent = format!("{} auth-core/{}", self.product, env!("CARGO_PKG_VERSION"));
        let user_agent = HeaderValue::from_str(&user_agent)
            .map_err(|_| AuthError::InvalidConfig("invalid User-Agent product".into()))?;
        Ok(TokenHttpClient {
            inner: Arc::new(Inner {
                http,
                vendor: vendor_of(self.product),
                in_flight: tokio::sync::Semaphore::new(self.policy.max_concurrent_requests),
                policy: self.policy,
                user_agent,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            }),
        })
    }
}

/// The vendor named by a product string: `auth-easyship/0.1.0` -> `easyship`.
fn vendor_of(product: &'static str) -> &'static str {
    let name = product.split('/').next().unwrap_or(product);
    name.strip_prefix("auth-").unwrap_or(name)
}

/// A `reqwest::Client` fit for token calls: no redirects, a connect timeout.
///
/// With the `rustls` feature this installs rustls' ring crypto provider as the process
/// default if no provider was installed yet.
///
/// # Errors
///
/// [`AuthError::InvalidConfig`] if reqwest cannot build a client.
pub fn default_http_client(connect_timeout: Duration) -> Result<reqwest::Client, AuthError> {
    crate::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .build()
        .map_err(|e| {
            AuthError::InvalidConfig(format!("cannot build the HTTP client: {}", e.without_url()))
        })
}

/// A URL for `Debug` and messages: scheme, host, port and path only. User info
/// (`user:password@`) and the query (Orange Connex puts tokens there) are never shown.
///
/// # Examples
///
/// ```
/// let url = "https://u:pw@api.example.com:8443/oauth/token?refresh_token=x".parse().unwrap();
/// assert_eq!(auth_core::http::show_url(&url), "https://api.example.com:8443/oauth/token");
/// ```
pub fn show_url(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

/// Refuses endpoints that would send credentials in clear text: `https` only, except
/// `http` to a loopback host (tests, emulators).
///
/// # Errors
///
/// [`AuthError::InvalidConfig`] naming the scheme and host.
pub fn check_endpoint(url: &Url) -> Result<(), AuthError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        scheme => Err(AuthError::InvalidConfig(format!(
            "refusing to send credentials over `{scheme}` to host `{}`: use https (plain http is allowed only for loopback hosts)",
            url.host_str().unwrap_or("")
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => {
            domain.eq_ignore_ascii_case("localhost")
                || domain.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// `path` below `base`, keeping `base`'s own path: what a vendor crate's
/// `ClientBuilder::base_url` does to every endpoint (`http://127.0.0.1:8080/emu` and
/// `oauth/token` give `http://127.0.0.1:8080/emu/oauth/token`).
///
/// `base` is taken as a directory (a missing trailing `/` is added); its query and
/// fragment are dropped; a leading `/` of `path` is ignored. An empty `path` gives the
/// base itself.
///
/// # Errors
///
/// [`AuthError::InvalidConfig`] if `base` has no host (`mailto:`, `file:`), or `path`
/// does not join onto it. The URL is not quoted (it may carry credentials).
///
/// # Examples
///
/// ```
/// use auth_core::http::url_under;
///
/// let base = "http://127.0.0.1:8080/emu?debug=1".parse().unwrap();
/// assert_eq!(url_under(&base, "/oauth/token").unwrap().as_str(), "http://127.0.0.1:8080/emu/oauth/token");
/// assert_eq!(url_under(&base, "").unwrap().as_str(), "http://127.0.0.1:8080/emu/");
/// ```
pub fn url_under(base: &Url, path: &str) -> Result<Url, AuthError> {
    if base.cannot_be_a_base() || base.host_str().is_none_or(str::is_empty) {
        return Err(AuthError::InvalidConfig(format!(
            "a base URL needs a scheme and a host (got a `{}:` URL without one)",
            base.scheme()
        )));
    }
    let mut dir = base.clone();
    if !dir.path().ends_with('/') {
        let with_slash = format!("{}/", dir.path());
        dir.set_path(&with_slash);
    }
    dir.set_query(None);
    dir.set_fragment(None);
    dir.join(path.trim_start_matches('/')).map_err(|e| {
        AuthError::InvalidConfig(format!("cannot put `{path}` below the base URL: {e}"))
    })
}

/// The environment part of a [`StoreKey`](crate::StoreKey) for tokens from `token_url`:
/// `environment` when `token_url` is that environment's own `default_token_url`, else
/// `environment@host[:port]`, so that a token from an emulator or a proxy is never
/// served to the real environment (and the other way round). `default_token_url` is
/// `None` where the vendor documents no token endpoint for the environment: every
/// `token_url` there is a stand-in.
///
/// # Examples
///
/// ```
/// use auth_core::http::store_environment;
///
/// let own = "https://api.example.com/oauth/token".parse().unwrap();
/// let emulator = "http://127.0.0.1:8080/oauth/token".parse().unwrap();
/// assert_eq!(store_environment("production", &own, Some(&own)), "production");
/// assert_eq!(
///     store_environment("production", &emulator, Some(&own)),
///     "production@127.0.0.1:8080"
/// );
/// assert_eq!(store_environment("sandbox", &own, None), "sandbox@api.example.com");
/// ```
pub fn store_environment(
    environment: &str,
    token_url: &Url,
    default_token_url: Option<&Url>,
) -> String {
    if default_token_url == Some(token_url) {
        return environment.to_owned();
    }
    let host = token_url.host_str().unwrap_or_default();
    match token_url.port() {
        Some(port) => format!("{environment}@{host}:{port}"),
        None => format!("{environment}@{host}"),
    }
}

/// The [`Token`] of a token response's standard fields (RFC 6749 §5.1), for a request
/// sent at `sent_at`: what every vendor's `TokenResponse::into_token` ends with, once it
/// has computed `expires_at` by its own rules (see [`crate::token::expiry`]).
///
/// - `token_type` is kept as the vendor sent it, trimmed; absent or blank means `Bearer`;
/// - `scope` is the space-separated list of granted scopes; absent or blank means none;
/// - [`Token::issued_at`] is `sent_at`.
///
/// # Examples
///
/// ```
/// use auth_core::http::oauth_token;
/// use auth_core::{AccessToken, RefreshToken};
/// use chrono::{DateTime, Duration, Utc};
///
/// let sent: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
/// let token = oauth_token(
///     AccessToken::new("at"),
///     Some("bearer".to_owned()),
///     Some(sent + Duration::hours(1)),
///     Some(RefreshToken::new("rt")),
///     Some("rate label"),
///     sent,
/// );
/// assert_eq!(token.token_type(), "bearer");
/// assert_eq!(token.scopes().to_string(), "rate label");
/// assert_eq!(token.issued_at(), Some(sent));
/// ```
pub fn oauth_token(
    access_token: AccessToken,
    token_type: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    refresh_token: Option<RefreshToken>,
    scope: Option<&str>,
    sent_at: DateTime<Utc>,
) -> Token {
    let mut token = Token::new(access_token, expires_at)
        .with_refresh_token_opt(refresh_token)
        .with_issued_at(sent_at);
    if let Some(list) = scope.filter(|s| !s.trim().is_empty()) {
        token = token.with_scope_list(list);
    }
    let Some(kind) = token_type else {
        return token;
    };
    let trimmed = kind.trim();
    if trimmed.is_empty() || trimmed == "Bearer" {
        // `Token::new`'s default, without a copy.
        token
    } else if trimmed.len() == kind.len() {
        token.with_token_type(kind)
    } else {
        token.with_token_type(trimmed)
    }
}

/// Whether an API response's `WWW-Authenticate` challenges say `invalid_token` (RFC 6750
/// §3.1: the access token expired, was revoked or is malformed), for vendor crates'
/// `token_rejected` checks.
///
/// # Examples
///
/// ```
/// use auth_core::http::invalid_token_challenge;
/// use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
///
/// let mut headers = HeaderMap::new();
/// assert!(!invalid_token_challenge(&headers));
/// headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer error="invalid_token""#));
/// assert!(invalid_token_challenge(&headers));
/// ```
pub fn invalid_token_challenge(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("invalid_token"))
}

impl TokenHttpClient {
    /// A client with the default `reqwest::Client` and policy. `product` names the vendor
    /// crate for the `User-Agent`, as `name/version`.
    ///
    /// # Errors
    ///
    /// As [`TokenHttpClientBuilder::build`].
    pub fn new(product: &'static str) -> Result<Self, AuthError> {
        Self::builder(product).build()
    }

    /// A builder; `product` names the vendor crate for the `User-Agent`
    /// ([`product!()`](crate::product)), and the vendor errors name (the crate name
    /// without `auth-`: `auth-easyship/0.1.0` names `easyship`).
    pub fn builder(product: &'static str) -> TokenHttpClientBuilder {
        TokenHttpClientBuilder {
            product,
            http: None,
            policy: RetryPolicy::default(),
            clock: None,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// The underlying `reqwest::Client` (for the API calls of the same vendor).
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The clock the send time is read from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Sends `request` and hands each response to `parse`, retrying what
    /// [`AuthError::is_retryable`] says may succeed later, within the policy.
    ///
    /// `parse` sees every response, 2xx or not, and decides what is an error (Orange
    /// Connex answers errors with HTTP 200).
    ///
    /// A request that [spends a single-use credential](TokenRequest::spends_single_use_credential)
    /// is sent again only when the last attempt provably never reached the vendor: a
    /// connect, DNS or TLS error, or an HTTP 429 or 503 answer (`Retry-After` honoured).
    /// Once sent, it waits for its answer until the budget runs out, not one attempt's
    /// timeout. A failure after sending with no answer to go by (none within the budget,
    /// the connection lost mid-response, a 5xx other than 503) is
    /// [`AuthError::OutcomeUnknown`]: the vendor may have spent the credential, and
    /// sending it again would spend it twice. Any other error answer is returned as it is,
    /// not retried.
    ///
    /// # Errors
    ///
    /// The last attempt's error: [`AuthError::InvalidConfig`] for a non-HTTPS endpoint,
    /// [`AuthError::Timeout`], [`AuthError::Transport`], [`AuthError::OutcomeUnknown`]
    /// (single-use requests only), or what `parse` returned.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request; the vendor may still have processed it.
    /// [`CachedTokenProvider`](crate::CachedTokenProvider) runs it in a spawned task for
    /// that reason.
    pub async fn execute<T>(
        &self,
        request: &TokenRequest,
        parse: impl Fn(&RawResponse<'_>) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        self.execute_attempts(request, parse)
            .await
            .map_err(|e| e.with_vendor(self.inner.vendor))
    }

    async fn execute_attempts<T>(
        &self,
        request: &TokenRequest,
        parse: impl Fn(&RawResponse<'_>) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        check_endpoint(&request.url)?;
        let policy = &self.inner.policy;
        let started = tokio::time::Instant::now();
        let deadline = started + policy.budget;
        let host = request.url.host_str().unwrap_or("");
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // Wait for a turn (never sent yet: nothing is spent while queued).
            let Ok(Ok(permit)) =
                tokio::time::timeout_at(deadline, self.inner.in_flight.acquire()).await
            else {
                tracing::debug!(%host, attempt, "token request waited its whole budget for a turn");
                return Err(AuthError::Timeout {
                    after: policy.budget,
                    vendor: "",
                });
            };
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            // The answer to a single-use request may hold the only copy of the rotated
            // credential: once sent, it is awaited as long as the budget allows.
            let timeout = if request.single_use {
                remaining
            } else {
                policy.attempt_timeout.min(remaining)
            };
            // The server's Retry-After counts whatever the error body's format.
            let mut server_retry_after = None;
            let (result, reached) = match tokio::time::timeout(timeout, self.attempt(request)).await
            {
                Err(_) => (
                    Err(AuthError::Timeout {
                        after: timeout,
                        vendor: "",
                    }),
                    Reached::Unknown,
                ),
                Ok(Err((e, reached))) => (Err(e), reached),
                Ok(Ok(mut raw)) => {
                    let response = RawResponse {
                        status: raw.status,
                        headers: std::mem::take(&mut raw.headers),
                        body: std::mem::take(&mut raw.body),
                        sent_at: raw.sent_at,
                        date: raw.date,
                        redactor: &request.redactor,
                    };
                    server_retry_after = response.retry_after();
                    let result = parse(&response).map_err(|e| match e {
                        AuthError::Http {
                            status,
                            excerpt,
                            retry_after: None,
                            vendor,
                        } => AuthError::Http {
                            status,
                            excerpt,
                            retry_after: server_retry_after,
                            vendor,
                        },
                        e => e,
                    });
                    (result, Reached::Answered(raw.status))
                }
            };
            // The turn ends with the attempt: a backoff wait holds no permit.
            drop(permit);
            let error = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            match after_failure(&error, reached, request.single_use) {
                AfterFailure::Retry => {}
                AfterFailure::GiveUp => return Err(error),
                AfterFailure::OutcomeUnknown(message) => {
                    tracing::warn!(%host, attempt, %message, "token request spending a single-use credential failed after it may have been sent; not sending it again");
                    return Err(AuthError::OutcomeUnknown {
                        message,
                        vendor: "",
                    });
                }
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(delay) = policy.next_delay(
                attempt,
                jitter(),
                error.retry_after().or(server_retry_after),
                remaining,
            ) else {
                tracing::debug!(%host, attempt, status = ?error.status(), "token request failed; no retry left");
                return Err(error);
            };
            tracing::debug!(%host, attempt, status = ?error.status(), delay_ms = delay.as_millis() as u64, "token request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, request: &TokenRequest) -> Result<Attempt, (AuthError, Reached)> {
        let inner = &self.inner;
        // Built directly, not through a `RequestBuilder`: the request's headers go into the
        // one map reqwest sends, without an intermediate copy of the map.
        let mut http_request = reqwest::Request::new(request.method.clone(), request.url.clone());
        let headers = http_request.headers_mut();
        headers.reserve(request.headers.len() + 4);
        if let Some(content_type) = &request.content_type {
            headers.append(header::CONTENT_TYPE, content_type.clone());
        }
        for (name, value) in &request.headers {
            headers.append(name.clone(), value.clone());
        }
        headers.append(header::USER_AGENT, inner.user_agent.clone());
        headers.append(header::ACCEPT, HeaderValue::from_static("application/json"));
        match &request.body {
            RequestBody::Empty => {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
            RequestBody::Bytes(bytes) => *http_request.body_mut() = Some(bytes.clone().into()),
        }
        let sent_at = inner.clock.now();
        let mut response = inner.http.execute(http_request).await.map_err(|e| {
            let reached = if e.is_connect() {
                Reached::NotSent
            } else {
                Reached::Unknown
            };
            (AuthError::transport(e), reached)
        })?;
        let status = response.status();
        let answered = |e| (e, Reached::Answered(status));
        if !same_origin(response.url(), &request.url) {
            return Err(answered(AuthError::InvalidConfig(
                "the HTTP client followed a redirect to another origin; token calls need a client built with redirect::Policy::none()".into(),
            )));
        }
        let headers = std::mem::take(response.headers_mut());
        let date = headers
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(http_date);
        let cap = inner.policy.max_body_bytes;
        // One allocation for a body of announced length (never more than the cap).
        let announced = response.content_length().unwrap_or(0);
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(cap).min(cap));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| (AuthError::transport(e), Reached::Unknown))?
        {
            if body.len() + chunk.len() > cap {
                return Err(answered(AuthError::decode(
                    status.as_u16(),
                    format!("response body is larger than the {cap}-byte limit"),
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Attempt {
            status,
            headers,
            body,
            sent_at,
            date,
        })
    }
}

/// How far a failed attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reached {
    /// Not the vendor: the connection was never made (a connect, DNS or TLS error).
    NotSent,
    /// Maybe the vendor: the request was or may have been sent, and no whole answer came.
    Unknown,
    /// The vendor, which answered with this status.
    Answered(StatusCode),
}

/// What [`TokenHttpClient::execute`] does after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AfterFailure {
    /// Try again if the attempts and the budget allow.
    Retry,
    /// Return the error as it is.
    GiveUp,
    /// Return [`AuthError::OutcomeUnknown`] with this message.
    OutcomeUnknown(String),
}

/// The one retry rule. An error [`AuthError::is_retryable`] says is final is returned as
/// it is. Otherwise an idempotent request is retried; a single-use one only when it
/// provably never reached the vendor (a connect error; 429 or 503, the vendor refusing to
/// handle it). After sending, no whole answer or another 5xx leaves its outcome unknown;
/// any other answer is returned as it is.
fn after_failure(error: &AuthError, reached: Reached, single_use: bool) -> AfterFailure {
    if !error.is_retryable() {
        return AfterFailure::GiveUp;
    }
    if !single_use {
        return AfterFailure::Retry;
    }
    match reached {
        Reached::NotSent => AfterFailure::Retry,
        Reached::Answered(status)
            if status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE =>
        {
            AfterFailure::Retry
        }
        Reached::Answered(status) if status.is_server_error() => {
            AfterFailure::OutcomeUnknown(format!("HTTP {}", status.as_u16()))
        }
        // The vendor's own answer (`temporarily_unavailable` in a 400, Orange Connex's
        // errors in a 200): final, but not proof that nothing was spent.
        Reached::Answered(_) => AfterFailure::GiveUp,
        Reached::Unknown => AfterFailure::OutcomeUnknown(match error {
            // In whole milliseconds, rounded up: the remaining budget is never round.
            AuthError::Timeout { after, .. } => format!(
                "no answer within {:?}",
                Duration::from_millis(after.as_micros().div_ceil(1000) as u64)
            ),
            AuthError::Transport { message, .. } => format!("no whole answer: {message}"),
            other => other.to_string(),
        }),
    }
}

struct Attempt {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    sent_at: DateTime<Utc>,
    date: Option<DateTime<Utc>>,
}

/// `a.origin() == b.origin()` (RFC 6454) without the allocations of building two
/// `Origin`s for the schemes with a (scheme, host, port) origin; any other scheme is left
/// to `Url::origin`.
fn same_origin(a: &Url, b: &Url) -> bool {
    let tuple = |url: &Url| matches!(url.scheme(), "http" | "https" | "ws" | "wss" | "ftp");
    if tuple(a) && tuple(b) {
        a.scheme() == b.scheme()
            && a.host() == b.host()
            && a.port_or_known_default() == b.port_or_known_default()
    } else {
        a.origin() == b.origin()
    }
}

/// A `Date` header value. The IMF-fixdate every HTTP/1.1 server sends (RFC 9110 §5.6.7:
/// `Sun, 06 Nov 1994 08:49:37 GMT`) is read directly, in a tenth of the time of chrono's
/// general RFC 2822 parser; anything else (obsolete forms, zones, a weekday that does not
/// match the date) is left to that parser, so both give the same answers.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    imf_fixdate(value).or_else(|| {
        DateTime::parse_from_rfc2822(value)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    })
}

fn imf_fixdate(value: &str) -> Option<DateTime<Utc>> {
    const WEEKDAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = value.as_bytes();
    if b.len() != 29
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &digit| {
            digit
                .is_ascii_digit()
                .then(|| n * 10 + u32::from(digit - b'0'))
        })
    };
    let month = MONTHS.iter().position(|m| *m == &b[8..11])? as u32 + 1;
    let year = i32::try_from(number(12..16)?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, month, number(5..7)?)?;
    let weekday = chrono::Datelike::weekday(&date).num_days_from_monday() as usize;
    if WEEKDAYS[weekday] != &b[..3] {
        return None;
    }
    Some(
        date.and_hms_opt(number(17..19)?, number(20..22)?, number(23..25)?)?
            .and_utc(),
    )
}

/// A uniform draw in `[0, 1)` from the OS random source.
pub(crate) fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_down() {
        let p = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_millis(350));
        assert_eq!(
            p.backoff(1, 0.999_999),
            Duration::from_millis(100).mul_f64(0.5 + 0.5 * 0.999_999)
        );
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(175)); // 400 capped to 350, halved
        assert_eq!(p.backoff(60, 0.0), Duration::from_millis(175));
        for i in 0..100 {
            let j = f64::from(i) / 100.0;
            let d = p.backoff(2, j);
            assert!(
                d >= Duration::from_millis(100) && d <= Duration::from_millis(200),
                "{d:?}"
            );
        }
    }

    #[test]
    fn next_delay_honours_retry_after_attempts_and_budget() {
        let p =
            RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_secs(1));
        let plenty = Duration::from_secs(60);
        assert_eq!(
            p.next_delay(1, 0.0, None, plenty),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            p.next_delay(1, 0.0, Some(Duration::from_secs(7)), plenty),
            Some(Duration::from_secs(7))
        );
        // Retry-After shorter than the backoff does not shorten it.
        assert_eq!(
            p.next_delay(2, 0.0, Some(Duration::from_millis(1)), plenty),
            Some(Duration::from_millis(100))
        );
        // The last attempt is never followed by another.
        assert_eq!(p.next_delay(3, 0.0, None, plenty), None);
        // A wait that would use up the budget ends the retries.
        assert_eq!(
            p.next_delay(1, 0.0, Some(Duration::from_secs(61)), plenty),
            None
        );
        assert_eq!(p.next_delay(1, 0.0, None, Duration::from_millis(50)), None);
    }

    #[test]
    fn a_single_use_request_is_retried_only_when_it_never_reached_the_vendor() {
        let http = |status: u16| AuthError::Http {
            vendor: "",
            status,
            excerpt: String::new(),
            retry_after: None,
        };
        let answered = |status: u16| Reached::Answered(StatusCode::from_u16(status).unwrap());
        let transport = AuthError::Transport {
            vendor: "",
            message: "connection reset".into(),
            source: None,
        };
        let timeout = AuthError::Timeout {
            vendor: "",
            after: Duration::from_micros(1_499_001),
        };
        let invalid_grant = AuthError::oauth(OAuthErrorCode::InvalidGrant, None, Some(400));
        let unknown = |m: &str| AfterFailure::OutcomeUnknown(m.to_owned());
        for (error, reached, single_use, expected) in [
            // Idempotent requests: every retryable failure is retried.
            (&transport, Reached::NotSent, false, AfterFailure::Retry),
            (&transport, Reached::Unknown, false, AfterFailure::Retry),
            (&timeout, Reached::Unknown, false, AfterFailure::Retry),
            (&http(502), answered(502), false, AfterFailure::Retry),
            (&invalid_grant, answered(400), false, AfterFailure::GiveUp),
            // Single-use: retried only when it provably never reached the vendor.
            (&transport, Reached::NotSent, true, AfterFailure::Retry),
            (&http(429), answered(429), true, AfterFailure::Retry),
            (&http(503), answered(503), true, AfterFailure::Retry),
            (&http(500), answered(500), true, unknown("HTTP 500")),
            (&http(502), answered(502), true, unknown("HTTP 502")),
            (&http(504), answered(504), true, unknown("HTTP 504")),
            (
                &timeout,
                Reached::Unknown,
                true,
                unknown("no answer within 1.5s"),
            ),
            (
                &transport,
                Reached::Unknown,
                true,
                unknown("no whole answer: connection reset"),
            ),
            // A definite answer is final either way.
            (&invalid_grant, answered(400), true, AfterFailure::GiveUp),
            (&http(400), answered(400), true, AfterFailure::GiveUp),
            // A retryable error in a non-5xx answer is the vendor's: returned, not resent.
            (
                &AuthError::oauth(OAuthErrorCode::TemporarilyUnavailable, None, Some(400)),
                answered(400),
                true,
                AfterFailure::GiveUp,
            ),
        ] {
            assert_eq!(
                after_failure(error, reached, single_use),
                expected,
                "{error:?} {reached:?} single_use={single_use}"
            );
        }
    }

    #[test]
    fn http_date_reads_imf_fixdate_as_chrono_does() {
        let chrono_date = |v: &str| {
            DateTime::parse_from_rfc2822(v)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        };
        // Every day of several years, at varied times, in the form servers send.
        let start: DateTime<Utc> = "1999-12-25T00:00:00Z".parse().unwrap();
        for day in 0..(366 * 3) {
            let at = start + chrono::Duration::days(day) + chrono::Duration::seconds(day * 997);
            let value = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            assert_eq!(imf_fixdate(&value), Some(at), "{value}");
            assert_eq!(http_date(&value), chrono_date(&value), "{value}");
        }
        for value in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            // Wrong weekday, leap second, bad day, lower-case month, a zone, two-digit
            // year, extra space, garbage: left to chrono, whatever it says.
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sat, 31 Dec 2016 23:59:60 GMT",
            "Mon, 31 Feb 2025 00:00:00 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 +0100",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994  8:49:37 GMT",
            "Sun, 0x Nov 1994 08:49:37 GMT",
            "",
            "é",
        ] {
            assert_eq!(http_date(value), chrono_date(value), "{value}");
        }
        assert_eq!(imf_fixdate("Mon, 06 Nov 1994 08:49:37 GMT"), None);
    }

    #[test]
    fn jitter_is_in_unit_interval() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn endpoints_must_be_https_unless_loopback() {
        for ok in [
            "https://api.example.com/token",
            "http://127.0.0.1:8080/token",
            "http://127.9.9.9/token",
            "http://[::1]:80/token",
            "http://localhost:1/token",
        ] {
            assert!(check_endpoint(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.example.com/token",
            "http://10.0.0.1/token",
            "ftp://localhost/x",
        ] {
            let err = check_endpoint(&bad.parse().unwrap()).unwrap_err();
            assert!(matches!(err, AuthError::InvalidConfig(_)), "{bad}");
        }
    }

    #[test]
    fn query_values_are_encoded_once() {
        let r = TokenRequest::post("https://h.example/t".parse().unwrap())
            .query([("refresh_token", "a+b/c=d%2F"), ("x", "sp ace")]);
        assert_eq!(
            r.url().query(),
            Some("refresh_token=a%2Bb%2Fc%3Dd%252F&x=sp+ace")
        );
        assert!(!format!("{r:?}").contains("refresh_token"));
    }

    #[test]
    fn url_under_keeps_the_base_path_and_drops_query() {
        let under =
            |base: &str, path: &str| url_under(&base.parse().unwrap(), path).map(|u| u.to_string());
        assert_eq!(
            under("http://127.0.0.1:9/easyship?x=1#f", "oauth2/token").unwrap(),
            "http://127.0.0.1:9/easyship/oauth2/token"
        );
        assert_eq!(
            under("http://127.0.0.1:9/pb/", "/oauth/token").unwrap(),
            "http://127.0.0.1:9/pb/oauth/token"
        );
        assert_eq!(
            under("http://127.0.0.1:9", "oauth/token").unwrap(),
            "http://127.0.0.1:9/oauth/token"
        );
        assert_eq!(
            under("https://h.example/a/b", "").unwrap(),
            "https://h.example/a/b/"
        );
        for bad in ["mailto:x@y.example", "file:///tmp/x", "data:text/plain,x"] {
            let err = under(bad, "oauth/token").unwrap_err();
            assert!(matches!(err, AuthError::InvalidConfig(_)), "{bad}");
        }
        let with_password = under("mailto:user:pw@x", "t").unwrap_err().to_string();
        assert!(!with_password.contains("pw"), "{with_password}");
    }

    #[test]
    fn store_environment_names_the_host_of_a_stand_in() {
        let own: Url = "https://api.example.com/oauth/token".parse().unwrap();
        assert_eq!(store_environment("sandbox", &own, Some(&own)), "sandbox");
        let port: Url = "http://127.0.0.1:8080/oauth/token".parse().unwrap();
        assert_eq!(
            store_environment("sandbox", &port, Some(&own)),
            "sandbox@127.0.0.1:8080"
        );
        assert_eq!(
            store_environment("sandbox", &own, None),
            "sandbox@api.example.com"
        );
        let proxy: Url = "https://proxy.example.net/vendor/oauth/token"
            .parse()
            .unwrap();
        assert_eq!(
            store_environment("production", &proxy, Some(&own)),
            "production@proxy.example.net"
        );
    }

    #[test]
    fn oauth_token_defaults_bearer_and_parses_scopes() {
        let sent: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let bare = oauth_token(AccessToken::new("a"), None, None, None, None, sent);
        assert_eq!(bare.token_type(), "Bearer");
        assert!(bare.scopes().is_empty() && bare.refresh_token().is_none());
        assert_eq!((bare.issued_at(), bare.expires_at()), (Some(sent), None));
        let blank = oauth_token(
            AccessToken::new("a"),
            Some("  ".into()),
            None,
            None,
            Some(" "),
            sent,
        );
        assert_eq!(blank.token_type(), "Bearer");
        assert!(blank.scopes().is_empty());
        let full = oauth_token(
            AccessToken::new("a"),
            Some(" BearerToken ".into()),
            Some(sent),
            Some(RefreshToken::new("r")),
            Some("rate  label rate"),
            sent,
        );
        assert_eq!(full.token_type(), "BearerToken");
        assert_eq!(full.scopes().to_string(), "rate label");
        assert_eq!(full.refresh_token().unwrap().expose_secret(), "r");
    }

    #[test]
    fn invalid_token_challenge_reads_every_www_authenticate() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="x""#),
        );
        assert!(!invalid_token_challenge(&headers));
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer error="invalid_token", error_description="expired""#,
            ),
        );
        assert!(invalid_token_challenge(&headers));
    }

    #[test]
    fn vendor_error_is_retryable_for_429_and_5xx_only() {
        let redactor = Redactor::new();
        let raw = |status: u16| RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Vec::new(),
            sent_at: Utc::now(),
            date: None,
            redactor: &redactor,
        };
        for (status, retryable) in [
            (400, false),
            (401, false),
            (429, true),
            (500, true),
            (503, true),
            (200, false),
        ] {
            let error = raw(status).vendor_error("v", Some("c".into()), "m".into());
            assert_eq!(error.is_retryable(), retryable, "{status}");
            assert_eq!(error.status(), Some(status));
        }
    }

    #[test]
    fn same_origin_agrees_with_url_origin() {
        let urls = [
            "http://127.0.0.1:8080/a",
            "http://127.0.0.1:8080/b?q=1",
            "http://127.0.0.1:8081/a",
            "https://127.0.0.1:8080/a",
            "http://localhost:8080/a",
            "http://LOCALHOST:8080/a",
            "https://api.example.com/oauth/token",
            "https://api.example.com:443/other",
            "https://user:pw@api.example.com/x",
            "http://api.example.com:443/x",
            "https://api.example.net/oauth/token",
            "http://[::1]:80/t",
            "http://[::1]/t",
            "ftp://api.example.com/x",
            "ws://api.example.com/x",
            "file:///tmp/x",
            "blob:https://api.example.com/x",
            "mailto:x@api.example.com",
        ];
        for a in urls {
            for b in urls {
                let (a, b): (Url, Url) = (a.parse().unwrap(), b.parse().unwrap());
                assert_eq!(same_origin(&a, &b), a.origin() == b.origin(), "{a} {b}");
            }
        }
    }

    #[test]
    fn the_last_content_type_set_wins() {
        let sent = |r: &TokenRequest| {
            let mut all: Vec<&HeaderValue> = r.content_type.iter().collect();
            all.extend(r.headers.get_all(header::CONTENT_TYPE));
            all.iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let url: Url = "https://h.example/t".parse().unwrap();
        let custom = HeaderValue::from_static("application/vnd.x+json");
        let json_last = TokenRequest::post(url.clone())
            .header(header::CONTENT_TYPE, custom.clone())
            .json(&[1])
            .unwrap();
        assert_eq!(sent(&json_last), ["application/json"]);
        let header_last = TokenRequest::post(url.clone())
            .form([("a", "b")])
            .header(header::CONTENT_TYPE, custom);
        assert_eq!(sent(&header_last), ["application/vnd.x+json"]);
        let plain = TokenRequest::post(url).form([("a", "b")]);
        assert_eq!(sent(&plain), ["application/x-www-form-urlencoded"]);
        assert!(plain.headers.is_empty());
    }

    #[test]
    fn basic_auth_refuses_colon_in_user() {
        let r = TokenRequest::post("https://h.example/t".parse().unwrap());
        assert!(matches!(
            r.basic_auth("a:b", "c"),
            Err(AuthError::InvalidConfig(_))
        ));
    }
}

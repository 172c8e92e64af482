//! [`AuthError`]: one error type for every vendor, cloneable, and free of secrets.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::vendor::{EndpointKind, Origin};

/// An error standard to OAuth 2.0 (RFC 6749 §5.2, plus the codes of §4.1.2.1 that token
/// endpoints also answer with). Unknown codes keep their text in [`Other`](Self::Other).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`: client authentication failed.
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is invalid, expired, revoked or spent.
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// Any other code, as the vendor sent it.
    Other(String),
}

impl OAuthErrorCode {
    /// Parses the `error` field of an OAuth error body.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong getting a token.
///
/// `Clone` (sources are held in an `Arc`), so one failed refresh can be handed to every
/// caller waiting on it. No variant ever holds a secret: error bodies are quoted only
/// after every known secret was removed, and 2xx bodies that fail to parse are described
/// by their shape, never quoted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request did not get a response (connection refused, reset, TLS, DNS).
    #[error(
        "could not reach {}: {message}",
        Origin::of(vendor, EndpointKind::Token)
    )]
    Transport {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// What failed, in a few words ("connection refused"), without the URL; the
        /// details are in the source chain, not repeated here.
        message: String,
        /// The underlying error (its URL removed).
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },

    /// An attempt took longer than its timeout.
    #[error(
        "{} did not answer within {after:?}",
        Origin::of(vendor, EndpointKind::Token)
    )]
    Timeout {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// The timeout that elapsed.
        after: Duration,
    },

    /// An HTTP status the vendor's error format did not explain.
    #[error(
        "{} answered HTTP {status}: {excerpt}",
        Origin::of(vendor, EndpointKind::Token)
    )]
    Http {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// The HTTP status code.
        status: u16,
        /// At most 512 bytes of the body with every known secret removed.
        excerpt: String,
        /// How long the server asked us to wait (`Retry-After`), if it did.
        retry_after: Option<Duration>,
    },

    /// A standard OAuth error body (RFC 6749 §5.2).
    #[error("{}", oauth_message(vendor, code, description.as_deref(), *status, hint.as_deref()))]
    OAuth {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// The `error` code.
        code: OAuthErrorCode,
        /// The `error_description`, if any (secrets removed).
        description: Option<String>,
        /// The HTTP status it came with.
        status: Option<u16>,
        /// The vendor's request id, for its support.
        request_id: Option<String>,
        /// What to do about it, when the vendor crate knows (for example Amazon's 180-day
        /// client-secret rotation).
        hint: Option<String>,
    },

    /// A vendor-specific error body.
    #[error("{vendor} error{}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(), code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Vendor {
        /// The vendor, for example `pitneybowes`.
        vendor: &'static str,
        /// The HTTP status.
        status: Option<u16>,
        /// The vendor's error code.
        code: Option<String>,
        /// The vendor's message (secrets removed).
        message: String,
        /// Whether trying again later may succeed.
        retryable: bool,
    },

    /// A response that could not be understood.
    #[error(
        "could not decode the answer of {} (HTTP {status}): {detail}",
        Origin::of(vendor, EndpointKind::Token)
    )]
    Decode {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// The HTTP status.
        status: u16,
        /// What was wrong and the body's shape (keys and value types), never its values.
        detail: String,
    },

    /// A scope unknown to the vendor or not allowed in this combination or grant.
    #[error("invalid scope{}: {reason}", if scopes.is_empty() { String::new() } else { format!(" {}", scopes.join(" ")) })]
    InvalidScope {
        /// The offending scopes.
        scopes: Vec<String>,
        /// Why they were refused.
        reason: String,
    },

    /// The configuration is wrong; nothing was sent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    /// The `state` returned on the authorization redirect is not the one sent.
    #[error(
        "the OAuth state on the redirect does not match the one sent; discard this redirect (possible cross-site request forgery)"
    )]
    StateMismatch,

    /// A request that spends a single-use credential (a rotating refresh token) was sent,
    /// but no usable answer arrived (none within the retry budget, a connection lost
    /// mid-response, an HTTP 5xx other than 503).
    ///
    /// The vendor may have rotated the refresh token, and its answer, the only copy of the
    /// new one, is lost; or the request never arrived and the old one still works. It is
    /// deliberately not `invalid_grant` and not retried: sending the same single-use
    /// token again would spend it twice. The next refresh's answer decides.
    #[error(
        "the request to {} was sent but its outcome is unknown ({message}); the vendor \
         may have rotated the refresh token, so it was not sent again; the next refresh will \
         tell whether the refresh token still works",
        Origin::of(vendor, EndpointKind::Token)
    )]
    OutcomeUnknown {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// What happened after the request was sent (no URL, no secret).
        message: String,
    },

    /// A refresh grant has no refresh token to present: nothing was sent.
    #[error(
        "no refresh token is known for this grant; seed the provider with one \
         (seed_refresh_token, replace_token, or the grant's own constructor), or have the \
         user (seller) authorize the app"
    )]
    NoRefreshToken,

    /// The background refresh task ended without a result (the token source panicked,
    /// or the runtime shut down mid-refresh). The next call starts another.
    #[error("the token refresh task ended without a result: {0}")]
    RefreshAborted(String),

    /// The API (not the token endpoint) could not be reached.
    #[error("could not reach {}: {message}", Origin::of(vendor, EndpointKind::Api))]
    ApiTransport {
        /// The vendor it came from (`""` until the token call or `send` names it).
        vendor: &'static str,
        /// What failed, in a few words ("connection refused"), without the URL; the
        /// details are in the source chain, not repeated here.
        message: String,
        /// The underlying error (its URL removed).
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },

    /// The token store could not be reached (connection refused or lost, a timeout, an
    /// I/O error on the way): unlike [`Store`](Self::Store), nothing says the store
    /// refused anything, and trying again later may succeed.
    ///
    /// A provider keeps serving its valid token meanwhile. When a token runs out it
    /// refreshes without the store's lease only for a grant whose refresh token is
    /// reusable; for a single-use (rotating) refresh token it returns this error instead,
    /// without sending a token request, because two processes refreshing at once would
    /// break the chain.
    #[error("token store unreachable: {message}")]
    StoreUnavailable {
        /// What failed (no URL, no secret).
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },

    /// The token store failed (or another process held the refresh lease for too long).
    #[error("token store error: {message}")]
    Store {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

fn oauth_message(
    vendor: &'static str,
    code: &OAuthErrorCode,
    description: Option<&str>,
    status: Option<u16>,
    hint: Option<&str>,
) -> String {
    let origin = Origin::of(vendor, EndpointKind::Token);
    let mut out = format!("{origin} refused the request: {code}");
    if let Some(status) = status {
        out.push_str(&format!(" (HTTP {status})"));
    }
    if let Some(description) = description {
        out.push_str(": ");
        out.push_str(description);
    }
    let hint = hint.or(match code {
        OAuthErrorCode::InvalidGrant => Some(
            "the authorization code or refresh token was already used, expired or revoked; \
             the user (seller) must authorize the app again",
        ),
        OAuthErrorCode::InvalidClient => {
            Some("check the client id and secret for this environment")
        }
        _ => None,
    });
    if let Some(hint) = hint {
        out.push_str("; ");
        out.push_str(hint);
    }
    out
}

impl AuthError {
    /// Whether trying the same request again later may succeed: transport errors,
    /// timeouts, HTTP 5xx and 429, and the OAuth codes `temporarily_unavailable` and
    /// `server_error`. Never `invalid_grant` or `invalid_client`.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::Http { status, .. } => *status == 429 || (500..600).contains(status),
            Self::OAuth { code, status, .. } => match code {
                OAuthErrorCode::TemporarilyUnavailable | OAuthErrorCode::ServerError => true,
                OAuthErrorCode::InvalidGrant | OAuthErrorCode::InvalidClient => false,
                _ => status.is_some_and(|s| s == 429 || s >= 500),
            },
            Self::Vendor { retryable, .. } => *retryable,
            Self::Decode { status, .. } => (500..600).contains(status),
            Self::StoreUnavailable { .. } => true,
            _ => false,
        }
    }

    /// Whether the token store could not be reached ([`StoreUnavailable`](Self::StoreUnavailable)),
    /// as opposed to a store that answered with a refusal or another process holding the
    /// refresh lease.
    pub fn is_store_unavailable(&self) -> bool {
        matches!(self, Self::StoreUnavailable { .. })
    }

    /// Whether the grant itself is dead (`invalid_grant`): the refresh token or code will
    /// never work again and the user must authorize the app again.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(
            self,
            Self::OAuth {
                code: OAuthErrorCode::InvalidGrant,
                ..
            }
        )
    }

    /// The `Retry-After` the server sent with this error, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status the error came with, if it came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } | Self::Decode { status, .. } => Some(*status),
            Self::OAuth { status, .. } | Self::Vendor { status, .. } => *status,
            _ => None,
        }
    }

    /// An OAuth error with the given code and status.
    pub fn oauth(code: OAuthErrorCode, description: Option<String>, status: Option<u16>) -> Self {
        Self::OAuth {
            code,
            description,
            status,
            request_id: None,
            hint: None,
            vendor: "",
        }
    }

    /// Where the error came from, for the variants that come from an endpoint (the API
    /// for [`ApiTransport`](Self::ApiTransport), the token endpoint for the others).
    pub fn origin(&self) -> Option<Origin> {
        match self {
            Self::Transport { vendor, .. }
            | Self::Timeout { vendor, .. }
            | Self::Http { vendor, .. }
            | Self::OAuth { vendor, .. }
            | Self::Decode { vendor, .. }
            | Self::OutcomeUnknown { vendor, .. } => Some(Origin::of(vendor, EndpointKind::Token)),
            Self::ApiTransport { vendor, .. } => Some(Origin::of(vendor, EndpointKind::Api)),
            _ => None,
        }
    }

    /// Names `vendor` as the origin, unless the error names one already. The token call
    /// ([`TokenHttpClient`](crate::http::TokenHttpClient)) and
    /// [`CachedTokenProvider::send`](crate::CachedTokenProvider::send) do it, so errors
    /// say which vendor and endpoint they came from.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_core::{AuthError, OAuthErrorCode};
    ///
    /// let e = AuthError::oauth(OAuthErrorCode::InvalidGrant, None, Some(400)).with_vendor("easyship");
    /// assert!(e.to_string().starts_with("easyship token endpoint refused the request: invalid_grant"));
    /// ```
    #[must_use]
    pub fn with_vendor(mut self, vendor: &'static str) -> Self {
        if vendor.is_empty() {
            return self;
        }
        match &mut self {
            Self::Transport { vendor: named, .. }
            | Self::Timeout { vendor: named, .. }
            | Self::Http { vendor: named, .. }
            | Self::OAuth { vendor: named, .. }
            | Self::Decode { vendor: named, .. }
            | Self::OutcomeUnknown { vendor: named, .. }
            | Self::ApiTransport { vendor: named, .. }
                if named.is_empty() =>
            {
                *named = vendor;
            }
            _ => {}
        }
        self
    }

    /// Sets `hint` on an [`OAuth`](Self::OAuth) error with `code` that has no hint yet
    /// (a vendor crate's advice, such as Amazon's 180-day secret rotation for
    /// `invalid_client`); any other error is returned unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_core::{AuthError, OAuthErrorCode};
    ///
    /// let e = AuthError::oauth(OAuthErrorCode::InvalidClient, None, Some(401))
    ///     .with_hint_for(&OAuthErrorCode::InvalidClient, "rotate the client secret");
    /// assert!(e.to_string().ends_with("; rotate the client secret"));
    /// ```
    #[must_use]
    pub fn with_hint_for(self, for_code: &OAuthErrorCode, new_hint: impl Into<String>) -> Self {
        match self {
            Self::OAuth {
                code,
                description,
                status,
                request_id,
                hint: None,
                vendor,
            } if &code == for_code => Self::OAuth {
                code,
                description,
                status,
                request_id,
                hint: Some(new_hint.into()),
                vendor,
            },
            other => other,
        }
    }

    /// An HTTP status the vendor's error format did not explain (see
    /// [`Http`](Self::Http)), from the token endpoint.
    pub fn http(status: u16, excerpt: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self::Http {
            status,
            excerpt: excerpt.into(),
            retry_after,
            vendor: "",
        }
    }

    /// A response that could not be understood (see [`Decode`](Self::Decode)), from the
    /// token endpoint.
    pub fn decode(status: u16, detail: impl Into<String>) -> Self {
        Self::Decode {
            status,
            detail: detail.into(),
            vendor: "",
        }
    }

    /// A [`StoreUnavailable`](Self::StoreUnavailable) error from any error type: the
    /// store could not be reached. For store implementations.
    pub fn store_unavailable(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::StoreUnavailable {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// A store error from any error type.
    pub fn store(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Store {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// A transport error from reqwest, with the URL removed (Orange Connex puts tokens in
    /// the query string, so a URL must never reach a message).
    ///
    /// The message says in a few words what failed ("connection refused"); the reqwest
    /// error, with its own chain of causes, is the [`source`](std::error::Error::source),
    /// so a report that prints the chain (`anyhow`'s `{:#}`, `tracing`) shows each cause
    /// once.
    pub fn transport(error: reqwest::Error) -> Self {
        let error = error.without_url();
        Self::Transport {
            message: transport_summary(&error).into(),
            source: Some(Arc::new(error)),
            vendor: "",
        }
    }

    /// An [`ApiTransport`](Self::ApiTransport) error: an API call (not a token call) got
    /// no response. The URL is removed and the message built as in
    /// [`transport`](Self::transport).
    pub fn api_transport(error: reqwest::Error) -> Self {
        let error = error.without_url();
        Self::ApiTransport {
            message: transport_summary(&error).into(),
            source: Some(Arc::new(error)),
            vendor: "",
        }
    }
}

/// What went wrong with a request that got no response, in words of our own: the texts of
/// the error and its causes are left to the source chain, which would repeat them.
fn transport_summary(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        // The per-attempt timeout is ours and reported as Timeout by the caller; this is
        // reqwest's own (connect) timeout.
        return "timed out";
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(inner) = cause {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            let summary = match io.kind() {
                ErrorKind::ConnectionRefused => Some("connection refused"),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                    Some("connection closed by the other end")
                }
                ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof => {
                    Some("connection closed before the response was complete")
                }
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    Some("host or network unreachable")
                }
                ErrorKind::AddrNotAvailable => Some("address not available"),
                ErrorKind::TimedOut => Some("timed out"),
                ErrorKind::PermissionDenied => Some("connection not permitted"),
                _ => None,
            };
            if let Some(summary) = summary {
                return summary;
            }
        }
        #[cfg(feature = "rustls")]
        if inner.downcast_ref::<rustls::Error>().is_some() {
            return "TLS handshake failed";
        }
        // hyper-util's connector names a resolver failure only in its message.
        if inner.to_string() == "dns error" {
            return "host name not resolved";
        }
        cause = inner.source();
    }
    if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the response body could not be read"
    } else {
        "no response"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(code: &str, status: u16) -> AuthError {
        AuthError::oauth(OAuthErrorCode::parse(code), None, Some(status))
    }

    #[test]
    fn retryable_matrix() {
        assert!(oauth("temporarily_unavailable", 400).is_retryable());
        assert!(oauth("server_error", 400).is_retryable());
        assert!(!oauth("invalid_grant", 503).is_retryable());
        assert!(!oauth("invalid_client", 500).is_retryable());
        assert!(!oauth("invalid_request", 400).is_retryable());
        assert!(oauth("weird", 502).is_retryable());
        for status in [429, 500, 502, 503, 504] {
            let e = AuthError::Http {
                vendor: "",
                status,
                excerpt: String::new(),
                retry_after: None,
            };
            assert!(e.is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 409] {
            let e = AuthError::Http {
                vendor: "",
                status,
                excerpt: String::new(),
                retry_after: None,
            };
            assert!(!e.is_retryable(), "{status}");
        }
        assert!(
            AuthError::Timeout {
                vendor: "",
                after: Duration::from_secs(1)
            }
            .is_retryable()
        );
        assert!(!AuthError::InvalidConfig("x".into()).is_retryable());
    }

    #[test]
    fn invalid_grant_message_tells_what_to_do() {
        let e = AuthError::oauth(
            OAuthErrorCode::InvalidGrant,
            Some("refresh token revoked".into()),
            Some(400),
        );
        assert!(e.is_invalid_grant());
        let msg = e.to_string();
        assert!(msg.contains("invalid_grant"), "{msg}");
        assert!(msg.contains("authorize the app again"), "{msg}");
    }

    #[test]
    fn invalid_scope_reads_well_with_and_without_scopes() {
        let named = AuthError::InvalidScope {
            scopes: vec!["a".into(), "b".into()],
            reason: "unknown scope".into(),
        };
        assert_eq!(named.to_string(), "invalid scope a b: unknown scope");
        let none = AuthError::InvalidScope {
            scopes: vec![],
            reason: "this grant needs at least one scope".into(),
        };
        assert_eq!(
            none.to_string(),
            "invalid scope: this grant needs at least one scope"
        );
    }

    #[test]
    fn codes_round_trip() {
        for code in [
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "access_denied",
            "server_error",
            "temporarily_unavailable",
            "invalid_account",
        ] {
            assert_eq!(OAuthErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(
            OAuthErrorCode::parse("invalid_account"),
            OAuthErrorCode::Other("invalid_account".into())
        );
    }

    /// The error's `Display`, then each `source()` in turn: what a report prints.
    fn chain(error: &AuthError) -> Vec<String> {
        let mut lines = vec![error.to_string()];
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            lines.push(inner.to_string());
            source = inner.source();
        }
        lines
    }

    async fn refused_connection() -> (reqwest::Error, u16) {
        crate::install_crypto_provider();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/oauth/token?code=in-query"))
            .send()
            .await
            .unwrap_err();
        (error, port)
    }

    #[tokio::test]
    async fn transport_errors_print_each_cause_once() {
        for (constructor, what) in [
            (
                AuthError::transport as fn(reqwest::Error) -> AuthError,
                "token endpoint",
            ),
            (AuthError::api_transport, "API"),
        ] {
            let (error, port) = refused_connection().await;
            let error = constructor(error);
            let lines = chain(&error);
            let shown = lines.join("\n");
            assert_eq!(
                lines[0],
                format!("could not reach the {what}: connection refused")
            );
            assert!(lines.len() > 2, "the reqwest error and its causes: {shown}");
            for (i, line) in lines.iter().enumerate() {
                for later in &lines[i + 1..] {
                    assert!(
                        !line.contains(later.as_str()),
                        "{later:?} repeated:\n{shown}"
                    );
                }
                assert!(!line.contains(&port.to_string()) && !line.contains("in-query"));
            }
            assert_eq!(lines[1], "error sending request", "reqwest's own error");
        }
    }

    #[test]
    fn error_is_clone_send_sync() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<AuthError>();
    }
}

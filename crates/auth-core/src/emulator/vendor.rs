//! What a vendor crate tells the emulator: its paths, its rules ([`Rules`]) and its wire
//! formats ([`Vendor`]). The grant logic itself (codes, refresh rules, expiry, faults)
//! lives once, in the emulator's state.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde_json::json;

use super::message::{Request, Response};
use super::state::{App, Issued};

/// A grant a token endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantKind {
    /// `authorization_code`: a code from the browser step.
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials` (Amazon's grantless tokens, Pitney Bowes' only grant).
    ClientCredentials,
}

impl GrantKind {
    /// The `grant_type` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The grant named by a `grant_type` value.
    pub fn parse(grant_type: &str) -> Option<Self> {
        [
            Self::AuthorizationCode,
            Self::RefreshToken,
            Self::ClientCredentials,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == grant_type)
    }
}

impl fmt::Display for GrantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a refresh token when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rotation {
    /// Every refresh returns a new refresh token and spends the one used: presented
    /// again, it is `invalid_grant` (Easyship).
    SingleUse,
    /// The refresh token is long-lived and returned unchanged (Amazon).
    LongLived,
}

/// A vendor's token rules.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rules {
    /// The grants the token endpoint serves; any other is `unsupported_grant_type`.
    pub grants: &'static [GrantKind],
    /// What a refresh does to the refresh token.
    pub rotation: Rotation,
    /// How long a refresh token is valid after it was issued (`None`: until revoked).
    pub refresh_token_lifetime: Option<Duration>,
    /// How long an authorization code may be exchanged.
    pub code_lifetime: Duration,
    /// The access-token lifetime a new emulator starts with.
    pub access_token_lifetime: Duration,
    /// Whether a refresh revokes the access token the previous one of its chain
    /// (Doorkeeper, and so Easyship, does).
    pub refresh_revokes_previous_access_token: bool,
    /// Whether the client sends a secret on token requests (Orange Connex sends none).
    pub client_secret_required: bool,
    /// Whether the code exchange must carry the authorize step's `redirect_uri`
    /// (Amazon's is optional).
    pub redirect_uri_required: bool,
    /// Whether the client-credentials grant needs a `scope`.
    pub client_credentials_scope_required: bool,
}

impl Rules {
    /// Authorization code and single-use refresh, one-hour access tokens, ten-minute
    /// codes, a secret required: change what the vendor does differently.
    pub fn new(grants: &'static [GrantKind]) -> Self {
        Self {
            grants,
            rotation: Rotation::SingleUse,
            refresh_token_lifetime: None,
            code_lifetime: Duration::from_secs(600),
            access_token_lifetime: Duration::from_secs(3600),
            refresh_revokes_previous_access_token: false,
            client_secret_required: true,
            redirect_uri_required: true,
            client_credentials_scope_required: false,
        }
    }
}

/// Where a vendor serves what, below the emulator's base URL (each starts with `/`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Paths {
    /// `POST` here is the token endpoint (`/oauth/token`).
    pub token: &'static str,
    /// `GET` here is the browser step, if the vendor has one (`/oauth/authorize`).
    pub authorize: Option<&'static str>,
    /// Every other request below this prefix is an API call (the API probe); it ends
    /// with `/` (`/shippingservices/`, or `/` for the whole host).
    pub api_base: &'static str,
}

impl Paths {
    /// The token path, the browser step's path if any, and the API base.
    pub const fn new(
        token: &'static str,
        authorize: Option<&'static str>,
        api_base: &'static str,
    ) -> Self {
        Self {
            token,
            authorize,
            api_base,
        }
    }
}

/// A token request as the vendor's wire format carries it, decoded by
/// [`Vendor::decode_token_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCall {
    /// The client id (Pitney Bowes: the API key).
    pub client_id: Option<String>,
    /// The client secret, if one was sent.
    pub client_secret: Option<String>,
    /// The grant and its parameters.
    pub grant: GrantCall,
}

impl TokenCall {
    /// A call of `client_id` (and `client_secret`) for `grant`.
    pub fn new(client_id: Option<String>, client_secret: Option<String>, grant: GrantCall) -> Self {
        Self {
            client_id,
            client_secret,
            grant,
        }
    }
}

/// The grant of a [`TokenCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantCall {
    /// Exchange an authorization code.
    AuthorizationCode {
        /// The code.
        code: String,
        /// The redirect URI, if sent.
        redirect_uri: Option<String>,
    },
    /// Refresh.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// Scopes asked for (a subset of the granted ones), if any.
        scope: Option<String>,
    },
    /// Client credentials.
    ClientCredentials {
        /// Scopes asked for, if any.
        scope: Option<String>,
    },
}

impl GrantCall {
    /// Which grant this is.
    pub fn kind(&self) -> GrantKind {
        match self {
            Self::AuthorizationCode { .. } => GrantKind::AuthorizationCode,
            Self::RefreshToken { .. } => GrantKind::RefreshToken,
            Self::ClientCredentials { .. } => GrantKind::ClientCredentials,
        }
    }
}

/// An OAuth error code a token endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`: a parameter missing, repeated, unexpected, or the wrong encoding.
    InvalidRequest,
    /// `invalid_client`: unknown client or wrong secret.
    InvalidClient,
    /// `invalid_grant`: code or refresh token unknown, spent, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
}

impl ErrorCode {
    /// The RFC 6749 code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

/// A request the emulator refuses: a token request (the vendor renders it with
/// [`Vendor::token_error`]) or the browser step (a `400` page).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenError {
    /// The code.
    pub code: ErrorCode,
    /// The grant asked for, when known.
    pub grant: Option<GrantKind>,
    /// Why, for the emulator's own description (a vendor may use its own text instead).
    pub reason: String,
}

impl TokenError {
    /// `code` for `reason`.
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self {
            code,
            grant: None,
            reason: reason.into(),
        }
    }

    /// This error, for `grant`.
    #[must_use]
    pub fn for_grant(mut self, grant: GrantKind) -> Self {
        self.grant = Some(grant);
        self
    }
}

/// The browser step's request, decoded by [`Vendor::decode_authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeCall {
    /// The client (or Amazon's application id) asking.
    pub client_id: String,
    /// Where to send the browser back; `None`: the app's first registered one.
    pub redirect_uri: Option<String>,
    /// The scopes asked for, if any.
    pub scope: Option<String>,
    /// The state to send back.
    pub state: Option<String>,
}

impl AuthorizeCall {
    /// A call of `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: None,
            scope: None,
            state: None,
        }
    }
}

/// A code the browser step issued, for [`Vendor::authorize_redirect`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Authorized {
    /// The code.
    pub code: String,
    /// The state of the request, to send back.
    pub state: Option<String>,
    /// The seller who consented.
    pub seller: String,
}

/// Why the API probe refused a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// No token where the API expects it.
    Missing,
    /// A token the emulator never issued.
    Unknown,
    /// Issued, and expired.
    Expired,
    /// Issued, and revoked (a refresh replaced it, or the grant was revoked).
    Revoked,
}

impl Rejection {
    /// A short name (`"missing"`, `"unknown"`, `"expired"`, `"revoked"`): the suffix of
    /// its count key (`api:rejected:revoked`, see [`Counts`](super::Counts)).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// A vendor's wire formats: how its token endpoint reads requests and writes answers,
/// and how its API takes and refuses tokens. Implemented by each vendor crate's
/// emulator model; [`Emulator`](super::Emulator) does the rest.
pub trait Vendor: fmt::Debug + Send + Sync + 'static {
    /// The vendor's `ClientBuilder`.
    type ClientBuilder;

    /// The vendor's short name (`"pitneybowes"`).
    fn name(&self) -> &'static str;

    /// The paths served.
    fn paths(&self) -> Paths;

    /// The token rules.
    fn rules(&self) -> Rules;

    /// A new client id and secret for the app a new emulator registers.
    fn new_client(&self) -> (String, String) {
        (random_token("client-", 12), random_token("secret-", 24))
    }

    /// The id the browser step names a new app by (default: its client id; Amazon: an
    /// SP-API application id).
    fn new_application_id(&self, client_id: &str) -> String {
        client_id.to_owned()
    }

    /// A new access token.
    fn new_access_token(&self) -> String {
        random_token("", 24)
    }

    /// A new refresh token.
    fn new_refresh_token(&self) -> String {
        random_token("", 32)
    }

    /// A new authorization code.
    fn new_code(&self) -> String {
        random_token("", 16)
    }

    /// Reads a token request, checking its encoding as the vendor does.
    ///
    /// # Errors
    ///
    /// The answer when the request is not one the vendor accepts (wrong encoding, a
    /// missing or unexpected parameter, no client authentication).
    fn decode_token_request(&self, request: &Request) -> Result<TokenCall, TokenError>;

    /// The successful token answer.
    fn token_response(&self, app: &App, issued: &Issued) -> Response;

    /// The answer to a refused token request.
    fn token_error(&self, error: &TokenError) -> Response;

    /// The answer of an overloaded or failing token endpoint (`status` 5xx or 429).
    fn unavailable(&self, status: StatusCode) -> Response {
        Response::json(
            status,
            &json!({"error": if status == StatusCode::TOO_MANY_REQUESTS { "too_many_requests" } else { "temporarily_unavailable" },
                    "error_description": status.canonical_reason().unwrap_or("unavailable")}),
        )
    }

    /// Reads the browser step's request.
    ///
    /// # Errors
    ///
    /// Why it is refused (the default: the vendor has no browser step).
    fn decode_authorize(&self, request: &Request) -> Result<AuthorizeCall, TokenError> {
        let _ = request;
        Err(TokenError::new(
            ErrorCode::InvalidRequest,
            "this vendor has no authorize page",
        ))
    }

    /// The redirect back to the app, with the code and state where the vendor puts them.
    fn authorize_redirect(&self, redirect_uri: &url::Url, authorized: &Authorized) -> url::Url {
        let mut url = redirect_uri.clone();
        url.query_pairs_mut().append_pair("code", &authorized.code);
        if let Some(state) = &authorized.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        url
    }

    /// The access token of an API call, read where the API expects it.
    fn api_token<'a>(&self, request: &'a Request) -> Option<&'a str>;

    /// The API's answer to a token it refuses.
    fn api_rejected(&self, rejection: Rejection) -> Response;

    /// The API probe's answer to an accepted token.
    fn api_ok(&self, request: &Request, seller: Option<&str>) -> Response {
        Response::json(
            StatusCode::OK,
            &json!({"ok": true, "method": request.method().as_str(), "path": request.path(), "seller": seller}),
        )
    }

    /// A client builder pointed at `base_url` with the app's credentials.
    fn client_builder(&self, base_url: &url::Url, app: &App) -> Self::ClientBuilder;
}

/// `prefix` and `bytes` random bytes in URL-safe base64 without padding.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    use base64::Engine as _;
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(bytes))
    )
}

/// `prefix` and `bytes` random bytes in standard base64 with padding: such tokens hold
/// `/`, `+` and `=`, as Easyship's do, so a client that forgets to encode them fails.
pub fn random_token_std(prefix: &str, bytes: usize) -> String {
    use base64::Engine as _;
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::STANDARD.encode(random_bytes(bytes))
    )
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random UUID (version 4) as text.
pub fn random_uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).expect("the OS random source is available");
    bytes
}

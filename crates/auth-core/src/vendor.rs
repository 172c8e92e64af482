//! The contract every vendor crate's `Client` implements ([`VendorClient`]), and what a
//! provider needs to call that vendor's API ([`ApiAccess`]).
//!
//! # Adding a vendor
//!
//! Copy the layout of the closest existing vendor crate (`auth-pitneybowes` for
//! client credentials, `auth-easyship` for authorization code and rotating refresh
//! tokens) and fill in, file by file:
//!
//! 1. `src/endpoint.rs`: the `Environment` enum (production is the default) and its URLs.
//! 2. `src/wire.rs`: the token request and response bodies exactly as the vendor sends
//!    them (serde only; secrets as [`AccessToken`](crate::AccessToken) /
//!    [`RefreshToken`](crate::RefreshToken), which deserialize), with one conversion into
//!    [`Token`](crate::Token) taking the send time.
//! 3. `src/error.rs`: the vendor's error body into [`AuthError`](crate::AuthError), and
//!    `token_rejected`: how its API says a token was refused.
//! 4. `src/builder.rs`: a builder embedding [`EndpointConfig`](crate::endpoint::EndpointConfig)
//!    plus the vendor's credentials; `build()` refuses wrong configuration before any
//!    request.
//! 5. `src/client.rs`: one async method per token endpoint call through
//!    [`TokenHttpClient`](crate::http::TokenHttpClient), and `impl VendorClient`.
//! 6. `src/grant.rs`: the grant flows as [`TokenSource`]s, and the
//!    one-call providers (`client.refresh_provider(..)`, `client.provider()`) built with
//!    [`VendorClient::provider_builder`].
//! 7. `src/scope.rs`: the vendor's `Scope` enum implementing [`Scope`](crate::Scope).
//! 8. `tests/`: the exact request shape against a local server, every documented error
//!    body from `tests/fixtures/<vendor>/`, and the provider flow.

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::store::StoreKey;
use crate::{
    AuthScheme, CachedTokenProvider, CachedTokenProviderBuilder, RejectedTokenCheck, TokenSource,
    Url,
};

/// Which of a vendor's endpoints something concerns, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointKind {
    /// The OAuth token endpoint.
    Token,
    /// The vendor's API (where tokens are used).
    Api,
}

impl fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Token => "token endpoint",
            Self::Api => "API",
        })
    }
}

/// Where an error came from: a vendor and one of its endpoints.
///
/// # Examples
///
/// ```
/// use auth_core::vendor::{EndpointKind, Origin};
///
/// assert_eq!(Origin::new("easyship", EndpointKind::Token).to_string(), "easyship token endpoint");
/// assert_eq!(Origin::token().to_string(), "the token endpoint");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin {
    vendor: Option<&'static str>,
    endpoint: EndpointKind,
}

impl Origin {
    /// `vendor`'s `endpoint`.
    pub const fn new(vendor: &'static str, endpoint: EndpointKind) -> Self {
        Self {
            vendor: Some(vendor),
            endpoint,
        }
    }

    /// `vendor`'s `endpoint`; an empty `vendor` is one not named.
    pub fn of(vendor: &'static str, endpoint: EndpointKind) -> Self {
        Self {
            vendor: (!vendor.is_empty()).then_some(vendor),
            endpoint,
        }
    }

    /// A token endpoint of a vendor not named (yet): the token call names it.
    pub const fn token() -> Self {
        Self {
            vendor: None,
            endpoint: EndpointKind::Token,
        }
    }

    /// An API of a vendor not named.
    pub const fn api() -> Self {
        Self {
            vendor: None,
            endpoint: EndpointKind::Api,
        }
    }

    /// The vendor, if known.
    pub fn vendor(&self) -> Option<&'static str> {
        self.vendor
    }

    /// The endpoint.
    pub fn endpoint(&self) -> EndpointKind {
        self.endpoint
    }

    /// This origin with `vendor` named, unless it names one already.
    #[must_use]
    pub fn or_vendor(self, vendor: &'static str) -> Self {
        Self {
            vendor: self.vendor.or(Some(vendor)),
            ..self
        }
    }
}

impl Default for Origin {
    fn default() -> Self {
        Self::token()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.vendor {
            Some(vendor) => write!(f, "{vendor} {}", self.endpoint),
            None => write!(f, "the {}", self.endpoint),
        }
    }
}

/// What [`CachedTokenProvider::send`] needs to call a vendor's API: where the token goes
/// and how the API says it was rejected.
///
/// # Examples
///
/// ```
/// use auth_core::AuthScheme;
/// use auth_core::vendor::ApiAccess;
///
/// let access = ApiAccess::new("myvendor", AuthScheme::header("x-api-token"), |status, _, _| {
///     status == 401
/// });
/// assert_eq!(access.vendor(), "myvendor");
/// ```
#[derive(Clone)]
pub struct ApiAccess {
    vendor: &'static str,
    scheme: AuthScheme,
    rejected: RejectedTokenCheck,
}

impl fmt::Debug for ApiAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAccess")
            .field("vendor", &self.vendor)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl ApiAccess {
    /// `vendor`'s API takes the token as `scheme` and says it was rejected when
    /// `rejected` returns true (consulted on 401 and 403 only).
    pub fn new(vendor: &'static str, scheme: AuthScheme, rejected: RejectedTokenCheck) -> Self {
        Self {
            vendor,
            scheme,
            rejected,
        }
    }

    /// A generic OAuth API of no named vendor: `Authorization: Bearer`, and any 401
    /// means the token was rejected (RFC 6750 §3.1).
    pub fn bearer() -> Self {
        Self::new("", AuthScheme::Bearer, |status, _, _| {
            status == StatusCode::UNAUTHORIZED
        })
    }

    /// Whether `other` behaves the same (same vendor, scheme and check), for sharing one
    /// copy between providers. Two checks compare by address: the same function may
    /// have two addresses, which only costs a second copy.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.vendor == other.vendor
            && self.scheme == other.scheme
            && self.rejected as usize == other.rejected as usize
    }

    /// The vendor's name (empty for [`bearer`](Self::bearer)).
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// Where the token goes.
    pub fn scheme(&self) -> &AuthScheme {
        &self.scheme
    }

    /// How the API says the token was rejected.
    pub fn rejected(&self) -> RejectedTokenCheck {
        self.rejected
    }
}

/// The contract every vendor crate's `Client` implements: the same names and types in
/// each, so a user who knows one vendor crate knows all four, and generic code can drive
/// any of them.
///
/// Vendor extras (Amazon's restricted data tokens and consent URL, Easyship's delegated
/// accounts, Orange Connex's authorize URL) are inherent methods beside it.
///
/// # Examples
///
/// Code generic over the vendor:
///
/// ```
/// use auth_core::vendor::VendorClient;
/// use auth_core::{AuthError, CachedTokenProvider};
///
/// async fn probe<C: VendorClient>(
///     client: &C,
///     provider: &CachedTokenProvider,
/// ) -> Result<u16, AuthError> {
///     let url = client.api_url("v1/ping")?;
///     let response = provider.send(client.http_client().get(url)).await?;
///     Ok(response.status().as_u16())
/// }
/// ```
pub trait VendorClient: fmt::Debug + Clone + Send + Sync + 'static {
    /// The vendor's environments (production is every crate's default).
    type Environment: fmt::Debug + fmt::Display + Copy + PartialEq + Send + Sync + 'static;

    /// The vendor's short lowercase name (`"easyship"`): the store key's vendor and
    /// the origin named in errors.
    fn vendor(&self) -> &'static str;

    /// The environment this client talks to.
    fn environment(&self) -> Self::Environment;

    /// The token endpoint.
    fn token_url(&self) -> &Url;

    /// The API's base URL (paths are joined under it, see [`api_url`](Self::api_url)).
    fn api_base_url(&self) -> &Url;

    /// Where the API expects the access token.
    fn auth_scheme(&self) -> &AuthScheme;

    /// How the API says a token was rejected (see [`RejectedTokenCheck`]).
    fn rejected_token_check(&self) -> RejectedTokenCheck;

    /// The store key for `subject` (a seller, an account; any fixed name for an
    /// application-wide token): vendor, environment (and a stand-in's host), client id.
    fn store_key(&self, subject: &str) -> StoreKey;

    /// The HTTP client for API calls: redirects stay within the origin, so a token never
    /// follows one to another host.
    fn http_client(&self) -> &reqwest::Client;

    /// Whether the API's answer says the token was rejected.
    fn token_rejected(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
        (self.rejected_token_check())(status, headers, body)
    }

    /// `path` under [`api_base_url`](Self::api_base_url).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`](crate::AuthError::InvalidConfig) for a path that is
    /// absolute or leaves the base.
    fn api_url(&self, path: &str) -> Result<Url, crate::AuthError> {
        crate::http::url_under(self.api_base_url(), path)
    }

    /// What a provider needs to call this vendor's API.
    fn api_access(&self) -> ApiAccess {
        ApiAccess::new(
            self.vendor(),
            self.auth_scheme().clone(),
            self.rejected_token_check(),
        )
    }

    /// A provider builder for `grant` that knows this vendor's API, so
    /// [`CachedTokenProvider::send`] needs nothing else. Add a store, a seed or settings,
    /// then `build()`.
    fn provider_builder(&self, grant: impl TokenSource) -> CachedTokenProviderBuilder
    where
        Self: Sized,
    {
        CachedTokenProvider::builder(grant).api(self.api_access())
    }
}

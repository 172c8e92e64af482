//! Where requests go: [`Environment`] (production or sandbox, generated from
//! `spec/environments.toml`), [`ApiFamily`] (API versions 2023-01 and older, or 2024-09
//! and newer, from `spec/api_families.toml`) and [`Endpoint`] (the partner or the
//! Enterprise token endpoint).
//!
//! | | production | sandbox |
//! |---|---|---|
//! | Public API 2024-09 and newer | `https://public-api.easyship.com` | `https://public-api-sandbox.easyship.com` |
//! | Public API 2023-01 and older | `https://api.easyship.com` | `https://api-sandbox.easyship.com` |
//! | token, partner apps | `https://api.easyship.com/oauth2/token` | not documented |
//! | token, Enterprise | `https://enterprise-api.easyship.com/oauth2/token` | not documented |
//! | authorize (browser) | `https://auth.easyship.com/oauth2/authorize` | not documented |
//! | dashboard API key prefix | `prod_` | `sand_` |
//!
//! Easyship documents OAuth for production only; sandbox access is by `sand_…` API key
//! ([`ApiKeySource`](crate::ApiKeySource)). To use OAuth against a sandbox or a local
//! stand-in, give the client a [`token_url`](crate::ClientBuilder::token_url) or a
//! [`base_url`](crate::ClientBuilder::base_url).

use auth_core::Url;

pub use crate::generated::api_families::ApiFamily;
pub use crate::generated::environments::Environment;

/// Which Easyship token endpoint a [`Client`](crate::Client) talks to.
///
/// Partner applications (sellers authorize them in the browser) use
/// `api.easyship.com/oauth2/token`, where the documented grants are the authorization code
/// and the refresh token (client credentials are answered `401 unauthorized_client` in
/// Easyship's own example). Enterprise API clients use
/// `enterprise-api.easyship.com/oauth2/token`: client credentials, the `delegated_account`
/// grant for a child company, and refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Endpoint {
    /// The partner application token endpoint (the default).
    #[default]
    Partner,
    /// The Enterprise API token endpoint.
    Enterprise,
}

impl Endpoint {
    /// `"partner"` or `"enterprise"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Partner => "partner",
            Self::Enterprise => "enterprise",
        }
    }

    /// This endpoint's token URL in `environment`, if Easyship documents one.
    pub const fn token_url_in(&self, environment: Environment) -> Option<&'static str> {
        match self {
            Self::Partner => environment.token_url(),
            Self::Enterprise => environment.enterprise_token_url(),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ApiFamily {
    /// The family an API version (`"2024-09"`, `"2023-01"`) belongs to: versions before
    /// 2024-09 are legacy. `None` if `version` is not of the form `YYYY-MM`.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::ApiFamily;
    ///
    /// assert_eq!(ApiFamily::for_version("2024-09"), Some(ApiFamily::Public));
    /// assert_eq!(ApiFamily::for_version("2025-06"), Some(ApiFamily::Public));
    /// assert_eq!(ApiFamily::for_version("2023-01"), Some(ApiFamily::Legacy));
    /// assert_eq!(ApiFamily::for_version("v2"), None);
    /// ```
    pub fn for_version(version: &str) -> Option<Self> {
        let b = version.as_bytes();
        let shape =
            b.len() == 7 && b[4] == b'-' && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit);
        if !shape {
            return None;
        }
        // Same-shape dates compare correctly as strings.
        Some(if version < "2024-09" {
            Self::Legacy
        } else {
            Self::Public
        })
    }
}

impl Environment {
    /// The base URL of the Public API of `family` in this environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::{ApiFamily, Environment};
    ///
    /// let base = Environment::Sandbox.api_base_url_for(ApiFamily::Public);
    /// assert_eq!(base.as_str(), "https://public-api-sandbox.easyship.com/");
    /// ```
    pub fn api_base_url_for(&self, family: ApiFamily) -> Url {
        let base = match family {
            ApiFamily::Legacy => self.legacy_api_base(),
            ApiFamily::Public => self.public_api_base(),
        };
        Url::parse(base).expect("the generated table holds valid URLs")
    }
}

pub(crate) fn parse_static(url: &str) -> Url {
    Url::parse(url).expect("the generated table holds valid URLs")
}

//! Pitney Bowes environments and their URLs.
//!
//! The token endpoint is `POST {token host}/oauth/token`; Shipping API calls go to
//! `{API host}/shippingservices/...`. Pitney Bowes documents that the token base URL
//! differs from the API base URL, so the two are configured apart
//! ([`ClientBuilder::token_url`](crate::ClientBuilder::token_url),
//! [`ClientBuilder::api_base_url`](crate::ClientBuilder::api_base_url)).

use std::fmt;
use std::str::FromStr;

use auth_core::AuthError;
use url::Url;

/// Path of the token endpoint below a token host.
pub const TOKEN_PATH: &str = "oauth/token";

/// Path below an API host where the Shipping API lives.
pub const API_BASE_PATH: &str = "shippingservices/";

/// A Pitney Bowes environment: which hosts tokens and API calls go to.
///
/// Each environment has its own API key and secret (Developer Hub lists a sandbox and a
/// production pair): a key of one environment is rejected by the other.
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::Environment;
///
/// let env: Environment = "production".parse().unwrap();
/// assert_eq!(env, Environment::Production);
/// assert_eq!(env.token_url().as_str(), "https://shipping-api.pitneybowes.com/oauth/token");
/// assert_eq!(
///     env.api_base_url().as_str(),
///     "https://shipping-api.pitneybowes.com/shippingservices/"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// The sandbox (test) environment; free, no postage is charged. The default.
    #[default]
    Sandbox,
    /// The production environment.
    Production,
    /// The sandbox host older SDKs use (`api-sandbox.pitneybowes.com`), still served.
    LegacySandbox,
    /// The production host older SDKs use (`api.pitneybowes.com`), still served.
    LegacyProduction,
}

impl Environment {
    /// Every environment, in declaration order.
    pub const ALL: [Self; 4] = [
        Self::Sandbox,
        Self::Production,
        Self::LegacySandbox,
        Self::LegacyProduction,
    ];

    /// The environment's name, as [`FromStr`] parses it and store keys use it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Production => "production",
            Self::LegacySandbox => "legacy-sandbox",
            Self::LegacyProduction => "legacy-production",
        }
    }

    /// The host the token request goes to (scheme and host, no path).
    pub const fn token_host(self) -> &'static str {
        match self {
            Self::Sandbox => "https://shipping-api-sandbox.pitneybowes.com",
            Self::Production => "https://shipping-api.pitneybowes.com",
            Self::LegacySandbox => "https://api-sandbox.pitneybowes.com",
            Self::LegacyProduction => "https://api.pitneybowes.com",
        }
    }

    /// The host API calls go to (scheme and host, no path).
    pub const fn api_host(self) -> &'static str {
        match self {
            Self::Sandbox => "https://shipping-api-sandbox.pitneybowes.com",
            Self::Production => "https://shipping-api.pitneybowes.com",
            Self::LegacySandbox => "https://api-sandbox.pitneybowes.com",
            Self::LegacyProduction => "https://api.pitneybowes.com",
        }
    }

    /// Whether real postage is charged in this environment.
    pub const fn is_production(self) -> bool {
        matches!(self, Self::Production | Self::LegacyProduction)
    }

    /// `{token host}/oauth/token`.
    pub fn token_url(self) -> Url {
        token_url_below(&parse_static(self.token_host()))
    }

    /// `{API host}/shippingservices/`.
    pub fn api_base_url(self) -> Url {
        api_base_url_below(&parse_static(self.api_host()))
    }
}

fn parse_static(url: &'static str) -> Url {
    // The hosts are constants of this crate, tested to parse.
    Url::parse(url).expect("environment hosts are valid URLs")
}

/// `base` as a directory, so that joining keeps its path (`/pb` + `x` = `/pb/x`).
fn as_directory(base: &Url) -> Url {
    let mut dir = base.clone();
    if !dir.path().ends_with('/') {
        let path = format!("{}/", dir.path());
        dir.set_path(&path);
    }
    dir.set_query(None);
    dir.set_fragment(None);
    dir
}

/// The token endpoint below `base` (its path kept).
pub(crate) fn token_url_below(base: &Url) -> Url {
    as_directory(base)
        .join(TOKEN_PATH)
        .expect("a relative path joins onto any base URL")
}

/// The API base below `base` (its path kept).
pub(crate) fn api_base_url_below(base: &Url) -> Url {
    as_directory(base)
        .join(API_BASE_PATH)
        .expect("a relative path joins onto any base URL")
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = AuthError;

    /// Parses `sandbox`, `production`, `legacy-sandbox` or `legacy-production`
    /// (ASCII case and `_` for `-` are tolerated).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|env| env.as_str() == wanted)
            .ok_or_else(|| {
                AuthError::InvalidConfig(format!(
                    "unknown Pitney Bowes environment `{}`; expected one of: {}",
                    s.trim(),
                    Self::ALL.map(Self::as_str).join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_environment_has_https_urls_that_parse() {
        for env in Environment::ALL {
            let token = env.token_url();
            assert_eq!(token.scheme(), "https");
            assert_eq!(token.path(), "/oauth/token");
            let api = env.api_base_url();
            assert_eq!(api.scheme(), "https");
            assert_eq!(api.path(), "/shippingservices/");
            assert_eq!(env.as_str().parse::<Environment>().unwrap(), env);
        }
    }

    #[test]
    fn documented_hosts() {
        assert_eq!(
            Environment::Sandbox.token_url().as_str(),
            "https://shipping-api-sandbox.pitneybowes.com/oauth/token"
        );
        assert_eq!(
            Environment::LegacySandbox.token_url().as_str(),
            "https://api-sandbox.pitneybowes.com/oauth/token"
        );
        assert_eq!(
            Environment::LegacyProduction.api_base_url().as_str(),
            "https://api.pitneybowes.com/shippingservices/"
        );
        assert!(Environment::Production.is_production());
        assert!(!Environment::Sandbox.is_production());
    }

    #[test]
    fn paths_below_a_base_are_kept() {
        let base: Url = "http://127.0.0.1:9/pb?x=1".parse().unwrap();
        assert_eq!(
            token_url_below(&base).as_str(),
            "http://127.0.0.1:9/pb/oauth/token"
        );
        assert_eq!(
            api_base_url_below(&base).as_str(),
            "http://127.0.0.1:9/pb/shippingservices/"
        );
        let root: Url = "http://127.0.0.1:9".parse().unwrap();
        assert_eq!(
            token_url_below(&root).as_str(),
            "http://127.0.0.1:9/oauth/token"
        );
    }

    #[test]
    fn unknown_environment_lists_the_known_ones() {
        assert_eq!(
            "LEGACY_production".parse::<Environment>().unwrap(),
            Environment::LegacyProduction
        );
        let err = "staging".parse::<Environment>().unwrap_err().to_string();
        assert!(
            err.contains("staging") && err.contains("legacy-sandbox"),
            "{err}"
        );
    }
}

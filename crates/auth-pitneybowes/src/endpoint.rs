//! Pitney Bowes environments and their URLs.
//!
//! The token endpoint is `POST {token host}/oauth/token`; Shipping API calls go to
//! `{API host}/shippingservices/...`. Pitney Bowes documents that the token base URL
//! differs from the API base URL, so the two are configured apart
//! ([`ClientBuilder::token_url`](crate::ClientBuilder::token_url),
//! [`ClientBuilder::api_base_url`](crate::ClientBuilder::api_base_url)).

use auth_core::http::url_under;
use url::Url;

/// Path of the token endpoint below a token host.
pub const TOKEN_PATH: &str = "oauth/token";

/// Path below an API host where the Shipping API lives.
pub const API_BASE_PATH: &str = "shippingservices/";

pub use crate::generated::environments::Environment;

impl Environment {
    /// `{token host}/oauth/token`.
    pub fn token_url(self) -> Url {
        below_static(self.token_host(), TOKEN_PATH)
    }

    /// `{API host}/shippingservices/`.
    pub fn api_base_url(self) -> Url {
        below_static(self.api_host(), API_BASE_PATH)
    }
}

fn below_static(host: &'static str, path: &str) -> Url {
    // The hosts are generated constants, tested to parse.
    let host = Url::parse(host).expect("environment hosts are valid URLs");
    url_under(&host, path).expect("environment hosts are valid base URLs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_environment_has_https_urls_that_parse() {
        for &env in Environment::ALL {
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
    fn unknown_environment_lists_the_known_ones() {
        assert_eq!(
            "legacy-production".parse::<Environment>().unwrap(),
            Environment::LegacyProduction
        );
        assert_eq!(Environment::default(), Environment::Production);
        let err = "staging".parse::<Environment>().unwrap_err().to_string();
        assert!(
            err.contains("staging") && err.contains("legacy-sandbox"),
            "{err}"
        );
    }
}

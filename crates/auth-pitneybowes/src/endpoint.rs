//! Pitney Bowes environments and their URLs.
//!
//! The token endpoint is `POST {token host}/oauth/token`; Shipping API calls go to
//! `{API host}/shippingservices/...`. Pitney Bowes documents that the token base URL
//! differs from the API base URL, so the two are configured apart
//! ([`ClientBuilder::token_url`](crate::ClientBuilder::token_url),
//! [`ClientBuilder::api_base_url`](crate::ClientBuilder::api_base_url)).

use url::Url;

/// Path of the token endpoint below a token host.
pub const TOKEN_PATH: &str = "oauth/token";

/// Path below an API host where the Shipping API lives.
pub const API_BASE_PATH: &str = "shippingservices/";

pub use crate::generated::environments::Environment;

impl Environment {
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
    // The hosts are generated constants, tested to parse.
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
            "legacy-production".parse::<Environment>().unwrap(),
            Environment::LegacyProduction
        );
        assert_eq!(Environment::default(), Environment::Sandbox);
        let err = "staging".parse::<Environment>().unwrap_err().to_string();
        assert!(
            err.contains("staging") && err.contains("legacy-sandbox"),
            "{err}"
        );
    }
}

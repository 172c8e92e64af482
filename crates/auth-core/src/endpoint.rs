//! The endpoint settings every vendor builder shares ([`EndpointConfig`]), validated the
//! same way everywhere, and [`IntoUrl`] for its URL setters.

use std::fmt;
use std::sync::Arc;

use crate::http::{RetryPolicy, TokenHttpClient, check_endpoint, show_url};
use crate::{AuthError, Clock, Url};

/// A URL, or something that parses into one (`&str`, `String`, `Url`, `&Url`): what the
/// builders' URL setters take. A string that does not parse is reported by `build()`.
pub trait IntoUrl {
    /// The URL, or why the text is not one.
    ///
    /// # Errors
    ///
    /// The parse error, as text.
    fn into_url(self) -> Result<Url, String>;
}

impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, String> {
        Ok(self)
    }
}

impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, String> {
        Ok(self.clone())
    }
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, String> {
        Url::parse(self).map_err(|e| e.to_string())
    }
}

impl IntoUrl for String {
    fn into_url(self) -> Result<Url, String> {
        self.as_str().into_url()
    }
}

impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, String> {
        self.as_str().into_url()
    }
}

/// The settings every vendor `ClientBuilder` embeds: the token URL, the base URL (every
/// host of the vendor at once, paths kept: what an emulator needs), the API base URL, the
/// HTTP client, the retry policy and the clock. Vendor builders forward their setters
/// here and call [`resolve`](Self::resolve) in `build()`, so validation is identical in
/// every crate: HTTPS unless the host is loopback, no query, no fragment, no credentials.
///
/// # Examples
///
/// ```
/// use auth_core::endpoint::{EndpointConfig, UrlRole};
///
/// let mut config = EndpointConfig::default();
/// config.set_url(UrlRole::Base, "http://127.0.0.1:8080/");
/// let resolved = config.resolve().unwrap();
/// assert_eq!(resolved.base_url.unwrap().as_str(), "http://127.0.0.1:8080/");
///
/// let mut bad = EndpointConfig::default();
/// bad.set_url(UrlRole::Token, "http://vendor.example/oauth/token");
/// assert!(bad.resolve().is_err(), "plain http to a remote host is refused");
/// ```
#[derive(Clone, Default)]
pub struct EndpointConfig {
    token_url: Option<Result<Url, String>>,
    base_url: Option<Result<Url, String>>,
    api_base_url: Option<Result<Url, String>>,
    http_client: Option<reqwest::Client>,
    retry_policy: Option<RetryPolicy>,
    clock: Option<Arc<dyn Clock>>,
}

/// Which URL of an [`EndpointConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlRole {
    /// The token endpoint (overrides the environment's).
    Token,
    /// Every host of the vendor at once, paths kept (an emulator, a proxy).
    Base,
    /// The API's base URL (overrides the environment's).
    Api,
}

impl UrlRole {
    fn setting(self) -> &'static str {
        match self {
            Self::Token => "token_url",
            Self::Base => "base_url",
            Self::Api => "api_base_url",
        }
    }
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |url: &Option<Result<Url, String>>| match url {
            Some(Ok(url)) => Some(show_url(url)),
            Some(Err(_)) => Some("(invalid)".to_owned()),
            None => None,
        };
        f.debug_struct("EndpointConfig")
            .field("token_url", &show(&self.token_url))
            .field("base_url", &show(&self.base_url))
            .field("api_base_url", &show(&self.api_base_url))
            .field("http_client", &self.http_client.is_some())
            .field("retry_policy", &self.retry_policy)
            .finish_non_exhaustive()
    }
}

/// An [`EndpointConfig`] checked by [`resolve`](EndpointConfig::resolve).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResolvedEndpoints {
    /// The token URL override.
    pub token_url: Option<Url>,
    /// The base URL override.
    pub base_url: Option<Url>,
    /// The API base URL override.
    pub api_base_url: Option<Url>,
}

impl EndpointConfig {
    /// Sets one URL. A bad URL is reported by [`resolve`](Self::resolve).
    pub fn set_url(&mut self, role: UrlRole, url: impl IntoUrl) {
        let url = Some(url.into_url());
        match role {
            UrlRole::Token => self.token_url = url,
            UrlRole::Base => self.base_url = url,
            UrlRole::Api => self.api_base_url = url,
        }
    }

    /// Uses this HTTP client for token calls (it must not follow redirects).
    pub fn set_http_client(&mut self, client: reqwest::Client) {
        self.http_client = Some(client);
    }

    /// Sets the token call's retry policy.
    pub fn set_retry_policy(&mut self, policy: RetryPolicy) {
        self.retry_policy = Some(policy);
    }

    /// Sets the clock (a [`ManualClock`](crate::ManualClock) in tests).
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = Some(clock);
    }

    /// The clock, if one was set.
    pub fn clock(&self) -> Option<&Arc<dyn Clock>> {
        self.clock.as_ref()
    }

    /// Checks every URL set.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] naming the setting: a URL that does not parse, plain
    /// http to a host that is not loopback, a query, a fragment, or credentials in it.
    pub fn resolve(&self) -> Result<ResolvedEndpoints, AuthError> {
        let check =
            |role: UrlRole, url: &Option<Result<Url, String>>| -> Result<Option<Url>, AuthError> {
                match url {
                    None => Ok(None),
                    Some(Err(e)) => Err(AuthError::InvalidConfig(format!(
                        "{} is not a URL: {e}",
                        role.setting()
                    ))),
                    Some(Ok(url)) => check_url(role.setting(), url).map(|()| Some(url.clone())),
                }
            };
        Ok(ResolvedEndpoints {
            token_url: check(UrlRole::Token, &self.token_url)?,
            base_url: check(UrlRole::Base, &self.base_url)?,
            api_base_url: check(UrlRole::Api, &self.api_base_url)?,
        })
    }

    /// The token HTTP client for `product` (`crate-name/version`, the `User-Agent`'s
    /// first part) with this configuration's client, policy and clock.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the HTTP client cannot be built.
    pub fn token_http_client(&self, product: &'static str) -> Result<TokenHttpClient, AuthError> {
        let mut builder = TokenHttpClient::builder(product);
        if let Some(client) = &self.http_client {
            builder = builder.http_client(client.clone());
        }
        if let Some(policy) = &self.retry_policy {
            builder = builder.retry_policy(policy.clone());
        }
        if let Some(clock) = &self.clock {
            builder = builder.clock(Arc::clone(clock));
        }
        builder.build()
    }
}

/// Checks a configured endpoint URL the same way for every vendor: HTTPS unless the host
/// is loopback, and no query, fragment or credentials (a token call adds its own query;
/// credentials in a URL end up in logs).
///
/// # Errors
///
/// [`AuthError::InvalidConfig`] naming `setting` and what is wrong (never the URL's
/// credentials or query).
pub fn check_url(setting: &str, url: &Url) -> Result<(), AuthError> {
    if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return Err(AuthError::InvalidConfig(format!(
            "{setting} needs a scheme and a host"
        )));
    }
    check_endpoint(url)
        .map_err(|e| AuthError::InvalidConfig(format!("{setting}: {}", config_message(&e))))?;
    let problem = if !url.username().is_empty() || url.password().is_some() {
        Some("credentials (put them in the builder's credential settings instead)")
    } else if url.query().is_some() {
        Some("a query string")
    } else if url.fragment().is_some() {
        Some("a fragment")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(AuthError::InvalidConfig(format!(
            "{setting} must not contain {problem}: {}",
            show_url(url)
        ))),
        None => Ok(()),
    }
}

fn config_message(error: &AuthError) -> String {
    match error {
        AuthError::InvalidConfig(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_one(role: UrlRole, url: &str) -> Result<ResolvedEndpoints, AuthError> {
        let mut config = EndpointConfig::default();
        config.set_url(role, url);
        config.resolve()
    }

    #[test]
    fn every_url_is_checked_the_same_way() {
        for role in [UrlRole::Token, UrlRole::Base, UrlRole::Api] {
            assert!(resolve_one(role, "https://vendor.example/path/").is_ok());
            assert!(resolve_one(role, "http://127.0.0.1:9/").is_ok());
            assert!(resolve_one(role, "http://localhost:9/").is_ok());
            for bad in [
                "http://vendor.example/",
                "https://vendor.example/?token=abc",
                "https://vendor.example/#frag",
                "https://user:pw@vendor.example/",
                "not a url",
                "mailto:someone@example.com",
            ] {
                let error = resolve_one(role, bad).unwrap_err();
                let text = error.to_string();
                assert!(text.contains(role.setting()), "{text}");
                assert!(!text.contains("pw") && !text.contains("abc"), "{text}");
            }
        }
    }

    #[test]
    fn setters_take_strings_and_urls() {
        let mut config = EndpointConfig::default();
        config.set_url(UrlRole::Token, String::from("https://a.example/t"));
        let api = Url::parse("https://b.example/api/").unwrap();
        config.set_url(UrlRole::Api, &api);
        assert_eq!(
            api.as_str(),
            "https://b.example/api/",
            "a borrowed Url stays usable"
        );
        let resolved = config.resolve().unwrap();
        assert_eq!(resolved.token_url.unwrap().as_str(), "https://a.example/t");
        assert_eq!(
            resolved.api_base_url.unwrap().as_str(),
            "https://b.example/api/"
        );
        assert!(resolved.base_url.is_none());
    }
}

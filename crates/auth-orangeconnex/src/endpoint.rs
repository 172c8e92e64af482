//! Orange Connex environments and the URLs derived from them.
//!
//! Every OAuth endpoint lives on the environment's host: `GET /oauth/authorize` (the
//! browser step) and `POST /oauth/token` (code exchange and refresh). The Open API itself
//! is served under `/openapi/` on the same host (the vendor's API reference lists
//! `https://openapi-stage-hk.orangeconnex.com/openapi` as the server of every API call).

use std::fmt;

use auth_core::AuthError;
use auth_core::http::url_under;
use url::Url;

use auth_core::http::show_url;

pub use crate::generated::environments::Environment;

/// Path of the authorization endpoint below a host.
pub const AUTHORIZE_PATH: &str = "oauth/authorize";

/// Path of the token endpoint below a host.
pub const TOKEN_PATH: &str = "oauth/token";

/// Path below a host where the Open API lives.
pub const API_BASE_PATH: &str = "openapi/";

impl Environment {
    /// The host as a URL (with a trailing `/`).
    pub fn base_url(self) -> Url {
        // The hosts are generated constants, tested to parse.
        Url::parse(self.host()).expect("environment hosts are valid URLs")
    }

    /// `{host}/oauth/authorize`.
    pub fn authorize_url(self) -> Url {
        Endpoints::of(self).authorize_url
    }

    /// `{host}/oauth/token`.
    pub fn token_url(self) -> Url {
        Endpoints::of(self).token_url
    }

    /// `{host}/openapi/`.
    pub fn api_base_url(self) -> Url {
        Endpoints::of(self).api_base_url
    }
}

/// The URLs a [`Client`](crate::Client) talks to, resolved once when it is built.
///
/// `Debug` shows scheme, host, port and path only (a base URL may carry credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `GET` target of the browser step.
    pub authorize_url: Url,
    /// `POST` target of the code exchange and the refresh.
    pub token_url: Url,
    /// Base of the Open API calls (`…/openapi/`).
    pub api_base_url: Url,
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("authorize_url", &show_url(&self.authorize_url))
            .field("token_url", &show_url(&self.token_url))
            .field("api_base_url", &show_url(&self.api_base_url))
            .finish()
    }
}

impl Endpoints {
    /// The endpoints under `base` (its path is kept: `http://127.0.0.1:8080/oc` gives
    /// `http://127.0.0.1:8080/oc/oauth/token`).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if `base` has no host (it cannot carry a path), or
    /// has a query or fragment. The URL is not quoted (it may carry credentials).
    pub fn under(base: &Url) -> Result<Self, AuthError> {
        if base.query().is_some() || base.fragment().is_some() {
            return Err(AuthError::InvalidConfig(
                "the base URL must not have a query or fragment".into(),
            ));
        }
        Ok(Self {
            authorize_url: url_under(base, AUTHORIZE_PATH)?,
            token_url: url_under(base, TOKEN_PATH)?,
            api_base_url: url_under(base, API_BASE_PATH)?,
        })
    }

    /// The endpoints of a vendor environment.
    pub fn of(environment: Environment) -> Self {
        Self::under(&environment.base_url()).expect("environment URLs are valid bases")
    }
}

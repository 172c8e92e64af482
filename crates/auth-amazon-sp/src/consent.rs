//! The website authorization workflow: the consent URL the seller is sent to, and the
//! redirect Amazon sends back.
//!
//! 1. Your app builds the consent URL ([`Client::consent_url`](crate::Client::consent_url)),
//!    keeps the returned [`State`] in the user's session, and redirects the seller there.
//! 2. The seller signs in to Seller Central (or Vendor Central) and consents.
//! 3. Amazon redirects to your redirect URI with `state`, `selling_partner_id`,
//!    `mws_auth_token` and `spapi_oauth_code`: [`AuthorizationRedirect::parse`] checks the
//!    state first.
//! 4. Within five minutes, exchange the code for a refresh token
//!    ([`Client::exchange_code`](crate::Client::exchange_code)).

use std::fmt;

use auth_core::http::url_under;
use auth_core::{AuthError, OAuthErrorCode, Secret, State, Url};

use crate::endpoint::{CONSENT_PATH, Marketplace, Portal};

/// What to put in a consent URL.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{ConsentRequest, Marketplace, Portal};
///
/// let request = ConsentRequest::new("amzn1.sp.solution.example", Marketplace::Germany)
///     .portal(Portal::SellerCentral)
///     .draft(true);
/// let (url, state) = request.url().unwrap();
/// assert_eq!(url.host_str(), Some("sellercentral-europe.amazon.com"));
/// assert!(url.query().unwrap().ends_with("&version=beta"));
/// assert!(state.verify(url.query_pairs().find(|(k, _)| k == "state").unwrap().1.as_ref()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRequest {
    application_id: String,
    marketplace: Marketplace,
    portal: Portal,
    draft: bool,
    redirect_uri: Option<Url>,
}

impl ConsentRequest {
    /// A Seller Central consent request for a published application.
    ///
    /// `application_id` is the SP-API application id (`amzn1.sp.solution.…`), not the LWA
    /// client id.
    pub fn new(application_id: impl Into<String>, marketplace: Marketplace) -> Self {
        Self {
            application_id: application_id.into(),
            marketplace,
            portal: Portal::SellerCentral,
            draft: false,
            redirect_uri: None,
        }
    }

    /// Seller Central (sellers) or Vendor Central (vendors).
    #[must_use]
    pub fn portal(mut self, portal: Portal) -> Self {
        self.portal = portal;
        self
    }

    /// Whether the application is still a draft: adds `version=beta`, which Amazon
    /// requires while the application is in draft status (remove it once published).
    #[must_use]
    pub fn draft(mut self, draft: bool) -> Self {
        self.draft = draft;
        self
    }

    /// Which of the application's registered redirect URIs Amazon sends the seller back
    /// to (default: the first one registered). Must be `https`.
    #[must_use]
    pub fn redirect_uri(mut self, redirect_uri: Url) -> Self {
        self.redirect_uri = Some(redirect_uri);
        self
    }

    /// The marketplace whose Seller Central or Vendor Central host is used.
    pub fn marketplace(&self) -> Marketplace {
        self.marketplace
    }

    /// The consent URL on Amazon's host and a fresh random state.
    ///
    /// # Errors
    ///
    /// As [`url_on`](Self::url_on).
    pub fn url(&self) -> Result<(Url, State), AuthError> {
        self.url_on(None)
    }

    /// The consent URL below `base` (an emulator, its path kept; `None`: Amazon's host for
    /// the marketplace and portal) and a fresh random state.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty application id, a marketplace with no
    /// confirmed host for the portal, a redirect URI that is not `https`, or a `base`
    /// without a host.
    pub fn url_on(&self, base: Option<&Url>) -> Result<(Url, State), AuthError> {
        let state = State::new();
        let url = self.url_with_state(base, &state)?;
        Ok((url, state))
    }

    pub(crate) fn url_with_state(
        &self,
        base: Option<&Url>,
        state: &State,
    ) -> Result<Url, AuthError> {
        if self.application_id.trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the SP-API application id (amzn1.sp.solution.…) is empty".into(),
            ));
        }
        if let Some(uri) = &self.redirect_uri
            && uri.scheme() != "https"
        {
            return Err(AuthError::InvalidConfig(
                "Amazon accepts only https redirect URIs".into(),
            ));
        }
        let mut url = match base {
            Some(base) => url_under(base, CONSENT_PATH)?,
            None => {
                let host = self.marketplace.consent_host(self.portal).ok_or_else(|| {
                    AuthError::InvalidConfig(format!(
                        "no {} host is known for marketplace {} ({})",
                        self.portal.name(),
                        self.marketplace.country_code(),
                        self.marketplace.as_str()
                    ))
                })?;
                Url::parse(&format!("https://{host}{CONSENT_PATH}"))
                    .expect("static consent URL is valid")
            }
        };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("application_id", &self.application_id);
            query.append_pair("state", state.as_str());
            if self.draft {
                query.append_pair("version", "beta");
            }
            if let Some(uri) = &self.redirect_uri {
                query.append_pair("redirect_uri", uri.as_str());
            }
        }
        Ok(url)
    }
}

/// What Amazon sends to the redirect URI once the seller consented, after the `state`
/// was checked.
///
/// `Debug` never shows the code or the MWS token.
#[derive(Clone)]
pub struct AuthorizationRedirect {
    selling_partner_id: Option<String>,
    spapi_oauth_code: Secret,
    mws_auth_token: Option<Secret>,
}

impl AuthorizationRedirect {
    /// Parses the redirect's query string (with or without the leading `?`) and checks its
    /// `state` against the one kept from [`ConsentRequest::url`], in constant time, before
    /// anything else.
    ///
    /// # Errors
    ///
    /// - [`AuthError::StateMismatch`] if `state` is missing or different: discard the
    ///   redirect;
    /// - [`AuthError::OAuth`] if the redirect carries an OAuth `error` instead of a code,
    ///   or no `spapi_oauth_code`.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::AuthorizationRedirect;
    /// use auth_core::State;
    ///
    /// let state = State::from_saved("kept-in-session");
    /// let redirect = AuthorizationRedirect::parse(
    ///     "?state=kept-in-session&selling_partner_id=A3EXAMPLE&mws_auth_token=amzn.mws.x&spapi_oauth_code=ANEXAMPLE",
    ///     &state,
    /// ).unwrap();
    /// assert_eq!(redirect.selling_partner_id(), Some("A3EXAMPLE"));
    /// assert_eq!(redirect.spapi_oauth_code().expose_secret(), "ANEXAMPLE");
    ///
    /// assert!(AuthorizationRedirect::parse("state=forged&spapi_oauth_code=x", &state).is_err());
    /// ```
    pub fn parse(query: &str, expected: &State) -> Result<Self, AuthError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut state = None;
        let mut selling_partner_id = None;
        let mut code = None;
        let mut mws_auth_token = None;
        let mut error = None;
        let mut error_description = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "state" => state = Some(value),
                "selling_partner_id" => selling_partner_id = Some(value),
                "spapi_oauth_code" => code = Some(value),
                "mws_auth_token" => mws_auth_token = Some(value),
                "error" => error = Some(value),
                "error_description" => error_description = Some(value),
                _ => {}
            }
        }
        expected.check(state.as_deref().unwrap_or(""))?;
        if let Some(error) = error {
            return Err(AuthError::oauth(
                OAuthErrorCode::parse(&error),
                error_description,
                None,
            ));
        }
        let code = code.filter(|c| !c.is_empty()).ok_or_else(|| {
            AuthError::oauth(
                OAuthErrorCode::InvalidRequest,
                Some("the authorization redirect has no spapi_oauth_code".into()),
                None,
            )
        })?;
        Ok(Self {
            selling_partner_id: selling_partner_id.filter(|s| !s.is_empty()),
            spapi_oauth_code: Secret::new(code),
            mws_auth_token: mws_auth_token.filter(|s| !s.is_empty()).map(Secret::new),
        })
    }

    /// Like [`parse`](Self::parse) for the whole redirect URL.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn from_url(url: &Url, expected: &State) -> Result<Self, AuthError> {
        Self::parse(url.query().unwrap_or(""), expected)
    }

    /// The selling partner's id (seller or vendor): the key to store its refresh token under.
    pub fn selling_partner_id(&self) -> Option<&str> {
        self.selling_partner_id.as_deref()
    }

    /// The authorization code to exchange within five minutes.
    pub fn spapi_oauth_code(&self) -> &Secret {
        &self.spapi_oauth_code
    }

    /// The MWS auth token, sent only for hybrid (SP-API and MWS) applications.
    pub fn mws_auth_token(&self) -> Option<&Secret> {
        self.mws_auth_token.as_ref()
    }
}

impl fmt::Debug for AuthorizationRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRedirect")
            .field("selling_partner_id", &self.selling_partner_id)
            .field("spapi_oauth_code", &self.spapi_oauth_code)
            .field("mws_auth_token", &self.mws_auth_token)
            .finish()
    }
}

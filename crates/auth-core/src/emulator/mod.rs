//! Local stand-ins of vendors' token endpoints, for tests (feature `emulator`).
//!
//! Each vendor crate's `emulator` module (feature `emulator` there) is this
//! [`Emulator`], specialised by a [`Vendor`] model that holds only the vendor's wire
//! formats (paths, encodings, bodies, status codes) and its [`Rules`]. Everything else
//! lives here, once:
//!
//! - a tiny HTTP/1.1 server on `127.0.0.1`, a random port (hyper's server connection,
//!   already in the tree through reqwest);
//! - the registered app (client id and secret, redirect URIs) and the default seller;
//! - the browser step ([`Emulator::authorize`], or `GET` on the vendor's authorize path
//!   answering `302`), single-use authorization codes;
//! - token issuing with random values, access tokens that expire after a configurable
//!   lifetime ([`Emulator::set_access_token_lifetime`], [`Emulator::advance`]), refresh
//!   tokens that rotate (single use) or stay ([`Rotation`]) and may lapse;
//! - an API probe: any request below the vendor's API base checks the token where and
//!   how the vendor's API expects it, and answers the vendor's own rejected-token
//!   response for an expired, revoked or unknown one;
//! - faults injected into the next token responses ([`Fault`]) and request counts
//!   ([`Counts`]).
//!
//! # Examples
//!
//! With a vendor crate (here Pitney Bowes, feature `emulator`):
//!
//! ```ignore
//! let emulator = auth_pitneybowes::emulator::Emulator::start().await;
//! let client = emulator.client_builder().build()?;
//! let provider = client.provider();
//! let response = emulator.probe(&provider).await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(emulator.counts().grant("client_credentials"), 1);
//! ```

mod fault;
mod message;
mod server;
mod state;
mod vendor;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};

pub use fault::{Counts, Fault};
pub use message::{Request, Response, single};
pub use state::{App, Issued};
pub use vendor::{
    AuthorizeCall, Authorized, ErrorCode, GrantCall, GrantKind, Paths, Rejection, Rotation, Rules,
    TokenCall, TokenError, Vendor, random_hex, random_token, random_token_std, random_uuid,
};

use crate::{AuthError, CachedTokenProvider, Url};
use message::Ending;
use server::{Handler, Server};
use state::State;

/// The seller a new emulator authorizes unless told otherwise.
pub const DEFAULT_SELLER: &str = "seller-1";

/// A running emulator of vendor `V`: an HTTP server on `127.0.0.1` and its state.
///
/// Vendor crates name it `Emulator` (`auth_easyship::emulator::Emulator` is
/// `Emulator<Easyship>`). Dropping it stops the server. It must be started inside a
/// tokio runtime.
pub struct Emulator<V: Vendor> {
    shared: Arc<Shared<V>>,
    url: Url,
    _server: Server,
}

struct Shared<V> {
    vendor: V,
    state: Mutex<State>,
}

impl<V: Vendor> fmt::Debug for Emulator<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("vendor", &self.shared.vendor.name())
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds an [`Emulator`]: the app's credentials, redirect URIs, the default seller,
/// the access-token lifetime, a configured vendor model.
#[derive(Debug)]
pub struct EmulatorBuilder<V: Vendor> {
    vendor: V,
    client: Option<(String, String)>,
    application_id: Option<String>,
    redirect_uris: Vec<String>,
    seller: String,
    access_token_lifetime: Option<Duration>,
}

impl<V: Vendor> EmulatorBuilder<V> {
    /// A builder for `vendor`'s model.
    pub fn new(vendor: V) -> Self {
        Self {
            vendor,
            client: None,
            application_id: None,
            redirect_uris: Vec::new(),
            seller: DEFAULT_SELLER.to_owned(),
            access_token_lifetime: None,
        }
    }

    /// The app's client id and secret (default: random ones in the vendor's format).
    #[must_use]
    pub fn client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.client = Some((client_id.into(), client_secret.into()));
        self
    }

    /// The id the browser step names the app by, where it differs from the client id
    /// (Amazon's SP-API application id).
    #[must_use]
    pub fn application_id(mut self, application_id: impl Into<String>) -> Self {
        self.application_id = Some(application_id.into());
        self
    }

    /// Registers a redirect URI (none registered: any is accepted; the first one is
    /// used when an authorize request names none).
    #[must_use]
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uris.push(redirect_uri.into());
        self
    }

    /// The seller who consents in the browser step (default [`DEFAULT_SELLER`]).
    #[must_use]
    pub fn seller(mut self, seller: impl Into<String>) -> Self {
        self.seller = seller.into();
        self
    }

    /// The access-token lifetime (default: the vendor's).
    #[must_use]
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = Some(lifetime);
        self
    }

    /// Starts the server.
    ///
    /// # Errors
    ///
    /// When `127.0.0.1` cannot be bound.
    pub async fn try_start(self) -> io::Result<Emulator<V>> {
        let (client_id, client_secret) = self.client.unwrap_or_else(|| self.vendor.new_client());
        let application_id = self
            .application_id
            .unwrap_or_else(|| self.vendor.new_application_id(&client_id));
        let app = App {
            client_id,
            client_secret,
            application_id,
            redirect_uris: self.redirect_uris,
        };
        let mut state = State::new(self.vendor.rules(), app, self.seller);
        if let Some(lifetime) = self.access_token_lifetime {
            state.access_token_lifetime = lifetime;
        }
        let shared = Arc::new(Shared {
            vendor: self.vendor,
            state: Mutex::new(state),
        });
        let server = Server::start(Arc::clone(&shared) as Arc<dyn Handler>).await?;
        let url = Url::parse(&format!("http://{}/", server.addr()))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(Emulator {
            shared,
            url,
            _server: server,
        })
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When `127.0.0.1` cannot be bound (this is a test helper).
    pub async fn start(self) -> Emulator<V> {
        self.try_start()
            .await
            .expect("the emulator binds a port on 127.0.0.1")
    }
}

impl<V: Vendor + Default> Emulator<V> {
    /// Starts an emulator with a random app, the default seller and the vendor's
    /// access-token lifetime.
    ///
    /// # Panics
    ///
    /// When `127.0.0.1` cannot be bound (this is a test helper).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// A builder, to choose credentials, redirect URIs, the seller or the lifetime.
    pub fn builder() -> EmulatorBuilder<V> {
        EmulatorBuilder::new(V::default())
    }
}

impl<V: Vendor> Emulator<V> {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// The base URL (`http://127.0.0.1:<port>/`): give it to the client builder's
    /// `base_url` (what [`client_builder`](Self::client_builder) does).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The vendor model.
    pub fn vendor(&self) -> &V {
        &self.shared.vendor
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> Url {
        self.under(self.shared.vendor.paths().token)
    }

    /// The API base URL (the probe answers every path below it).
    pub fn api_base_url(&self) -> Url {
        self.under(self.shared.vendor.paths().api_base)
    }

    /// A URL of the API probe.
    pub fn probe_url(&self) -> Url {
        self.under(&format!(
            "{}emulator/probe",
            self.shared.vendor.paths().api_base
        ))
    }

    fn under(&self, path: &str) -> Url {
        let mut url = self.url.clone();
        url.set_path(path);
        url
    }

    /// The registered app (client id, secret, redirect URIs).
    pub fn app(&self) -> App {
        self.state().app.clone()
    }

    /// The app's client id.
    pub fn client_id(&self) -> String {
        self.state().app.client_id.clone()
    }

    /// The app's client secret.
    pub fn client_secret(&self) -> String {
        self.state().app.client_secret.clone()
    }

    /// The vendor's client builder with the app's credentials and `base_url` set to this
    /// emulator: add what your test needs, then `build()`.
    pub fn client_builder(&self) -> V::ClientBuilder {
        let app = self.app();
        self.shared.vendor.client_builder(&self.url, &app)
    }

    /// The browser step for the default seller: reads `authorize_url` (the client's
    /// authorize or consent URL), issues a code and returns the redirect back to the
    /// app, carrying the code and the state where the vendor puts them.
    ///
    /// # Errors
    ///
    /// Why the page refuses: the URL is not this emulator's authorize page or lacks a
    /// parameter, the client is unknown, or the redirect URI is not registered.
    pub fn authorize(&self, authorize_url: &Url) -> Result<Url, TokenError> {
        let seller = self.state().seller.clone();
        self.authorize_as(authorize_url, &seller)
    }

    /// [`authorize`](Self::authorize) with `seller` consenting.
    ///
    /// # Errors
    ///
    /// As [`authorize`](Self::authorize).
    pub fn authorize_as(&self, authorize_url: &Url, seller: &str) -> Result<Url, TokenError> {
        let path_and_query = match authorize_url.query() {
            Some(query) => format!("{}?{query}", authorize_url.path()),
            None => authorize_url.path().to_owned(),
        };
        let request = Request::new(
            Method::GET,
            &path_and_query,
            http::HeaderMap::new(),
            bytes::Bytes::new(),
        );
        if authorize_url.origin() != self.url.origin()
            || Some(request.path()) != self.shared.vendor.paths().authorize
        {
            return Err(TokenError::new(
                ErrorCode::InvalidRequest,
                "not this emulator's authorize page",
            ));
        }
        self.shared.authorize(&request, seller)
    }

    /// A refresh token for `seller`, as if the seller had just authorized the app
    /// (Amazon's self-authorization in Seller Central), with the granted `scope`.
    pub fn issue_refresh_token(&self, seller: &str, scope: Option<&str>) -> String {
        let token = self.shared.vendor.new_refresh_token();
        self.state()
            .grant_refresh_token(token, seller, scope.map(str::to_owned))
    }

    /// The refresh tokens of `seller` the token endpoint accepts now (with single-use
    /// rotation: the one live link of each chain).
    pub fn live_refresh_tokens(&self, seller: &str) -> Vec<String> {
        self.state().live_refresh_tokens(seller)
    }

    /// Whether the API accepts `access_token` now, and for which seller (`None`: an
    /// application token).
    ///
    /// # Errors
    ///
    /// Why the API would refuse it.
    pub fn check_access_token(&self, access_token: &str) -> Result<Option<String>, Rejection> {
        self.state().check_access(Some(access_token))
    }

    /// The requests seen so far.
    pub fn counts(&self) -> Counts {
        self.state().counts.clone()
    }

    /// Sets every count back to zero.
    pub fn reset_counts(&self) {
        self.state().counts = Counts::default();
    }

    /// Injects `fault` into the next token response (after those already queued).
    pub fn inject(&self, fault: Fault) {
        self.inject_n(fault, 1);
    }

    /// Injects `fault` into the next `times` token responses.
    pub fn inject_n(&self, fault: Fault, times: usize) {
        let mut state = self.state();
        for _ in 0..times {
            state.faults.push_back(fault.clone());
        }
    }

    /// Faults not yet used.
    pub fn pending_faults(&self) -> usize {
        self.state().faults.len()
    }

    /// Drops the faults not yet used.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// The lifetime of access tokens issued from now on.
    pub fn access_token_lifetime(&self) -> Duration {
        self.state().access_token_lifetime
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.state().access_token_lifetime = lifetime;
    }

    /// The emulator's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.state().now()
    }

    /// Moves the emulator's clock forward: access tokens, codes and refresh tokens
    /// expire by it (the client's clock is not moved).
    pub fn advance(&self, by: Duration) {
        self.state().advance(by);
    }

    /// Revokes every access token issued so far: the next API call with one is refused
    /// (refresh tokens stay valid).
    pub fn revoke_access_tokens(&self) {
        self.state().revoke_access_tokens();
    }

    /// Revokes everything `seller` granted: refresh tokens are `invalid_grant`, access
    /// tokens refused.
    pub fn revoke_seller(&self, seller: &str) {
        self.state().revoke_seller(seller);
    }

    /// Calls the API probe through `provider` (its token on the vendor's header, one
    /// retry after a rejected token): what a user's own API call does.
    ///
    /// # Errors
    ///
    /// The provider's token error, or [`AuthError::ApiTransport`].
    pub async fn probe(
        &self,
        provider: &CachedTokenProvider,
    ) -> Result<reqwest::Response, AuthError> {
        let http = crate::api_http_client()?;
        provider.send(http.get(self.probe_url())).await
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves consistent data: every transition is
    // applied whole before anything can panic.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<V: Vendor> Shared<V> {
    fn route(&self, request: Request) -> Response {
        let paths = self.vendor.paths();
        let path = request.path();
        if Some(path) == paths.authorize && request.method() == Method::GET {
            let seller = lock(&self.state).seller.clone();
            return match self.authorize(&request, &seller) {
                Ok(redirect) => Response::redirect(&redirect),
                Err(error) => authorize_page(&error),
            };
        }
        if path.starts_with(paths.api_base) {
            return self.api(&request);
        }
        Response::empty(StatusCode::NOT_FOUND)
    }

    fn authorize(&self, request: &Request, seller: &str) -> Result<Url, TokenError> {
        lock(&self.state).counts.add("authorize");
        let call = self.vendor.decode_authorize(request)?;
        let code = self.vendor.new_code();
        let redirect_uri = lock(&self.state).authorize(&call, seller, code.clone())?;
        let redirect_uri = Url::parse(&redirect_uri).map_err(|_| {
            TokenError::new(
                ErrorCode::InvalidRequest,
                "redirect_uri is not an absolute URL",
            )
        })?;
        Ok(self.vendor.authorize_redirect(
            &redirect_uri,
            &Authorized {
                code,
                state: call.state,
                seller: seller.to_owned(),
            },
        ))
    }

    fn api(&self, request: &Request) -> Response {
        let mut state = lock(&self.state);
        state.counts.add("api");
        match state.check_access(self.vendor.api_token(request)) {
            Ok(seller) => self.vendor.api_ok(request, seller.as_deref()),
            Err(rejection) => {
                state.counts.add("api:rejected");
                state
                    .counts
                    .add(&format!("api:rejected:{}", rejection.as_str()));
                self.vendor.api_rejected(rejection)
            }
        }
    }

    fn token(&self, request: &Request) -> Response {
        let mut state = lock(&self.state);
        state.counts.add("token");
        let call = match self.vendor.decode_token_request(request) {
            Ok(call) => call,
            Err(error) => {
                state.counts.add("token:error");
                if let Some(grant) = error.grant {
                    state.counts.add(&format!("token:{grant}"));
                }
                return self.vendor.token_error(&error);
            }
        };
        let grant = call.grant.kind();
        state.counts.add(&format!("token:{grant}"));
        let fault = state.faults.pop_front();
        if fault.is_some() {
            state.counts.add("token:fault");
        }
        let (delay, ending) = match fault {
            None => (None, Ending::Whole),
            Some(Fault::Status(status)) => {
                state.counts.add("token:error");
                return self.vendor.unavailable(status);
            }
            Some(Fault::RateLimited { retry_after }) => {
                state.counts.add("token:error");
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                return self
                    .vendor
                    .unavailable(StatusCode::TOO_MANY_REQUESTS)
                    .with_header(http::header::RETRY_AFTER, &seconds.to_string());
            }
            Some(Fault::MalformedBody) => {
                return Response::bytes(StatusCode::OK, "application/json", r#"{"access_token":"#);
            }
            Some(Fault::RevokeGrant) => {
                state.counts.add("token:error");
                state.revoke_presented(&call);
                return self.vendor.token_error(
                    &TokenError::new(ErrorCode::InvalidGrant, "the grant was revoked")
                        .for_grant(grant),
                );
            }
            Some(Fault::Delay(delay)) => (Some(delay), Ending::Whole),
            Some(Fault::LoseResponse) => (None, Ending::Cut),
        };
        let mut response = match state.token(&self.vendor, &call) {
            Ok(issued) => self.vendor.token_response(&state.app, &issued),
            Err(error) => {
                state.counts.add("token:error");
                self.vendor.token_error(&error)
            }
        };
        response.delay = delay;
        response.ending = ending;
        response
    }
}

/// The browser step's error page.
fn authorize_page(error: &TokenError) -> Response {
    Response::bytes(
        StatusCode::BAD_REQUEST,
        "text/plain; charset=utf-8",
        format!("{}: {}", error.code.as_str(), error.reason),
    )
}

impl<V: Vendor> Handler for Shared<V> {
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move {
            let paths = self.vendor.paths();
            if request.path() == paths.token && request.method() == Method::POST {
                self.token(&request)
            } else {
                self.route(request)
            }
        })
    }
}

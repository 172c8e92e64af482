//! The emulator's state and its transitions: the app, codes, refresh-token chains,
//! access tokens, counts and the fault queue. Pure (no I/O, the time is passed in), so
//! the rules are tested without a server.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::fault::{Counts, Fault};
use super::vendor::{
    AuthorizeCall, ErrorCode, GrantCall, GrantKind, Rejection, Rotation, Rules, TokenCall,
    TokenError, Vendor,
};

/// The application registered with an emulator: its credentials and redirect URIs.
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) application_id: String,
    pub(crate) redirect_uris: Vec<String>,
}

impl App {
    /// The client id (Pitney Bowes: the API key; Amazon: the LWA client id).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret (Pitney Bowes: the API secret).
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The id the browser step names the app by: the client id, except at Amazon (the
    /// SP-API application id, `amzn1.sp.solution.…`).
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// The registered redirect URIs (empty: any is accepted).
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }
}

/// A token the emulator issued, for [`Vendor::token_response`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Issued {
    /// The grant that issued it.
    pub grant: GrantKind,
    /// The access token.
    pub access_token: String,
    /// The refresh token sent back (new, or the same one where it does not rotate).
    pub refresh_token: Option<String>,
    /// The access token's lifetime.
    pub expires_in: Duration,
    /// The granted scopes, space-separated.
    pub scope: Option<String>,
    /// When it was issued (the emulator's clock).
    pub issued_at: DateTime<Utc>,
    /// The seller it acts for (none for client credentials).
    pub seller: Option<String>,
}

#[derive(Debug)]
struct AccessRecord {
    seller: Option<String>,
    chain: Option<u64>,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshRecord {
    seller: String,
    chain: u64,
    scope: Option<String>,
    issued_at: DateTime<Utc>,
    /// Used once by a single-use rotation.
    spent: bool,
    revoked: bool,
}

#[derive(Debug)]
struct CodeRecord {
    seller: String,
    redirect_uri: Option<String>,
    scope: Option<String>,
    expires_at: DateTime<Utc>,
    used: bool,
}

/// Everything an emulator remembers.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) rules: Rules,
    pub(crate) app: App,
    pub(crate) seller: String,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) offset: chrono::Duration,
    pub(crate) counts: Counts,
    pub(crate) faults: VecDeque<Fault>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    codes: HashMap<String, CodeRecord>,
    next_chain: u64,
}

impl State {
    pub(crate) fn new(rules: Rules, app: App, seller: String) -> Self {
        Self {
            access_token_lifetime: rules.access_token_lifetime,
            rules,
            app,
            seller,
            offset: chrono::Duration::zero(),
            counts: Counts::default(),
            faults: VecDeque::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            next_chain: 0,
        }
    }

    /// The emulator's clock: the system clock moved by [`advance`](Self::advance).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        self.offset += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }

    /// The browser step: a code for `seller`, and the URI to send the browser back to.
    pub(crate) fn authorize(
        &mut self,
        call: &AuthorizeCall,
        seller: &str,
        code: String,
    ) -> Result<String, TokenError> {
        if call.client_id != self.app.client_id && call.client_id != self.app.application_id {
            return Err(TokenError::new(
                ErrorCode::InvalidClient,
                "unknown client_id",
            ));
        }
        let redirect_uri = match (&call.redirect_uri, self.app.redirect_uris.first()) {
            (Some(uri), _)
                if self.app.redirect_uris.is_empty() || self.app.redirect_uris.contains(uri) =>
            {
                uri.clone()
            }
            (Some(_), _) => {
                return Err(TokenError::new(
                    ErrorCode::InvalidRequest,
                    "redirect_uri is not registered for this application",
                ));
            }
            (None, Some(first)) => first.clone(),
            (None, None) => {
                return Err(TokenError::new(
                    ErrorCode::InvalidRequest,
                    "no redirect_uri given and none registered",
                ));
            }
        };
        let now = self.now();
        self.codes.insert(
            code,
            CodeRecord {
                seller: seller.to_owned(),
                redirect_uri: call.redirect_uri.clone(),
                scope: call.scope.clone().filter(|s| !s.is_empty()),
                expires_at: now + self.rules.code_lifetime,
                used: false,
            },
        );
        Ok(redirect_uri)
    }

    /// A new refresh-token chain for `seller`, as if the seller had just authorized.
    pub(crate) fn grant_refresh_token(
        &mut self,
        refresh_token: String,
        seller: &str,
        scope: Option<String>,
    ) -> String {
        let chain = self.new_chain();
        self.insert_refresh(refresh_token.clone(), seller, chain, scope);
        refresh_token
    }

    /// A token request: the rules, the client, the grant. On success the state moved on
    /// (a code used, a refresh token rotated) and the new tokens are returned.
    pub(crate) fn token<V: Vendor + ?Sized>(
        &mut self,
        vendor: &V,
        call: &TokenCall,
    ) -> Result<Issued, TokenError> {
        let kind = call.grant.kind();
        let fail = |code, reason: &str| Err(TokenError::new(code, reason).for_grant(kind));
        if !self.rules.grants.contains(&kind) {
            return fail(
                ErrorCode::UnsupportedGrantType,
                "the grant type is not supported",
            );
        }
        if call.client_id.as_deref() != Some(self.app.client_id.as_str()) {
            return fail(ErrorCode::InvalidClient, "unknown client");
        }
        if self.rules.client_secret_required
            && call.client_secret.as_deref() != Some(self.app.client_secret.as_str())
        {
            return fail(ErrorCode::InvalidClient, "wrong or missing client secret");
        }
        let now = self.now();
        match &call.grant {
            GrantCall::AuthorizationCode { code, redirect_uri } => {
                if self.rules.redirect_uri_required && redirect_uri.is_none() {
                    return fail(ErrorCode::InvalidRequest, "redirect_uri is missing");
                }
                let Some(record) = self.codes.get_mut(code) else {
                    return fail(ErrorCode::InvalidGrant, "unknown authorization code");
                };
                if record.used {
                    return fail(ErrorCode::InvalidGrant, "authorization code already used");
                }
                if record.expires_at <= now {
                    return fail(ErrorCode::InvalidGrant, "authorization code expired");
                }
                if redirect_uri.is_some()
                    && record.redirect_uri.is_some()
                    && *redirect_uri != record.redirect_uri
                {
                    return fail(
                        ErrorCode::InvalidGrant,
                        "redirect_uri differs from the authorize step's",
                    );
                }
                record.used = true;
                let (seller, scope) = (record.seller.clone(), record.scope.clone());
                let chain = self.new_chain();
                let refresh_token = vendor.new_refresh_token();
                self.insert_refresh(refresh_token.clone(), &seller, chain, scope.clone());
                Ok(self.issue(
                    vendor,
                    kind,
                    Some(seller),
                    Some(chain),
                    scope,
                    Some(refresh_token),
                ))
            }
            GrantCall::RefreshToken {
                refresh_token,
                scope,
            } => {
                let lifetime = self.rules.refresh_token_lifetime;
                let Some(record) = self.refresh.get(refresh_token) else {
                    return fail(ErrorCode::InvalidGrant, "unknown refresh token");
                };
                if record.revoked {
                    return fail(ErrorCode::InvalidGrant, "refresh token revoked");
                }
                if record.spent {
                    return fail(ErrorCode::InvalidGrant, "refresh token already used");
                }
                if lifetime.is_some_and(|lifetime| record.issued_at + lifetime <= now) {
                    return fail(ErrorCode::InvalidGrant, "refresh token expired");
                }
                let granted = record.scope.clone();
                if let Some(asked) = scope.as_deref().filter(|s| !s.is_empty())
                    && !is_subset(asked, granted.as_deref())
                {
                    // Not spent: the scope is checked first (Doorkeeper).
                    return fail(ErrorCode::InvalidScope, "scope outside the grant");
                }
                let scope = scope.clone().filter(|s| !s.is_empty()).or(granted);
                let (seller, chain) = (record.seller.clone(), record.chain);
                if self.rules.refresh_revokes_previous_access_token {
                    self.access
                        .values_mut()
                        .filter(|a| a.chain == Some(chain))
                        .for_each(|a| a.revoked = true);
                }
                let returned = match self.rules.rotation {
                    Rotation::SingleUse => {
                        if let Some(old) = self.refresh.get_mut(refresh_token) {
                            old.spent = true;
                        }
                        let new = vendor.new_refresh_token();
                        let granted = self.refresh[refresh_token].scope.clone();
                        self.insert_refresh(new.clone(), &seller, chain, granted);
                        new
                    }
                    Rotation::LongLived => refresh_token.clone(),
                };
                Ok(self.issue(
                    vendor,
                    kind,
                    Some(seller),
                    Some(chain),
                    scope,
                    Some(returned),
                ))
            }
            GrantCall::ClientCredentials { scope } => {
                let scope = scope.clone().filter(|s| !s.trim().is_empty());
                if self.rules.client_credentials_scope_required && scope.is_none() {
                    return fail(ErrorCode::InvalidScope, "scope is required");
                }
                Ok(self.issue(vendor, kind, None, None, scope, None))
            }
        }
    }

    /// Revokes what `call` presents: its refresh token's whole chain, or its code.
    pub(crate) fn revoke_presented(&mut self, call: &TokenCall) {
        match &call.grant {
            GrantCall::RefreshToken { refresh_token, .. } => {
                if let Some(chain) = self.refresh.get(refresh_token).map(|r| r.chain) {
                    self.revoke_where(|seller, c| c == Some(chain) && seller.is_some());
                }
            }
            GrantCall::AuthorizationCode { code, .. } => {
                if let Some(record) = self.codes.get_mut(code) {
                    record.used = true;
                }
            }
            GrantCall::ClientCredentials { .. } => {}
        }
    }

    /// Revokes every refresh and access token of `seller`.
    pub(crate) fn revoke_seller(&mut self, seller: &str) {
        self.revoke_where(|s, _| s == Some(seller));
    }

    /// Revokes every access token issued so far (refresh tokens stay valid).
    pub(crate) fn revoke_access_tokens(&mut self) {
        self.access.values_mut().for_each(|a| a.revoked = true);
    }

    fn revoke_where(&mut self, matches: impl Fn(Option<&str>, Option<u64>) -> bool) {
        for record in self.refresh.values_mut() {
            if matches(Some(&record.seller), Some(record.chain)) {
                record.revoked = true;
            }
        }
        for record in self.access.values_mut() {
            if matches(record.seller.as_deref(), record.chain) {
                record.revoked = true;
            }
        }
    }

    /// The refresh tokens of `seller` that would be accepted now.
    pub(crate) fn live_refresh_tokens(&self, seller: &str) -> Vec<String> {
        let now = self.now();
        let lifetime = self.rules.refresh_token_lifetime;
        self.refresh
            .iter()
            .filter(|(_, r)| {
                r.seller == seller
                    && !r.spent
                    && !r.revoked
                    && lifetime.is_none_or(|l| r.issued_at + l > now)
            })
            .map(|(token, _)| token.clone())
            .collect()
    }

    /// Whether the API accepts `token`, and for which seller.
    pub(crate) fn check_access(&self, token: Option<&str>) -> Result<Option<String>, Rejection> {
        let token = token.ok_or(Rejection::Missing)?;
        let record = self.access.get(token).ok_or(Rejection::Unknown)?;
        if record.revoked {
            return Err(Rejection::Revoked);
        }
        if record.expires_at <= self.now() {
            return Err(Rejection::Expired);
        }
        Ok(record.seller.clone())
    }

    fn new_chain(&mut self) -> u64 {
        self.next_chain += 1;
        self.next_chain
    }

    fn insert_refresh(&mut self, token: String, seller: &str, chain: u64, scope: Option<String>) {
        let issued_at = self.now();
        self.refresh.insert(
            token,
            RefreshRecord {
                seller: seller.to_owned(),
                chain,
                scope,
                issued_at,
                spent: false,
                revoked: false,
            },
        );
    }

    fn issue<V: Vendor + ?Sized>(
        &mut self,
        vendor: &V,
        grant: GrantKind,
        seller: Option<String>,
        chain: Option<u64>,
        scope: Option<String>,
        refresh_token: Option<String>,
    ) -> Issued {
        let issued_at = self.now();
        let access_token = vendor.new_access_token();
        let expires_in = self.access_token_lifetime;
        self.access.insert(
            access_token.clone(),
            AccessRecord {
                seller: seller.clone(),
                chain,
                expires_at: issued_at
                    + chrono::Duration::from_std(expires_in).unwrap_or(chrono::Duration::MAX),
                revoked: false,
            },
        );
        Issued {
            grant,
            access_token,
            refresh_token,
            expires_in,
            scope,
            issued_at,
            seller,
        }
    }
}

/// Whether every scope of `asked` is in `granted` (none granted: anything goes).
fn is_subset(asked: &str, granted: Option<&str>) -> bool {
    granted.is_none_or(|granted| {
        asked
            .split_whitespace()
            .all(|scope| granted.split_whitespace().any(|g| g == scope))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::message::{Request, Response};
    use crate::emulator::vendor::{AuthorizeCall, Paths};
    use http::StatusCode;

    #[derive(Debug)]
    struct Model(Rules);

    impl Vendor for Model {
        type ClientBuilder = ();
        fn name(&self) -> &'static str {
            "model"
        }
        fn paths(&self) -> Paths {
            Paths::new("/token", Some("/authorize"), "/api/")
        }
        fn rules(&self) -> Rules {
            self.0.clone()
        }
        fn decode_token_request(&self, _: &Request) -> Result<TokenCall, TokenError> {
            unreachable!()
        }
        fn token_response(&self, _: &App, _: &Issued) -> Response {
            Response::empty(StatusCode::OK)
        }
        fn token_error(&self, _: &TokenError) -> Response {
            Response::empty(StatusCode::BAD_REQUEST)
        }
        fn api_token<'a>(&self, request: &'a Request) -> Option<&'a str> {
            request.bearer()
        }
        fn api_rejected(&self, _: Rejection) -> Response {
            Response::empty(StatusCode::UNAUTHORIZED)
        }
        fn client_builder(&self, _: &url::Url, _: &App) {}
    }

    fn setup(rotation: Rotation) -> (Model, State) {
        let mut rules = Rules::new(&[
            GrantKind::AuthorizationCode,
            GrantKind::RefreshToken,
            GrantKind::ClientCredentials,
        ]);
        rules.rotation = rotation;
        rules.refresh_token_lifetime = Some(Duration::from_secs(365 * 86_400));
        let app = App {
            client_id: "id".into(),
            client_secret: "secret".into(),
            application_id: "id".into(),
            redirect_uris: vec![],
        };
        (Model(rules.clone()), State::new(rules, app, "s".into()))
    }

    fn call(grant: GrantCall) -> TokenCall {
        TokenCall::new(Some("id".into()), Some("secret".into()), grant)
    }

    fn refresh(rt: &str) -> TokenCall {
        call(GrantCall::RefreshToken {
            refresh_token: rt.into(),
            scope: None,
        })
    }

    fn code_grant(state: &mut State, model: &Model) -> Issued {
        let mut authorize = AuthorizeCall::new("id");
        authorize.redirect_uri = Some("https://app.example/cb".into());
        authorize.scope = Some("a b".into());
        state.authorize(&authorize, "s", "code-1".into()).unwrap();
        let exchange = call(GrantCall::AuthorizationCode {
            code: "code-1".into(),
            redirect_uri: Some("https://app.example/cb".into()),
        });
        let issued = state.token(model, &exchange).unwrap();
        let again = state.token(model, &exchange).unwrap_err();
        assert_eq!(again.code, ErrorCode::InvalidGrant, "a code is single-use");
        issued
    }

    #[test]
    fn spent_refresh_token_is_invalid_grant_and_the_new_one_works() {
        let (model, mut state) = setup(Rotation::SingleUse);
        let first = code_grant(&mut state, &model);
        let rt = first.refresh_token.unwrap();
        let second = state.token(&model, &refresh(&rt)).unwrap();
        let next = second.refresh_token.clone().unwrap();
        assert_ne!(next, rt);
        assert_eq!(
            state.token(&model, &refresh(&rt)).unwrap_err().code,
            ErrorCode::InvalidGrant
        );
        assert_eq!(state.live_refresh_tokens("s"), vec![next.clone()]);
        assert!(state.token(&model, &refresh(&next)).is_ok());
    }

    #[test]
    fn long_lived_refresh_token_comes_back_unchanged_until_revoked() {
        let (model, mut state) = setup(Rotation::LongLived);
        let rt = state.grant_refresh_token("rt".into(), "s", None);
        for _ in 0..3 {
            let issued = state.token(&model, &refresh(&rt)).unwrap();
            assert_eq!(issued.refresh_token.as_deref(), Some("rt"));
            assert_eq!(
                state.check_access(Some(&issued.access_token)),
                Ok(Some("s".into()))
            );
        }
        state.revoke_seller("s");
        assert_eq!(
            state.token(&model, &refresh(&rt)).unwrap_err().code,
            ErrorCode::InvalidGrant
        );
    }

    #[test]
    fn access_tokens_expire_by_the_emulator_clock_and_refresh_tokens_lapse() {
        let (model, mut state) = setup(Rotation::LongLived);
        state.access_token_lifetime = Duration::from_secs(60);
        let rt = state.grant_refresh_token("rt".into(), "s", None);
        let issued = state.token(&model, &refresh(&rt)).unwrap();
        state.advance(Duration::from_secs(61));
        assert_eq!(
            state.check_access(Some(&issued.access_token)),
            Err(Rejection::Expired)
        );
        assert_eq!(state.check_access(Some("nope")), Err(Rejection::Unknown));
        assert_eq!(state.check_access(None), Err(Rejection::Missing));
        state.advance(Duration::from_secs(365 * 86_400));
        assert_eq!(
            state.token(&model, &refresh(&rt)).unwrap_err().code,
            ErrorCode::InvalidGrant
        );
    }

    #[test]
    fn scope_outside_the_grant_is_refused_without_spending_the_refresh_token() {
        let (model, mut state) = setup(Rotation::SingleUse);
        let rt = code_grant(&mut state, &model).refresh_token.unwrap();
        let wider = call(GrantCall::RefreshToken {
            refresh_token: rt.clone(),
            scope: Some("a c".into()),
        });
        assert_eq!(
            state.token(&model, &wider).unwrap_err().code,
            ErrorCode::InvalidScope
        );
        assert!(state.token(&model, &refresh(&rt)).is_ok());
    }

    #[test]
    fn wrong_client_or_secret_is_invalid_client() {
        let (model, mut state) = setup(Rotation::SingleUse);
        let mut wrong = call(GrantCall::ClientCredentials { scope: None });
        wrong.client_secret = Some("other".into());
        assert_eq!(
            state.token(&model, &wrong).unwrap_err().code,
            ErrorCode::InvalidClient
        );
        wrong.client_id = Some("other".into());
        assert_eq!(
            state.token(&model, &wrong).unwrap_err().code,
            ErrorCode::InvalidClient
        );
    }

    #[test]
    fn revoking_the_presented_grant_ends_its_chain() {
        let (model, mut state) = setup(Rotation::SingleUse);
        let first = code_grant(&mut state, &model);
        let rt = first.refresh_token.unwrap();
        state.revoke_presented(&refresh(&rt));
        assert_eq!(
            state.check_access(Some(&first.access_token)),
            Err(Rejection::Revoked)
        );
        assert!(state.live_refresh_tokens("s").is_empty());
    }
}

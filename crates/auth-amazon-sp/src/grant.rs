//! The LWA grants as [`TokenSource`]s, for `CachedTokenProvider` to drive, and the
//! one-call providers over them ([`Client::refresh_provider`],
//! [`Client::grantless_provider`]).

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::grant::AuthorizationCodeClient;
use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, CachedTokenProvider, CachedTokenProviderBuilder, RefreshToken, Scopes, Secret,
    SubjectClient, SubjectTokens, SubjectTokensBuilder, Token, TokenSource,
};

use crate::client::{Client, RdtOutcome, check_grantless_scopes, check_rdt_request};
use crate::scope::Scope;
use crate::wire::CreateRestrictedDataTokenRequest;

/// A seller's access tokens from its refresh token (`grant_type=refresh_token`).
///
/// Refreshes with the refresh token of the previous token: what the provider holds, was
/// seeded with ([`Client::refresh_provider`] seeds it), or loaded from its store. LWA
/// refresh tokens do not rotate, so the token returned carries the same refresh token,
/// and later fetches present it again. With no refresh token at all, a fetch sends
/// nothing (see [`fetch_token`](Self::fetch_token)).
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, RefreshGrant};
/// use auth_core::{RefreshToken, TokenSource};
///
/// let client = Client::builder().client_id("id").client_secret("secret").build().unwrap();
/// assert!(RefreshGrant::new(client.clone()).needs_refresh_token());
/// // What `client.refresh_provider(..)` builds: the grant, seeded with the refresh token.
/// // The first `provider.token().await` refreshes with "Atzr|...".
/// let provider = client.refresh_provider(RefreshToken::new("Atzr|..."));
/// # drop(provider);
/// ```
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    client: Client,
}

impl RefreshGrant {
    /// The refresh grant of `client`'s application.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The client it refreshes with.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Login with Amazon keeps a refresh token valid across refreshes (it is not rotated), so
/// its refresh request is not sent as spending a single-use credential either; the
/// grants answer [`TokenSource::rotates_refresh_token`] with this.
const LWA_REFRESH_TOKEN_SINGLE_USE: bool = false;

#[async_trait]
impl TokenSource for RefreshGrant {
    /// Refreshes with `previous`'s refresh token.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) without one: the selling partner must
    /// authorize the application, or the provider be seeded with its refresh token. It is
    /// deliberately not `invalid_grant`, which is LWA's own answer for a refresh token
    /// the seller revoked. Otherwise as [`Client::refresh`].
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let refresh_token = previous
            .and_then(Token::refresh_token)
            .ok_or(AuthError::NoRefreshToken)?;
        self.client.refresh(refresh_token).await
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }

    /// Login with Amazon refresh tokens are reusable (not rotated): a process may refresh
    /// without the store's lease when the store is unreachable.
    fn rotates_refresh_token(&self) -> bool {
        LWA_REFRESH_TOKEN_SINGLE_USE
    }
}

/// The website (or Appstore) workflow inside a provider: the first fetch exchanges the
/// `spapi_oauth_code` (once: the code is single-use), later fetches refresh with the
/// refresh token it returned. auth-core's
/// [`AuthorizationCodeGrant`](auth_core::grant::AuthorizationCodeGrant) over this crate's
/// [`Client`].
///
/// Amazon's exchange takes no redirect URI unless the consent request sent one: pass
/// `""` to leave it out, as Amazon's example and SDKs do.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{AuthorizationCodeGrant, Client, VendorClient};
///
/// let client = Client::builder().client_id("id").client_secret("s").build().unwrap();
/// // After AuthorizationRedirect::parse checked the state:
/// let grant = AuthorizationCodeGrant::new(client.clone(), "ANcode", "");
/// let provider = client.provider_builder(grant).build();
/// # drop(provider);
/// ```
pub type AuthorizationCodeGrant = auth_core::grant::AuthorizationCodeGrant<Client>;

#[async_trait]
impl AuthorizationCodeClient for Client {
    /// [`Client::exchange_code`]; an empty `redirect_uri` is left out of the request.
    async fn exchange_authorization_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
    ) -> Result<Token, AuthError> {
        let redirect_uri = Some(redirect_uri).filter(|uri| !uri.is_empty());
        self.exchange_code(code.clone(), redirect_uri).await
    }

    /// [`Client::refresh`] with `previous`'s refresh token.
    async fn refresh_previous(&self, previous: &Token) -> Result<Token, AuthError> {
        let refresh_token = previous.refresh_token().ok_or(AuthError::NoRefreshToken)?;
        self.refresh(refresh_token).await
    }

    fn rotates_refresh_token(&self) -> bool {
        LWA_REFRESH_TOKEN_SINGLE_USE
    }
}

/// Grantless access tokens (`grant_type=client_credentials`) for a fixed set of scopes.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Client, GrantlessGrant, Scope};
/// use auth_core::Scopes;
///
/// let client = Client::builder().client_id("id").client_secret("secret").build().unwrap();
/// let grant = GrantlessGrant::new(client.clone(), Scopes::from([Scope::Notifications])).unwrap();
/// assert!(GrantlessGrant::new(client, Scopes::new()).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct GrantlessGrant {
    client: Client,
    scopes: Scopes<Scope>,
}

impl GrantlessGrant {
    /// A grantless grant for `scopes`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty set.
    pub fn new(client: Client, scopes: Scopes<Scope>) -> Result<Self, AuthError> {
        check_grantless_scopes(&scopes)?;
        Ok(Self { client, scopes })
    }

    /// The scopes requested.
    pub fn scopes(&self) -> &Scopes<Scope> {
        &self.scopes
    }
}

#[async_trait]
impl TokenSource for GrantlessGrant {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        self.client.grantless(&self.scopes).await
    }

    /// No refresh token: any process may fetch one.
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

/// Restricted Data Tokens for one set of restricted resources, paid for with a selling
/// partner's LWA access tokens.
///
/// The LWA token comes from the seller's [`CachedTokenProvider`]. When the Tokens API
/// rejects it (expired or revoked before its time), it is invalidated there and the call
/// made once more with a new one.
///
/// Drive it with its own provider (`client.provider_builder(source).build()`, no store:
/// RDTs are short-lived and give access to personal data), or let
/// [`RestrictedDataTokens`](crate::RestrictedDataTokens) keep one per resource set.
#[derive(Debug, Clone)]
pub struct RestrictedDataTokenSource {
    client: Client,
    lwa: Arc<CachedTokenProvider>,
    request: CreateRestrictedDataTokenRequest,
}

impl RestrictedDataTokenSource {
    /// A source of RDTs for `request`'s resources.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for no resources, more than 50, or a path not starting
    /// with `/`.
    pub fn new(
        client: Client,
        lwa: Arc<CachedTokenProvider>,
        request: CreateRestrictedDataTokenRequest,
    ) -> Result<Self, AuthError> {
        check_rdt_request(&request)?;
        Ok(Self {
            client,
            lwa,
            request,
        })
    }

    /// The resources the RDTs cover.
    pub fn request(&self) -> &CreateRestrictedDataTokenRequest {
        &self.request
    }
}

#[async_trait]
impl TokenSource for RestrictedDataTokenSource {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        let lwa = self.lwa.token().await?;
        match self.client.rdt_call(&lwa, &self.request).await? {
            RdtOutcome::Issued(token) => Ok(token),
            RdtOutcome::Rejected(_) => {
                tracing::info!(
                    "the Tokens API rejected the LWA access token; refreshing it and retrying once"
                );
                self.lwa.invalidate_token(&lwa);
                let lwa = self.lwa.token().await?;
                match self.client.rdt_call(&lwa, &self.request).await? {
                    RdtOutcome::Issued(token) => Ok(token),
                    RdtOutcome::Rejected(error) => Err(error),
                }
            }
        }
    }

    /// A restricted data token is requested afresh, with the provider's own token: no
    /// refresh token of its own.
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

impl Client {
    /// A cached, auto-refreshing access token of the seller whose `refresh_token` this is,
    /// held in memory, that knows the SP-API: [`CachedTokenProvider::send`] puts the token
    /// in `x-amz-access-token` and, when the API rejects it (401, or 403 for an expired or
    /// invalid token), gets a new one and sends the request once more.
    ///
    /// The refresh token seeds the provider ([`RefreshGrant`]); to keep tokens in a shared
    /// store use [`refresh_provider_builder`](Self::refresh_provider_builder), and for many
    /// sellers [`SellerTokens`](crate::SellerTokens).
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = auth_amazon_sp::Client::builder().client_id("id").client_secret("s").build().unwrap();
    /// let provider = client.refresh_provider("Atzr|example-refresh-token");
    /// // provider.send(client.http_client().get(url)).await?; // token on, one retry
    /// # drop(provider);
    /// ```
    pub fn refresh_provider(&self, refresh_token: impl Into<RefreshToken>) -> CachedTokenProvider {
        self.refresh_provider_builder(refresh_token).build()
    }

    /// The builder of [`refresh_provider`](Self::refresh_provider), to add a store, a
    /// clock or refresh settings before `build()`. A refresh token already stored under
    /// the key wins over `refresh_token` (it only seeds an empty store).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use auth_amazon_sp::{Client, VendorClient};
    /// use auth_core::MemoryStore;
    ///
    /// let client = Client::builder().client_id("id").client_secret("s").build().unwrap();
    /// let provider = client
    ///     .refresh_provider_builder("Atzr|...")
    ///     .store(Arc::new(MemoryStore::new()), client.store_key("A3SELLER"))
    ///     .build();
    /// # drop(provider);
    /// ```
    pub fn refresh_provider_builder(
        &self,
        refresh_token: impl Into<RefreshToken>,
    ) -> CachedTokenProviderBuilder {
        self.provider_builder(RefreshGrant::new(self.clone()))
            .seed_refresh_token(refresh_token.into())
    }

    /// A cached, auto-refreshing grantless access token for `scopes`, held in memory, that
    /// knows the SP-API (see [`refresh_provider`](Self::refresh_provider)).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty set (nothing sent).
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::Scope;
    /// use auth_core::Scopes;
    /// # let client = auth_amazon_sp::Client::builder().client_id("id").client_secret("s").build().unwrap();
    ///
    /// let provider = client.grantless_provider(Scopes::from([Scope::Notifications]))?;
    /// assert!(client.grantless_provider(Scopes::new()).is_err());
    /// # drop(provider);
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    pub fn grantless_provider(
        &self,
        scopes: Scopes<Scope>,
    ) -> Result<CachedTokenProvider, AuthError> {
        Ok(self.grantless_provider_builder(scopes)?.build())
    }

    /// The builder of [`grantless_provider`](Self::grantless_provider), to add a store
    /// (key it with a fixed subject: `client.store_key("grantless-notifications")`), a
    /// clock or refresh settings.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty set.
    pub fn grantless_provider_builder(
        &self,
        scopes: Scopes<Scope>,
    ) -> Result<CachedTokenProviderBuilder, AuthError> {
        Ok(self.provider_builder(GrantlessGrant::new(self.clone(), scopes)?))
    }
}

/// Access tokens for every selling partner that authorized the application: auth-core's
/// [`SubjectTokens`] over [`RefreshGrant`], one cached, auto-refreshing provider per
/// selling-partner id, all sharing one [`Client`] (one connection pool, one set of
/// credentials, one cap on token requests in flight).
///
/// Each seller's refresh token lives in the [`TokenStore`](auth_core::TokenStore) under
/// `client.store_key(selling_partner_id)`; put it there with
/// [`authorize`](SubjectTokens::authorize) after the authorization-code exchange, or let
/// [`refresh_tokens`](SubjectTokensBuilder::refresh_tokens) seed it from where you keep
/// them. LWA refresh tokens do not rotate, so the default
/// [`MemoryStore`](auth_core::MemoryStore) loses nothing when the process ends if the
/// lookup can give them again. `build()` refuses a client whose credentials provider
/// does not report the client id (the store key needs it).
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: auth_amazon_sp::Client, redirect: auth_amazon_sp::AuthorizationRedirect) -> Result<(), auth_core::AuthError> {
/// use auth_amazon_sp::SellerTokens;
///
/// let sellers = SellerTokens::builder(client.clone()).capacity(10_000).build()?;
///
/// // Onboarding: the seller's refresh token goes into the store.
/// let token = client.exchange_code(redirect.spapi_oauth_code().clone(), None).await?;
/// let seller = redirect.selling_partner_id().expect("sellers always have one");
/// sellers.authorize(seller, token).await?;
///
/// // Any later call for that seller: a cached token, refreshed when due, and one retry
/// // with a new token if the SP-API rejects it.
/// use auth_amazon_sp::VendorClient;
/// let url = client.api_url("sellers/v1/marketplaceParticipations")?;
/// let response = sellers.send(seller, client.http_client().get(url)).await?;
/// # let _ = response; Ok(()) }
/// ```
pub type SellerTokens = SubjectTokens<Client>;

/// Builds [`SellerTokens`].
pub type SellerTokensBuilder = SubjectTokensBuilder<Client>;

impl SubjectClient for Client {
    /// [`RefreshGrant`], knowing the SP-API.
    fn subject_provider_builder(&self) -> CachedTokenProviderBuilder {
        self.provider_builder(RefreshGrant::new(self.clone()))
    }

    /// The store key needs the client id: a [`CredentialsProvider`](crate::CredentialsProvider)
    /// must report it.
    fn check_subject_keys(&self) -> Result<(), AuthError> {
        self.client_id().map(|_| ()).ok_or_else(|| {
            AuthError::InvalidConfig(
                "the credentials provider must report the client id (CredentialsProvider::client_id) to key the token store"
                    .into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder()
            .client_id("amzn1.application-oa2-client.id")
            .client_secret("secret")
            .build()
            .unwrap()
    }

    /// Login with Amazon refresh tokens are reusable: a provider whose store is
    /// unreachable may refresh alone when its token runs out.
    #[test]
    fn refresh_grants_declare_reusable_refresh_tokens() {
        assert!(!RefreshGrant::new(client()).rotates_refresh_token());
        assert!(!AuthorizationCodeGrant::new(client(), "code", "").rotates_refresh_token());
    }
}

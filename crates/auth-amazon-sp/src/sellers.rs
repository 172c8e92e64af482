//! [`SellerTokens`]: many selling partners, one application.

use std::fmt;
use std::sync::Arc;

use auth_core::reqwest::{RequestBuilder, Response};
use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, CachedTokenProvider, MemoryStore, RefreshToken, Token, TokenCache, TokenStore,
};

use crate::client::Client;
use crate::grant::RefreshGrant;

type RefreshTokenLookup = dyn Fn(&str) -> Option<RefreshToken> + Send + Sync;

/// Access tokens for every selling partner that authorized the application: one cached,
/// auto-refreshing provider per selling-partner id, all sharing one [`Client`] (one
/// connection pool, one set of credentials).
///
/// Each seller's refresh token lives in the [`TokenStore`] under
/// `client.store_key(selling_partner_id)` ([`VendorClient::store_key`]: it names the host
/// of an emulator or proxy, so its tokens are never served to the real environment); put
/// it there with [`authorize`](Self::authorize) after the authorization-code exchange,
/// or let [`refresh_tokens`](SellerTokensBuilder::refresh_tokens) seed it from where you
/// keep them. The providers are held in auth-core's [`TokenCache`] (bounded, looked up by
/// `&str` without a lock over all sellers; an evicted seller's provider is recreated from
/// the store on its next call), and each seller's refreshes are spread over its token's
/// lifetime by its store key, so sellers onboarded together do not refresh together.
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
pub struct SellerTokens {
    client: Client,
    store: Arc<dyn TokenStore>,
    cache: TokenCache<String>,
}

/// Builds [`SellerTokens`].
pub struct SellerTokensBuilder {
    client: Client,
    store: Option<Arc<dyn TokenStore>>,
    capacity: usize,
    lookup: Option<Arc<RefreshTokenLookup>>,
    configure: Option<
        Arc<
            dyn Fn(auth_core::CachedTokenProviderBuilder) -> auth_core::CachedTokenProviderBuilder
                + Send
                + Sync,
        >,
    >,
}

impl SellerTokens {
    /// How many sellers' providers are kept by default.
    pub const DEFAULT_CAPACITY: usize = 1_000;

    /// A builder for sellers of `client`'s application.
    pub fn builder(client: Client) -> SellerTokensBuilder {
        SellerTokensBuilder {
            client,
            store: None,
            capacity: Self::DEFAULT_CAPACITY,
            lookup: None,
            configure: None,
        }
    }

    /// The provider of `selling_partner_id`, created on first use.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty id.
    pub fn provider(&self, selling_partner_id: &str) -> Result<CachedTokenProvider, AuthError> {
        if selling_partner_id.trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the selling partner id is empty".into(),
            ));
        }
        self.cache.provider(selling_partner_id)
    }

    /// An access token for `selling_partner_id`.
    ///
    /// # Errors
    ///
    /// As [`provider`](Self::provider); [`AuthError::NoRefreshToken`] (nothing sent) for a
    /// seller with no refresh token (none stored, none from the lookup, never
    /// [`authorize`](Self::authorize)d); LWA's error (`invalid_grant`: the seller revoked
    /// the authorization and must authorize again); a store error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe (see [`CachedTokenProvider::token`]).
    pub async fn token(&self, selling_partner_id: &str) -> Result<Arc<Token>, AuthError> {
        self.provider(selling_partner_id)?.token().await
    }

    /// Installs the token of a new authorization (the result of
    /// [`Client::exchange_code`]): saved in the store, it replaces whatever that seller
    /// had (an earlier, revoked authorization included).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the token carries no refresh token;
    /// [`AuthError::Store`] if it could not be saved (it is still used, and saved later).
    pub async fn authorize(
        &self,
        selling_partner_id: &str,
        token: Token,
    ) -> Result<Arc<Token>, AuthError> {
        if token.refresh_token().is_none() {
            return Err(AuthError::InvalidConfig(
                "the token of a seller authorization must carry its refresh token".into(),
            ));
        }
        self.provider(selling_partner_id)?
            .replace_token(token)
            .await
    }

    /// Sends an SP-API call for `selling_partner_id` with its access token in
    /// `x-amz-access-token`; when the API rejects the token (401, or 403 for an expired or
    /// invalid token: [`VendorClient::token_rejected`]), gets a new one and sends the call
    /// once more ([`CachedTokenProvider::send`]).
    ///
    /// # Errors
    ///
    /// As [`token`](Self::token), or [`AuthError::ApiTransport`] when the call gets no
    /// response.
    pub async fn send(
        &self,
        selling_partner_id: &str,
        request: RequestBuilder,
    ) -> Result<Response, AuthError> {
        self.provider(selling_partner_id)?.send(request).await
    }

    /// Forgets a seller's provider (for example after it revoked the application). Its
    /// stored token is left in the store.
    pub fn remove(&self, selling_partner_id: &str) -> bool {
        self.cache.remove(selling_partner_id).is_some()
    }

    /// The client shared by every seller.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Number of sellers with a provider now.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether no seller has a provider now.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

impl fmt::Debug for SellerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SellerTokens")
            .field("client", &self.client)
            .field("store", &self.store)
            .field("cache", &self.cache)
            .finish()
    }
}

impl SellerTokensBuilder {
    /// Where the sellers' tokens are kept (default: a [`MemoryStore`], lost at exit; use a
    /// `FileStore` or a shared store in production).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// At most this many sellers' providers are held at once (default 1,000).
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Looks up a seller's refresh token kept outside the store (your database); it only
    /// seeds an empty store record: a stored refresh token wins.
    #[must_use]
    pub fn refresh_tokens(
        mut self,
        lookup: impl Fn(&str) -> Option<RefreshToken> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Some(Arc::new(lookup));
        self
    }

    /// Adjusts every seller's provider (refresh window, clock, ...).
    #[must_use]
    pub fn configure_provider(
        mut self,
        configure: impl Fn(
            auth_core::CachedTokenProviderBuilder,
        ) -> auth_core::CachedTokenProviderBuilder
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.configure = Some(Arc::new(configure));
        self
    }

    /// Builds it. Nothing is sent or loaded yet.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] when the client's credentials provider does not know
    /// the client id without I/O (it is part of every store key).
    pub fn build(self) -> Result<SellerTokens, AuthError> {
        self.client.client_id().ok_or_else(|| {
            AuthError::InvalidConfig(
                "the credentials provider must report the client id (CredentialsProvider::client_id) to key the token store"
                    .into(),
            )
        })?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let (client, factory_store, lookup, configure) = (
            self.client.clone(),
            Arc::clone(&store),
            self.lookup,
            self.configure,
        );
        let cache = TokenCache::new(self.capacity, move |seller: &String| {
            let mut builder = client
                .provider_builder(RefreshGrant::new(client.clone()))
                .store(Arc::clone(&factory_store), client.store_key(seller));
            if let Some(refresh_token) = lookup.as_ref().and_then(|lookup| lookup(seller)) {
                builder = builder.seed_refresh_token(refresh_token);
            }
            if let Some(configure) = &configure {
                builder = configure(builder);
            }
            Ok(builder.build())
        });
        Ok(SellerTokens {
            client: self.client,
            store,
            cache,
        })
    }
}

impl fmt::Debug for SellerTokensBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SellerTokensBuilder")
            .field("client", &self.client)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

//! [`SubjectTokens`]: many subjects (sellers, accounts) of one application, one cached,
//! auto-refreshing provider each, as every vendor crate with per-seller authorizations
//! configures it (Amazon's, Easyship's and Orange Connex's `SellerTokens`).

use std::fmt;
use std::sync::Arc;

use reqwest::{RequestBuilder, Response};

use crate::vendor::VendorClient;
use crate::{
    AuthError, CachedTokenProvider, CachedTokenProviderBuilder, MemoryStore, RefreshToken, Token,
    TokenCache, TokenStore,
};

type RefreshTokenLookup = dyn Fn(&str) -> Option<RefreshToken> + Send + Sync;
type Configure = dyn Fn(CachedTokenProviderBuilder) -> CachedTokenProviderBuilder + Send + Sync;

/// A vendor client whose subjects (sellers, accounts) each authorize the application and
/// hold a refresh token of their own: what [`SubjectTokens`] needs to build one subject's
/// provider. Amazon's, Easyship's and Orange Connex's `Client` implement it.
pub trait SubjectClient: VendorClient {
    /// A provider builder for one subject's refresh grant, knowing this vendor's API
    /// (typically `self.provider_builder(RefreshGrant::new(self.clone()))`). The refresh
    /// token comes from the store, a seed or a new authorization; [`SubjectTokens`] adds
    /// the store and the subject's key.
    fn subject_provider_builder(&self) -> CachedTokenProviderBuilder;

    /// Refuses a client whose subjects' tokens cannot be keyed in a store (Amazon: a
    /// credentials provider that does not report the client id). Checked by
    /// [`SubjectTokensBuilder::build`]; the default accepts every client.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`], naming what is missing.
    fn check_subject_keys(&self) -> Result<(), AuthError> {
        Ok(())
    }
}

/// Access tokens for every subject (seller, account) that authorized one application: one
/// cached, auto-refreshing provider per subject, all sharing one vendor client (one
/// connection pool, one set of credentials, one cap on token requests in flight).
///
/// Each subject's refresh token lives in the [`TokenStore`] under
/// `client.store_key(subject)` ([`VendorClient::store_key`]: it names the host of an
/// emulator or proxy, so its tokens are never served to the real environment); put it
/// there with [`authorize`](Self::authorize) after the authorization-code exchange, or
/// let [`refresh_tokens`](SubjectTokensBuilder::refresh_tokens) seed it from where you
/// keep them. The providers are held in a [`TokenCache`] (bounded, looked up by `&str`
/// without a lock over all subjects or an allocation; an evicted subject's provider is
/// built again from the store on its next call, with no token request), and each
/// subject's refreshes are spread over its token's lifetime by its store key, so subjects
/// onboarded together do not refresh together.
///
/// **Give it a shared store when refresh tokens rotate** (Easyship, Orange Connex) and
/// more than one process serves the same subjects ([`FileStore`](crate::FileStore) on one
/// host, a Redis store across hosts): the default [`MemoryStore`] keeps each rotation in
/// this process only.
///
/// Vendor crates name it for their subjects: `auth_amazon_sp::SellerTokens`,
/// `auth_easyship::SellerTokens`, `auth_orangeconnex::SellerTokens`.
///
/// # Examples
///
/// Generic over the vendor (with a vendor crate, use its `SellerTokens`):
///
/// ```no_run
/// use auth_core::{AuthError, SubjectClient, SubjectTokens, Token};
///
/// async fn onboard_and_call<C: SubjectClient>(
///     client: C,
///     seller: &str,
///     authorization: Token, // from the vendor's `exchange_code`
/// ) -> Result<u16, AuthError> {
///     let sellers = SubjectTokens::builder(client.clone()).capacity(10_000).build()?;
///     // Onboarding: the seller's refresh token goes into the store.
///     sellers.authorize(seller, authorization).await?;
///     // Any later call for that seller: a cached token, refreshed when due, and one
///     // retry with a new token if the API rejects it.
///     let url = client.api_url("v1/orders")?;
///     let response = sellers.send(seller, client.http_client().get(url)).await?;
///     Ok(response.status().as_u16())
/// }
/// ```
pub struct SubjectTokens<C> {
    client: C,
    store: Arc<dyn TokenStore>,
    cache: TokenCache<String>,
}

/// Builds [`SubjectTokens`].
pub struct SubjectTokensBuilder<C> {
    client: C,
    store: Option<Arc<dyn TokenStore>>,
    capacity: usize,
    lookup: Option<Arc<RefreshTokenLookup>>,
    configure: Option<Arc<Configure>>,
}

impl<C: SubjectClient> SubjectTokens<C> {
    /// How many subjects' providers are kept by default.
    pub const DEFAULT_CAPACITY: usize = 1_000;

    /// A builder for the subjects of `client`'s application.
    pub fn builder(client: C) -> SubjectTokensBuilder<C> {
        SubjectTokensBuilder {
            client,
            store: None,
            capacity: Self::DEFAULT_CAPACITY,
            lookup: None,
            configure: None,
        }
    }

    /// The provider of `subject`, created on first use. It stays the subject's provider
    /// while anyone holds it, evicted or not (one refresh chain per subject).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty or blank subject.
    pub fn provider(&self, subject: &str) -> Result<CachedTokenProvider, AuthError> {
        if subject.trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the subject (seller or account id) is empty".into(),
            ));
        }
        self.cache.provider(subject)
    }

    /// An access token for `subject`.
    ///
    /// # Errors
    ///
    /// As [`provider`](Self::provider); [`AuthError::NoRefreshToken`] (nothing sent) for
    /// a subject with no refresh token (none stored, none from the lookup, never
    /// [`authorize`](Self::authorize)d); the vendor's error (`invalid_grant`: the subject
    /// revoked the authorization and must authorize again); a store error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe (see [`CachedTokenProvider::token`]).
    pub async fn token(&self, subject: &str) -> Result<Arc<Token>, AuthError> {
        self.provider(subject)?.token().await
    }

    /// Installs the token of a new authorization (the result of the vendor's
    /// `exchange_code`): saved in the store, it replaces whatever that subject had (an
    /// earlier, revoked authorization included).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for an empty subject or a token without a refresh
    /// token; the store's error.
    pub async fn authorize(&self, subject: &str, token: Token) -> Result<Arc<Token>, AuthError> {
        if token.refresh_token().is_none() {
            return Err(AuthError::InvalidConfig(
                "the token of a subject's authorization must carry its refresh token".into(),
            ));
        }
        self.provider(subject)?.replace_token(token).await
    }

    /// Sends `request` with `subject`'s token (see [`CachedTokenProvider::send`]): put on
    /// the vendor's way, and on a rejected token sent once more with a new one.
    ///
    /// # Errors
    ///
    /// As [`token`](Self::token); the API call's transport error.
    pub async fn send(
        &self,
        subject: &str,
        request: RequestBuilder,
    ) -> Result<Response, AuthError> {
        self.provider(subject)?.send(request).await
    }

    /// Lets every subject's running refresh finish and saves what the store has not
    /// accepted yet ([`TokenCache::settle`]): call it before the process exits, after the
    /// last call, so that no rotated refresh token is lost with the runtime.
    ///
    /// # Errors
    ///
    /// The first failed save's error, after every subject was settled.
    pub async fn settle(&self) -> Result<(), AuthError> {
        self.cache.settle().await
    }

    /// Forgets `subject`'s provider (a subject who revoked the application); its record
    /// stays in the store. Returns whether one was held.
    pub fn remove(&self, subject: &str) -> bool {
        self.cache.remove(subject).is_some()
    }

    /// The vendor client every subject's provider shares.
    pub fn client(&self) -> &C {
        &self.client
    }

    /// The store holding every subject's tokens.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// Number of providers held.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether no provider is held.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

impl<C: fmt::Debug> fmt::Debug for SubjectTokens<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectTokens")
            .field("client", &self.client)
            .field("store", &self.store)
            .field("cache", &self.cache)
            .finish()
    }
}

impl<C: SubjectClient> SubjectTokensBuilder<C> {
    /// The store of every subject's tokens (default: a [`MemoryStore`], this process
    /// only).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How many subjects' providers are kept (default
    /// [`SubjectTokens::DEFAULT_CAPACITY`]); the least used beyond it are evicted and
    /// built again from the store when next needed.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Where subjects' refresh tokens are kept outside the store (your database): looked
    /// up when a subject's provider is built, and used only if the store holds nothing
    /// for it (a stored token, rotated since, wins).
    #[must_use]
    pub fn refresh_tokens(
        mut self,
        lookup: impl Fn(&str) -> Option<RefreshToken> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Some(Arc::new(lookup));
        self
    }

    /// Adjusts every subject's provider builder (refresh window, `min_valid`, lease,
    /// clock) before it is built.
    #[must_use]
    pub fn configure_provider(
        mut self,
        configure: impl Fn(CachedTokenProviderBuilder) -> CachedTokenProviderBuilder
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.configure = Some(Arc::new(configure));
        self
    }

    /// Builds the map. Nothing is sent: each subject's provider reads the store on its
    /// first call.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] for a client that cannot key its subjects' tokens
    /// ([`SubjectClient::check_subject_keys`]).
    pub fn build(self) -> Result<SubjectTokens<C>, AuthError> {
        self.client.check_subject_keys()?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let (client, factory_store, lookup, configure) = (
            self.client.clone(),
            Arc::clone(&store),
            self.lookup,
            self.configure,
        );
        let cache = TokenCache::new(self.capacity, move |subject: &String| {
            let mut builder = client
                .subject_provider_builder()
                .store(Arc::clone(&factory_store), client.store_key(subject));
            if let Some(refresh_token) = lookup.as_ref().and_then(|lookup| lookup(subject)) {
                builder = builder.seed_refresh_token(refresh_token);
            }
            if let Some(configure) = &configure {
                builder = configure(builder);
            }
            Ok(builder.build())
        });
        Ok(SubjectTokens {
            client: self.client,
            store,
            cache,
        })
    }
}

impl<C: fmt::Debug> fmt::Debug for SubjectTokensBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectTokensBuilder")
            .field("client", &self.client)
            .field("store", &self.store)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

//! Easyship grant flows as [`TokenSource`]s, for
//! [`CachedTokenProvider`] to drive.
//!
//! | source | grant | refresh token |
//! |---|---|---|
//! | [`RefreshGrant`] | `refresh_token` (a seller who authorized the app) | single-use, rotated on every call |
//! | [`AuthorizationCodeGrant`] | `authorization_code` once, then `refresh_token` | as above |
//! | [`ClientCredentialsGrant`] | `client_credentials` (Enterprise) | none |
//! | [`DelegatedAccountGrant`] | `delegated_account` (Enterprise child company), then `refresh_token` | rotated; a dead one falls back to a new grant |
//! | [`ApiKeySource`] | a dashboard API key (`prod_…`, `sand_…`) | none, never expires |
//!
//! The one-call providers, [`Client::refresh_provider`] and
//! [`Client::client_credentials_provider`] (each also as a `_builder` to add a store), wrap
//! these in a [`CachedTokenProvider`] that knows Easyship's API: `provider.send(request)`
//! puts `Authorization: Bearer` on and retries once after a rejected token.
//!
//! Sources are pure: a rotated refresh token is simply in the returned
//! [`Token`]. With a [`TokenStore`](auth_core::TokenStore) the provider saves it, under the
//! store's lease, before anyone uses the new access token, and two processes never spend
//! the same one.
//!
//! No client can make the rotation itself crash-proof: once Easyship has answered, the
//! new refresh token exists only in this process until the store has it. If the process
//! dies in between, the seller's chain is lost (the old token is spent) and the seller
//! must authorize again. Saving before publishing keeps that window to the time from
//! Easyship's answer to the store's durable write (10–40 ms measured with
//! [`FileStore`](auth_core::FileStore), which fsyncs).
//!
//! Every `refresh_token` request is sent once ([`Client::refresh`]): it is retried only
//! when it never reached Easyship, a slow answer is awaited for the whole retry budget,
//! and when its outcome is unknown the error is
//! [`AuthError::OutcomeUnknown`], never `invalid_grant`.

use async_trait::async_trait;
use auth_core::vendor::VendorClient;
use auth_core::{
    AccessToken, AuthError, CachedTokenProvider, CachedTokenProviderBuilder, RefreshToken, Scopes,
    Secret, SubjectClient, SubjectTokens, SubjectTokensBuilder, Token, TokenSource,
};

use crate::client::Client;
use crate::endpoint::Environment;
use crate::scope::Scope;

/// The seller's tokens from a refresh token: every call spends the previous token's
/// refresh token and returns the next one.
///
/// Seed the provider with the refresh token from
/// [`Client::exchange_code`] (`seed_refresh_token`, or `replace_token` with the whole
/// token); a stored token wins over the seed.
///
/// # Examples
///
/// [`Client::refresh_provider`] builds the provider for you; the grant itself is for a
/// provider with settings of your own, or with [`with_scopes`](Self::with_scopes):
///
/// ```no_run
/// # async fn run() -> Result<(), auth_core::AuthError> {
/// use std::sync::Arc;
/// use auth_core::{FileStore, RefreshToken, Scopes, VendorClient};
/// use auth_easyship::{Client, RefreshGrant, Scope};
///
/// let client = Client::builder().client_id("id").client_secret("secret").build()?;
/// let grant = RefreshGrant::with_scopes(client.clone(), Scopes::from([Scope::PublicRateRead]))?;
/// let provider = client
///     .provider_builder(grant)
///     .store(Arc::new(FileStore::new("/var/lib/myapp/tokens")), client.store_key("seller-42"))
///     .seed_refresh_token(RefreshToken::new("from exchange_code"))
///     .build();
/// let token = provider.token().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    client: Client,
    scopes: Option<Scopes<Scope>>,
}

impl RefreshGrant {
    /// Refreshes with all the scopes the seller granted.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            scopes: None,
        }
    }

    /// Refreshes asking for `scopes` only (sent as `scope`).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty or mixed set, or Enterprise scopes on the
    /// partner endpoint.
    pub fn with_scopes(client: Client, scopes: Scopes<Scope>) -> Result<Self, AuthError> {
        check(&client, &scopes)?;
        Ok(Self {
            client,
            scopes: Some(scopes),
        })
    }
}

#[async_trait]
impl TokenSource for RefreshGrant {
    /// Refreshes with `previous`'s refresh token, which Easyship spends and replaces.
    ///
    /// # Errors
    ///
    /// [`AuthError::NoRefreshToken`] (nothing sent) when `previous` has no refresh token:
    /// seed the provider with the one from [`Client::exchange_code`], or have the seller
    /// authorize the app. Otherwise as [`Client::refresh`] (whose `invalid_grant` is
    /// Easyship's: the refresh token was spent, expired or revoked).
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        let refresh_token = previous
            .and_then(Token::refresh_token)
            .ok_or(AuthError::NoRefreshToken)?;
        match &self.scopes {
            None => self.client.refresh(refresh_token).await,
            Some(scopes) => self.client.refresh_with_scopes(refresh_token, scopes).await,
        }
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }

    /// Easyship's refresh tokens are single-use.
    fn rotates_refresh_token(&self) -> bool {
        crate::client::REFRESH_TOKEN_SINGLE_USE
    }

    /// A refresh revokes the previous access token (inferred from Doorkeeper's behaviour:
    /// `/work/shared/vendors/easyship.md`).
    fn revokes_previous_access_token(&self) -> bool {
        crate::client::REFRESH_REVOKES_PREVIOUS_ACCESS_TOKEN
    }
}

/// The authorization code exchanged once, then refresh with rotation: auth-core's
/// [`AuthorizationCodeGrant`](auth_core::grant::AuthorizationCodeGrant) over this crate's
/// [`Client`] (the same take-the-code-once logic in every vendor crate).
///
/// The first fetch without a refresh token exchanges the code ([`Client::exchange_code`]);
/// later fetches refresh ([`Client::refresh`]). A code is single-use: once exchanged
/// (successfully, or with a definite refusal) it is dropped, and a fetch that needs it
/// again fails with [`AuthError::NoRefreshToken`] (nothing sent; the seller must authorize
/// again). After a retryable failure (timeout, 5xx) the code is kept for one more try:
/// Easyship answers `invalid_grant` if the lost attempt had spent it.
///
/// # Examples
///
/// ```
/// use auth_core::VendorClient;
/// use auth_easyship::{AuthorizationCodeGrant, Client};
///
/// let client = Client::builder().client_id("id").client_secret("secret").build().unwrap();
/// // `code` from the redirect to https://app.example.com/cb, after checking its `state`.
/// let grant = AuthorizationCodeGrant::new(client.clone(), "code", "https://app.example.com/cb");
/// // The first `provider.token().await` exchanges the code, later ones refresh.
/// let provider = client.provider_builder(grant).build();
/// # drop(provider);
/// ```
pub type AuthorizationCodeGrant = auth_core::grant::AuthorizationCodeGrant<Client>;

/// An application token from the client credentials (Enterprise): no seller, no refresh
/// token; a new one is requested whenever the last expires.
///
/// # Examples
///
/// ```
/// use auth_core::{Scopes, VendorClient};
/// use auth_easyship::{Client, ClientCredentialsGrant, Endpoint, Scope};
///
/// let client = Client::builder()
///     .client_id("id")
///     .client_secret("secret")
///     .endpoint(Endpoint::Enterprise)
///     .build()
///     .unwrap();
/// let scopes = Scopes::from([Scope::PublicShipmentRead, Scope::EnterpriseOrganizationWrite]);
/// let grant = ClientCredentialsGrant::new(client.clone(), scopes).unwrap();
/// // What `client.client_credentials_provider(scopes)` does in one call:
/// let provider = client.provider_builder(grant).build();
/// # drop(provider);
/// ```
#[derive(Debug, Clone)]
pub struct ClientCredentialsGrant {
    client: Client,
    scopes: Scopes<Scope>,
}

impl ClientCredentialsGrant {
    /// A grant for `scopes`, checked now.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty or mixed set, or Enterprise scopes on the
    /// partner endpoint.
    pub fn new(client: Client, scopes: Scopes<Scope>) -> Result<Self, AuthError> {
        check(&client, &scopes)?;
        Ok(Self { client, scopes })
    }
}

#[async_trait]
impl TokenSource for ClientCredentialsGrant {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        self.client.client_credentials(&self.scopes).await
    }

    /// No refresh token: any process may fetch one.
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

/// An Enterprise child company's token (`delegated_account` with `easyship_company_id`),
/// refreshed with its rotating refresh token.
///
/// Unlike a seller's grant, this one never needs a person: when the refresh token is dead
/// (`invalid_grant`, for example spent by a process that crashed before saving), a new
/// `delegated_account` grant replaces it. Nor does it need a seed: the first fetch makes
/// the `delegated_account` grant.
///
/// # Examples
///
/// ```
/// use auth_core::{Scopes, VendorClient};
/// use auth_easyship::{Client, DelegatedAccountGrant, Endpoint};
///
/// let client = Client::builder()
///     .client_id("id")
///     .client_secret("secret")
///     .endpoint(Endpoint::Enterprise)
///     .build()
///     .unwrap();
/// let grant = DelegatedAccountGrant::new(client.clone(), "CUS123456", Scopes::new()).unwrap();
/// let provider = client.provider_builder(grant).build();
/// # drop(provider);
/// ```
#[derive(Debug, Clone)]
pub struct DelegatedAccountGrant {
    client: Client,
    easyship_company_id: String,
    scopes: Scopes<Scope>,
}

impl DelegatedAccountGrant {
    /// A grant for the child company `easyship_company_id`; an empty `scopes` sends none.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] if the client is not on the Enterprise endpoint or the
    /// id is empty; [`AuthError::InvalidScope`] for a mixed set.
    pub fn new(
        client: Client,
        easyship_company_id: impl Into<String>,
        scopes: Scopes<Scope>,
    ) -> Result<Self, AuthError> {
        let easyship_company_id = easyship_company_id.into();
        if client.endpoint() != crate::Endpoint::Enterprise {
            return Err(AuthError::InvalidConfig(
                "the delegated_account grant needs a client on Easyship's Enterprise endpoint"
                    .into(),
            ));
        }
        if easyship_company_id.trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "easyship_company_id is empty".into(),
            ));
        }
        scopes.validate()?;
        Ok(Self {
            client,
            easyship_company_id,
            scopes,
        })
    }
}

#[async_trait]
impl TokenSource for DelegatedAccountGrant {
    async fn fetch_token(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        if let Some(refresh_token) = previous.and_then(Token::refresh_token) {
            match self.client.refresh(refresh_token).await {
                Err(error) if error.is_invalid_grant() => {
                    tracing::info!(
                        "Easyship delegated-account refresh token is dead; requesting a new grant"
                    );
                }
                other => return other,
            }
        }
        self.client
            .delegated_account(&self.easyship_company_id, &self.scopes)
            .await
    }

    /// It refreshes with Easyship's single-use refresh tokens when it has one.
    fn rotates_refresh_token(&self) -> bool {
        crate::client::REFRESH_TOKEN_SINGLE_USE
    }

    /// Its refreshes revoke the previous access token, as [`RefreshGrant`]'s do.
    fn revokes_previous_access_token(&self) -> bool {
        crate::client::REFRESH_REVOKES_PREVIOUS_ACCESS_TOKEN
    }
}

/// A dashboard API key (`prod_…` or `sand_…`) as a token that never expires.
///
/// Easyship's dashboard issues one key per environment; the prefix says which. The key is
/// checked against the environment when the source is built, so a sandbox key is never
/// sent to production (which would reject it) or the other way round.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::AuthError> {
/// use auth_core::TokenSource;
/// use auth_easyship::{ApiKeySource, Environment};
///
/// let source = ApiKeySource::new("sand_4e2b327e2ef5471885cd0bc50a0c9fe5", Environment::Sandbox)?;
/// let token = source.fetch_token(None).await?;
/// assert_eq!(token.expires_at(), None);
/// assert!(ApiKeySource::new("sand_4e2b327e2ef5471885cd0bc50a0c9fe5", Environment::Production).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ApiKeySource {
    token: Token,
    environment: Environment,
}

impl ApiKeySource {
    /// A source for `key` in `environment`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidConfig`] (which never quotes the key) if the key does not start
    /// with the environment's prefix (`prod_` for production, `sand_` for the sandbox),
    /// is only the prefix, or contains whitespace or control characters.
    pub fn new(key: impl Into<String>, environment: Environment) -> Result<Self, AuthError> {
        let key = Secret::new(key);
        let value = key.expose_secret();
        let prefix = environment.api_key_prefix();
        if !value.starts_with(prefix) {
            let other = Environment::ALL
                .iter()
                .find(|e| value.starts_with(e.api_key_prefix()));
            return Err(AuthError::InvalidConfig(match other {
                Some(other) => format!(
                    "this Easyship API key is for the {other} environment (`{}…`), not {environment}",
                    other.api_key_prefix()
                ),
                None => format!(
                    "an Easyship {environment} API key starts with `{prefix}`; this one does not"
                ),
            }));
        }
        if value.len() == prefix.len() || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AuthError::InvalidConfig(
                "the Easyship API key is malformed (empty after its prefix, or contains whitespace)"
                    .into(),
            ));
        }
        Ok(Self {
            token: Token::new(AccessToken::new(value), None),
            environment,
        })
    }

    /// The environment the key belongs to.
    pub fn environment(&self) -> Environment {
        self.environment
    }
}

#[async_trait]
impl TokenSource for ApiKeySource {
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        Ok(self.token.clone())
    }

    /// A fixed key: nothing to refresh.
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

fn check(client: &Client, scopes: &Scopes<Scope>) -> Result<(), AuthError> {
    client.check_scopes(scopes, true)
}

impl Client {
    /// A provider of the seller's token from `refresh_token` (the one from
    /// [`exchange_code`](Self::exchange_code)): [`RefreshGrant`], seeded, knowing
    /// Easyship's API so that [`CachedTokenProvider::send`] needs nothing else. Without a
    /// store the rotated refresh tokens live in this process only: use
    /// [`refresh_provider_builder`](Self::refresh_provider_builder) to add one.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AuthError> {
    /// use auth_core::{RefreshToken, VendorClient};
    /// use auth_easyship::Client;
    ///
    /// let client = Client::builder().client_id("id").client_secret("secret").build()?;
    /// let provider = client.refresh_provider(RefreshToken::new("from exchange_code"));
    /// let response = provider
    ///     .send(client.http_client().get(client.api_url("2024-09/account")?))
    ///     .await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub fn refresh_provider(&self, refresh_token: impl Into<RefreshToken>) -> CachedTokenProvider {
        self.refresh_provider_builder(refresh_token).build()
    }

    /// Like [`refresh_provider`](Self::refresh_provider), as a builder: add a store (a
    /// stored refresh token wins over `refresh_token`, which only seeds an empty store)
    /// or settings, then `build()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use auth_core::{MemoryStore, RefreshToken, VendorClient};
    /// use auth_easyship::Client;
    ///
    /// let client = Client::builder().client_id("id").client_secret("secret").build()?;
    /// let provider = client
    ///     .refresh_provider_builder(RefreshToken::new("from exchange_code"))
    ///     .store(Arc::new(MemoryStore::new()), client.store_key("seller-42"))
    ///     .build();
    /// # drop(provider);
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    pub fn refresh_provider_builder(
        &self,
        refresh_token: impl Into<RefreshToken>,
    ) -> CachedTokenProviderBuilder {
        self.provider_builder(RefreshGrant::new(self.clone()))
            .seed_refresh_token(refresh_token.into())
    }

    /// A provider of an application token for `scopes` ([`ClientCredentialsGrant`],
    /// Enterprise), knowing Easyship's API so that [`CachedTokenProvider::send`] needs
    /// nothing else.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidScope`] for an empty or mixed set, or Enterprise scopes on the
    /// partner endpoint (nothing sent).
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_core::Scopes;
    /// use auth_easyship::{Client, Endpoint, Scope};
    ///
    /// let client = Client::builder()
    ///     .client_id("id")
    ///     .client_secret("secret")
    ///     .endpoint(Endpoint::Enterprise)
    ///     .build()?;
    /// let provider = client.client_credentials_provider(Scopes::from([Scope::PublicShipmentRead]))?;
    /// # drop(provider);
    /// # Ok::<(), auth_core::AuthError>(())
    /// ```
    pub fn client_credentials_provider(
        &self,
        scopes: Scopes<Scope>,
    ) -> Result<CachedTokenProvider, AuthError> {
        Ok(self.client_credentials_provider_builder(scopes)?.build())
    }

    /// Like [`client_credentials_provider`](Self::client_credentials_provider), as a
    /// builder (to add a store shared by your processes, or settings).
    ///
    /// # Errors
    ///
    /// As [`client_credentials_provider`](Self::client_credentials_provider).
    pub fn client_credentials_provider_builder(
        &self,
        scopes: Scopes<Scope>,
    ) -> Result<CachedTokenProviderBuilder, AuthError> {
        Ok(self.provider_builder(ClientCredentialsGrant::new(self.clone(), scopes)?))
    }
}

/// Access tokens for every seller that authorized the application: auth-core's
/// [`SubjectTokens`] over [`RefreshGrant`], one cached, auto-refreshing provider per
/// seller, all sharing one [`Client`] (one connection pool, one set of credentials, one
/// cap on token requests in flight).
///
/// Each seller's refresh token lives in the [`TokenStore`](auth_core::TokenStore) under
/// `client.store_key(seller)`; put it there with [`authorize`](SubjectTokens::authorize)
/// after [`exchange_code`](Client::exchange_code), or let
/// [`refresh_tokens`](SubjectTokensBuilder::refresh_tokens) seed it from where you keep
/// them. Easyship's refresh tokens are single-use (each refresh rotates it): give it a
/// store that outlives the process (a [`FileStore`](auth_core::FileStore), or a Redis
/// store shared by every process serving these sellers), or a rotation is lost with the
/// process.
///
/// # Examples
///
/// ```no_run
/// # async fn run(code: String) -> Result<(), auth_core::AuthError> {
/// use std::sync::Arc;
/// use auth_core::FileStore;
/// use auth_easyship::{Client, SellerTokens, VendorClient};
///
/// let client = Client::builder().client_id("id").client_secret("secret").build()?;
/// let sellers = SellerTokens::builder(client.clone())
///     .store(Arc::new(FileStore::new("/var/lib/myapp/tokens")))
///     .capacity(10_000)
///     .build()?;
///
/// // Onboarding: the seller's refresh token goes into the store.
/// let token = client.exchange_code(code, "https://myapp.example/callback").await?;
/// sellers.authorize("seller-42", token).await?;
///
/// // Any later call for that seller: a cached token, refreshed when due, and one retry
/// // with a new token if Easyship rejects it.
/// let url = client.api_url("2024-09/account")?;
/// let response = sellers.send("seller-42", client.http_client().get(url)).await?;
/// # let _ = response; Ok(()) }
/// ```
pub type SellerTokens = SubjectTokens<Client>;

/// Builds [`SellerTokens`].
pub type SellerTokensBuilder = SubjectTokensBuilder<Client>;

impl SubjectClient for Client {
    /// [`RefreshGrant`], knowing Easyship's API.
    fn subject_provider_builder(&self) -> CachedTokenProviderBuilder {
        self.provider_builder(RefreshGrant::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder()
            .client_id("id")
            .client_secret("secret")
            .build()
            .unwrap()
    }

    /// What a provider may do when its store is unreachable: never refresh Easyship's
    /// single-use refresh tokens without the lease.
    #[test]
    fn refresh_grants_declare_single_use_refresh_tokens() {
        assert!(RefreshGrant::new(client()).rotates_refresh_token());
        assert!(
            AuthorizationCodeGrant::new(client(), "code", "https://app/cb").rotates_refresh_token()
        );
        let key = ApiKeySource::new(
            "sand_4e2b327e2ef5471885cd0bc50a0c9fe5",
            Environment::Sandbox,
        );
        assert!(!key.unwrap().rotates_refresh_token());
    }

    /// Doorkeeper revokes the previous access token on a refresh: the provider holds it
    /// back while the refresh runs. Grants without a refresh have nothing to revoke.
    #[test]
    fn refresh_grants_declare_that_a_refresh_revokes_the_previous_access_token() {
        assert!(RefreshGrant::new(client()).revokes_previous_access_token());
        assert!(
            AuthorizationCodeGrant::new(client(), "code", "https://app/cb")
                .revokes_previous_access_token()
        );
        let key = ApiKeySource::new(
            "sand_4e2b327e2ef5471885cd0bc50a0c9fe5",
            Environment::Sandbox,
        );
        assert!(!key.unwrap().revokes_previous_access_token());
    }
}

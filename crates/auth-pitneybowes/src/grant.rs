//! The Pitney Bowes grant as a [`TokenSource`] (client credentials, nothing else), and the
//! one-call provider over it ([`Client::provider`]).

use auth_core::vendor::VendorClient;
use auth_core::{
    AuthError, CachedTokenProvider, CachedTokenProviderBuilder, Token, TokenSource, async_trait,
};

use crate::Client;

/// The client-credentials grant: every token comes from the API key and secret.
///
/// Pitney Bowes issues no refresh token, so a new token is simply requested again: the
/// `previous` token is ignored and [`needs_refresh_token`](TokenSource::needs_refresh_token)
/// is `false` (the grant never needs the user to authorize anything again).
///
/// # Examples
///
/// ```
/// use auth_pitneybowes::{Client, ClientCredentialsGrant};
/// use auth_core::TokenSource;
///
/// let client = Client::builder().api_key("k").api_secret("s").build().unwrap();
/// let grant = ClientCredentialsGrant::new(client);
/// assert!(!grant.needs_refresh_token());
/// ```
///
/// [`Client::provider`] drives it in a cached provider that knows the Shipping API.
#[derive(Debug, Clone)]
pub struct ClientCredentialsGrant {
    client: Client,
}

impl ClientCredentialsGrant {
    /// The grant of `client`'s key, secret and environment.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The client it requests tokens with.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl From<Client> for ClientCredentialsGrant {
    fn from(client: Client) -> Self {
        Self::new(client)
    }
}

#[async_trait]
impl TokenSource for ClientCredentialsGrant {
    /// Requests a new token ([`Client::client_credentials`]); `previous` plays no part.
    async fn fetch_token(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
        self.client.client_credentials().await
    }

    fn needs_refresh_token(&self) -> bool {
        false
    }

    /// Client credentials: no refresh token, any process may fetch one.
    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

impl Client {
    /// A cached, auto-refreshing token of this client, held in memory, that knows the
    /// Shipping API: [`CachedTokenProvider::send`] puts the token on a request as
    /// `Authorization: Bearer` and, when the API rejects it (401, `PB-APIM-ERR-1002`,
    /// `PB-APIM-ERR-1003`), gets a new one and sends the request once more.
    ///
    /// For a token shared across processes, add a store with
    /// [`provider_builder`](Self::provider_builder).
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = auth_pitneybowes::Client::builder().api_key("k").api_secret("s").build().unwrap();
    /// let provider = client.provider();
    /// // let token = provider.token().await?; // one request, then the cached token
    /// # drop(provider);
    /// ```
    pub fn provider(&self) -> CachedTokenProvider {
        self.provider_builder().build()
    }

    /// The builder of [`provider`](Self::provider), to add a store, a clock or refresh
    /// settings before `build()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use auth_core::MemoryStore;
    /// use auth_pitneybowes::{Client, VendorClient};
    ///
    /// let client = Client::builder().api_key("k").api_secret("s").build().unwrap();
    /// let provider = client
    ///     .provider_builder()
    ///     .store(Arc::new(MemoryStore::new()), client.store_key(Client::APP_SUBJECT))
    ///     .build();
    /// # drop(provider);
    /// ```
    pub fn provider_builder(&self) -> CachedTokenProviderBuilder {
        VendorClient::provider_builder(self, ClientCredentialsGrant::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Client credentials: no refresh token, any process may fetch.
    #[test]
    fn client_credentials_declare_no_single_use_credential() {
        let client = Client::builder()
            .api_key("key")
            .api_secret("secret")
            .build()
            .unwrap();
        assert!(!ClientCredentialsGrant::new(client).rotates_refresh_token());
    }
}

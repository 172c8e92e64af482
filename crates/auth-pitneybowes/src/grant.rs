//! The Pitney Bowes grant as a [`TokenSource`]: client credentials, nothing else.

use auth_core::{AuthError, Token, TokenSource, async_trait};

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
}

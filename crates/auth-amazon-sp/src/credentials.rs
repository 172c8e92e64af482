//! Where the LWA client id and secret come from, so that a rotated secret takes effect on
//! the next token request without a restart.
//!
//! Amazon makes LWA client secrets expire 180 days after they are issued. A rotation
//! (in the Solution Provider Portal, or with the Application Management API, which then
//! sends the new secret in an `APPLICATION_OAUTH_CLIENT_NEW_SECRET` notification) leaves
//! a window in which the old and the new secret both work. [`RotatingCredentials`] holds
//! both during that window; when LWA answers `invalid_client` to one, the grant tries the
//! other once.

use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use auth_core::{AuthError, ClientId, ClientSecret};

/// The client id and the secret(s) to try, in order.
#[derive(Clone)]
pub struct Credentials {
    client_id: ClientId,
    secret: ClientSecret,
    alternate: Option<ClientSecret>,
}

impl Credentials {
    /// One client id and secret.
    pub fn new(client_id: impl Into<ClientId>, secret: impl Into<ClientSecret>) -> Self {
        Self {
            client_id: client_id.into(),
            secret: secret.into(),
            alternate: None,
        }
    }

    /// Adds the other secret of a rotation window, tried once when LWA answers
    /// `invalid_client` to the first.
    #[must_use]
    pub fn with_alternate(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.alternate = Some(secret.into());
        self
    }

    /// The LWA client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The secret tried first.
    pub fn secret(&self) -> &ClientSecret {
        &self.secret
    }

    /// The secret tried after an `invalid_client` answer to the first, if any.
    pub fn alternate(&self) -> Option<&ClientSecret> {
        self.alternate.as_ref()
    }

    pub(crate) fn check(&self) -> Result<(), AuthError> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(AuthError::InvalidConfig(
                "the LWA client id is empty".into(),
            ));
        }
        if self.secret.expose_secret().trim().is_empty()
            || self
                .alternate
                .as_ref()
                .is_some_and(|s| s.expose_secret().trim().is_empty())
        {
            return Err(AuthError::InvalidConfig(
                "the LWA client secret is empty".into(),
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .field("alternate", &self.alternate)
            .finish()
    }
}

/// Supplies the LWA credentials for each token request.
///
/// Read once per token request, so a changed secret is used from the next request on.
/// Implement it over your secret manager; [`StaticCredentials`] and
/// [`RotatingCredentials`] cover the common cases.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::{Credentials, CredentialsProvider};
/// use auth_core::AuthError;
///
/// #[derive(Debug)]
/// struct FromEnv;
///
/// #[async_trait::async_trait]
/// impl CredentialsProvider for FromEnv {
///     async fn credentials(&self) -> Result<Credentials, AuthError> {
///         let id = std::env::var("LWA_CLIENT_ID").map_err(|_| AuthError::InvalidConfig("LWA_CLIENT_ID unset".into()))?;
///         let secret = std::env::var("LWA_CLIENT_SECRET").map_err(|_| AuthError::InvalidConfig("LWA_CLIENT_SECRET unset".into()))?;
///         Ok(Credentials::new(id, secret))
///     }
/// }
/// ```
#[async_trait]
pub trait CredentialsProvider: fmt::Debug + Send + Sync + 'static {
    /// The credentials for the next token request.
    ///
    /// # Errors
    ///
    /// Whatever the provider's source failed with; the token request is not sent.
    async fn credentials(&self) -> Result<Credentials, AuthError>;

    /// The client id, when the provider knows it without I/O (it names the application in
    /// token store keys). Default `None`.
    fn client_id(&self) -> Option<ClientId> {
        None
    }

    /// Called when LWA accepted `secret` after refusing the other one with
    /// `invalid_client`, so the provider can try it first from now on. Default: nothing.
    fn secret_accepted(&self, secret: &ClientSecret) {
        let _ = secret;
    }
}

#[async_trait]
impl<T: CredentialsProvider + ?Sized> CredentialsProvider for Arc<T> {
    async fn credentials(&self) -> Result<Credentials, AuthError> {
        (**self).credentials().await
    }
    fn client_id(&self) -> Option<ClientId> {
        (**self).client_id()
    }
    fn secret_accepted(&self, secret: &ClientSecret) {
        (**self).secret_accepted(secret);
    }
}

/// Fixed credentials: what `Client::builder().client_id(..).client_secret(..)` uses.
#[derive(Debug, Clone)]
pub struct StaticCredentials(Credentials);

impl StaticCredentials {
    /// Fixed credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self(credentials)
    }
}

#[async_trait]
impl CredentialsProvider for StaticCredentials {
    async fn credentials(&self) -> Result<Credentials, AuthError> {
        Ok(self.0.clone())
    }

    fn client_id(&self) -> Option<ClientId> {
        Some(self.0.client_id.clone())
    }
}

/// Credentials whose secret can be replaced at run time, with a rotation window holding
/// both secrets.
///
/// Share it (`Arc`) between the [`Client`](crate::Client) and whatever learns of the new
/// secret (the handler of the `APPLICATION_OAUTH_CLIENT_NEW_SECRET` notification).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use auth_amazon_sp::{Client, RotatingCredentials};
///
/// let credentials = Arc::new(RotatingCredentials::new("amzn1.application-oa2-client.x", "old-secret"));
/// let client = Client::builder().credentials(credentials.clone()).build().unwrap();
///
/// // The notification arrived: use the new secret, keep the old one as a fallback.
/// credentials.begin_rotation("new-secret");
/// // Once the old secret has expired:
/// credentials.finish_rotation();
/// # drop(client);
/// ```
pub struct RotatingCredentials {
    state: RwLock<Credentials>,
}

impl RotatingCredentials {
    /// Starts with one secret.
    pub fn new(client_id: impl Into<ClientId>, secret: impl Into<ClientSecret>) -> Self {
        Self {
            state: RwLock::new(Credentials::new(client_id, secret)),
        }
    }

    /// Starts from the given credentials (for example in the middle of a rotation).
    pub fn from_credentials(credentials: Credentials) -> Self {
        Self {
            state: RwLock::new(credentials),
        }
    }

    /// Makes `new_secret` the secret tried first and keeps the current one as the fallback.
    pub fn begin_rotation(&self, new_secret: impl Into<ClientSecret>) {
        let mut state = self.write();
        let old = std::mem::replace(&mut state.secret, new_secret.into());
        state.alternate = Some(old);
        tracing::info!(
            "LWA client secret rotation started; the previous secret stays as a fallback"
        );
    }

    /// Drops the fallback secret: the rotation window is over.
    pub fn finish_rotation(&self) {
        self.write().alternate = None;
        tracing::info!("LWA client secret rotation finished");
    }

    /// Replaces the secret and drops any fallback.
    pub fn set_secret(&self, secret: impl Into<ClientSecret>) {
        let mut state = self.write();
        state.secret = secret.into();
        state.alternate = None;
    }

    /// A copy of the current credentials.
    pub fn current(&self) -> Credentials {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Credentials> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for RotatingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RotatingCredentials")
            .field(&self.current())
            .finish()
    }
}

#[async_trait]
impl CredentialsProvider for RotatingCredentials {
    async fn credentials(&self) -> Result<Credentials, AuthError> {
        Ok(self.current())
    }

    fn client_id(&self) -> Option<ClientId> {
        Some(self.current().client_id)
    }

    /// Swaps the two secrets when the fallback was the one accepted, so the next request
    /// does not start with a refused secret.
    fn secret_accepted(&self, secret: &ClientSecret) {
        let mut state = self.write();
        if state
            .alternate
            .as_ref()
            .is_some_and(|alt| alt.ct_eq(secret))
        {
            let accepted = state.alternate.take().expect("checked above");
            let refused = std::mem::replace(&mut state.secret, accepted);
            state.alternate = Some(refused);
            tracing::info!("LWA accepted the fallback client secret; trying it first from now on");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_orders_and_swaps_secrets() {
        let creds = RotatingCredentials::new("id", "old-secret");
        creds.begin_rotation("new-secret");
        let now = creds.current();
        assert_eq!(now.secret().expose_secret(), "new-secret");
        assert_eq!(now.alternate().unwrap().expose_secret(), "old-secret");

        creds.secret_accepted(&ClientSecret::new("old-secret"));
        let now = creds.current();
        assert_eq!(now.secret().expose_secret(), "old-secret");
        assert_eq!(now.alternate().unwrap().expose_secret(), "new-secret");

        // Accepting the first secret changes nothing.
        creds.secret_accepted(&ClientSecret::new("old-secret"));
        assert_eq!(creds.current().secret().expose_secret(), "old-secret");

        creds.finish_rotation();
        assert!(creds.current().alternate().is_none());
        creds.set_secret("newest");
        assert_eq!(creds.current().secret().expose_secret(), "newest");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = RotatingCredentials::from_credentials(
            Credentials::new("amzn1.application-oa2-client.id", "s3cr3t-one")
                .with_alternate("s3cr3t-two"),
        );
        let dbg = format!("{creds:?} {:?}", creds.current());
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(dbg.contains("amzn1.application-oa2-client.id"), "{dbg}");
    }

    #[test]
    fn empty_values_are_refused() {
        assert!(Credentials::new("", "s").check().is_err());
        assert!(Credentials::new("id", " ").check().is_err());
        assert!(
            Credentials::new("id", "s")
                .with_alternate("")
                .check()
                .is_err()
        );
        assert!(Credentials::new("id", "s").check().is_ok());
    }
}

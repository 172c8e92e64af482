//! Grantless scopes of the Selling Partner API.
//!
//! LWA scopes only matter for *grantless* operations (the `client_credentials` grant):
//! seller-authorized calls use a refresh token and carry no scope at all.

use std::fmt;
use std::str::FromStr;

use auth_core::{AuthError, Scopes, UnknownScope};

/// A grantless SP-API scope.
///
/// # Examples
///
/// ```
/// use auth_amazon_sp::Scope;
/// use auth_core::Scopes;
///
/// let scopes: Scopes<Scope> = "sellingpartnerapi::notifications".parse().unwrap();
/// assert!(scopes.contains(&Scope::Notifications));
/// assert_eq!(Scope::ClientCredentialRotation.as_str(), "sellingpartnerapi::client_credential:rotation");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scope {
    /// `sellingpartnerapi::notifications`: the Notifications API's grantless operations
    /// (destinations and their subscriptions).
    Notifications,
    /// `sellingpartnerapi::client_credential:rotation`: the Application Management API's
    /// `rotateApplicationClientSecret`.
    ClientCredentialRotation,
    /// `sellingpartnerapi::migration`: the Authorization API v1 (`getAuthorizationCode`,
    /// MWS-to-SP-API migration), removed on 2024-03-27. Accepted only so that old
    /// configurations still parse; Amazon answers it with an error.
    #[deprecated(note = "the Authorization API was removed on 2024-03-27")]
    Migration,
}

#[allow(deprecated)]
impl Scope {
    /// Every scope, in documentation order.
    pub const ALL: &'static [Scope] = &[
        Scope::Notifications,
        Scope::ClientCredentialRotation,
        Scope::Migration,
    ];

    /// The scope as it goes on the wire.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Scope::Notifications => "sellingpartnerapi::notifications",
            Scope::ClientCredentialRotation => "sellingpartnerapi::client_credential:rotation",
            Scope::Migration => "sellingpartnerapi::migration",
        }
    }

    /// Whether Amazon has withdrawn the scope.
    pub const fn is_deprecated(&self) -> bool {
        matches!(self, Scope::Migration)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .iter()
            .find(|scope| scope.as_str() == s)
            .copied()
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

impl auth_core::Scope for Scope {
    fn as_str(&self) -> &str {
        Scope::as_str(self)
    }

    /// Logs a warning for deprecated scopes; every combination of current scopes is valid.
    fn validate(scopes: &Scopes<Self>) -> Result<(), AuthError> {
        for scope in scopes.iter().filter(|s| s.is_deprecated()) {
            tracing::warn!(
                scope = scope.as_str(),
                "requesting a deprecated SP-API scope"
            );
        }
        Ok(())
    }
}

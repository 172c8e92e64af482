//! Grantless scopes of the Selling Partner API: the [`Scope`] enum is generated from
//! `spec/scopes.toml`.
//!
//! LWA scopes only matter for *grantless* operations (the `client_credentials` grant):
//! seller-authorized calls use a refresh token and carry no scope at all.

use auth_core::{AuthError, Scopes};

pub use crate::generated::scopes::Scope;

/// [`Scope`]'s check before any request: every combination is valid; a deprecated scope
/// is sent (Amazon decides) but logged.
pub(crate) fn validate(scopes: &Scopes<Scope>) -> Result<(), AuthError> {
    for scope in scopes.iter().filter(|s| s.is_deprecated()) {
        tracing::warn!(
            scope = scope.as_str(),
            "requesting a deprecated SP-API scope"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_wire_values() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), *scope);
            assert!(scope.as_str().starts_with("sellingpartnerapi::"));
        }
        assert!("sellingpartnerapi::reports".parse::<Scope>().is_err());
        assert_eq!(
            Scope::ALL.iter().filter(|s| s.is_deprecated()).count(),
            1,
            "only sellingpartnerapi::migration is deprecated"
        );
    }
}

//! Easyship's OAuth scopes ([`Scope`], generated from `spec/scopes.toml`) and the rule
//! that checks a set before any request.
//!
//! Easyship's rule (from the token endpoint's reference page): "We support only 1 type of
//! API scopes per OAuth 2 application. It is impossible to mix old and new scopes on a
//! single application." Legacy scopes (`rate`, `label`: API 2023-01 and older) and enhanced
//! scopes (`public.<resource>:<read|write>`: API 2024-09 and newer) are therefore never
//! sent together. Enterprise scopes (`enterprise.…`) combine with either generation.

use auth_core::{AuthError, Scopes};

pub use crate::generated::scopes::{Access, Generation, Scope};

impl Scope {
    /// Whether this scope allows requests of the given kind.
    ///
    /// An enhanced scope allows exactly its action (`:read`: `GET`; `:write`: `POST`,
    /// `PUT`, `PATCH`, `DELETE`). A legacy scope has no action and, per Easyship, "enables
    /// both read and write operations within its context", so it grants both; so do the
    /// Enterprise scopes without an action.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::{Access, Scope};
    ///
    /// assert!(Scope::PublicShipmentRead.grants(Access::Read));
    /// assert!(!Scope::PublicShipmentRead.grants(Access::Write));
    /// assert!(Scope::Shipment.grants(Access::Write)); // legacy: read and write
    /// ```
    pub fn grants(&self, access: Access) -> bool {
        self.access().is_none_or(|own| own == access)
    }

    /// The enhanced scope for `resource` and `access` (`public.<resource>:<access>`), if
    /// Easyship has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_easyship::{Access, Scope};
    ///
    /// assert_eq!(Scope::enhanced("label", Access::Write), Some(Scope::PublicLabelWrite));
    /// assert_eq!(Scope::enhanced("label", Access::Read), None);
    /// ```
    pub fn enhanced(resource: &str, access: Access) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| {
            s.generation() == Generation::Enhanced
                && s.resource() == resource
                && s.access() == Some(access)
        })
    }
}

/// The generation of Public API scopes in `scopes` (legacy or enhanced), ignoring
/// Enterprise scopes; `None` when the set holds none, or both (which
/// [`Scopes::validate`] refuses).
///
/// # Examples
///
/// ```
/// use auth_core::Scopes;
/// use auth_easyship::{scope::public_generation, Generation, Scope};
///
/// let set = Scopes::from([Scope::PublicRateRead, Scope::EnterpriseOrganizationWrite]);
/// assert_eq!(public_generation(&set), Some(Generation::Enhanced));
/// ```
pub fn public_generation(scopes: &Scopes<Scope>) -> Option<Generation> {
    let mut found = None;
    for scope in scopes {
        let generation = scope.generation();
        if generation == Generation::Enterprise {
            continue;
        }
        match found {
            None => found = Some(generation),
            Some(g) if g != generation => return None,
            Some(_) => {}
        }
    }
    found
}

/// [`auth_core::Scope::validate`] for Easyship: legacy and enhanced scopes are never
/// mixed. Every scope of both generations is named in the error, so the caller sees the
/// whole conflict at once.
///
/// Whether a grant needs a non-empty set, and whether Enterprise scopes are allowed,
/// depends on the grant and endpoint: [`Client`](crate::Client) checks those.
pub(crate) fn validate(scopes: &Scopes<Scope>) -> Result<(), AuthError> {
    let has = |g: Generation| scopes.iter().any(|s| s.generation() == g);
    if has(Generation::Legacy) && has(Generation::Enhanced) {
        return Err(AuthError::InvalidScope {
            scopes: scopes
                .iter()
                .filter(|s| s.generation() != Generation::Enterprise)
                .map(|s| s.as_str().to_owned())
                .collect(),
            reason: "legacy scopes (API 2023-01 and older) and enhanced `public.…` scopes \
                     (API 2024-09 and newer) cannot be mixed: an Easyship OAuth application \
                     uses one generation; keep only the scopes of the generation your \
                     application was registered with"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_table_has_33_legacy_and_50_enhanced_scopes() {
        let count = |g| Scope::ALL.iter().filter(|s| s.generation() == g).count();
        assert_eq!(count(Generation::Legacy), 33);
        assert_eq!(count(Generation::Enhanced), 50);
        assert_eq!(count(Generation::Enterprise), 2);
    }

    #[test]
    fn every_scope_round_trips_and_has_consistent_columns() {
        for scope in Scope::ALL {
            let wire = scope.as_str();
            assert_eq!(wire.parse::<Scope>().unwrap(), *scope);
            assert_eq!(scope.to_string(), wire);
            assert!(!scope.description().is_empty());
            match scope.generation() {
                Generation::Legacy => {
                    assert_eq!(scope.resource(), wire);
                    assert_eq!(scope.access(), None);
                    assert!(scope.description().ends_with("API (2023-01 and older)"));
                }
                Generation::Enhanced => {
                    let access = scope.access().expect("enhanced scopes have an action");
                    assert_eq!(wire, format!("public.{}:{}", scope.resource(), access));
                    assert!(
                        scope
                            .description()
                            .ends_with("Public API (2024-09 and newer)")
                    );
                }
                Generation::Enterprise => assert!(wire.starts_with("enterprise.")),
            }
        }
    }

    #[test]
    fn unknown_scope_is_refused_by_name() {
        let err = "rate publicc.rate:read label nope"
            .parse::<Scopes<Scope>>()
            .unwrap_err();
        assert!(
            matches!(&err, AuthError::InvalidScope { scopes, .. } if scopes == &["publicc.rate:read", "nope"]),
            "{err:?}"
        );
        assert_eq!(
            "Rate".parse::<Scope>(),
            Err(auth_core::UnknownScope("Rate".into()))
        );
    }

    #[test]
    fn mixing_legacy_and_enhanced_names_every_public_scope() {
        let set = Scopes::from([
            Scope::Rate,
            Scope::EnterpriseOrganizationWrite,
            Scope::PublicLabelWrite,
            Scope::Label,
        ]);
        let err = set.validate().unwrap_err();
        match &err {
            AuthError::InvalidScope { scopes, reason } => {
                assert_eq!(scopes, &["rate", "public.label:write", "label"]);
                assert!(reason.contains("cannot be mixed"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(public_generation(&set), None);
    }

    #[test]
    fn one_generation_plus_enterprise_is_valid() {
        for set in [
            Scopes::from([
                Scope::Rate,
                Scope::Label,
                Scope::EnterpriseChildCompaniesAccess,
            ]),
            Scopes::from([Scope::PublicRateRead, Scope::EnterpriseOrganizationWrite]),
            Scopes::from([Scope::EnterpriseOrganizationWrite]),
            Scopes::new(),
        ] {
            set.validate().unwrap();
        }
        assert_eq!(
            public_generation(&Scopes::from([Scope::Rate])),
            Some(Generation::Legacy)
        );
        assert_eq!(
            public_generation(&Scopes::from([Scope::EnterpriseOrganizationWrite])),
            None
        );
    }

    #[test]
    fn grants_follows_the_action_and_legacy_grants_both() {
        assert!(Scope::PublicAddressWrite.grants(Access::Write));
        assert!(!Scope::PublicAddressWrite.grants(Access::Read));
        assert!(Scope::Address.grants(Access::Read) && Scope::Address.grants(Access::Write));
        assert_eq!(
            Scope::enhanced("track_3p", Access::Read),
            Some(Scope::PublicTrack3pRead)
        );
    }
}

//! What providers built with the same settings have in common, held once per process.
//!
//! A `TokenCache` of many subjects builds one provider per subject, each from its own
//! builder, with the same API access, lease and policy settings: shared, they cost a pointer per
//! subject instead of 112 bytes, and the policy's settings 72 more (issue 16's memory
//! per subject). The per-subject parts (store key, spread key, clock) stay in the
//! provider.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::state::Policy;
use crate::vendor::ApiAccess;

/// A provider's settings that do not depend on its subject.
#[derive(Debug)]
pub(super) struct Config {
    pub(super) api: ApiAccess,
    pub(super) lease_ttl: Duration,
    pub(super) lease_wait: Duration,
    /// The policy without the subject's spread key (which the provider keeps: see
    /// `Shared::policy`).
    pub(super) policy_settings: Policy,
}

impl Config {
    fn same_as(&self, other: &Self) -> bool {
        self.api.same_as(&other.api)
            && self.lease_ttl == other.lease_ttl
            && self.lease_wait == other.lease_wait
            && self.policy_settings == other.policy_settings
    }

    /// The live copy of an equal configuration if there is one, else `self`'s, kept
    /// weakly for the next provider. A process has a handful of distinct configurations
    /// (one per vendor and setting), so a list scanned at build time does; it is pruned
    /// of dropped ones as it is scanned.
    pub(super) fn shared(self) -> Arc<Self> {
        static LIVE: Mutex<Vec<Weak<Config>>> = Mutex::new(Vec::new());
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let mut found = None;
        live.retain(|weak| match weak.upgrade() {
            Some(config) => {
                if found.is_none() && config.same_as(&self) {
                    found = Some(config);
                }
                true
            }
            None => false,
        });
        found.unwrap_or_else(|| {
            let config = Arc::new(self);
            live.push(Arc::downgrade(&config));
            config
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lease_ttl: u64) -> Config {
        Config {
            api: ApiAccess::bearer(),
            lease_ttl: Duration::from_secs(lease_ttl),
            lease_wait: Duration::from_secs(15),
            policy_settings: super::super::DEFAULT_POLICY,
        }
    }

    #[test]
    fn equal_settings_share_one_copy_and_others_do_not() {
        let a = config(1_001).shared();
        let b = config(1_001).shared();
        let c = config(1_002).shared();
        let other_policy = Config {
            policy_settings: Policy {
                min_valid: Duration::from_secs(31),
                ..super::super::DEFAULT_POLICY
            },
            ..config(1_001)
        }
        .shared();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(!Arc::ptr_eq(&a, &other_policy));
        assert_eq!(
            other_policy.policy_settings.min_valid,
            Duration::from_secs(31)
        );
        // Gone with its last provider, and from the list once scanned: the next one is
        // a new copy, listed once.
        drop((a, b));
        let again = config(1_001).shared();
        assert_eq!((Arc::strong_count(&again), Arc::weak_count(&again)), (1, 1));
    }

    #[test]
    fn providers_built_alike_share_one_copy_even_with_a_nan_jitter() {
        let build = |jitter: f64| {
            crate::CachedTokenProvider::builder(crate::StaticSource::new(crate::Token::new(
                crate::AccessToken::new("a"),
                None,
            )))
            .lease(Duration::from_secs(1_003), Duration::from_secs(15))
            .jitter(jitter)
            .build()
        };
        let (a, b) = (build(f64::NAN), build(f64::NAN));
        assert!(Arc::ptr_eq(&a.shared.config, &b.shared.config));
        assert_eq!(a.shared.policy_settings.jitter, 0.0);
        let other = build(0.5);
        assert!(!Arc::ptr_eq(&a.shared.config, &other.shared.config));
    }

    #[test]
    fn a_provider_holds_the_shared_settings_by_pointer() {
        // 376 bytes, where the settings inline took 104 more and the policy's 72 more;
        // every byte counts once per subject.
        assert!(
            std::mem::size_of::<super::super::Shared>() <= 376,
            "{}",
            std::mem::size_of::<super::super::Shared>()
        );
    }
}

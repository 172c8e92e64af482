//! [`TokenCache`]: one provider per seller or account, bounded, least recently used out.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use crate::{AuthError, CachedTokenProvider, Token};

type Factory<K> = dyn Fn(&K) -> Result<CachedTokenProvider, AuthError> + Send + Sync;

/// A bounded map of [`CachedTokenProvider`]s by key (selling-partner id, account), for
/// apps that serve many sellers of one vendor.
///
/// Providers are created on first use by the factory (typically: one vendor `Client`
/// shared by all, a grant with the seller's refresh token, a store key with the seller as
/// subject). When the map is full the least recently used idle provider is dropped.
///
/// **Give every provider a store when refresh tokens rotate** (Easyship): a provider
/// rebuilt after eviction starts from what the store holds; without a store it would
/// start from the factory's seed, which an earlier rotation may have spent.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::AuthError> {
/// use auth_core::{AccessToken, CachedTokenProvider, StaticSource, Token, TokenCache};
///
/// let cache = TokenCache::new(1_000, |seller: &String| {
///     Ok(CachedTokenProvider::new(StaticSource::new(Token::new(
///         AccessToken::new(format!("token-of-{seller}")),
///         None,
///     ))))
/// });
/// let token = cache.token(&"A1SELLER".to_string()).await?;
/// assert_eq!(token.access_token().expose_secret(), "token-of-A1SELLER");
/// # Ok(()) }
/// ```
pub struct TokenCache<K> {
    capacity: usize,
    factory: Box<Factory<K>>,
    entries: Mutex<Entries<K>>,
}

struct Entries<K> {
    map: HashMap<K, (Arc<CachedTokenProvider>, u64)>,
    tick: u64,
}

impl<K> fmt::Debug for TokenCache<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone + Send + 'static> TokenCache<K> {
    /// A cache holding at most `capacity` providers (at least 1).
    pub fn new(
        capacity: usize,
        factory: impl Fn(&K) -> Result<CachedTokenProvider, AuthError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            capacity: capacity.max(1),
            factory: Box::new(factory),
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                tick: 0,
            }),
        }
    }

    /// The provider for `key`, created by the factory if absent.
    ///
    /// # Errors
    ///
    /// The factory's error.
    pub fn provider(&self, key: &K) -> Result<Arc<CachedTokenProvider>, AuthError> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.tick += 1;
        let tick = entries.tick;
        if let Some((provider, used)) = entries.map.get_mut(key) {
            *used = tick;
            return Ok(Arc::clone(provider));
        }
        let provider = Arc::new((self.factory)(key)?);
        if entries.map.len() >= self.capacity {
            // Never evict a provider that is refreshing or holds an unsaved token: its
            // replacement would start from an older (for single-use vendors, spent)
            // refresh token. If every provider is busy the map grows past capacity for now.
            let oldest = entries
                .map
                .iter()
                .filter(|(_, (provider, _))| {
                    let status = provider.status();
                    !status.refreshing && !status.unsaved
                })
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(evicted) = oldest {
                entries.map.remove(&evicted);
            }
        }
        entries
            .map
            .insert(key.clone(), (Arc::clone(&provider), tick));
        Ok(provider)
    }

    /// The token for `key` (see [`CachedTokenProvider::token`]).
    ///
    /// # Errors
    ///
    /// The factory's or the provider's error.
    pub async fn token(&self, key: &K) -> Result<Arc<Token>, AuthError> {
        self.provider(key)?.token().await
    }

    /// Removes `key`'s provider (a seller who revoked the app).
    pub fn remove(&self, key: &K) -> Option<Arc<CachedTokenProvider>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.map.remove(key).map(|(provider, _)| provider)
    }

    /// Whether `key` has a provider now.
    pub fn contains(&self, key: &K) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.map.contains_key(key)
    }
}

impl<K> TokenCache<K> {
    /// Number of providers held.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .map(|e| e.map.len())
            .unwrap_or_else(|e| e.into_inner().map.len())
    }

    /// Whether no provider is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The maximum number of providers.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessToken, StaticSource};

    fn cache(capacity: usize) -> TokenCache<u32> {
        TokenCache::new(capacity, |k: &u32| {
            if *k == 0 {
                return Err(AuthError::InvalidConfig("no seller 0".into()));
            }
            Ok(CachedTokenProvider::new(StaticSource::new(Token::new(
                AccessToken::new(format!("t{k}")),
                None,
            ))))
        })
    }

    #[tokio::test]
    async fn evicts_least_recently_used() {
        let c = cache(2);
        c.provider(&1).unwrap();
        c.provider(&2).unwrap();
        c.provider(&1).unwrap(); // 1 is now more recent than 2
        c.provider(&3).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.contains(&1) && c.contains(&3) && !c.contains(&2));
        assert_eq!(
            c.token(&3).await.unwrap().access_token().expose_secret(),
            "t3"
        );
    }

    #[tokio::test]
    async fn a_refreshing_provider_is_not_evicted() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let cache = TokenCache::new(1, {
            let gate = Arc::clone(&gate);
            move |k: &u32| {
                let gate = Arc::clone(&gate);
                let k = *k;
                Ok(CachedTokenProvider::new(crate::FnSource::new(move |_| {
                    let gate = Arc::clone(&gate);
                    async move {
                        gate.notified().await;
                        Ok(Token::new(AccessToken::new(format!("t{k}")), None))
                    }
                })))
            }
        });
        let busy = cache.provider(&1).unwrap();
        let pending = tokio::spawn(async move { busy.token().await });
        while !cache.provider(&1).unwrap().status().refreshing {
            tokio::task::yield_now().await;
        }
        cache.provider(&2).unwrap();
        assert!(cache.contains(&1), "the refreshing provider stays");
        assert_eq!(cache.len(), 2, "over capacity while every provider is busy");
        gate.notify_waiters();
        pending.await.unwrap().unwrap();
        cache.provider(&3).unwrap();
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn same_key_same_provider() {
        let c = cache(4);
        assert!(Arc::ptr_eq(
            &c.provider(&1).unwrap(),
            &c.provider(&1).unwrap()
        ));
        assert!(c.remove(&1).is_some());
        assert!(c.is_empty());
    }

    #[test]
    fn factory_error_is_returned_and_nothing_cached() {
        let c = cache(4);
        assert!(matches!(c.provider(&0), Err(AuthError::InvalidConfig(_))));
        assert!(c.is_empty());
    }
}

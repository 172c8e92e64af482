//! [`TokenCache`]: one provider per seller or account, bounded, least recently used out.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::{AuthError, CachedTokenProvider, Token};

type Factory<K> = dyn Fn(&K) -> Result<CachedTokenProvider, AuthError> + Send + Sync;

/// How many of the least recently used providers one insertion looks at for one to evict.
/// A busy one is skipped and counted as just used, so an insertion does a bounded amount
/// of work under the lock however large the cache.
const EVICTION_CANDIDATES: usize = 8;

/// Smallest size at which the handles of evicted providers are pruned of dead ones.
const MIN_PRUNE_AT: usize = 16;

/// A bounded map of [`CachedTokenProvider`]s by key (selling-partner id, account), for
/// apps that serve many sellers of one vendor.
///
/// Providers are created on first use by the factory (typically: one vendor `Client`
/// shared by all, a grant with the seller's refresh token, a store key with the seller as
/// subject). When the map is full the least recently used idle provider is dropped: one
/// that is neither refreshing nor holding a token its store has not saved yet. If the
/// least recently used ones are all busy, the map holds more than `capacity` for a while.
///
/// **One provider per key.** A provider evicted while the application still holds it (an
/// `Arc` from [`provider`](Self::provider) kept in a task) is taken back for its key
/// instead of building a second one next to it: two providers for one key would run two
/// refresh chains. It counts toward `capacity` again once taken back; until then it is
/// kept only as a [`Weak`] handle, forgotten once the application drops it.
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
    live: HashMap<K, Live>,
    /// Recency: the tick of each live key's last use, oldest first.
    order: BTreeMap<u64, K>,
    /// Providers evicted while the application still held them, taken back when their
    /// key is asked for again.
    evicted: HashMap<K, Weak<CachedTokenProvider>>,
    /// `evicted` is pruned of dead handles when it grows to this size (then set to twice
    /// what survives): amortised O(1) per eviction.
    prune_at: usize,
    tick: u64,
}

struct Live {
    provider: Arc<CachedTokenProvider>,
    used: u64,
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
    ///
    /// The factory is called without any lock held, so it may use the cache. When
    /// several threads ask for a new key at once, each may call it; one provider is kept
    /// and handed to all of them, the others are dropped unused. So the factory should
    /// only build a provider (building one sends nothing).
    pub fn new(
        capacity: usize,
        factory: impl Fn(&K) -> Result<CachedTokenProvider, AuthError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            capacity: capacity.max(1),
            factory: Box::new(factory),
            entries: Mutex::new(Entries {
                live: HashMap::new(),
                order: BTreeMap::new(),
                evicted: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
                tick: 0,
            }),
        }
    }

    /// The provider for `key`: the one held, the one evicted but still in use elsewhere,
    /// or a new one from the factory.
    ///
    /// # Errors
    ///
    /// The factory's error.
    pub fn provider(&self, key: &K) -> Result<Arc<CachedTokenProvider>, AuthError> {
        let mut dropped = Vec::new();
        if let Some(provider) = self.lock().get(key, self.capacity, &mut dropped) {
            drop(dropped);
            return Ok(provider);
        }
        let built = Arc::new((self.factory)(key)?);
        let mut entries = self.lock();
        let provider = match entries.get(key, self.capacity, &mut dropped) {
            // Another thread won the race: hand out its provider, drop ours (below).
            Some(winner) => winner,
            None => {
                entries.insert(key.clone(), Arc::clone(&built), self.capacity, &mut dropped);
                Arc::clone(&built)
            }
        };
        drop(entries);
        // Providers are dropped without the lock: dropping one drops its token source.
        drop(built);
        drop(dropped);
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

    /// Removes `key`'s provider (a seller who revoked the app), and forgets it if it was
    /// evicted but still in use: the next [`provider`](Self::provider) for `key` builds a
    /// new one. A caller still holding the old one can keep using it.
    pub fn remove(&self, key: &K) -> Option<Arc<CachedTokenProvider>> {
        let mut entries = self.lock();
        let evicted = entries.evicted.remove(key).and_then(|weak| weak.upgrade());
        match entries.live.remove(key) {
            Some(live) => {
                entries.order.remove(&live.used);
                Some(live.provider)
            }
            None => evicted,
        }
    }

    /// Whether `key` has a provider in the cache now (one evicted but still in use
    /// elsewhere does not count).
    pub fn contains(&self, key: &K) -> bool {
        self.lock().live.contains_key(key)
    }
}

impl<K> TokenCache<K> {
    fn lock(&self) -> MutexGuard<'_, Entries<K>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of providers held.
    pub fn len(&self) -> usize {
        self.lock().live.len()
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

impl<K: Eq + Hash + Clone> Entries<K> {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// `key`'s provider if live, or evicted and still alive (then live again), marked as
    /// just used. Providers this evicts to make room go to `dropped`.
    fn get(
        &mut self,
        key: &K,
        capacity: usize,
        dropped: &mut Vec<Arc<CachedTokenProvider>>,
    ) -> Option<Arc<CachedTokenProvider>> {
        let tick = self.next_tick();
        if let Some(live) = self.live.get_mut(key) {
            let last = std::mem::replace(&mut live.used, tick);
            let provider = Arc::clone(&live.provider);
            if let Some(key) = self.order.remove(&last) {
                self.order.insert(tick, key);
            }
            return Some(provider);
        }
        let provider = self.evicted.remove(key)?.upgrade()?;
        self.insert(key.clone(), Arc::clone(&provider), capacity, dropped);
        Some(provider)
    }

    /// Makes room (see [`evict`](Self::evict)) and adds `provider` as just used.
    fn insert(
        &mut self,
        key: K,
        provider: Arc<CachedTokenProvider>,
        capacity: usize,
        dropped: &mut Vec<Arc<CachedTokenProvider>>,
    ) {
        self.evict(capacity.saturating_sub(1), dropped);
        let used = self.next_tick();
        self.order.insert(used, key.clone());
        self.live.insert(key, Live { provider, used });
    }

    /// Evicts least recently used providers until at most `keep` are live, looking at no
    /// more than [`EVICTION_CANDIDATES`]. A busy provider (refreshing, or holding a token
    /// its store has not saved) is kept and counted as just used: its replacement would
    /// start from an older, for single-use vendors spent, refresh token.
    fn evict(&mut self, keep: usize, dropped: &mut Vec<Arc<CachedTokenProvider>>) {
        for _ in 0..EVICTION_CANDIDATES {
            if self.live.len() <= keep {
                return;
            }
            let Some((_, key)) = self.order.pop_first() else {
                return;
            };
            let Some(live) = self.live.remove(&key) else {
                continue;
            };
            let status = live.provider.status();
            if status.refreshing || status.unsaved {
                let used = self.next_tick();
                self.order.insert(used, key.clone());
                self.live.insert(
                    key,
                    Live {
                        provider: live.provider,
                        used,
                    },
                );
                continue;
            }
            // Held elsewhere (the cache's own `Arc` is one of the count): remember it, so
            // the key gets this provider back rather than a second one.
            if Arc::strong_count(&live.provider) > 1 {
                self.evicted.insert(key, Arc::downgrade(&live.provider));
                if self.evicted.len() >= self.prune_at {
                    self.evicted.retain(|_, weak| weak.strong_count() > 0);
                    self.prune_at = (self.evicted.len() * 2).max(MIN_PRUNE_AT);
                }
            }
            dropped.push(live.provider);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Barrier, OnceLock, mpsc};
    use std::time::Duration;

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
        assert_eq!(cache.len(), 1, "back to capacity once nothing is busy");
        assert!(cache.contains(&3));
    }

    fn counting_cache(capacity: usize) -> (TokenCache<u32>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = TokenCache::new(capacity, {
            let calls = Arc::clone(&calls);
            move |k: &u32| {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(CachedTokenProvider::new(StaticSource::new(Token::new(
                    AccessToken::new(format!("t{k}")),
                    None,
                ))))
            }
        });
        (cache, calls)
    }

    /// Runs `f` on another thread; fails the test if it does not finish in time (a
    /// deadlock) instead of hanging it.
    fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(f());
        });
        result
            .recv_timeout(Duration::from_secs(20))
            .expect("did not finish (deadlock?) or panicked")
    }

    #[test]
    fn the_factory_runs_without_the_lock_and_may_use_the_cache() {
        let this: Arc<OnceLock<Weak<TokenCache<u32>>>> = Arc::new(OnceLock::new());
        let cache = Arc::new(TokenCache::new(4, {
            let this = Arc::clone(&this);
            move |k: &u32| {
                let cache = this.get().and_then(Weak::upgrade).expect("the cache");
                assert!(!cache.contains(k));
                let before = cache.len();
                Ok(CachedTokenProvider::new(StaticSource::new(Token::new(
                    AccessToken::new(format!("t{k}-after-{before}")),
                    None,
                ))))
            }
        }));
        this.set(Arc::downgrade(&cache)).unwrap();
        let shared = Arc::clone(&cache);
        within_seconds(move || {
            shared.provider(&1).unwrap();
            shared.provider(&2).unwrap();
        });
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn concurrent_first_calls_for_a_key_get_one_provider() {
        const THREADS: usize = 6;
        // Every caller waits inside the factory for all the others: they all build a
        // provider at once (impossible if the factory ran under the lock), then must all
        // be handed the same one.
        let inside = Arc::new(Barrier::new(THREADS));
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = Arc::new(TokenCache::new(4, {
            let (inside, calls) = (Arc::clone(&inside), Arc::clone(&calls));
            move |k: &u32| {
                calls.fetch_add(1, Ordering::SeqCst);
                inside.wait();
                Ok(CachedTokenProvider::new(StaticSource::new(Token::new(
                    AccessToken::new(format!("t{k}")),
                    None,
                ))))
            }
        }));
        let shared = Arc::clone(&cache);
        let providers = within_seconds(move || {
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    let cache = Arc::clone(&shared);
                    std::thread::spawn(move || cache.provider(&7).unwrap())
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(calls.load(Ordering::SeqCst), THREADS);
        assert!(providers.iter().all(|p| Arc::ptr_eq(p, &providers[0])));
        assert!(Arc::ptr_eq(&cache.provider(&7).unwrap(), &providers[0]));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn an_evicted_provider_still_held_is_taken_back() {
        let (cache, calls) = counting_cache(1);
        let held = cache.provider(&1).unwrap();
        cache.provider(&2).unwrap();
        assert!(!cache.contains(&1), "evicted");
        let again = cache.provider(&1).unwrap();
        assert!(Arc::ptr_eq(&held, &again), "a second provider for key 1");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "no factory call for key 1");
        assert!(cache.contains(&1) && !cache.contains(&2));
        assert_eq!(cache.len(), 1);

        // Once nobody holds it, an evicted provider is gone for good.
        drop((held, again));
        cache.provider(&2).unwrap();
        cache.provider(&1).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn capacity_is_respected_when_nothing_is_held() {
        let (cache, calls) = counting_cache(3);
        for k in 1..=100 {
            cache.provider(&k).unwrap();
        }
        assert_eq!(cache.len(), 3);
        assert!((98..=100).all(|k| cache.contains(&k)));
        assert_eq!(calls.load(Ordering::SeqCst), 100);
        assert!(
            cache.lock().evicted.is_empty(),
            "nothing held, nothing kept"
        );
        assert_eq!(cache.lock().order.len(), 3);
    }

    #[test]
    fn handles_of_evicted_providers_are_pruned_once_dropped() {
        let (cache, _) = counting_cache(1);
        for k in 1..=200 {
            let held = cache.provider(&k).unwrap();
            cache.provider(&(k + 1000)).unwrap();
            drop(held);
        }
        assert!(cache.lock().evicted.len() <= MIN_PRUNE_AT);
        assert_eq!(cache.len(), 1);
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

//! [`TokenCache`]: one provider per seller or account, bounded, for many keys.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use quick_cache::sync::{Cache, GuardResult};
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

use crate::provider::WeakProvider;
use crate::{AuthError, CachedTokenProvider, Token};

type Factory<K> = dyn Fn(&K) -> Result<CachedTokenProvider, AuthError> + Send + Sync;

// The providers themselves (one `Arc` inside), not `Arc<CachedTokenProvider>`: a lookup
// follows one pointer less to reach the token.
type Map<K> = Cache<K, CachedTokenProvider, UnitWeighter, DefaultHashBuilder, Keeper<K>>;

/// Smallest size at which the handles of evicted providers are pruned of dead ones.
const MIN_PRUNE_AT: usize = 16;

/// A bounded map of [`CachedTokenProvider`]s by key (selling-partner id, account), for
/// apps that serve many sellers or accounts of one vendor from one process; vendor crates
/// configure it (Amazon's `SellerTokens`) rather than keep their own.
///
/// Providers are created on first use by the factory (typically: one vendor `Client`
/// shared by all, a grant with the seller's refresh token, a store key with the seller as
/// subject). Lookups take no global lock and allocate nothing: the map is
/// [`quick_cache`]'s, sharded, each shard behind its own read-write lock, and a key is
/// looked up borrowed (a `&str` for a `String` key). When the map is full, an insertion
/// evicts in amortised O(1) (S3-FIFO/CLOCK: recently and often used providers stay), and
/// never drops a busy provider: one that is refreshing or holds a token its store has not
/// saved yet. If every candidate is busy the map holds more than `capacity` for a while.
///
/// **One provider per key.** A provider evicted while the application still holds it (a
/// clone from [`provider`](Self::provider) kept in a task) is taken back for its key
/// instead of building a second one next to it: two providers for one key would run two
/// refresh chains. Until then it is kept only as a weak handle, forgotten once the
/// application drops it.
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
/// // Looked up by `&str`: no `String` is built for a cached seller.
/// let token = cache.token("A1SELLER").await?;
/// assert_eq!(token.access_token().expose_secret(), "token-of-A1SELLER");
/// # Ok(()) }
/// ```
pub struct TokenCache<K> {
    capacity: usize,
    factory: Box<Factory<K>>,
    map: Map<K>,
    evicted: Arc<Mutex<Evicted<K>>>,
}

/// Providers evicted while the application still held them, taken back when their key is
/// asked for again. Touched only on a miss and on the eviction of a held provider.
struct Evicted<K> {
    held: HashMap<K, WeakProvider>,
    /// `held` is pruned of dead handles when it grows to this size (then set to twice
    /// what survives): amortised O(1) per eviction.
    prune_at: usize,
}

/// The map's eviction policy: busy providers are pinned, held ones remembered.
struct Keeper<K> {
    evicted: Arc<Mutex<Evicted<K>>>,
}

impl<K> Clone for Keeper<K> {
    fn clone(&self) -> Self {
        Self {
            evicted: Arc::clone(&self.evicted),
        }
    }
}

impl<K: Eq + Hash + Clone> Lifecycle<K, CachedTokenProvider> for Keeper<K> {
    /// Evicted providers, dropped once the shard's lock is released (dropping one drops
    /// its token source). A `Vec` allocates only when something is evicted.
    type RequestState = Vec<CachedTokenProvider>;

    fn is_pinned(&self, _: &K, provider: &CachedTokenProvider) -> bool {
        provider.is_busy()
    }

    fn on_evict(&self, state: &mut Self::RequestState, key: K, provider: CachedTokenProvider) {
        // Under the shard's lock, so no lookup can miss the key before its handle is
        // recorded. Held elsewhere (the map's own handle is one of the count): remember
        // it, so the key gets this provider back rather than a second one.
        if provider.handles() > 1 {
            lock(&self.evicted).remember(key.clone(), &provider);
        }
        state.push(provider);
    }
}

impl<K: Eq + Hash> Evicted<K> {
    fn remember(&mut self, key: K, provider: &CachedTokenProvider) {
        self.held.insert(key, provider.downgrade());
        if self.held.len() >= self.prune_at {
            self.held.retain(|_, weak| !weak.is_dead());
            self.prune_at = (self.held.len() * 2).max(MIN_PRUNE_AT);
        }
    }

    fn take<Q>(&mut self, key: &Q) -> Option<CachedTokenProvider>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.held.remove(key)?.upgrade()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<K> fmt::Debug for TokenCache<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone + Send + Sync + 'static> TokenCache<K> {
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
        let capacity = capacity.max(1);
        let evicted = Arc::new(Mutex::new(Evicted {
            held: HashMap::new(),
            prune_at: MIN_PRUNE_AT,
        }));
        let map = Cache::with(
            capacity,
            capacity as u64,
            UnitWeighter,
            DefaultHashBuilder::default(),
            Keeper {
                evicted: Arc::clone(&evicted),
            },
        );
        Self {
            capacity,
            factory: Box::new(factory),
            map,
            evicted,
        }
    }

    /// The provider for `key`: the one held, the one evicted but still in use elsewhere,
    /// or a new one from the factory. A cached key is looked up borrowed, without
    /// allocating (`&str` for a `String` key). The provider is a handle (one `Arc`): keep
    /// it as long as needed, it stays the key's provider.
    ///
    /// # Errors
    ///
    /// The factory's error.
    pub fn provider<Q>(&self, key: &Q) -> Result<CachedTokenProvider, AuthError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(provider) = self.map.get(key) {
            return Ok(provider);
        }
        // Built without any lock held; an evicted provider still alive is peeked at
        // without taking it (another caller may insert first; it takes it then).
        let peeked = lock(&self.evicted)
            .held
            .get(key)
            .and_then(WeakProvider::upgrade);
        let built = match peeked {
            Some(provider) => provider,
            None => (self.factory)(&key.to_owned())?,
        };
        // The guard is this key's placeholder: the one insertion of the key, every other
        // caller for it waits here (briefly: no I/O under it) and gets what was inserted.
        match self.map.get_value_or_guard(key, None) {
            GuardResult::Value(winner) => Ok(winner),
            GuardResult::Guard(guard) => {
                let taken = lock(&self.evicted).take(key);
                let provider = match taken {
                    Some(evicted) => evicted,
                    None => built,
                };
                // Fails only if `remove` took the placeholder meanwhile: the provider is
                // handed out uncached, as after a `remove`.
                let _ = guard.insert(provider.clone());
                Ok(provider)
            }
            GuardResult::Timeout => unreachable!("no timeout was given"),
        }
    }

    /// The token for `key` (see [`CachedTokenProvider::token`]).
    ///
    /// # Errors
    ///
    /// The factory's or the provider's error.
    pub async fn token<Q>(&self, key: &Q) -> Result<Arc<Token>, AuthError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.provider(key)?.token().await
    }

    /// Removes `key`'s provider (a seller who revoked the app), and forgets it if it was
    /// evicted but still in use: the next [`provider`](Self::provider) for `key` builds a
    /// new one. A caller still holding the old one can keep using it.
    pub fn remove<Q>(&self, key: &Q) -> Option<CachedTokenProvider>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let evicted = lock(&self.evicted).take(key);
        self.map
            .remove(key)
            .map(|(_, provider)| provider)
            .or(evicted)
    }

    /// Whether `key` has a provider in the cache now (one evicted but still in use
    /// elsewhere does not count).
    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }

    /// Number of providers held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no provider is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lets the running refresh of every provider of this cache finish and saves what
    /// the store has not accepted yet ([`CachedTokenProvider::settle`]): call it before
    /// the process exits, after the last `token()`, or a runtime shut down under a
    /// refresh may lose a single-use refresh token the vendor already rotated.
    ///
    /// It covers the providers held and those evicted but still in use elsewhere; only
    /// the busy ones (refreshing, or holding a token the store has not accepted) are
    /// waited for, all at once. A provider taken out with [`remove`](Self::remove) is no
    /// longer the cache's: settle it yourself if it is still in use.
    ///
    /// # Errors
    ///
    /// The first provider's [`flush`](CachedTokenProvider::flush) error, after every
    /// provider was settled.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future leaves the refreshes running.
    pub async fn settle(&self) -> Result<(), AuthError> {
        let mut busy: Vec<CachedTokenProvider> = self
            .map
            .iter()
            .map(|(_, provider)| provider)
            .filter(CachedTokenProvider::is_busy)
            .collect();
        busy.extend(
            lock(&self.evicted)
                .held
                .values()
                .filter_map(WeakProvider::upgrade)
                .filter(CachedTokenProvider::is_busy),
        );
        let mut settling = tokio::task::JoinSet::new();
        for provider in busy {
            settling.spawn(async move { provider.settle().await });
        }
        let mut first_error = None;
        while let Some(settled) = settling.join_next().await {
            let error = match settled {
                Ok(result) => result.err(),
                // The runtime shutting down under it (`settle` itself does not panic).
                Err(join) => Some(AuthError::RefreshAborted(join.to_string())),
            };
            if let Some(error) = error {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl<K> TokenCache<K> {
    /// The maximum number of providers.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Barrier, OnceLock, Weak, mpsc};
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
        let cache = TokenCache::new(2, {
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
        churn(&cache, 2..50);
        assert!(cache.contains(&1), "the refreshing provider stays");
        gate.notify_waiters();
        pending.await.unwrap().unwrap();
        churn(&cache, 50..100);
        assert!(!cache.contains(&1), "evicted once idle");
        assert_eq!(cache.len(), 2);
    }

    /// Providers whose refreshes wait for their key's gate (key `k`: `gates[k]`, the
    /// last gate for larger keys).
    fn gated_cache(capacity: usize, gates: &Arc<Vec<tokio::sync::Notify>>) -> TokenCache<u32> {
        let gates = Arc::clone(gates);
        TokenCache::new(capacity, move |k: &u32| {
            let (gates, k) = (Arc::clone(&gates), *k);
            Ok(CachedTokenProvider::new(crate::FnSource::new(move |_| {
                let gates = Arc::clone(&gates);
                async move {
                    gates[(k as usize).min(gates.len() - 1)].notified().await;
                    Ok(Token::new(AccessToken::new(format!("t{k}")), None))
                }
            })))
        })
    }

    async fn start_refresh(provider: CachedTokenProvider) {
        let refreshing = provider.clone();
        tokio::spawn(async move { refreshing.token().await });
        while !provider.status().refreshing {
            tokio::task::yield_now().await;
        }
    }

    async fn yield_a_while() {
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn settle_waits_for_every_running_refresh_held_or_evicted() {
        let gates = Arc::new((0..4).map(|_| tokio::sync::Notify::new()).collect());
        let cache = Arc::new(gated_cache(2, &gates));
        // Key 1 evicted while the application holds it, then refreshing through that
        // handle; key 2 refreshing in the cache; key 3 idle.
        let held = cache.provider(&1).unwrap();
        churn(&cache, 10..40);
        assert!(!cache.contains(&1));
        start_refresh(held.clone()).await;
        let cached = cache.provider(&2).unwrap();
        start_refresh(cached.clone()).await;
        cache.provider(&3).unwrap();

        let settling = tokio::spawn({
            let cache = Arc::clone(&cache);
            async move { cache.settle().await }
        });
        yield_a_while().await;
        assert!(
            !settling.is_finished(),
            "settled with two refreshes running"
        );
        gates[2].notify_waiters();
        yield_a_while().await;
        assert!(cached.cached().is_some());
        assert!(
            !settling.is_finished(),
            "settled with the evicted provider's refresh running"
        );
        gates[1].notify_waiters();
        settling.await.unwrap().unwrap();
        assert!(!held.status().refreshing);
        assert!(held.cached().is_some(), "its refresh finished first");
        // Nothing busy: nothing to wait for.
        cache.settle().await.unwrap();
    }

    /// Uses each key of `keys` a few times: enough for the cache to keep it over an
    /// older key used once (quick_cache's S3-FIFO admits a key seen again).
    fn churn(cache: &TokenCache<u32>, keys: std::ops::Range<u32>) {
        for k in keys {
            for _ in 0..3 {
                cache.provider(&k).unwrap();
            }
        }
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
        assert!(providers.iter().all(|p| p.ptr_eq(&providers[0])));
        assert!(cache.provider(&7).unwrap().ptr_eq(&providers[0]));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn an_evicted_provider_still_held_is_taken_back() {
        let (cache, calls) = counting_cache(2);
        let held = cache.provider(&1).unwrap();
        churn(&cache, 2..10);
        assert!(!cache.contains(&1), "evicted");
        let built = calls.load(Ordering::SeqCst);
        let again = cache.provider(&1).unwrap();
        assert!(held.ptr_eq(&again), "a second provider for key 1");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            built,
            "no factory call for key 1"
        );
        assert!(cache.contains(&1));

        // Once nobody holds it, an evicted provider is gone for good.
        drop((held, again));
        churn(&cache, 10..20);
        assert!(!cache.contains(&1), "evicted");
        cache.provider(&1).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), built + 10 + 1);
    }

    #[test]
    fn capacity_is_respected_when_nothing_is_held() {
        let (cache, calls) = counting_cache(3);
        for k in 1..=100 {
            cache.provider(&k).unwrap();
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.contains(&100), "the newest key is kept");
        assert_eq!(calls.load(Ordering::SeqCst), 100);
        assert!(
            lock(&cache.evicted).held.is_empty(),
            "nothing held, nothing kept"
        );
    }

    #[test]
    fn handles_of_evicted_providers_are_pruned_once_dropped() {
        let (cache, _) = counting_cache(2);
        for k in 1..=200 {
            let held = cache.provider(&k).unwrap();
            churn(&cache, k * 10 + 1000..k * 10 + 1004);
            drop(held);
        }
        assert!(lock(&cache.evicted).held.len() <= MIN_PRUNE_AT);
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn a_borrowed_key_is_looked_up_without_building_one() {
        let built = Arc::new(AtomicUsize::new(0));
        let cache = TokenCache::new(4, {
            let built = Arc::clone(&built);
            move |seller: &String| {
                built.fetch_add(1, Ordering::SeqCst);
                Ok(CachedTokenProvider::new(StaticSource::new(Token::new(
                    AccessToken::new(format!("t-{seller}")),
                    None,
                ))))
            }
        });
        let first = cache.provider("A1SELLER").unwrap();
        let token = cache.token("A1SELLER").await.unwrap();
        assert_eq!(token.access_token().expose_secret(), "t-A1SELLER");
        assert!(first.ptr_eq(&cache.provider(&"A1SELLER".to_owned()).unwrap()));
        assert!(cache.contains("A1SELLER"));
        assert_eq!(built.load(Ordering::SeqCst), 1);
        assert!(cache.remove("A1SELLER").is_some());
        assert!(!cache.contains("A1SELLER"));
    }

    #[test]
    fn concurrent_misses_at_capacity_never_give_a_key_two_providers() {
        const THREADS: u32 = 8;
        const KEYS: u32 = 400;
        let (cache, _) = counting_cache(32);
        let cache = Arc::new(cache);
        let shared = Arc::clone(&cache);
        // Every thread keeps every provider it was given: each is held, so whether it
        // stays cached or is evicted, its key must never get another one.
        let handed = within_seconds(move || {
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let cache = Arc::clone(&shared);
                    std::thread::spawn(move || {
                        let mut got: HashMap<u32, Vec<CachedTokenProvider>> = HashMap::new();
                        for round in 0..3 {
                            for i in 0..KEYS {
                                // A different order per thread and round: misses race.
                                let k = (i * 7 + t * 13 + round * 31) % KEYS;
                                got.entry(k).or_default().push(cache.provider(&k).unwrap());
                            }
                        }
                        got
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        });
        for k in 0..KEYS {
            let all: Vec<_> = handed.iter().flat_map(|got| &got[&k]).collect();
            assert!(
                all.iter().all(|p| p.ptr_eq(all[0])),
                "key {k} was given two providers"
            );
        }
        assert!(cache.len() <= 32 + THREADS as usize);
    }

    #[test]
    fn an_idle_provider_nobody_holds_is_dropped_when_evicted() {
        let (cache, calls) = counting_cache(2);
        let weak = cache.provider(&1).unwrap().downgrade();
        churn(&cache, 2..20);
        assert!(!cache.contains(&1));
        assert!(weak.upgrade().is_none(), "dropped, not kept as a handle");
        let before = calls.load(Ordering::SeqCst);
        cache.provider(&1).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn same_key_same_provider() {
        let c = cache(4);
        assert!(c.provider(&1).unwrap().ptr_eq(&c.provider(&1).unwrap()));
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

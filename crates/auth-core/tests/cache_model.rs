//! A model-based property test of `TokenCache` (issue 16): random sequences of lookups
//! (the handle kept or dropped), removals, refreshes started and finished, and settles,
//! over a few keys and a small capacity, so that eviction happens all the time. After
//! every step the invariants are checked:
//!
//! 1. **one provider per key**: every handle of a key obtained since its last `remove`
//!    is the same provider, evicted or not (two would run two refresh chains);
//! 2. a provider is built again only when no handle of it is left, or after `remove`;
//! 3. a refreshing provider is never evicted: one the map held when its refresh started
//!    stays there until it finishes (a new key's provider may be evicted at once, before
//!    anyone uses it: quick_cache admits a key seen once on probation; it is then an
//!    evicted provider in use, taken back by the next lookup, see 1);
//! 4. the map holds at most `capacity` providers plus as many as were ever refreshing at
//!    once (busy ones are kept beyond the capacity), and a miss while none is
//!    refreshing brings it back to `capacity`;
//! 5. `settle` returns only when no provider of the cache is refreshing any more (one
//!    taken out with `remove` is the caller's to settle).
//!
//! `PROPTEST_CASES` sets the number of cases (CI runs the default below).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{AccessToken, CachedTokenProvider, FnSource, Token, TokenCache};
use proptest::prelude::*;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

const KEYS: u32 = 6;

#[derive(Debug, Clone)]
enum Step {
    /// `provider(key)`, the handle kept by the application or dropped at once.
    Get { key: u32, keep: bool },
    /// The application drops one of its handles of `key`.
    Drop { key: u32, which: usize },
    /// `remove(key)`: the seller revoked the app.
    Remove { key: u32 },
    /// A refresh of `key`'s provider starts and waits for the vendor.
    StartRefresh { key: u32 },
    /// The vendor answers `key`'s running refresh.
    FinishRefresh { key: u32 },
    /// `settle()`, the refreshes answered while it waits.
    Settle,
}

fn step() -> impl Strategy<Value = Step> {
    let key = 0..KEYS;
    prop_oneof![
        6 => (key.clone(), any::<bool>()).prop_map(|(key, keep)| Step::Get { key, keep }),
        2 => (key.clone(), 0..4usize).prop_map(|(key, which)| Step::Drop { key, which }),
        1 => key.clone().prop_map(|key| Step::Remove { key }),
        2 => key.clone().prop_map(|key| Step::StartRefresh { key }),
        2 => key.prop_map(|key| Step::FinishRefresh { key }),
        1 => Just(Step::Settle),
    ]
}

/// The application's side: its handles, and what it knows of each key.
#[derive(Default)]
struct Model {
    /// Handles kept, with the key's removal count when each was obtained.
    held: HashMap<u32, Vec<(CachedTokenProvider, u32)>>,
    removals: HashMap<u32, u32>,
    /// The running refresh of a key: its provider (the task holds a handle), the key's
    /// removal count when it started, the task.
    refreshing: HashMap<u32, (CachedTokenProvider, u32, JoinHandle<()>)>,
    /// Keys whose provider was in the map when its refresh started.
    pinned: std::collections::HashSet<u32>,
}

impl Model {
    fn removals(&self, key: u32) -> u32 {
        self.removals.get(&key).copied().unwrap_or(0)
    }

    /// A live handle of `key`'s current provider (obtained since its last removal), if
    /// the application holds one anywhere.
    fn current(&self, key: u32) -> Option<&CachedTokenProvider> {
        let removals = self.removals(key);
        let held = self.held.get(&key).into_iter().flatten();
        let running = self
            .refreshing
            .get(&key)
            .map(|(provider, at, _)| (provider, at));
        held.map(|(provider, at)| (provider, at))
            .chain(running)
            .find(|(_, at)| **at == removals)
            .map(|(provider, _)| provider)
    }

    /// Whether `key`'s running refresh belongs to its current provider (not one removed
    /// since).
    fn refresh_is_current(&self, key: u32) -> bool {
        self.refreshing
            .get(&key)
            .is_some_and(|(_, at, _)| *at == self.removals(key))
    }
}

/// The vendor's side: one gate per key (a permit answers one refresh; a semaphore, so an
/// answer given before the fetch waits is not lost), and how often each key's provider
/// was built.
struct Vendor {
    gates: Vec<Semaphore>,
    built: Vec<AtomicUsize>,
}

fn cache(capacity: usize, vendor: &Arc<Vendor>) -> TokenCache<u32> {
    let vendor = Arc::clone(vendor);
    TokenCache::new(capacity, move |key: &u32| {
        let (vendor, key) = (Arc::clone(&vendor), *key);
        vendor.built[key as usize].fetch_add(1, Ordering::SeqCst);
        Ok(CachedTokenProvider::new(FnSource::new(move |_| {
            let vendor = Arc::clone(&vendor);
            async move {
                vendor.gates[key as usize].acquire().await.unwrap().forget();
                Ok(Token::new(AccessToken::new(format!("t{key}")), None))
            }
        })))
    })
}

/// Lets spawned tasks run until they wait.
async fn settle_tasks() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

async fn run(capacity: usize, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let vendor = Arc::new(Vendor {
        gates: (0..KEYS).map(|_| Semaphore::new(0)).collect(),
        built: (0..KEYS).map(|_| AtomicUsize::new(0)).collect(),
    });
    let cache = Arc::new(cache(capacity, &vendor));
    let mut model = Model::default();
    let mut most_refreshing = 0;
    for step in steps {
        // A lookup that inserts (a miss) evicts down to the capacity.
        let inserted = matches!(step, Step::Get { key, .. } if !cache.contains(&key));
        match step {
            Step::Get { key, keep } => {
                let before = vendor.built[key as usize].load(Ordering::SeqCst);
                let expected = model.current(key).cloned();
                let provider = cache.provider(&key).unwrap();
                let built = vendor.built[key as usize].load(Ordering::SeqCst) - before;
                if let Some(expected) = expected {
                    // 1 and 2: a live handle exists, so this is the same provider.
                    prop_assert!(provider.ptr_eq(&expected), "key {key}: a second provider");
                    prop_assert_eq!(built, 0, "key {} built again while held", key);
                }
                if keep {
                    let removals = model.removals(key);
                    model
                        .held
                        .entry(key)
                        .or_default()
                        .push((provider, removals));
                }
            }
            Step::Drop { key, which } => {
                if let Some(handles) = model.held.get_mut(&key)
                    && !handles.is_empty()
                {
                    handles.remove(which % handles.len());
                }
            }
            Step::Remove { key } => {
                cache.remove(&key);
                model.pinned.remove(&key);
                *model.removals.entry(key).or_default() += 1;
            }
            Step::StartRefresh { key } => {
                if model.refreshing.contains_key(&key) {
                    continue;
                }
                let provider = cache.provider(&key).unwrap();
                if let Some(expected) = model.current(key) {
                    prop_assert!(provider.ptr_eq(expected), "key {key}: a second provider");
                }
                let task = tokio::spawn({
                    let provider = provider.clone();
                    async move {
                        let _ = provider.force_refresh().await;
                    }
                });
                while !provider.status().refreshing {
                    tokio::task::yield_now().await;
                }
                let removals = model.removals(key);
                model.refreshing.insert(key, (provider, removals, task));
                if cache.contains(&key) {
                    model.pinned.insert(key);
                }
            }
            Step::FinishRefresh { key } => {
                model.pinned.remove(&key);
                if let Some((provider, _, task)) = model.refreshing.remove(&key) {
                    vendor.gates[key as usize].add_permits(1);
                    task.await.unwrap();
                    prop_assert!(!provider.status().refreshing);
                }
            }
            Step::Settle => {
                let settling = tokio::spawn({
                    let cache = Arc::clone(&cache);
                    async move { cache.settle().await }
                });
                settle_tasks().await;
                // 5: not before the running refreshes end.
                let running: Vec<u32> = model
                    .refreshing
                    .keys()
                    .copied()
                    .filter(|key| model.refresh_is_current(*key))
                    .collect();
                prop_assert!(
                    running.is_empty() || !settling.is_finished(),
                    "settled with {:?} refreshing",
                    running
                );
                let running: Vec<u32> = model.refreshing.keys().copied().collect();
                for key in running {
                    vendor.gates[key as usize].add_permits(1);
                    let (_, _, task) = model.refreshing.remove(&key).unwrap();
                    model.pinned.remove(&key);
                    task.await.unwrap();
                }
                settling.await.unwrap().unwrap();
            }
        }
        settle_tasks().await;
        // 3: a refreshing provider stays in the map (unless removed on purpose).
        for key in model.refreshing.keys() {
            if model.refresh_is_current(*key) && model.pinned.contains(key) {
                prop_assert!(cache.contains(key), "key {key} evicted while refreshing");
            }
        }
        // 4: bounded, but for the refreshing ones.
        most_refreshing = most_refreshing.max(model.refreshing.len());
        prop_assert!(
            cache.len() <= capacity + most_refreshing,
            "{} held, capacity {capacity}, at most {} refreshing at once",
            cache.len(),
            most_refreshing
        );
        if inserted && model.refreshing.is_empty() {
            prop_assert!(
                cache.len() <= capacity,
                "{} held after a miss, capacity {capacity}, none refreshing",
                cache.len()
            );
        }
    }
    // Let every task end with the runtime.
    for (key, (_, _, task)) in model.refreshing.drain() {
        vendor.gates[key as usize].add_permits(1);
        task.await.unwrap();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn one_provider_per_key_and_busy_ones_are_kept(
        capacity in 1..4usize,
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(run(capacity, steps))?;
    }
}

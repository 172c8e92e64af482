//! Change notifications: [`StoreListener`] and the registry stores keep them in,
//! [`StoreListeners`].
//!
//! Doorkeeper (Easyship's token server) revokes the previous access token when it issues
//! a new one, so when one process refreshes, every other process sharing the key holds a
//! dead token until it reads the store again. A store that can tell its providers about
//! a new record closes that window to the notification's latency.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};

/// Told when the record of a key it watches changes ([`TokenStore::watch`]).
///
/// [`TokenStore::watch`]: super::TokenStore::watch
pub trait StoreListener: Send + Sync + 'static {
    /// The watched key's record changed (or may have). `version` is the version now
    /// stored when the store knows it; `None` means "re-read": the store may have missed
    /// changes (its notifier reconnected).
    ///
    /// Called from the store's write path or its notifier task: it must return quickly
    /// and never block (spawn a task for any I/O). Spurious and repeated calls are
    /// allowed.
    fn record_changed(self: Arc<Self>, version: Option<u64>);

    /// The lease holder of the watched key is about to send a refresh that derives from
    /// the record at version `base` ([`TokenStore::announce_refresh`]). A provider whose
    /// grant revokes the previous access token stops handing out that version's token
    /// until the new one is saved (it is told by [`record_changed`](Self::record_changed))
    /// or a deadline passes. The default does nothing.
    ///
    /// Same rules as `record_changed`: return quickly, never block. A listener may hear
    /// its own provider's announcement, late or repeated ones too: `base` says which
    /// record the announcement is about.
    ///
    /// [`TokenStore::announce_refresh`]: super::TokenStore::announce_refresh
    fn refresh_started(self: Arc<Self>, base: u64) {
        let _ = base;
    }
}

/// Listeners by key, held weakly: what a store that offers notifications keeps.
///
/// One `Weak` pointer per registration (16 bytes), no task: a process with 100,000
/// providers on 100,000 keys holds 100,000 pointers. Listeners that were dropped are
/// pruned when their key is registered or notified again, by a sweep of every key after
/// as many registrations as there are keys, and by [`notify_all`](Self::notify_all).
pub struct StoreListeners<K> {
    by_key: Mutex<HashMap<K, Vec<Weak<dyn StoreListener>>>>,
    /// Registrations since the last full sweep.
    added: std::sync::atomic::AtomicUsize,
    /// Registrations after which the next sweep runs: the keys the last one left (at
    /// least 1,024).
    sweep_after: std::sync::atomic::AtomicUsize,
}

impl<K> Default for StoreListeners<K> {
    fn default() -> Self {
        Self {
            by_key: Mutex::new(HashMap::new()),
            added: std::sync::atomic::AtomicUsize::new(0),
            sweep_after: std::sync::atomic::AtomicUsize::new(1024),
        }
    }
}

impl<K> fmt::Debug for StoreListeners<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.by_key.lock().map_or(0, |m| m.len());
        f.debug_struct("StoreListeners")
            .field("keys", &keys)
            .finish()
    }
}

impl<K: Hash + Eq> StoreListeners<K> {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Vec<Weak<dyn StoreListener>>>> {
        self.by_key.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `listener` for `key` (pruning the key's dropped listeners). Once the
    /// registrations since the last sweep reach the number of keys it left (at least
    /// 1,024), every key is swept: the keys of providers a cache evicted and never
    /// re-created do not pile up, at an amortized constant cost per registration.
    pub fn add(&self, key: K, listener: Weak<dyn StoreListener>) {
        let mut by_key = self.lock();
        let listeners = by_key.entry(key).or_default();
        listeners.retain(|l| l.strong_count() > 0);
        // Exactly one more: a key has one listener per provider on it in this process,
        // nearly always one (a few at most, so growing one at a time costs nothing), and
        // `push` alone reserves four (64 bytes a key where 16 do).
        listeners.reserve_exact(1);
        listeners.push(listener);
        let added = self
            .added
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if added >= self.sweep_after.load(std::sync::atomic::Ordering::Relaxed) {
            by_key.retain(|_, listeners| {
                listeners.retain(|l| l.strong_count() > 0);
                !listeners.is_empty()
            });
            self.added.store(0, std::sync::atomic::Ordering::Relaxed);
            self.sweep_after
                .store(by_key.len().max(1024), std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Calls every live listener of `key` with `version`, outside the registry's lock
    /// (a listener may register again).
    pub fn notify(&self, key: &K, version: Option<u64>) {
        let live = {
            let mut by_key = self.lock();
            let Some(listeners) = by_key.get_mut(key) else {
                return;
            };
            let live = upgrade(listeners);
            if listeners.is_empty() {
                by_key.remove(key);
            }
            live
        };
        for listener in live {
            listener.record_changed(version);
        }
    }

    /// Tells every live listener of `key` that a refresh from version `base` is starting
    /// ([`StoreListener::refresh_started`]), outside the registry's lock.
    pub fn notify_refresh(&self, key: &K, base: u64) {
        let live = {
            let mut by_key = self.lock();
            let Some(listeners) = by_key.get_mut(key) else {
                return;
            };
            upgrade(listeners)
        };
        for listener in live {
            listener.refresh_started(base);
        }
    }

    /// Calls every live listener of every key with `None` ("re-read"): after a notifier
    /// reconnected and may have missed messages.
    pub fn notify_all(&self) {
        let live: Vec<_> = {
            let mut by_key = self.lock();
            let live = by_key.values_mut().flat_map(upgrade).collect();
            by_key.retain(|_, listeners| !listeners.is_empty());
            live
        };
        for listener in live {
            listener.record_changed(None);
        }
    }

    /// How many listeners are registered, dropped ones not yet pruned included.
    pub fn len(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Whether no listener is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The live listeners of one key; prunes the dropped ones.
fn upgrade(listeners: &mut Vec<Weak<dyn StoreListener>>) -> Vec<Arc<dyn StoreListener>> {
    let mut live = Vec::with_capacity(listeners.len());
    listeners.retain(|l| match l.upgrade() {
        Some(listener) => {
            live.push(listener);
            true
        }
        None => false,
    });
    live
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl StoreListener for Count {
        fn record_changed(self: Arc<Self>, _version: Option<u64>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_key_holds_room_for_its_listeners_only() {
        let registry = StoreListeners::new();
        let listeners: Vec<Arc<dyn StoreListener>> =
            (0..3).map(|_| Arc::new(Count::default()) as _).collect();
        registry.add("a", Arc::downgrade(&listeners[0]));
        assert_eq!(registry.lock()["a"].capacity(), 1);
        registry.add("a", Arc::downgrade(&listeners[1]));
        registry.add("a", Arc::downgrade(&listeners[2]));
        assert_eq!(registry.lock()["a"].capacity(), 3);
    }

    #[test]
    fn keys_whose_listeners_all_dropped_are_swept_by_later_registrations() {
        let registry = StoreListeners::new();
        let kept = Arc::new(Count::default());
        for n in 0..5000 {
            let gone = Arc::new(Count::default());
            let weak: Weak<dyn StoreListener> = Arc::downgrade(&gone) as Weak<Count>;
            registry.add(n, weak);
        }
        let weak: Weak<dyn StoreListener> = Arc::downgrade(&kept) as Weak<Count>;
        registry.add(-1, weak);
        assert!(registry.len() < 2000, "{}", registry.len());
        registry.notify(&-1, Some(1));
        assert_eq!(kept.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropped_listeners_are_pruned_and_live_ones_called() {
        let registry = StoreListeners::new();
        let kept = Arc::new(Count::default());
        let dropped = Arc::new(Count::default());
        let weak_kept: Weak<dyn StoreListener> = Arc::downgrade(&kept) as Weak<Count>;
        let weak_dropped: Weak<dyn StoreListener> = Arc::downgrade(&dropped) as Weak<Count>;
        registry.add("a", weak_kept);
        registry.add("a", weak_dropped);
        drop(dropped);
        registry.notify(&"a", Some(2));
        assert_eq!(kept.0.load(Ordering::SeqCst), 1);
        assert_eq!(registry.len(), 1);
        registry.notify(&"b", Some(1));
        registry.notify_all();
        assert_eq!(kept.0.load(Ordering::SeqCst), 2);
        drop(kept);
        registry.notify_all();
        assert!(registry.is_empty());
    }
}

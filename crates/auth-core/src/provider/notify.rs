//! Store change notifications: a provider registers itself (weakly) with its store on
//! first use, and adopts a newer record the moment the store says one was written.
//!
//! Doorkeeper (Easyship's token server) revokes the previous access token when it issues
//! a new one: until the other processes on a key adopt the new token, every API call they
//! make carries a dead one. No task per provider: the store holds a `Weak` pointer, and a
//! notification spawns one short task (load, adopt) only when the notified version is
//! newer than the one held.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Shared;
use crate::store::StoreListener;

/// `watching`: not registered yet.
pub(super) const NOT_YET: u8 = 0;
/// `watching`: registered, and the store delivers notifications.
const NOTIFIED: u8 = 1;
/// `watching`: no store, no runtime yet, or a store without notifications.
const UNNOTIFIED: u8 = 2;
/// `watching`: another thread is registering.
const REGISTERING: u8 = 3;

/// After a notifier reconnected, every provider of the process re-reads its record: each
/// waits a part of this fixed by its key first, so 100,000 of them do not hit the store
/// in the same millisecond.
const RESYNC_SPREAD: Duration = Duration::from_secs(1);

impl Shared {
    /// Registers with the store once, on the first call made on a Tokio runtime (a store
    /// may start its notifier task there).
    pub(super) fn ensure_watching(self: &Arc<Self>) {
        if self.watching.load(Ordering::Acquire) != NOT_YET {
            return;
        }
        let Some((store, key)) = &self.store else {
            self.watching.store(UNNOTIFIED, Ordering::Release);
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self
            .watching
            .compare_exchange(NOT_YET, REGISTERING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let listener: std::sync::Weak<dyn StoreListener> = Arc::downgrade(self) as _;
        let notified = store.watch(key, listener);
        self.watching.store(
            if notified { NOTIFIED } else { UNNOTIFIED },
            Ordering::Release,
        );
    }

    /// Whether the store notifies this provider of new records.
    pub(super) fn notified_by_store(&self) -> bool {
        self.watching.load(Ordering::Acquire) == NOTIFIED
    }

    /// The store version held: the current token's, or the one an unsaved token derives
    /// from.
    fn held_version(&self) -> Option<u64> {
        let slow = self.lock();
        let current = slow.state.current.as_ref()?;
        match current.unsaved {
            Some(base) => base,
            None => current.version,
        }
    }

    /// Reads the store (after `delay`) and adopts a newer record, as long as notifications
    /// keep coming.
    async fn adopt_notified(self: Arc<Self>, delay: Duration) {
        let Some((store, key)) = &self.store else {
            return;
        };
        if !delay.is_zero() {
            // A save notified meanwhile (`record_changed(Some)`, which wakes
            // `store_changed`) is not kept waiting behind the resync's spread.
            let _ = tokio::time::timeout(delay, self.store_changed.notified()).await;
        }
        loop {
            self.adopt_again.store(false, Ordering::SeqCst);
            match store.load(key).await {
                Ok(Some(record)) => {
                    let mut slow = self.lock();
                    let now = self.clock.reading();
                    if slow.state.on_stored(&record, &self.policy(), now) {
                        tracing::debug!(%key, version = record.version, "adopted a token another provider saved");
                        // A refresh waiting for the lease may have missed the notification
                        // (it arrived between its last read and its wait): it returns now.
                        self.store_changed.notify_waiters();
                    }
                    self.store_reachable(&mut slow.state);
                    self.sync_published(&slow.state);
                }
                Ok(None) => {}
                Err(error) => {
                    // The next call or refresh reads the store again.
                    tracing::debug!(%key, %error, "could not read a record the store notified");
                }
            }
            self.adopting.store(false, Ordering::SeqCst);
            if !self.adopt_again.load(Ordering::SeqCst)
                || self.adopting.swap(true, Ordering::SeqCst)
            {
                return;
            }
        }
    }
}

impl StoreListener for Shared {
    fn record_changed(self: Arc<Self>, version: Option<u64>) {
        // A refresh waiting for another process's lease looks at the store now.
        self.store_changed.notify_waiters();
        if let (Some(version), Some(held)) = (version, self.held_version())
            && version <= held
        {
            return;
        }
        // `adopt_again` first, then `adopting` (both SeqCst, as the task's clear-then-check
        // is): a running task that is about to stop either sees `adopt_again` and loads
        // again, or has cleared `adopting` before our swap, which then spawns a new task.
        self.adopt_again.store(true, Ordering::SeqCst);
        if self.adopting.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Outside a runtime (a store written from a plain thread): the next call reads
            // the store.
            self.adopting.store(false, Ordering::Release);
            return;
        };
        let delay = match version {
            Some(_) => Duration::ZERO,
            // A resync, not a save: spread over the process's providers by key.
            None => RESYNC_SPREAD.mul_f64((self.spread.unwrap_or(0) % 1024) as f64 / 1024.0),
        };
        runtime.spawn(self.adopt_notified(delay));
    }

    fn refresh_started(self: Arc<Self>, base: u64) {
        if !self.source.revokes_previous_access_token() {
            return;
        }
        // The vendor revokes this token when it answers: hand it out no more. Callers
        // wait on a refresh that adopts the new record when its save is notified; at
        // worst (the announcer died) until the lease TTL has passed.
        let mut slow = self.lock();
        let now = self.clock.reading();
        let until = now
            .monotonic
            .saturating_add(u64::try_from(self.lease_ttl.as_nanos()).unwrap_or(u64::MAX));
        if slow.state.retire_announced(base, until) {
            if let Some((_, key)) = &self.store {
                tracing::debug!(%key, base, "another process is refreshing; holding the token back");
            }
            self.sync_published(&slow.state);
        }
    }
}

//! The refresh procedure: read the store, take and renew the lease, reload, fetch, save,
//! publish. Every decision is a transition of [`State`](super::state::State); this file
//! does the I/O between them.

use std::sync::Arc;
use std::time::Duration;

use super::state::Ticket;
use super::{Refreshed, Shared};
use crate::store::{Lease, StoreKey, TokenStore};
use crate::{AuthError, Token};

/// While another process holds the lease, how often a waiting refresh looks at the store.
const LEASE_PROBE: Duration = Duration::from_millis(250);

/// What waiting for the lease ended with.
enum Leased {
    Held(Lease),
    /// Another process saved a token that needs no refresh.
    Adopted(Arc<Token>),
}

impl Shared {
    /// Runs the refresh for `ticket`, applying each outcome to the state.
    pub(super) async fn run_refresh(self: &Arc<Self>, ticket: &Ticket) -> Refreshed {
        match &self.store {
            None => self.refresh_alone(ticket).await,
            Some((store, key)) => self.refresh_stored(store.as_ref(), key, ticket).await,
        }
    }

    /// Remembers a store failure like a failed fetch (the negative cache), and returns it.
    fn store_failed(&self, ticket: &Ticket, error: AuthError) -> AuthError {
        let key = self.store.as_ref().map(|(_, k)| k);
        let mut slow = self.lock();
        let now = self.clock.reading();
        if error.is_store_unavailable() {
            if slow.state.on_store_unavailable(self.clock.now()) {
                // Once per outage, not per call.
                tracing::warn!(error = %error, ?key, "token store unreachable; serving the held token and refreshing without the store only when it would run out");
            }
        } else {
            tracing::warn!(error = %error, ?key, "token store failed");
        }
        slow.state
            .on_failed(ticket, &error, None, &self.policy(), now);
        error
    }

    /// The store answered: ends an outage, once.
    pub(super) fn store_reachable(&self, state: &mut super::state::State) {
        if let Some(since) = state.on_store_reachable() {
            let key = self.store.as_ref().map(|(_, k)| k);
            tracing::info!(?key, %since, "token store reachable again");
        }
    }

    async fn refresh_alone(&self, ticket: &Ticket) -> Refreshed {
        let candidate = {
            let slow = self.lock();
            let now = self.clock.reading();
            slow.state.may_fetch(ticket, now)?;
            if let Some(current) = &slow.state.current
                && slow.state.fresh_enough(ticket, current, now)
            {
                return Ok(Some(Arc::clone(&current.token)));
            }
            slow.state.candidate()
        };
        let token = self.fetch(ticket, candidate.as_deref(), None).await?;
        self.publish_fetched(ticket, token, Ok(None))
    }

    async fn refresh_stored(
        &self,
        store: &dyn TokenStore,
        key: &StoreKey,
        ticket: &Ticket,
    ) -> Refreshed {
        match self.refresh_under_store(store, key, ticket).await {
            Err(error) if error.is_store_unavailable() => {
                self.refresh_without_store(key, ticket, error).await
            }
            outcome => outcome,
        }
    }

    /// The store cannot be reached. The held token serves while it can; once it would run
    /// out, fetch without the lease, unless that could spend a single-use refresh token
    /// another process may be spending too (then nothing is sent). A token fetched here
    /// is held unsaved and saved when the store is back, unless the store moved on.
    async fn refresh_without_store(
        &self,
        key: &StoreKey,
        ticket: &Ticket,
        error: AuthError,
    ) -> Refreshed {
        let (candidate, base) = {
            let slow = self.lock();
            let now = self.clock.reading();
            if !ticket.force && slow.state.servable(now).is_some() {
                return Err(error);
            }
            slow.state.may_fetch_alone(ticket, now)?;
            if !slow.state.accepts(ticket) {
                return superseded(&slow.state);
            }
            (slow.state.candidate(), slow.state.base_version())
        };
        let spends_single_use = self.source.rotates_refresh_token()
            && candidate
                .as_ref()
                .is_some_and(|c| c.refresh_token().is_some());
        if spends_single_use {
            let refused = AuthError::StoreUnavailable {
                message: format!(
                    "cannot reach the store for {key} to take the refresh lease, and this grant's \
                     refresh token is single-use: a refresh without the lease could spend it \
                     alongside another process and break the chain, so no token request was \
                     sent; the token is refreshed when the store is back"
                ),
                source: Some(Arc::new(error)),
            };
            let mut slow = self.lock();
            let now = self.clock.reading();
            slow.state
                .on_failed(ticket, &refused, None, &self.policy(), now);
            return Err(refused);
        }
        tracing::warn!(%key, "token store unreachable and the token runs out: refreshing without the store's lease (this grant's refresh token is reusable); the token is saved when the store is back");
        let token = self.fetch(ticket, candidate.as_deref(), None).await?;
        self.publish_fetched(ticket, token, Err(base))
    }

    async fn refresh_under_store(
        &self,
        store: &dyn TokenStore,
        key: &StoreKey,
        ticket: &Ticket,
    ) -> Refreshed {
        // Another process may have refreshed already: no lease needed to adopt that.
        if let Some(token) = self.adopt_stored(store, key, ticket).await? {
            return Ok(Some(token));
        }
        // A remembered failure: this refresh only looked at the store. (Unless the held
        // token is held back for another process's announced refresh: then it waits for
        // that one's save.)
        let held_back = {
            let slow = self.lock();
            let held_back = slow.state.retiring.is_some();
            if !held_back {
                slow.state.may_fetch(ticket, self.clock.reading())?;
            }
            held_back
        };
        let lease = match self.acquire_lease(store, key, ticket, held_back).await? {
            Leased::Held(lease) => lease,
            Leased::Adopted(token) => return Ok(Some(token)),
        };
        {
            // The lease is ours: a refresh another process announced has ended, and what
            // it saved is read next. Without a save the vendor did not issue: the held
            // token serves again.
            let mut slow = self.lock();
            if slow.state.unretire(false) {
                self.sync_published(&slow.state);
            }
        }
        let outcome = with_renewal(
            store,
            &lease,
            self.lease_ttl,
            self.under_lease(store, key, &lease, ticket),
        )
        .await;
        release(store, key, lease).await;
        outcome
    }

    /// Takes the lease; while another process holds it, adopts what that process saves.
    /// `held_back`: this refresh started for a token held back for another process's
    /// announced refresh; if the hold's deadline passes first, the token is handed out.
    async fn acquire_lease(
        &self,
        store: &dyn TokenStore,
        key: &StoreKey,
        ticket: &Ticket,
        held_back: bool,
    ) -> Result<Leased, AuthError> {
        let deadline = tokio::time::Instant::now() + self.lease_wait;
        // A store that notifies: one attempt at a time, and between attempts wait for its
        // notification (the holder saved) or the probe interval (it gave up), whichever
        // comes first. A lease attempt is never cancelled midway: a lease granted by a
        // reply we dropped would block the key for its whole TTL.
        let notified_by_store = self.notified_by_store();
        let mut held_back = held_back;
        let mut first = true;
        loop {
            let changed = self.store_changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            // The first attempt does not wait: if another process holds the lease, the
            // token may have to be held back at once (below).
            let wait = if notified_by_store || first {
                Duration::ZERO
            } else {
                LEASE_PROBE.min(left)
            };
            first = false;
            match store.lease(key, self.lease_ttl, wait).await {
                Ok(lease) => return Ok(Leased::Held(lease)),
                Err(error) if error.is_store_unavailable() => {
                    return Err(self.store_failed(ticket, error));
                }
                Err(error) if left.is_zero() => {
                    return Err(self.store_failed(
                        ticket,
                        AuthError::Store {
                            message: format!(
                                "another refresh of {key} has held the store's lease for over {:?} \
                             (a stalled or paused process?); no token was requested",
                                self.lease_wait
                            ),
                            source: Some(Arc::new(error)),
                        },
                    ));
                }
                Err(_) => {}
            }
            if !held_back {
                held_back = self.hold_back_for_another_refresh();
            }
            if notified_by_store {
                let _ = tokio::time::timeout(LEASE_PROBE.min(left), changed).await;
            }
            if let Some(token) = self.adopt_stored(store, key, ticket).await? {
                return Ok(Leased::Adopted(token));
            }
            if held_back && let Some(token) = self.hold_expired() {
                return Ok(Leased::Adopted(token));
            }
        }
    }

    /// Another process holds the lease while this provider's token is due: it is most
    /// likely refreshing the same record, and if the vendor revokes the previous access
    /// token on refresh, this token dies when that refresh is answered. Holds it back (as
    /// an announcement would, for stores without announcements such as `FileStore`),
    /// until this provider adopts the saved token or takes the lease itself, at most for
    /// the lease TTL. Returns whether a token is held back now.
    fn hold_back_for_another_refresh(&self) -> bool {
        if !self.source.revokes_previous_access_token() {
            return false;
        }
        let mut slow = self.lock();
        let now = self.clock.reading();
        let Some(base) = slow
            .state
            .current
            .as_ref()
            .filter(|c| !c.deadlines.not_due(now))
            .and_then(|c| c.version)
        else {
            return false;
        };
        // No longer than this refresh waits for the lease: callers then get the token
        // back rather than the lease wait's error.
        let hold = self.lease_ttl.min(self.lease_wait);
        let until = now
            .monotonic
            .saturating_add(u64::try_from(hold.as_nanos()).unwrap_or(u64::MAX));
        if slow.state.retire_announced(base, until) {
            if let Some((_, key)) = &self.store {
                tracing::debug!(%key, base, "another process holds the lease; holding the token back");
            }
            self.sync_published(&slow.state);
        }
        slow.state.retiring.is_some()
    }

    /// The held token, if it was held back for another process's refresh and that hold's
    /// deadline has passed (the announcer died, or its save was never heard of).
    fn hold_expired(&self) -> Option<Arc<Token>> {
        let mut slow = self.lock();
        let now = self.clock.reading();
        if slow.state.expire_retiring(now) {
            tracing::warn!(key = ?self.store.as_ref().map(|(_, k)| k), "an announced refresh saved nothing in time; handing the held token out again");
            self.sync_published(&slow.state);
        }
        if slow.state.retiring.is_some() {
            return None;
        }
        slow.state
            .servable(now)
            .filter(|c| c.unsaved.is_none())
            .map(|c| Arc::clone(&c.token))
    }

    /// Under the lease: save what is pending, reload, fetch with the stored refresh
    /// token, save, publish.
    async fn under_lease(
        &self,
        store: &dyn TokenStore,
        key: &StoreKey,
        lease: &Lease,
        ticket: &Ticket,
    ) -> Refreshed {
        self.save_pending(store, key, lease)
            .await
            .map_err(|e| self.store_failed(ticket, e))?;
        if let Some(token) = self.adopt_stored(store, key, ticket).await? {
            return Ok(Some(token));
        }
        let (candidate, base) = {
            let slow = self.lock();
            let now = self.clock.reading();
            if let Err(error) = slow.state.may_fetch(ticket, now) {
                // Here only after waiting out another process's announced refresh with a
                // failure remembered: a valid held token still serves.
                return match slow.state.servable(now).filter(|c| c.unsaved.is_none()) {
                    Some(current) => Ok(Some(Arc::clone(&current.token))),
                    None => Err(error),
                };
            }
            if !slow.state.accepts(ticket) {
                return superseded(&slow.state);
            }
            // The version this refresh derives from (0: an empty store).
            let base = slow.state.current.as_ref().and_then(|c| c.version);
            (slow.state.candidate(), base)
        };
        // A lease that lapsed meanwhile (this task descheduled past its TTL) may be another
        // process's now, which may present the same single-use refresh token: do not.
        lease.check().map_err(|e| self.store_failed(ticket, e))?;
        let token = match self
            .fetch(ticket, candidate.as_deref(), Some((store, lease, base)))
            .await
        {
            Ok(token) => token,
            Err(error) => {
                if error.is_invalid_grant()
                    && let Some(version) = base
                {
                    // Share the verdict: no other process presents this refresh token.
                    if let Err(e) = store.mark_refresh_token_dead(lease, version).await {
                        tracing::warn!(%key, error = %e, "could not mark the refused refresh token in the store");
                    }
                }
                return Err(error);
            }
        };
        if !self.lock().state.accepts(ticket) {
            // A new authorization came in while we fetched: the old chain's token is
            // neither saved nor published.
            return superseded(&self.lock().state);
        }
        let saved = match store.save_shared(lease, &token).await {
            Ok(record) => {
                tracing::info!(%key, version = record.version, expires_at = ?token.expires_at(), "token refreshed and saved");
                Ok(Some(record.version))
            }
            Err(error) => {
                tracing::warn!(%key, error = %error, "token not saved; holding it and retrying the save later");
                Err(Some(base.unwrap_or(0)))
            }
        };
        self.publish_fetched(ticket, token, saved)
    }

    /// Applies a fetched `token` to the state (`saved`: as for
    /// [`State::on_fetched`](super::state::State::on_fetched)) and publishes it; hands
    /// it to the refresh's waiters unless it was superseded.
    fn publish_fetched(
        &self,
        ticket: &Ticket,
        token: Arc<Token>,
        saved: Result<Option<u64>, Option<u64>>,
    ) -> Refreshed {
        let mut slow = self.lock();
        let now = self.clock.reading();
        let adopted = slow.state.on_fetched(
            ticket,
            Arc::clone(&token),
            saved,
            &self.policy(),
            now,
            self.clock.now(),
        );
        self.sync_published(&slow.state);
        if adopted {
            Ok(Some(token))
        } else {
            // Superseded by a new authorization or a newer stored record.
            superseded(&slow.state)
        }
    }

    /// Reads the store and adopts a newer record. Returns the token held if it needs no
    /// refresh for `ticket`.
    async fn adopt_stored(
        &self,
        store: &dyn TokenStore,
        key: &StoreKey,
        ticket: &Ticket,
    ) -> Result<Option<Arc<Token>>, AuthError> {
        let record = store
            .load(key)
            .await
            .map_err(|e| self.store_failed(ticket, e))?;
        let mut slow = self.lock();
        let now = self.clock.reading();
        self.store_reachable(&mut slow.state);
        match &record {
            None => slow.state.store_empty(now),
            Some(record) => {
                if slow.state.on_stored(record, &self.policy(), now) {
                    tracing::debug!(%key, version = record.version, "adopted the stored token");
                }
            }
        }
        self.sync_published(&slow.state);
        Ok(slow
            .state
            .current
            .as_ref()
            .filter(|c| c.unsaved.is_none() && slow.state.fresh_enough(ticket, c, now))
            .map(|c| Arc::clone(&c.token)))
    }

    /// Saves the held unsaved token under `lease`, unless the store moved past the
    /// version it derives from (then the store's record is newer and is adopted next).
    pub(super) async fn save_pending(
        &self,
        store: &dyn TokenStore,
        key: &StoreKey,
        lease: &Lease,
    ) -> Result<(), AuthError> {
        let (token, base) = {
            let slow = self.lock();
            match &slow.state.current {
                Some(current) => match current.unsaved {
                    Some(base) => (Arc::clone(&current.token), base),
                    None => return Ok(()),
                },
                None => return Ok(()),
            }
        };
        if let Some(base) = base
            && let Some(record) = store.load(key).await?
            && record.version != base
        {
            let mut slow = self.lock();
            if slow.state.unsaved_succeeds(&record, base) {
                tracing::warn!(%key, base, version = record.version, "another process was refused the refresh token this unsaved token was rotated from (it was spent here while the store was unreachable); saving this successor over the dead mark");
            } else {
                tracing::warn!(%key, base, version = record.version, "the store holds a newer token than the unsaved one; adopting the store's");
                slow.state
                    .on_stored(&record, &self.policy(), self.clock.reading());
                self.sync_published(&slow.state);
                return Ok(());
            }
        }
        let record = store.save_shared(lease, &token).await?;
        let mut slow = self.lock();
        slow.state.on_saved(&token, record.version);
        self.sync_published(&slow.state);
        Ok(())
    }

    /// Fetches from the source with `candidate`'s refresh token, unless it is known dead.
    ///
    /// For a source that revokes the previous access token, `candidate`'s token is held
    /// back from callers first (until the refresh ends, at most the lease TTL), and under
    /// a lease (`announce`: the store, the lease, the version the refresh derives from)
    /// the refresh is announced to the other processes on the key before it is sent.
    async fn fetch(
        &self,
        ticket: &Ticket,
        candidate: Option<&Token>,
        announce: Option<(&dyn TokenStore, &Lease, Option<u64>)>,
    ) -> Result<Arc<Token>, AuthError> {
        let revokes = self.source.revokes_previous_access_token();
        let known_dead = {
            let mut slow = self.lock();
            let known_dead = slow.state.known_dead(candidate);
            if known_dead.is_none()
                && revokes
                && let Some(candidate) = candidate
            {
                let until =
                    self.clock.reading().monotonic.saturating_add(
                        u64::try_from(self.lease_ttl.as_nanos()).unwrap_or(u64::MAX),
                    );
                if slow.state.retire_presented(candidate, until) {
                    self.sync_published(&slow.state);
                }
            }
            known_dead
        };
        // Best effort: the others adopt the new token when its save is notified.
        if known_dead.is_none()
            && revokes
            && let Some((store, lease, Some(base))) = announce
            && let Err(error) = store.announce_refresh(lease, base).await
        {
            tracing::debug!(key = %lease.key(), %error, "could not announce the refresh");
        }
        let result = match known_dead {
            Some(error) => Err(error),
            None => {
                let started = self.clock.now();
                self.source.fetch_token(candidate).await.map(|token| {
                    // The issue time anchors the 10%-of-lifetime refresh window.
                    Arc::new(match token.issued_at() {
                        Some(_) => token,
                        None => token.with_issued_at(started),
                    })
                })
            }
        };
        if revokes
            && result.is_ok()
            && let Some(candidate) = candidate
        {
            // The vendor revoked it: never handed out again, even if this refresh's token
            // is not installed (superseded by a new authorization).
            let mut slow = self.lock();
            slow.state.revoked(candidate.access_token());
            // Also off the hot path now, whatever happened to the hold meanwhile.
            self.sync_published(&slow.state);
        }
        if let Err(error) = &result {
            tracing::warn!(error = %error, key = ?self.store.as_ref().map(|(_, k)| k), "token refresh failed");
            let mut slow = self.lock();
            let now = self.clock.reading();
            let presented = candidate.and_then(Token::refresh_token);
            slow.state
                .on_failed(ticket, error, presented, &self.policy(), now);
            // Refused or not sent: nothing was issued, so nothing revoked. (For an unknown
            // outcome it may have been: `send` retries a rejected token.)
            if slow.state.unretire(true) {
                self.sync_published(&slow.state);
            }
        }
        result
    }

    /// Saves `token` as a new authorization (`replace_token`). Returns its version.
    pub(super) async fn save_under_lease(
        &self,
        store: &Arc<dyn TokenStore>,
        key: &StoreKey,
        token: &Arc<Token>,
    ) -> Result<u64, AuthError> {
        let lease = store.lease(key, self.lease_ttl, self.lease_wait).await?;
        let saved = store.save_shared(&lease, token).await;
        release(store.as_ref(), key, lease).await;
        saved.map(|record| record.version)
    }
}

/// A refresh overtaken by `replace_token` (or a newer stored record): the token held now
/// if it may be handed out, else `None` (its waiters go round again).
fn superseded(state: &super::state::State) -> Refreshed {
    Ok(state
        .publishable()
        .map(|current| Arc::clone(&current.token)))
}

/// Runs `work`, renewing `lease` every third of `ttl` until it completes.
async fn with_renewal<T>(
    store: &dyn TokenStore,
    lease: &Lease,
    ttl: Duration,
    work: impl std::future::Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    loop {
        match tokio::time::timeout(ttl / 3, &mut work).await {
            Ok(out) => return out,
            Err(_) => {
                if let Err(error) = store.renew(lease, ttl).await {
                    // The save will be refused (fenced) if the lease is really lost.
                    tracing::warn!(key = %lease.key(), error = %error, "could not renew the refresh lease");
                }
            }
        }
    }
}

/// Releases `lease`, logging a failure (the lease then expires by itself).
pub(super) async fn release(store: &dyn TokenStore, key: &StoreKey, lease: Lease) {
    if let Err(error) = store.release(lease).await {
        tracing::warn!(%key, error = %error, "could not release the refresh lease; it will expire");
    }
}

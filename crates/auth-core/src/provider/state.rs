//! The provider's state and its transitions: pure functions of state, event and time,
//! tested without a runtime. The refresh procedure (`refresh.rs`) and the public API
//! (`mod.rs`) hold the state under a mutex and call these.
//!
//! Two counters make outcomes of old refreshes harmless:
//! - `generation` grows with every event after which an older refresh's *failure* must
//!   change nothing: [`State::replace`], [`State::force`], [`State::invalidate`], and
//!   adopting a newer stored record;
//! - `authorization` grows with [`State::replace`] only: a refresh started under an older
//!   authorization must not save or publish its *success* either (it would overwrite the
//!   new authorization with the old chain).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Reading;
use crate::store::TokenRecord;
use crate::{AccessToken, AuthError, OAuthErrorCode, RefreshToken, Token};

/// The provider's settings that decide when a token is due and when it is usable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Policy {
    pub(crate) refresh_before: Duration,
    pub(crate) min_valid: Duration,
    pub(crate) jitter: f64,
    /// A number fixed per subject (a hash of the store key): spreads the refreshes of many
    /// subjects over the token's lifetime (see [`Policy::spread_refresh_at`]). `None`:
    /// refresh at the window only.
    pub(crate) spread: Option<u64>,
    pub(crate) failure_backoff: Duration,
    /// How far behind the true time the clock's readings may lag (coarse clocks).
    pub(crate) resolution: Duration,
}

/// The two instants that matter for a token, on both clocks (see [`Reading`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadlines {
    /// From here a background refresh is due.
    pub(crate) refresh_at: Reading,
    /// From here the token is not handed out.
    pub(crate) usable_until: Reading,
}

impl Deadlines {
    const NEVER: Reading = Reading {
        monotonic: u64::MAX,
        wall: i64::MAX,
    };

    /// Whether `now` is before `deadline` on both clocks: a suspended machine (the wall
    /// clock moved, the monotonic one did not) and a backward clock step (the other way
    /// round) both count against the token.
    #[inline]
    pub(crate) fn before(now: Reading, deadline: Reading) -> bool {
        now.monotonic < deadline.monotonic && now.wall < deadline.wall
    }

    pub(crate) fn usable(&self, now: Reading) -> bool {
        Self::before(now, self.usable_until)
    }

    pub(crate) fn not_due(&self, now: Reading) -> bool {
        Self::before(now, self.refresh_at)
    }
}

impl Policy {
    /// `refresh_before`, capped at 10% of the token's lifetime when its issue time is
    /// known. (Without one the configured window alone: a guess from the time left would
    /// shrink on every look and the token would never come due.)
    pub(crate) fn base_window(&self, token: &Token) -> Duration {
        let lifetime = match (token.expires_at(), token.issued_at()) {
            (Some(exp), Some(issued)) => (exp - issued).to_std().ok(),
            _ => None,
        };
        match lifetime {
            Some(lifetime) => self.refresh_before.min(lifetime / 10),
            None => self.refresh_before,
        }
    }

    /// The base window widened by this token's jitter: a fraction fixed per token (a hash
    /// of it), so every look at the same token agrees and a fleet of tokens spreads out.
    /// Jitter only makes refreshes earlier.
    pub(crate) fn window(&self, token: &Token) -> Duration {
        let fraction = self.jitter * token_jitter(token);
        self.base_window(token).mul_f64(1.0 + fraction)
    }

    /// `min_valid`, at most half the base window (a short-lived token is still usable).
    pub(crate) fn min_valid(&self, token: &Token) -> Duration {
        self.min_valid.min(self.base_window(token) / 2)
    }

    /// The token's deadlines, as readings of the clock that produced `now`.
    pub(crate) fn deadlines(&self, token: &Token, now: Reading) -> Deadlines {
        let Some(expires_at) = token.expires_at() else {
            return Deadlines {
                refresh_at: Deadlines::NEVER,
                usable_until: Deadlines::NEVER,
            };
        };
        let expires = expires_at.timestamp_nanos_opt().unwrap_or(i64::MAX);
        let at = |before: Duration| {
            let before = i64::try_from((before + self.resolution).as_nanos()).unwrap_or(i64::MAX);
            let wall = expires.saturating_sub(before);
            // The same instant on the monotonic clock: as far ahead of `now` as on the wall.
            let ahead = u64::try_from(wall.saturating_sub(now.wall)).unwrap_or(0);
            Reading {
                monotonic: now.monotonic.saturating_add(ahead),
                wall,
            }
        };
        let refresh_at = match self.spread_refresh_at(token) {
            // The subject's grid, which ends a base window before expiry. Not the jittered
            // window: the jitter would pull the grid's last points of a cycle onto a few
            // seconds (sellers onboarded together: 1.47% of 10,000 in one second with
            // 120 s tokens, where the grid alone puts 1.2%).
            Some(spread) => {
                let window = at(self.base_window(token));
                if spread < window.wall {
                    let ahead = u64::try_from(spread.saturating_sub(now.wall)).unwrap_or(0);
                    Reading {
                        monotonic: now.monotonic.saturating_add(ahead),
                        wall: spread,
                    }
                } else {
                    window
                }
            }
            None => at(self.window(token)),
        };
        Deadlines {
            refresh_at,
            usable_until: at(self.min_valid(token)),
        }
    }

    /// Where a token of a subject with a spread key is refreshed (wall-clock nanoseconds),
    /// so that many subjects onboarded together do not refresh together.
    ///
    /// Each subject owns a phase on a grid of period `P = L - W - W/2`, fixed in wall-clock
    /// time by its key, where `L` is the token's lifetime rounded up to whole seconds and
    /// `W` the base window of a token that long (the `W/2` floor: a new token is kept at
    /// least that long). The refresh is the one grid instant in `[issued + W/2, issued +
    /// W/2 + P)`. The next token, issued there, finds its refresh one period later: every
    /// subject refreshes every `P` at its own phase, and `n` subjects with uniformly
    /// spread phases put `n / P` refreshes in a second, from the first cycle on, in every
    /// process of a fleet (the phase depends on the key and the wall clock only).
    ///
    /// Why whole seconds: vendors state lifetimes in seconds (`expires_in`), and a token's
    /// measured lifetime falls short of that by up to a second (Easyship's whole-second
    /// `created_at`, the request's latency). The grid's position is the wall-clock time
    /// modulo `P`, so a `P` that differed by a millisecond from token to token would put
    /// each refresh at a random point of the cycle: about twice as many refreshes. The
    /// caller never refreshes later than the base window (the grid ends there, and
    /// [`deadlines`](Self::deadlines) takes the earlier), and the `min_valid` deadline is
    /// not moved.
    ///
    /// `None` without a spread key, or without an issue time (the lifetime is unknown).
    pub(crate) fn spread_refresh_at(&self, token: &Token) -> Option<i64> {
        const SECOND: i64 = 1_000_000_000;
        let key = self.spread?;
        let expires = token.expires_at()?.timestamp_nanos_opt()?;
        let issued = token.issued_at()?.timestamp_nanos_opt()?;
        let measured = expires.checked_sub(issued)?;
        let lifetime = if measured >= SECOND {
            measured.checked_add(SECOND - 1)? / SECOND * SECOND
        } else {
            measured
        };
        let lifetime_std = Duration::from_nanos(u64::try_from(lifetime).ok()?);
        let window = i64::try_from(self.refresh_before.min(lifetime_std / 10).as_nanos()).ok()?;
        let floor = window / 2;
        let period = lifetime - window - floor;
        if period <= 0 {
            return None;
        }
        // `key` is already a hash; a second mixing keeps nearby keys apart.
        let phase = (unit_fraction(mix(key)) * period as f64) as i64;
        let start = issued + floor;
        Some(start + (phase - start).rem_euclid(period))
    }
}

/// SplitMix64's finaliser: a well-spread 64-bit number from any other.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `hash` as a fraction in `[0, 1)`.
fn unit_fraction(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// A fraction in `[0, 1)` fixed for a token (FNV-1a of the access token): its refresh
/// jitter. Only a number derived from a hash, never shown.
fn token_jitter(token: &Token) -> f64 {
    unit_fraction(crate::redact::fnv1a(
        token.access_token().expose_secret().as_bytes(),
    ))
}

/// The token held, with its deadlines.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    pub(crate) token: Arc<Token>,
    pub(crate) deadlines: Deadlines,
    /// The store version it was loaded from or saved as (`None`: not in the store).
    pub(crate) version: Option<u64>,
    /// Not accepted by the store yet: `Some(base)`, the store version it derives from
    /// (`Some(None)`: a new authorization, saved whatever the store holds).
    pub(crate) unsaved: Option<Option<u64>>,
}

/// A token held back while a refresh that presents its refresh token runs, because the
/// vendor revokes the previous access token when it answers
/// ([`TokenSource::revokes_previous_access_token`](crate::TokenSource::revokes_previous_access_token)).
#[derive(Debug, Clone)]
pub(crate) struct Retiring {
    /// The token held back (compared by pointer: any new token is not it).
    pub(crate) token: Arc<Token>,
    /// Monotonic time from which it is handed out again whatever happened: no lost
    /// announcement or bug can keep callers waiting longer.
    pub(crate) until: u64,
    /// Set by this provider's own refresh (cleared when it ends); otherwise by another
    /// process's announcement (cleared when a newer record is adopted, or this provider
    /// takes the lease: the announced refresh has ended without a save).
    pub(crate) own: bool,
}

/// A remembered failure (the negative cache).
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) error: AuthError,
    /// Monotonic time until which it is handed out; `None`: until a new authorization
    /// (`invalid_grant`, no refresh token) or [`State::force`].
    pub(crate) until: Option<u64>,
}

impl Failure {
    fn active(&self, now: Reading) -> bool {
        self.until.is_none_or(|until| now.monotonic < until)
    }
}

/// What a call to `token()` should do, decided under the lock.
#[derive(Debug)]
pub(crate) enum Call {
    /// Hand this token out; start a background refresh first if `refresh`.
    Serve { token: Arc<Token>, refresh: bool },
    /// Hand out this remembered failure.
    Fail(AuthError),
    /// Wait for a refresh (join the running one, or start one).
    Wait,
}

/// What a refresh starts from, captured when it starts.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub(crate) generation: u64,
    pub(crate) authorization: u64,
    /// Fetch even if the held token is not due (`force_refresh`).
    pub(crate) force: bool,
}

/// The provider's state.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) generation: u64,
    pub(crate) authorization: u64,
    pub(crate) current: Option<Current>,
    /// A configured token for an empty store: served while valid, its refresh token used
    /// only if the store holds nothing. Boxed, like `failure`: gone once the store was
    /// read, and a `TokenCache` of many subjects pays every inline byte per subject.
    pub(crate) seed: Option<Box<Current>>,
    pub(crate) failure: Option<Box<Failure>>,
    /// Refresh tokens the vendor answered `invalid_grant` to: never presented again.
    pub(crate) dead_refresh_token: Option<RefreshToken>,
    /// An access token the API rejected: never handed out again.
    pub(crate) rejected: Option<AccessToken>,
    /// The running refresh's ticket.
    pub(crate) refreshing: Option<Ticket>,
    /// A token held back while a refresh that revokes it runs.
    pub(crate) retiring: Option<Box<Retiring>>,
    pub(crate) force: bool,
    pub(crate) last_refreshed_at: Option<DateTime<Utc>>,
    /// Monotonic time before which a remembered failure is not re-checked against the
    /// store, nor an unsaved token's save retried.
    pub(crate) recheck_at: u64,
    /// The store has been read once (until then the seed is served only if it is down).
    pub(crate) store_checked: bool,
    /// Since when the store has been unreachable (by the wall clock), until it answers.
    pub(crate) store_unavailable_since: Option<DateTime<Utc>>,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl State {
    /// A state holding `seed`; without a store the seed simply is the current token.
    pub(crate) fn new(seed: Option<Token>, has_store: bool, policy: &Policy, now: Reading) -> Self {
        let seed = seed.map(|token| Current {
            deadlines: policy.deadlines(&token, now),
            token: Arc::new(token),
            version: None,
            // With a store, the seed is to be saved there if the store is empty.
            unsaved: has_store.then_some(None),
        });
        let (current, seed) = if has_store {
            (None, seed.map(Box::new))
        } else {
            (seed, None)
        };
        Self {
            current,
            seed,
            ..Self::default()
        }
    }

    fn is_rejected(&self, token: &Token) -> bool {
        self.rejected
            .as_ref()
            .is_some_and(|r| r.ct_eq(token.access_token()))
    }

    /// Whether `token` is held back for a refresh that revokes it: until its deadline
    /// with `now`, whatever the deadline without (the hot path's test: the mark is
    /// dropped by [`expire_retiring`](Self::expire_retiring) once it passed).
    fn is_retiring(&self, token: &Arc<Token>, now: Option<Reading>) -> bool {
        self.retiring.as_ref().is_some_and(|r| {
            Arc::ptr_eq(&r.token, token) && now.is_none_or(|now| now.monotonic < r.until)
        })
    }

    /// The token that may be handed out now: the current one, else the seed.
    pub(crate) fn servable(&self, now: Reading) -> Option<&Current> {
        [self.current.as_ref(), self.seed.as_deref()]
            .into_iter()
            .flatten()
            .find(|c| {
                c.deadlines.usable(now)
                    && !self.is_rejected(&c.token)
                    && !self.is_retiring(&c.token, Some(now))
            })
    }

    /// The token the hot path may hand out without a lock: current, saved, not rejected,
    /// not held back for a refresh that revokes it.
    pub(crate) fn publishable(&self) -> Option<&Current> {
        self.current.as_ref().filter(|c| {
            c.unsaved.is_none() && !self.is_rejected(&c.token) && !self.is_retiring(&c.token, None)
        })
    }

    /// Holds back the token `presented` belongs to (the current one or the seed) until
    /// `until` (monotonic): this provider's refresh is about to present its refresh
    /// token to a vendor that revokes the previous access token. Returns whether a token
    /// was held back.
    pub(crate) fn retire_presented(&mut self, presented: &Token, until: u64) -> bool {
        let Some(token) = [self.current.as_ref(), self.seed.as_deref()]
            .into_iter()
            .flatten()
            .find(|c| std::ptr::eq(Arc::as_ptr(&c.token), presented))
            .map(|c| Arc::clone(&c.token))
        else {
            return false;
        };
        self.retiring = Some(Box::new(Retiring {
            token,
            until,
            own: true,
        }));
        true
    }

    /// Another process announced a refresh from the record at `base`: holds back the
    /// current token if it is that record's, until `until` (monotonic). Returns whether
    /// it did (not for another version: a late or our own announcement; nor over this
    /// provider's own mark).
    pub(crate) fn retire_announced(&mut self, base: u64, until: u64) -> bool {
        let Some(current) = self
            .current
            .as_ref()
            .filter(|c| c.unsaved.is_none() && c.version == Some(base))
        else {
            return false;
        };
        if self.is_retiring(&current.token, None) {
            return false;
        }
        self.retiring = Some(Box::new(Retiring {
            token: Arc::clone(&current.token),
            until,
            own: false,
        }));
        true
    }

    /// A refresh presenting `access`'s refresh token succeeded, and the vendor revokes
    /// the previous access token when it issues: `access` is never handed out again,
    /// like a token the API rejected.
    pub(crate) fn revoked(&mut self, access: &AccessToken) {
        self.rejected = Some(access.clone());
    }

    /// Drops the mark set by this provider's refresh (`own`: it ended, or its request
    /// failed: the vendor did not issue, so did not revoke) or by another process's
    /// announcement (`!own`: this provider holds the lease now, so that refresh ended
    /// without a save). Returns whether there was one.
    pub(crate) fn unretire(&mut self, own: bool) -> bool {
        if self.retiring.as_ref().is_some_and(|r| r.own == own) {
            self.retiring = None;
            return true;
        }
        false
    }

    /// Drops a mark whose deadline passed, or whose token is no longer held. Returns
    /// whether it did.
    pub(crate) fn expire_retiring(&mut self, now: Reading) -> bool {
        let Some(retiring) = &self.retiring else {
            return false;
        };
        let held = [self.current.as_ref(), self.seed.as_deref()]
            .into_iter()
            .flatten()
            .any(|c| Arc::ptr_eq(&c.token, &retiring.token));
        if held && now.monotonic < retiring.until {
            return false;
        }
        self.retiring = None;
        true
    }

    /// The remembered failure, if it still applies.
    pub(crate) fn active_failure(&self, now: Reading) -> Option<&AuthError> {
        self.failure
            .as_ref()
            .filter(|f| f.active(now))
            .map(|f| &f.error)
    }

    /// Decides a `token()` call that the hot path could not serve.
    pub(crate) fn on_call(&mut self, policy: &Policy, now: Reading, has_store: bool) -> Call {
        self.expire_retiring(now);
        // The first call reads the store (it may hold a newer token than the seed);
        // if the store is down, the seed is served meanwhile.
        let read_store_first =
            has_store && !self.store_checked && self.active_failure(now).is_none();
        if let Some(current) = self.servable(now).filter(|_| !read_store_first) {
            let token = Arc::clone(&current.token);
            let due = !current.deadlines.not_due(now) || current.unsaved.is_some();
            let refresh = due && self.refreshing.is_none() && self.may_start_background(now);
            if refresh && current.unsaved.is_some() {
                self.recheck_at = now.monotonic.saturating_add(nanos(policy.failure_backoff));
            }
            return Call::Serve { token, refresh };
        }
        if self.refreshing.is_some() {
            return Call::Wait;
        }
        if self.retiring.is_some() {
            // Held back for another process's announced refresh: a refresh here waits on
            // its lease and adopts what it saves (a remembered failure of ours is no
            // reason to hand out an error meanwhile).
            return Call::Wait;
        }
        if let Some(error) = self.active_failure(now) {
            // With a store, look again now and then: another process may have saved a
            // valid token or a new authorization. That refresh only reads the store.
            if has_store && now.monotonic >= self.recheck_at {
                self.recheck_at = now
                    .monotonic
                    .saturating_add(nanos(policy.failure_backoff.min(Duration::from_secs(1))));
                return Call::Wait;
            }
            return Call::Fail(error.clone());
        }
        Call::Wait
    }

    /// Whether a background refresh may start (no failure remembered, and for an unsaved
    /// token, its save retry is due).
    fn may_start_background(&self, now: Reading) -> bool {
        let unsaved = self.current.as_ref().is_some_and(|c| c.unsaved.is_some());
        if unsaved {
            return now.monotonic >= self.recheck_at;
        }
        self.active_failure(now).is_none()
    }

    /// A refresh starts: its ticket.
    pub(crate) fn begin(&mut self) -> Ticket {
        let ticket = Ticket {
            generation: self.generation,
            authorization: self.authorization,
            force: std::mem::take(&mut self.force),
        };
        self.refreshing = Some(ticket.clone());
        ticket
    }

    /// Whether a refresh for `ticket` may fetch from the vendor, or only look at the
    /// store (a failure is remembered and it was not forced).
    pub(crate) fn may_fetch(&self, ticket: &Ticket, now: Reading) -> Result<(), AuthError> {
        if ticket.force {
            return Ok(());
        }
        match self.active_failure(now) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// What the refresh starts from: the current token (even expired: its refresh token),
    /// else the seed.
    pub(crate) fn candidate(&self) -> Option<Arc<Token>> {
        self.current
            .as_ref()
            .or(self.seed.as_deref())
            .map(|c| Arc::clone(&c.token))
    }

    /// Whether `token` needs no refresh for `ticket`: usable, outside its window, not
    /// forced.
    pub(crate) fn fresh_enough(&self, ticket: &Ticket, current: &Current, now: Reading) -> bool {
        !ticket.force
            && current.deadlines.not_due(now)
            && !self.is_rejected(&current.token)
            && !self.is_retiring(&current.token, Some(now))
    }

    /// The refresh token is known dead: the error to return instead of presenting it.
    pub(crate) fn known_dead(&self, candidate: Option<&Token>) -> Option<AuthError> {
        let presented = candidate?.refresh_token()?;
        let dead = self.dead_refresh_token.as_ref()?;
        dead.ct_eq(presented).then(|| {
            AuthError::oauth(
                OAuthErrorCode::InvalidGrant,
                Some("this refresh token was already refused by the vendor".into()),
                None,
            )
        })
    }

    /// A record read from the store. Adopts it when it is newer than what is held;
    /// returns whether it did.
    pub(crate) fn on_stored(
        &mut self,
        record: &TokenRecord,
        policy: &Policy,
        now: Reading,
    ) -> bool {
        let held = self.current.as_ref().and_then(|c| c.version);
        // An unsaved token derives from `base`: the store moving past it makes it stale.
        let unsaved_base = self.current.as_ref().and_then(|c| c.unsaved);
        let newer = match (held, unsaved_base) {
            (_, Some(None)) => false, // a new authorization waits to overwrite the store
            (_, Some(Some(base))) => record.version > base && !self.unsaved_succeeds(record, base),
            (Some(held), None) => record.version > held,
            (None, None) => true,
        };
        self.store_checked = true;
        if !newer {
            return false;
        }
        if record.refresh_token_dead
            && let Some(refresh_token) = record.token.refresh_token()
        {
            // Another process was told `invalid_grant` for this refresh token.
            self.dead_refresh_token = Some(refresh_token.clone());
            self.failure = Some(Box::new(Failure {
                error: AuthError::oauth(
                    OAuthErrorCode::InvalidGrant,
                    Some("the stored refresh token was refused by the vendor".into()),
                    None,
                ),
                until: None,
            }));
        } else if self.dead_refresh_token.as_ref().is_none_or(|dead| {
            record
                .token
                .refresh_token()
                .is_none_or(|rt| !dead.ct_eq(rt))
        }) {
            // A token we have not seen refused: whatever failed before may not apply.
            self.failure = None;
        }
        self.generation += 1;
        self.seed = None;
        self.retiring = None;
        self.current = Some(Current {
            deadlines: policy.deadlines(&record.token, now),
            token: Arc::clone(&record.token),
            version: Some(record.version),
            unsaved: None,
        });
        true
    }

    /// The store holds nothing: the seed becomes the token to save.
    pub(crate) fn store_empty(&mut self, now: Reading) {
        self.store_checked = true;
        if self.current.is_none()
            && let Some(mut seed) = self.seed.take()
        {
            if !seed.deadlines.usable(now) {
                // A refresh token alone (or an expired seed): the configuration still has
                // it, and the refresh it is about to feed saves the result.
                seed.unsaved = None;
            }
            self.current = Some(*seed);
        }
    }

    /// A saved held token: records its version.
    pub(crate) fn on_saved(&mut self, token: &Arc<Token>, version: u64) {
        if let Some(current) = self.current.as_mut()
            && Arc::ptr_eq(&current.token, token)
        {
            current.version = Some(version);
            current.unsaved = None;
        }
    }

    /// `replace_token` begins: refreshes running now are superseded (they must neither
    /// save nor publish), even before the new token is saved.
    pub(crate) fn supersede(&mut self) {
        self.generation += 1;
        self.authorization += 1;
    }

    /// Whether a fetched token for `ticket` may still be saved and published.
    pub(crate) fn accepts(&self, ticket: &Ticket) -> bool {
        ticket.authorization == self.authorization
    }

    /// A refresh fetched `token`; `saved`: the store version it was saved as, `Ok(None)`
    /// without a store, `Err(base)` if the save failed (the version it derives from).
    /// Returns whether it became the current token.
    pub(crate) fn on_fetched(
        &mut self,
        ticket: &Ticket,
        token: Arc<Token>,
        saved: Result<Option<u64>, Option<u64>>,
        policy: &Policy,
        now: Reading,
        wall: DateTime<Utc>,
    ) -> bool {
        self.last_refreshed_at = Some(wall);
        if !self.accepts(ticket) {
            return false;
        }
        let (version, unsaved) = match saved {
            Ok(version) => (version, None),
            Err(base) => (None, Some(base)),
        };
        // A newer stored record adopted meanwhile wins over this (older) save, unless all
        // it says is that the refresh token this one was rotated from is dead.
        let held = self.current.as_ref().and_then(|c| c.version);
        if let (Some(held), Some(version)) = (held, version.or(unsaved.flatten()))
            && held > version
        {
            if unsaved != Some(Some(version)) || !self.succeeds_adopted_dead_mark(&token, version) {
                return false;
            }
            // The live successor of the chain: not the invalid_grant the mark reported.
            self.failure = None;
        }
        if ticket.generation == self.generation {
            self.failure = None;
        }
        self.seed = None;
        self.retiring = None;
        self.current = Some(Current {
            deadlines: policy.deadlines(&token, now),
            token,
            version,
            unsaved,
        });
        if unsaved.is_some() {
            self.recheck_at = now.monotonic.saturating_add(nanos(policy.failure_backoff));
        }
        true
    }

    /// A refresh for `ticket` failed after presenting `presented` (its refresh token).
    pub(crate) fn on_failed(
        &mut self,
        ticket: &Ticket,
        error: &AuthError,
        presented: Option<&RefreshToken>,
        policy: &Policy,
        now: Reading,
    ) {
        if error.is_invalid_grant()
            && let Some(presented) = presented
        {
            // A fact about that refresh token, whatever happened since.
            self.dead_refresh_token = Some(presented.clone());
        }
        if ticket.generation != self.generation {
            // Started before replace_token, force_refresh, invalidate or a newer stored
            // record: its failure says nothing about what is held now.
            return;
        }
        let sticky = error.is_invalid_grant() || matches!(error, AuthError::NoRefreshToken);
        self.failure = Some(Box::new(Failure {
            error: error.clone(),
            until: (!sticky).then(|| now.monotonic.saturating_add(nanos(policy.failure_backoff))),
        }));
    }

    /// The running refresh ended (whatever its outcome).
    pub(crate) fn end(&mut self, ticket: &Ticket) {
        self.unretire(true);
        if self.refreshing.as_ref().is_some_and(|r| {
            r.generation == ticket.generation && r.authorization == ticket.authorization
        }) {
            self.refreshing = None;
        }
    }

    /// A token obtained outside the provider (a new authorization). `saved`: its version.
    pub(crate) fn replace(
        &mut self,
        token: Arc<Token>,
        saved: Option<u64>,
        has_store: bool,
        policy: &Policy,
        now: Reading,
    ) {
        self.generation += 1;
        self.authorization += 1;
        self.failure = None;
        self.dead_refresh_token = None;
        self.rejected = None;
        self.seed = None;
        self.retiring = None;
        let unsaved = (has_store && saved.is_none()).then_some(None);
        self.current = Some(Current {
            deadlines: policy.deadlines(&token, now),
            token,
            version: saved,
            unsaved,
        });
        if unsaved.is_some() {
            self.recheck_at = now.monotonic.saturating_add(nanos(policy.failure_backoff));
        }
    }

    /// The API rejected `access` (`None`: whatever is current). Returns whether it was the
    /// current token.
    pub(crate) fn invalidate(&mut self, access: Option<&AccessToken>) -> bool {
        let Some(current) = &self.current else {
            return false;
        };
        let held = current.token.access_token();
        if access.is_some_and(|a| !a.ct_eq(held)) {
            return false;
        }
        self.rejected = Some(held.clone());
        self.generation += 1;
        // A remembered transient failure predates the rejection: try again now.
        if self.failure.as_ref().is_some_and(|f| f.until.is_some()) {
            self.failure = None;
        }
        true
    }

    /// `force_refresh`: clears every remembered failure; the next refresh fetches. A
    /// refresh token the vendor refused stays refused: it is a fact, not a failure, and
    /// presenting it again cannot succeed.
    pub(crate) fn force(&mut self) {
        self.generation += 1;
        self.failure = None;
        self.force = true;
    }

    /// The store could not be reached. Returns whether this starts an outage.
    pub(crate) fn on_store_unavailable(&mut self, wall: DateTime<Utc>) -> bool {
        let starts = self.store_unavailable_since.is_none();
        if starts {
            self.store_unavailable_since = Some(wall);
        }
        starts
    }

    /// Whether the held unsaved token (derived from version `base`) must be saved over
    /// `record` rather than dropped for it: the record's only change since `base` is
    /// marking dead the refresh token this one was rotated from. Another process
    /// presented it while this one could not save its rotation (the store was down past
    /// the lease's TTL) and the vendor refused it because it was spent here: the held
    /// token is the chain's live successor, and dropping it would make the seller
    /// authorize again.
    pub(crate) fn unsaved_succeeds(&self, record: &TokenRecord, base: u64) -> bool {
        let Some(current) = self.current.as_ref() else {
            return false;
        };
        let rotated = match (current.token.refresh_token(), record.token.refresh_token()) {
            (Some(held), Some(dead)) => !held.ct_eq(dead),
            _ => false,
        };
        current.unsaved == Some(Some(base))
            && record.refresh_token_dead
            && record.version == base + 1
            && rotated
    }

    /// Whether `fetched`, a rotation from the record at `base` that could not be saved,
    /// is the successor of the record held now: `base + 1`, adopted while the fetch ran,
    /// only marking dead the refresh token `fetched` was rotated from (another process
    /// presented it after this one's lease lapsed, and the vendor refused it because it
    /// was spent here). The order [`unsaved_succeeds`](Self::unsaved_succeeds) does not
    /// see: the mark first, then the fetch's answer.
    fn succeeds_adopted_dead_mark(&self, fetched: &Token, base: u64) -> bool {
        let Some(current) = self.current.as_ref() else {
            return false;
        };
        let Some(dead) = current.token.refresh_token().filter(|rt| {
            self.dead_refresh_token
                .as_ref()
                .is_some_and(|d| d.ct_eq(rt))
        }) else {
            return false;
        };
        current.version == Some(base + 1)
            && fetched.refresh_token().is_some_and(|rt| !rt.ct_eq(dead))
    }

    /// The store answered. Returns when the outage it ends began, if one did. A
    /// remembered outage error no longer holds refreshes back.
    pub(crate) fn on_store_reachable(&mut self) -> Option<DateTime<Utc>> {
        if self
            .failure
            .as_ref()
            .is_some_and(|f| f.error.is_store_unavailable())
        {
            self.failure = None;
        }
        self.store_unavailable_since.take()
    }

    /// Whether a refresh for `ticket` may fetch without the store (it is unreachable):
    /// as [`may_fetch`](Self::may_fetch), except that a remembered outage does not hold
    /// it back (the outage is why it fetches alone); a failed fetch still does.
    pub(crate) fn may_fetch_alone(&self, ticket: &Ticket, now: Reading) -> Result<(), AuthError> {
        match self.may_fetch(ticket, now) {
            Err(error) if error.is_store_unavailable() => Ok(()),
            other => other,
        }
    }

    /// The store version a token fetched now derives from, for its later save: the held
    /// token's version (or the base of an unsaved one); 0 when nothing is held, so that
    /// any record the store holds by then wins over a token fetched without it.
    pub(crate) fn base_version(&self) -> Option<u64> {
        match &self.current {
            Some(current) => match current.unsaved {
                Some(base) => base,
                None => Some(current.version.unwrap_or(0)),
            },
            None => Some(0),
        }
    }

    /// Whether the user must authorize again.
    pub(crate) fn reauthorization_required(&self) -> bool {
        self.failure.as_ref().is_some_and(|f| {
            f.until.is_none()
                && (f.error.is_invalid_grant() || matches!(f.error, AuthError::NoRefreshToken))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn policy() -> Policy {
        Policy {
            refresh_before: Duration::from_secs(300),
            min_valid: Duration::from_secs(30),
            jitter: 0.0,
            spread: None,
            failure_backoff: Duration::from_secs(5),
            resolution: Duration::ZERO,
        }
    }

    fn epoch() -> DateTime<Utc> {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    /// A reading `secs` after the epoch on both clocks.
    fn at(secs: u64) -> Reading {
        Reading {
            monotonic: secs * SECOND,
            wall: epoch().timestamp_nanos_opt().unwrap() + (secs * SECOND) as i64,
        }
    }

    /// A token issued at `issued` (seconds) lasting `lifetime` seconds, refresh token `rt`.
    fn token(name: &str, issued: i64, lifetime: i64, rt: &str) -> Token {
        let issued = epoch() + chrono::Duration::seconds(issued);
        Token::new(
            AccessToken::new(name),
            Some(issued + chrono::Duration::seconds(lifetime)),
        )
        .with_issued_at(issued)
        .with_refresh_token(RefreshToken::new(rt))
    }

    fn record(version: u64, token: Token) -> TokenRecord {
        TokenRecord::new(version, token, epoch())
    }

    fn grant_error() -> AuthError {
        AuthError::oauth(OAuthErrorCode::InvalidGrant, None, Some(400))
    }

    fn down() -> AuthError {
        AuthError::Http {
            vendor: "",
            status: 503,
            excerpt: String::new(),
            retry_after: None,
        }
    }

    fn fetched(state: &mut State, ticket: &Ticket, token: Token, now: Reading) -> bool {
        state.on_fetched(ticket, Arc::new(token), Ok(None), &policy(), now, epoch())
    }

    #[test]
    fn deadlines_are_the_window_and_min_valid_before_expiry_on_both_clocks() {
        // An hour-long token: window min(300 s, 360 s) = 300 s, min_valid 30 s.
        let d = policy().deadlines(&token("a", 0, 3600, "r"), at(100));
        assert_eq!(d.refresh_at, at(3300));
        assert_eq!(d.usable_until, at(3570));
        // A 60 s token: window 6 s, min_valid 3 s.
        let d = policy().deadlines(&token("a", 0, 60, "r"), at(0));
        assert_eq!((d.refresh_at, d.usable_until), (at(54), at(57)));
        // Coarse clocks: each deadline comes earlier by the resolution.
        let coarse = Policy {
            resolution: Duration::from_millis(20),
            ..policy()
        };
        let d = coarse.deadlines(&token("a", 0, 3600, "r"), at(0));
        assert_eq!(d.usable_until.monotonic, 3570 * SECOND - 20_000_000);
    }

    #[test]
    fn a_spread_refresh_is_earlier_within_the_lifetime_and_min_valid_is_unchanged() {
        let plain = Policy {
            jitter: 0.2,
            ..policy()
        };
        for lifetime in [60, 600, 3600, 86_400] {
            for key in 0..500u64 {
                let spread = Policy {
                    spread: Some(key),
                    ..plain
                };
                let t = token(&format!("t{key}"), 7, lifetime, "r");
                let (with, without) = (spread.deadlines(&t, at(7)), plain.deadlines(&t, at(7)));
                let unjittered = Policy {
                    jitter: 0.0,
                    ..plain
                }
                .deadlines(&t, at(7));
                assert!(
                    with.refresh_at.wall <= unjittered.refresh_at.wall,
                    "never later than the window"
                );
                assert!(with.refresh_at.monotonic <= unjittered.refresh_at.monotonic);
                // On the subject's grid: the token's own jitter does not move it (it
                // would pull the cycle's last grid points together).
                let other = token(&format!("other{key}"), 7, lifetime, "r");
                assert_eq!(spread.deadlines(&other, at(7)).refresh_at, with.refresh_at);
                assert_eq!(
                    with.usable_until, without.usable_until,
                    "min_valid unchanged"
                );
                let window = plain.base_window(&t).as_secs_f64();
                let issued = at(7).wall;
                let secs = (with.refresh_at.wall - issued) as f64 / SECOND as f64;
                assert!(
                    secs >= window / 2.0,
                    "{secs} s after issue, floor {}",
                    window / 2.0
                );
                assert!(secs <= lifetime as f64 - window);
            }
        }
        // No issue time: the lifetime is unknown, no spread.
        let spread = Policy {
            spread: Some(1),
            ..policy()
        };
        let t = Token::new(
            AccessToken::new("t"),
            Some(epoch() + chrono::Duration::hours(1)),
        );
        assert_eq!(spread.deadlines(&t, at(0)), policy().deadlines(&t, at(0)));
    }

    /// A token as Easyship's answer makes it: issued (sent) at `issued_ms`, expiring at
    /// its whole-second `created_at` plus `lifetime` seconds, so its measured lifetime is
    /// up to a second short.
    fn whole_second_token(name: &str, issued_ms: i64, lifetime: i64) -> Token {
        let issued = epoch() + chrono::Duration::milliseconds(issued_ms);
        let created_at = epoch() + chrono::Duration::seconds(issued_ms.div_euclid(1000));
        Token::new(
            AccessToken::new(name),
            Some(created_at + chrono::Duration::seconds(lifetime)),
        )
        .with_issued_at(issued)
    }

    #[test]
    fn a_subjects_refreshes_stay_one_period_apart_whatever_each_tokens_measured_lifetime() {
        let policy = Policy {
            jitter: 0.2,
            ..policy()
        };
        // (Not for 2-second tokens: measured up to half their life short, they mostly
        // refresh at the window, before the grid instant.)
        for lifetime in [60, 600, 7200] {
            let window = (lifetime as f64 / 10.0).min(300.0);
            let period_ms = ((lifetime as f64 - 1.5 * window) * 1000.0).round() as i64;
            let (mut on_period, mut intervals) = (0usize, 0usize);
            for key in 0..200u64 {
                let policy = Policy {
                    spread: Some(crate::redact::fnv1a(format!("seller-{key}").as_bytes())),
                    ..policy
                };
                // Issued at an odd millisecond, answered 137 ms after each refresh starts.
                let mut issued_ms = 12_345 + key as i64 * 7919;
                let mut last: Option<i64> = None;
                for cycle in 0..12 {
                    let t = whole_second_token(&format!("k{key}-c{cycle}"), issued_ms, lifetime);
                    let refresh_ms = (policy.deadlines(&t, at(0)).refresh_at.wall - at(0).wall)
                        .div_euclid(1_000_000);
                    assert!(
                        refresh_ms > issued_ms,
                        "{lifetime} s: refreshed before issue"
                    );
                    if let Some(last) = last {
                        let interval = refresh_ms - last;
                        // Longer only after a refresh the window brought forward: then
                        // the next is the grid instant after a floor and the latency.
                        let longest = period_ms + (window * 500.0) as i64 + 137 + 1;
                        assert!(interval <= longest, "{interval} ms > {longest}");
                        intervals += 1;
                        on_period += usize::from((interval - period_ms).abs() <= 1);
                    }
                    last = Some(refresh_ms);
                    issued_ms = refresh_ms + 137;
                }
            }
            // Off the period only where the measured lifetime is so short that the window
            // comes first.
            let share = on_period as f64 / intervals as f64;
            eprintln!(
                "lifetime {lifetime} s: {:.1}% of intervals one period",
                share * 100.0
            );
            assert!(share >= 0.95, "lifetime {lifetime}: {share}");
        }
    }

    /// The busiest second's share of `keys` subjects, all onboarded at second 0 with
    /// tokens of `lifetime` seconds (measured up to a second short, as Easyship's are),
    /// each refreshed at its deadline (the new token issued a quarter second later),
    /// counted over two lifetimes after three have passed.
    fn peak_share_of_refreshes(keys: u64, lifetime: i64) -> f64 {
        let policy = Policy {
            jitter: 0.2,
            ..policy()
        };
        let (from, to) = (3 * lifetime, 5 * lifetime);
        let mut per_second = vec![0u32; (to - from) as usize];
        for key in 0..keys {
            let policy = Policy {
                spread: Some(crate::redact::fnv1a(format!("seller-{key}").as_bytes())),
                ..policy
            };
            let mut issued_ms: i64 = 0;
            for cycle in 0.. {
                let t = whole_second_token(&format!("k{key}-c{cycle}"), issued_ms, lifetime);
                let wall = policy.deadlines(&t, at(0)).refresh_at.wall;
                let refresh_ms = (wall - at(0).wall) / 1_000_000;
                let second = refresh_ms.div_euclid(1000);
                if second >= to {
                    break;
                }
                if second >= from {
                    per_second[(second - from) as usize] += 1;
                }
                issued_ms = refresh_ms + 250;
            }
        }
        f64::from(*per_second.iter().max().unwrap()) / keys as f64
    }

    #[test]
    fn ten_thousand_subjects_onboarded_together_do_not_refresh_together() {
        const KEYS: u64 = 10_000;
        for lifetime in [60, 120, 300, 600, 3600] {
            let peak = peak_share_of_refreshes(KEYS, lifetime);
            // Every subject refreshes once per period `P = lifetime - 1.5 × window`
            // (window: 10% of the lifetime up to 300 s), so a second carries at least
            // 1/P of them on average: the best any schedule can do (1.96% for 60 s
            // tokens, whatever the spread). Phases from a hash are random: the busiest
            // second is that mean plus a few standard deviations of a Poisson count.
            let window = (lifetime as f64 / 10.0).min(300.0);
            let mean = KEYS as f64 / (lifetime as f64 - 1.5 * window);
            let bound = (mean + 4.0 * mean.sqrt() + 1.0) / KEYS as f64;
            eprintln!(
                "lifetime {lifetime} s: peak second {:.2}% of subjects (mean {:.2}%)",
                peak * 100.0,
                mean / KEYS as f64 * 100.0
            );
            assert!(peak <= bound, "lifetime {lifetime}: peak {peak} > {bound}");
            if lifetime >= 300 {
                assert!(peak <= 0.01, "lifetime {lifetime}: peak {peak}");
            }
        }
    }

    #[test]
    fn either_clock_alone_can_end_a_token() {
        let d = policy().deadlines(&token("a", 0, 3600, "r"), at(0));
        assert!(d.usable(at(3569)));
        // Suspended for an hour: the wall clock moved, the monotonic one did not.
        let resumed = Reading {
            monotonic: 10 * SECOND,
            wall: at(3600).wall,
        };
        assert!(!d.usable(resumed));
        // The wall clock stepped back an hour: the monotonic clock still counts.
        let stepped = Reading {
            monotonic: 3600 * SECOND,
            wall: at(0).wall,
        };
        assert!(!d.usable(stepped));
    }

    #[test]
    fn a_seed_with_time_left_is_served_while_its_refresh_fails() {
        let mut state = State::new(Some(token("seed", 0, 3600, "r0")), false, &policy(), at(0));
        // 4 minutes left: in the window.
        let now = at(3360);
        let Call::Serve {
            token,
            refresh: true,
        } = state.on_call(&policy(), now, false)
        else {
            panic!("a due seed is served and refreshed");
        };
        assert_eq!(token.access_token().expose_secret(), "seed");
        let ticket = state.begin();
        state.on_failed(&ticket, &down(), None, &policy(), now);
        state.end(&ticket);
        // Failing: still served, no new refresh during the backoff.
        assert!(matches!(
            state.on_call(&policy(), at(3361), false),
            Call::Serve { refresh: false, .. }
        ));
        // After the backoff a refresh starts again, the seed still served.
        assert!(matches!(
            state.on_call(&policy(), at(3366), false),
            Call::Serve { refresh: true, .. }
        ));
        // Past min_valid (the failure has expired): callers wait for a refresh.
        assert!(matches!(
            state.on_call(&policy(), at(3571), false),
            Call::Wait
        ));
    }

    #[test]
    fn a_stale_failure_does_not_mark_a_new_authorization_dead() {
        let mut state = State::new(
            Some(token("old", 0, 3600, "revoked")),
            false,
            &policy(),
            at(0),
        );
        let ticket = state.begin();
        // A new authorization arrives while that refresh runs.
        state.replace(
            Arc::new(token("new", 10, 3600, "fresh")),
            None,
            false,
            &policy(),
            at(10),
        );
        let revoked = RefreshToken::new("revoked");
        state.on_failed(&ticket, &grant_error(), Some(&revoked), &policy(), at(11));
        state.end(&ticket);
        assert!(!state.reauthorization_required());
        assert!(state.active_failure(at(11)).is_none());
        // Near the new token's expiry, the refresh presents the new refresh token.
        assert!(matches!(
            state.on_call(&policy(), at(3600), false),
            Call::Wait
        ));
        let candidate = state.candidate().unwrap();
        assert!(state.known_dead(Some(&candidate)).is_none());
        assert_eq!(candidate.refresh_token().unwrap().expose_secret(), "fresh");
        // The revoked one stays known dead.
        let old = token("old", 0, 3600, "revoked");
        assert!(state.known_dead(Some(&old)).is_some());
    }

    #[test]
    fn a_stale_success_from_an_older_authorization_is_discarded() {
        let mut state = State::new(None, false, &policy(), at(0));
        let ticket = state.begin();
        state.replace(
            Arc::new(token("new", 0, 3600, "r-new")),
            None,
            false,
            &policy(),
            at(0),
        );
        assert!(!fetched(
            &mut state,
            &ticket,
            token("from-old", 0, 3600, "r-old"),
            at(1)
        ));
        assert_eq!(
            state.candidate().unwrap().access_token().expose_secret(),
            "new"
        );
    }

    #[test]
    fn a_success_that_started_before_invalidate_is_kept() {
        // Its rotated refresh token must not be lost; it is not the rejected token.
        let mut state = State::new(Some(token("a", 0, 3600, "r0")), false, &policy(), at(0));
        let ticket = state.begin();
        assert!(state.invalidate(None));
        assert!(fetched(
            &mut state,
            &ticket,
            token("b", 1, 3600, "r1"),
            at(1)
        ));
        let Call::Serve { token, .. } = state.on_call(&policy(), at(2), false) else {
            panic!("the new token is served");
        };
        assert_eq!(token.access_token().expose_secret(), "b");
    }

    #[test]
    fn invalid_grant_sticks_until_forced_and_transient_failures_expire() {
        let mut state = State::new(Some(token("a", 0, 60, "r0")), false, &policy(), at(0));
        let ticket = state.begin();
        state.on_failed(&ticket, &down(), None, &policy(), at(100));
        state.end(&ticket);
        assert!(matches!(
            state.on_call(&policy(), at(101), false),
            Call::Fail(_)
        ));
        assert!(matches!(
            state.on_call(&policy(), at(105), false),
            Call::Wait
        ));

        let ticket = state.begin();
        let r0 = RefreshToken::new("r0");
        state.on_failed(&ticket, &grant_error(), Some(&r0), &policy(), at(105));
        state.end(&ticket);
        assert!(state.reauthorization_required());
        assert!(
            matches!(state.on_call(&policy(), at(1_000), false), Call::Fail(e) if e.is_invalid_grant())
        );
        // With a store, now and then a look at the store (it reads, it does not fetch).
        assert!(matches!(
            state.on_call(&policy(), at(1_000), true),
            Call::Wait
        ));
        let ticket = state.begin();
        assert!(state.may_fetch(&ticket, at(1_000)).is_err());
        state.end(&ticket);

        state.force();
        let ticket = state.begin();
        assert!(ticket.force);
        assert!(state.may_fetch(&ticket, at(1_000)).is_ok());
        // The refused refresh token is still never presented.
        assert!(state.known_dead(state.candidate().as_deref()).is_some());
    }

    #[test]
    fn a_newer_stored_record_is_adopted_and_clears_a_transient_failure() {
        let mut state = State::new(None, true, &policy(), at(0));
        assert!(state.on_stored(&record(1, token("a", 0, 3600, "r1")), &policy(), at(0)));
        let ticket = state.begin();
        state.on_failed(&ticket, &down(), None, &policy(), at(1));
        state.end(&ticket);
        // An older or equal version is not adopted.
        assert!(!state.on_stored(&record(1, token("x", 0, 3600, "rx")), &policy(), at(2)));
        assert!(state.on_stored(&record(2, token("b", 0, 3600, "r2")), &policy(), at(2)));
        assert!(state.active_failure(at(2)).is_none());
        // A failure of a refresh that started before the adoption changes nothing.
        state.on_failed(&ticket, &grant_error(), None, &policy(), at(3));
        assert!(!state.reauthorization_required());
    }

    #[test]
    fn a_record_marked_dead_shares_the_verdict() {
        let mut state = State::new(None, true, &policy(), at(0));
        let mut dead = record(3, token("a", 0, 60, "spent"));
        dead.refresh_token_dead = true;
        assert!(state.on_stored(&dead, &policy(), at(0)));
        assert!(state.reauthorization_required());
        assert!(state.known_dead(state.candidate().as_deref()).is_some());
    }

    #[test]
    fn an_unsaved_token_is_dropped_when_the_store_moved_past_its_base() {
        let mut state = State::new(None, true, &policy(), at(0));
        state.on_stored(&record(4, token("a", 0, 60, "r4")), &policy(), at(0));
        let ticket = state.begin();
        let unsaved = Arc::new(token("b", 50, 3600, "r5"));
        assert!(state.on_fetched(
            &ticket,
            Arc::clone(&unsaved),
            Err(Some(4)),
            &policy(),
            at(50),
            epoch()
        ));
        assert!(
            state.publishable().is_none(),
            "unsaved tokens stay off the hot path"
        );
        assert!(state.servable(at(51)).is_some(), "but are served");
        // Another process saved version 5 (from r4 too): ours is stale.
        assert!(state.on_stored(&record(5, token("c", 50, 3600, "r5b")), &policy(), at(52)));
        assert_eq!(
            state.candidate().unwrap().access_token().expose_secret(),
            "c"
        );
    }

    #[test]
    fn a_rotation_answered_after_its_parent_was_marked_dead_is_kept_as_the_successor() {
        let mut state = State::new(None, true, &policy(), at(0));
        state.on_stored(&record(4, token("a", 0, 60, "r4")), &policy(), at(0));
        let ticket = state.begin();
        // While the fetch runs (its lease lapsed), another process presents r4, is
        // refused (it was spent here) and marks it dead as version 5; it is adopted.
        let mut dead = record(5, token("a", 0, 60, "r4"));
        dead.refresh_token_dead = true;
        assert!(state.on_stored(&dead, &policy(), at(50)));
        assert!(state.reauthorization_required());
        // The fetch's answer, fenced out of the store: r5 is the chain's live successor.
        let rotated = Arc::new(token("b", 50, 3600, "r5"));
        assert!(state.on_fetched(
            &ticket,
            Arc::clone(&rotated),
            Err(Some(4)),
            &policy(),
            at(51),
            epoch()
        ));
        let current = state.current.as_ref().unwrap();
        assert!(Arc::ptr_eq(&current.token, &rotated));
        assert_eq!(current.unsaved, Some(Some(4)), "saved over the mark later");
        assert!(!state.reauthorization_required());
        // Not for an answer carrying the dead refresh token itself.
        let mut state = State::new(None, true, &policy(), at(0));
        state.on_stored(&record(4, token("a", 0, 60, "r4")), &policy(), at(0));
        let ticket = state.begin();
        assert!(state.on_stored(&dead, &policy(), at(50)));
        let same = Arc::new(token("b", 50, 3600, "r4"));
        assert!(!state.on_fetched(&ticket, same, Err(Some(4)), &policy(), at(51), epoch()));
        assert!(state.reauthorization_required());
    }

    #[test]
    fn an_unsaved_rotation_is_kept_over_a_dead_mark_of_the_token_it_was_rotated_from() {
        let mut state = State::new(None, true, &policy(), at(0));
        state.on_stored(&record(4, token("a", 0, 60, "r4")), &policy(), at(0));
        let ticket = state.begin();
        let unsaved = Arc::new(token("b", 50, 3600, "r5"));
        assert!(state.on_fetched(
            &ticket,
            Arc::clone(&unsaved),
            Err(Some(4)),
            &policy(),
            at(50),
            epoch()
        ));
        // The store was unreachable; another process presented r4 (spent here) and marked
        // it dead as version 5.
        let mut dead = record(5, token("a", 0, 60, "r4"));
        dead.refresh_token_dead = true;
        assert!(state.unsaved_succeeds(&dead, 4));
        assert!(
            !state.on_stored(&dead, &policy(), at(52)),
            "ours is the successor"
        );
        assert_eq!(
            state.candidate().unwrap().access_token().expose_secret(),
            "b"
        );
        assert!(state.active_failure(at(52)).is_none(), "not invalid_grant");
        // A newer save than the mark is another process's rotation: that one wins.
        assert!(!state.unsaved_succeeds(&record(5, token("c", 50, 3600, "r5b")), 4));
        let mut later = record(6, token("a", 0, 60, "r4"));
        later.refresh_token_dead = true;
        assert!(!state.unsaved_succeeds(&later, 4));
    }

    // A token held back while a refresh that revokes it runs.

    #[test]
    fn a_token_held_back_for_its_refresh_is_neither_served_nor_published() {
        let mut state = State::new(Some(token("a", 0, 3600, "r0")), false, &policy(), at(0));
        let ticket = state.begin();
        let presented = state.candidate().unwrap();
        assert!(state.retire_presented(&presented, at(30).monotonic));
        assert!(state.servable(at(1)).is_none());
        assert!(state.publishable().is_none());
        assert!(matches!(state.on_call(&policy(), at(1), false), Call::Wait));
        // Nor is it "fresh enough" for a refresh to return it instead of fetching.
        let current = state.current.clone().unwrap();
        assert!(!state.fresh_enough(&ticket, &current, at(1)));
        // The refresh succeeds: the new token replaces it, and the mark goes with it.
        assert!(fetched(
            &mut state,
            &ticket,
            token("b", 1, 3600, "r1"),
            at(1)
        ));
        assert!(state.retiring.is_none());
        assert_eq!(
            state
                .publishable()
                .unwrap()
                .token
                .access_token()
                .expose_secret(),
            "b"
        );
    }

    #[test]
    fn a_failed_refresh_hands_the_held_back_token_out_again() {
        let mut state = State::new(Some(token("a", 0, 3600, "r0")), false, &policy(), at(0));
        let ticket = state.begin();
        let presented = state.candidate().unwrap();
        assert!(state.retire_presented(&presented, at(30).monotonic));
        let r0 = RefreshToken::new("r0");
        state.on_failed(&ticket, &down(), Some(&r0), &policy(), at(2));
        assert!(state.unretire(true));
        state.end(&ticket);
        assert!(state.publishable().is_some());
        let Call::Serve { token, .. } = state.on_call(&policy(), at(2), false) else {
            panic!("the valid token is served again");
        };
        assert_eq!(token.access_token().expose_secret(), "a");
        // A refresh that ends in any other way (a panic, a dropped task) drops it too.
        let ticket = state.begin();
        assert!(state.retire_presented(&presented, at(40).monotonic));
        state.end(&ticket);
        assert!(state.retiring.is_none());
    }

    #[test]
    fn an_announced_refresh_holds_back_only_its_base_records_token_until_the_deadline() {
        let mut state = State::new(None, true, &policy(), at(0));
        assert!(state.on_stored(&record(3, token("a", 0, 3600, "r3")), &policy(), at(0)));
        // A late announcement (of an older record) changes nothing.
        assert!(!state.retire_announced(2, at(5).monotonic));
        assert!(state.retire_announced(3, at(5).monotonic));
        assert!(state.publishable().is_none());
        assert!(matches!(state.on_call(&policy(), at(1), true), Call::Wait));
        // No save came: past the deadline the token is handed out again.
        let Call::Serve { token, .. } = state.on_call(&policy(), at(5), true) else {
            panic!("the mark expired");
        };
        assert_eq!(token.access_token().expose_secret(), "a");
        assert!(state.retiring.is_none());
        assert!(state.publishable().is_some());
    }

    #[test]
    fn an_announced_hold_ends_with_the_adopted_record_or_the_lease() {
        let mut state = State::new(None, true, &policy(), at(0));
        state.on_stored(&record(3, token("a", 0, 3600, "r3")), &policy(), at(0));
        assert!(state.retire_announced(3, at(30).monotonic));
        // Our own refresh's mark is not what the lease ends.
        assert!(!state.unretire(true));
        assert!(state.on_stored(&record(4, token("b", 1, 3600, "r4")), &policy(), at(1)));
        assert!(state.retiring.is_none());
        assert!(state.publishable().is_some());
        // Taking the lease: the announced refresh ended without a save.
        assert!(state.retire_announced(4, at(30).monotonic));
        assert!(state.unretire(false));
        assert!(state.servable(at(2)).is_some());
    }

    #[test]
    fn an_announcement_does_not_override_our_own_refreshs_mark() {
        let mut state = State::new(None, true, &policy(), at(0));
        state.on_stored(&record(3, token("a", 0, 3600, "r3")), &policy(), at(0));
        let ticket = state.begin();
        let presented = state.candidate().unwrap();
        assert!(state.retire_presented(&presented, at(30).monotonic));
        // Our own announcement, heard back.
        assert!(!state.retire_announced(3, at(31).monotonic));
        assert!(state.retiring.as_ref().unwrap().own);
        state.end(&ticket);
        assert!(state.retiring.is_none());
    }

    #[test]
    fn a_new_authorization_is_never_dropped_for_the_stores_record() {
        let mut state = State::new(None, true, &policy(), at(0));
        state.replace(
            Arc::new(token("new", 0, 3600, "r")),
            None,
            true,
            &policy(),
            at(0),
        );
        assert!(!state.on_stored(&record(9, token("old", 0, 3600, "o")), &policy(), at(1)));
    }

    #[test]
    fn cold_fields_are_boxed_to_keep_many_providers_small() {
        // `seed`, `failure` and `retiring` are `None` most of the time; inline they cost
        // over 200 bytes per provider (a `TokenCache` holds 100,000). 208: with the store
        // outage's timestamp and the held-back token's pointer.
        assert!(
            std::mem::size_of::<State>() <= 208,
            "{}",
            std::mem::size_of::<State>()
        );
    }
}

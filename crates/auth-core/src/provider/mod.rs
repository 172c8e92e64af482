//! [`CachedTokenProvider`]: a cached, single-flight, auto-refreshing token.
//!
//! Three files: `state.rs` holds the state and its transitions (pure), `refresh.rs` the
//! refresh procedure (lease, reload, fetch, save, publish), and this one the public API
//! and the lock-free hot path; `notify.rs` adopts what the store announces, and
//! `config.rs` holds the settings that providers built alike share.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::clock::{self, Reading};
use crate::store::{StoreKey, TokenStore};
use crate::vendor::ApiAccess;
use crate::{AccessToken, AuthError, Clock, RefreshToken, Token, TokenSource};

mod config;
mod notify;
mod refresh;
mod state;

use config::Config;
use state::{Call, Deadlines, Policy, State, Ticket};

type Outcome = Result<Arc<Token>, AuthError>;

/// How a refresh ended, for its waiters: `Ok(None)` when it was superseded (by
/// `replace_token` or a newer stored record) and has no token of its own to hand out.
type Refreshed = Result<Option<Arc<Token>>, AuthError>;

/// Default upper bound of the refresh window: refresh 5 minutes before expiry, or 10% of
/// the token's lifetime if that is smaller.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);
/// Default `min_valid`: a token closer than this to expiry is not handed out.
pub const DEFAULT_MIN_VALID: Duration = Duration::from_secs(30);
/// Default time a failed refresh is remembered (the negative cache).
pub const DEFAULT_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// Default TTL of the store lease; the provider renews it every third of it while the
/// refresh runs, so it only has to outlive one renewal period, not the refresh.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// Default longest wait for another process's lease before a caller gets an error.
pub const DEFAULT_LEASE_WAIT: Duration = Duration::from_secs(15);

/// The builder's policy before any setting.
const DEFAULT_POLICY: Policy = Policy {
    refresh_before: DEFAULT_REFRESH_BEFORE,
    min_valid: DEFAULT_MIN_VALID,
    jitter: 0.2,
    spread: None,
    failure_backoff: DEFAULT_FAILURE_BACKOFF,
    resolution: Duration::ZERO,
};

/// Every duration setting is capped at a day, so no arithmetic on it can overflow.
const MAX_SETTING: Duration = Duration::from_secs(24 * 3600);

/// How many refreshes a waiting caller sits through before giving up on getting a token
/// that is still usable when it arrives (a paused process, a stepping clock).
const MAX_ROUNDS: usize = 3;

/// A token kept up to date for many concurrent callers.
///
/// - **Hot path**: [`token`](Self::token) on a fresh token is one lock-free read
///   (`arc-swap`), a reading of the coarse monotonic and wall clocks (or the injected
///   [`Clock`]), two comparisons and an `Arc` clone: no lock, no allocation. A token is
///   handed out only while both clocks say it has not reached its refresh window, so
///   neither a machine suspend (the monotonic clock stops, the wall clock does not) nor
///   a backward clock step (the other way round) hands out a token past its time; see
///   [`SystemClock`](crate::SystemClock).
/// - **Refresh window**: from `refresh_before` ahead of expiry (default: 5 minutes or 10%
///   of the lifetime, whichever is smaller, made earlier by up to 20% jitter so a fleet
///   does not refresh in step; with a spread key, which a store sets, at the subject's
///   own phase of the wall clock instead) a call starts one background refresh and still
///   returns the
///   current token; closer than `min_valid` to expiry (default 30 s, at most half the
///   refresh window) callers wait for the refresh. A refreshed token is checked against
///   `min_valid` on the provider's clock before it is handed to anyone.
/// - **Single flight**: however many callers, one refresh runs at a time. A failure is
///   handed to every waiter and remembered for `failure_backoff` (default 5 s);
///   `invalid_grant` is remembered until [`force_refresh`](Self::force_refresh),
///   [`replace_token`](Self::replace_token) or a new authorization appearing in the store,
///   and the refresh token it was answered to is never sent again. A failed refresh never
///   replaces a token that is still valid: whether it came from a fetch, the store, a
///   seed or `replace_token`, a token with more than `min_valid` left is handed out while
///   refreshes fail.
/// - **Stale outcomes**: every refresh carries the generation of the state it started
///   from. Its failure changes nothing if [`replace_token`](Self::replace_token),
///   [`force_refresh`](Self::force_refresh), [`invalidate`](Self::invalidate) or a newer
///   stored record came in between; its success is dropped if a new authorization
///   (`replace_token`) came in between.
/// - **Stores**: with a [`TokenStore`], a refresh first reads the store (another process
///   may have refreshed already), then takes the store's lease, renews it while it runs,
///   reloads the record, refreshes with the *stored* refresh token, saves, and only then
///   publishes. A stored token wins over a configured seed. While another process holds
///   the lease, waiting callers watch the store and adopt what it saves; they give up with
///   an error after `lease_wait` (default 15 s). If the save fails, the new token is kept
///   here, not published to the hot path, and saved on a later call or by
///   [`flush`](Self::flush). A refresh token the vendor refused (`invalid_grant`) is
///   marked dead in the store, so no other process presents it again.
/// - **Store notifications**: with a store that offers them ([`TokenStore::watch`]:
///   `MemoryStore`, `RedisStore`), the provider registers itself on its first call and
///   adopts a record another provider or process saved as soon as the store announces
///   it (Doorkeeper, Easyship's token server, revokes the previous access token when it
///   issues a new one). No task per provider: one short task per notified change.
/// - **Vendors that revoke the previous access token on a refresh**
///   ([`TokenSource::revokes_previous_access_token`]: Doorkeeper, Easyship): the token a
///   refresh presents is held back from callers right before the request goes out (the
///   hot path stops handing it out; callers wait for the refresh and get the new token),
///   and the lease holder announces the refresh through the store
///   ([`TokenStore::announce_refresh`]), so every provider on the key holds back its copy
///   until the new record's save is notified. A failed refresh hands the old token out
///   again while it is valid; a hold never outlasts the lease TTL.
/// - **Store outage**: while the store is unreachable ([`AuthError::StoreUnavailable`])
///   the provider serves its token as long as it has `min_valid` left and reports the
///   outage in [`ProviderStatus::store_unavailable_since`]. When the token would run
///   out it refreshes without the store's lease only if the grant's refresh token is
///   reusable ([`TokenSource::rotates_refresh_token`] is `false`); for a single-use one
///   it sends nothing and callers get `StoreUnavailable`. A token fetched meanwhile is
///   saved when the store is back, unless another process saved a newer one.
///
/// # The window no client can close
///
/// A single-use refresh token (Easyship) is spent when the vendor answers. If the process
/// dies after the vendor rotated it and before the store's save completes, the new
/// refresh token is lost with the process and the seller must authorize again. With
/// [`FileStore`](crate::FileStore) that window is the answer's parse, the write and two
/// fsyncs: 10–40 ms from the vendor's answer to the fsync in a fleet test on a shared VM
/// disk; the save alone took 0.35 ms at the median, 17 ms at p99 and 28 ms at worst
/// over 300 saves. The provider keeps the window as short as it can: it saves before
/// anything else sees the token, and a request whose answer was lost is reported as
/// [`AuthError::OutcomeUnknown`], never retried with the spent token.
///
/// # Cancel safety
///
/// `token()` is cancel safe: the refresh runs in a spawned task, so dropping every caller
/// never cancels it, and a rotated refresh token it obtains is always saved. The task runs
/// on the caller's Tokio runtime: if that runtime shuts down mid-refresh the task is lost
/// (a store lease it held is released or expires) and the next call starts another.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::AuthError> {
/// use auth_core::{AccessToken, CachedTokenProvider, FnSource, Token};
/// use chrono::{Duration, Utc};
///
/// let provider = CachedTokenProvider::new(FnSource::new(|_previous| async {
///     Ok(Token::new(AccessToken::new("fresh"), Some(Utc::now() + Duration::hours(1))))
/// }));
/// let token = provider.token().await?;
/// assert_eq!(token.access_token().expose_secret(), "fresh");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CachedTokenProvider {
    shared: Arc<Shared>,
}

// `repr(C)`, the hot path's fields first, right after the `Arc`'s reference counts,
// which a `TokenCache` lookup's clone writes anyway: the 48 bytes share one cache line
// whenever the allocator's 16-byte-aligned block starts in a line's first half, two
// lines otherwise. Among 100,000 subjects a random lookup misses the CPU cache on every
// line it touches; the default layout spread these fields over three.
#[repr(C)]
struct Shared {
    published: ArcSwapOption<Published>,
    clock: ClockRef,
    /// Monotonic nanoseconds before which the hot path does not try to start a refresh.
    next_background: AtomicU64,
    slow: Mutex<Slow>,
    /// The subject's own part of the policy (see [`Shared::policy`]).
    spread: Option<u64>,
    store: Option<(Arc<dyn TokenStore>, StoreKey)>,
    source: Arc<dyn TokenSource>,
    /// API access, lease and policy settings, shared with every provider built alike
    /// (read as `self.api`, `self.lease_ttl` through [`Deref`](std::ops::Deref)).
    config: Arc<Config>,
    /// Woken by a store notification: a refresh waiting for another process's lease
    /// looks at the store at once.
    store_changed: tokio::sync::Notify,
    /// Whether this provider listens to its store's change notifications (`notify.rs`).
    watching: AtomicU8,
    /// A task adopting a notified record runs (at most one per provider).
    adopting: AtomicBool,
    /// Another notification came while it ran: it reads the store once more.
    adopt_again: AtomicBool,
}

// The shared settings read as the provider's own fields: the refresh procedure and the
// public API use them as before the sharing.
impl std::ops::Deref for Shared {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

/// The state, and the running refresh's channel.
struct Slow {
    state: State,
    inflight: Option<watch::Receiver<Option<Refreshed>>>,
}

/// The token the hot path hands out, with its deadlines.
// A cache line of its own: the allocator could otherwise place it beside the token's
// reference count, which every caller's `Arc` clone writes, and each core's read would
// miss. One line, not a pair (128): the `Arc`'s block is then 128 bytes, not 256, per
// subject, and the line's neighbour in its pair is half the time the block's own
// reference counts, which the hot path does not write (`ArcSwap` loads take no count).
#[repr(align(64))]
struct Published {
    token: Arc<Token>,
    deadlines: Deadlines,
}

/// The clock, with the system clock inlined on the hot path.
enum ClockRef {
    System,
    Custom(Arc<dyn Clock>),
}

impl ClockRef {
    #[inline]
    fn reading(&self) -> Reading {
        match self {
            Self::System => clock::coarse_now(),
            Self::Custom(clock) => Reading {
                monotonic: u64::try_from(clock.monotonic().as_nanos()).unwrap_or(u64::MAX),
                wall: clock.now().timestamp_nanos_opt().unwrap_or(i64::MAX),
            },
        }
    }

    fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Custom(clock) => clock.now(),
        }
    }

    fn resolution(&self) -> Duration {
        match self {
            Self::System => clock::COARSE_RESOLUTION,
            Self::Custom(_) => Duration::ZERO,
        }
    }
}

/// Builds a [`CachedTokenProvider`].
pub struct CachedTokenProviderBuilder {
    source: Arc<dyn TokenSource>,
    api: ApiAccess,
    store: Option<(Arc<dyn TokenStore>, StoreKey)>,
    clock: Option<Arc<dyn Clock>>,
    policy: Policy,
    lease_ttl: Duration,
    lease_wait: Duration,
    seed: Option<Token>,
}

impl fmt::Debug for CachedTokenProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokenProviderBuilder")
            .field("source", &self.source)
            .field("api", &self.api)
            .field("store", &self.store)
            .field("policy", &self.policy)
            .field("lease_ttl", &self.lease_ttl)
            .field("lease_wait", &self.lease_wait)
            .finish_non_exhaustive()
    }
}

impl CachedTokenProviderBuilder {
    /// How the vendor's API takes the token and says it was rejected, for
    /// [`send`](CachedTokenProvider::send) (default: [`ApiAccess::bearer`]). Vendor
    /// crates' one-call providers set it.
    #[must_use]
    pub fn api(mut self, api: ApiAccess) -> Self {
        self.api = api;
        self
    }

    /// Keeps the token in `store` under `key`, shared with other providers and processes.
    ///
    /// Unless [`spread_key`](Self::spread_key) was given, a hash of `key` becomes the
    /// spread key: providers of many subjects (and every process sharing the store)
    /// spread their refreshes over the token's lifetime.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>, key: StoreKey) -> Self {
        if self.policy.spread.is_none() {
            self.policy.spread = Some(crate::redact::fnv1a(key.to_string().as_bytes()));
        }
        self.store = Some((store, key));
        self
    }

    /// Starts from this token (for example the result of an authorization-code exchange):
    /// it is handed out while it has `min_valid` left, even while refreshes fail. With a
    /// store it only seeds an empty store (it is saved there on the first `token()`): a
    /// stored token wins.
    #[must_use]
    pub fn seed(mut self, token: Token) -> Self {
        self.seed = Some(token);
        self
    }

    /// Starts from a refresh token alone (the first `token()` refreshes with it). With a
    /// store it only seeds an empty store: a stored refresh token wins, because it may be
    /// a newer rotation than the configured one.
    #[must_use]
    pub fn seed_refresh_token(self, refresh_token: RefreshToken) -> Self {
        let placeholder = Token::new(AccessToken::new(String::new()), Some(DateTime::UNIX_EPOCH))
            .with_refresh_token(refresh_token);
        self.seed(placeholder)
    }

    /// Sets the clock: a [`ManualClock`](crate::ManualClock) in tests. The default is the
    /// system's coarse clocks (see [`SystemClock`](crate::SystemClock)).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Upper bound of the background-refresh window before expiry (default 5 minutes; the
    /// window is also never more than 10% of the token's lifetime). At most a day.
    #[must_use]
    pub fn refresh_before(mut self, window: Duration) -> Self {
        self.policy.refresh_before = window.min(MAX_SETTING);
        self
    }

    /// Do not hand out a token with less than this left; callers wait for the refresh
    /// instead (default 30 s; never more than half the refresh window).
    #[must_use]
    pub fn min_valid(mut self, min_valid: Duration) -> Self {
        self.policy.min_valid = min_valid.min(MAX_SETTING);
        self
    }

    /// The refresh window is widened by a share of itself up to this fraction, fixed per
    /// token (default 0.2; 0 disables jitter). Jitter only ever makes refreshes earlier.
    /// A provider with a spread key ([`spread_key`](Self::spread_key), set by
    /// [`store`](Self::store)) refreshes on its subject's grid instead.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        // NaN as 0: a NaN setting would also never compare equal, and every provider
        // would keep its own copy of the shared settings.
        self.policy.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// Spreads this provider's refreshes by a number fixed per subject (any hash of the
    /// seller or account id), so that many providers with tokens of the same lifetime
    /// do not refresh in the same second: each refreshes once per
    /// `lifetime - 1.5 × window` at its own phase of the wall clock, from half a window
    /// after the token was issued up to the window before expiry (never later than the
    /// window; `min_valid` is unchanged; the jitter is not applied, as it would pull a
    /// cycle's last grid points onto the same few seconds). Set from the store key by
    /// [`store`](Self::store) unless given here. Takes effect for tokens with an issue
    /// time (every token fetched by a provider has one).
    #[must_use]
    pub fn spread_key(mut self, key: u64) -> Self {
        self.policy.spread = Some(key);
        self
    }

    /// How long a failed refresh is remembered and handed to callers before another is
    /// tried (default 5 s).
    #[must_use]
    pub fn failure_backoff(mut self, backoff: Duration) -> Self {
        self.policy.failure_backoff = backoff.min(MAX_SETTING);
        self
    }

    /// The store lease's TTL (default [`DEFAULT_LEASE_TTL`], renewed every third of it
    /// while a refresh runs) and the longest a caller waits for another holder's refresh
    /// (default [`DEFAULT_LEASE_WAIT`]; meanwhile it adopts whatever the holder saves).
    #[must_use]
    pub fn lease(mut self, ttl: Duration, wait: Duration) -> Self {
        self.lease_ttl = ttl.clamp(Duration::from_millis(30), MAX_SETTING);
        self.lease_wait = wait.min(MAX_SETTING);
        self
    }

    /// Builds the provider. Synchronous: the store is read on the first `token()`.
    pub fn build(self) -> CachedTokenProvider {
        let clock = match self.clock {
            Some(clock) => ClockRef::Custom(clock),
            None => ClockRef::System,
        };
        let policy = Policy {
            resolution: clock.resolution(),
            ..self.policy
        };
        let state = State::new(self.seed, self.store.is_some(), &policy, clock.reading());
        let shared = Shared {
            source: self.source,
            config: Config {
                api: self.api,
                lease_ttl: self.lease_ttl,
                lease_wait: self.lease_wait,
                policy_settings: Policy {
                    spread: None,
                    ..policy
                },
            }
            .shared(),
            store: self.store,
            clock,
            spread: policy.spread,
            published: ArcSwapOption::const_empty(),
            next_background: AtomicU64::new(0),
            slow: Mutex::new(Slow {
                state,
                inflight: None,
            }),
            watching: AtomicU8::new(notify::NOT_YET),
            store_changed: tokio::sync::Notify::new(),
            adopting: AtomicBool::new(false),
            adopt_again: AtomicBool::new(false),
        };
        shared.sync_published(&shared.lock().state);
        CachedTokenProvider {
            shared: Arc::new(shared),
        }
    }
}

/// What a provider knows about its token, for health checks and alerts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProviderStatus {
    /// Expiry of the current token (`None`: none yet, or it never expires).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the next background refresh is due, by the wall clock.
    pub next_refresh_at: Option<DateTime<Utc>>,
    /// When a token was last fetched from the source (not merely adopted from the store).
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// The last refresh error, until a refresh succeeds.
    pub last_error: Option<AuthError>,
    /// The grant is dead (`invalid_grant`, or no refresh token where one is needed): the
    /// user must authorize the app again.
    pub reauthorization_required: bool,
    /// A token is held that the store has not accepted yet.
    pub unsaved: bool,
    /// A refresh is running.
    pub refreshing: bool,
    /// Since when (by the provider's clock) the store could not be reached, while it
    /// cannot: the provider serves its token meanwhile and refreshes without the store's
    /// lease only when the token would run out and its refresh token is reusable.
    pub store_unavailable_since: Option<DateTime<Utc>>,
    /// The current token is held back: a refresh the vendor answers by revoking it is
    /// under way here or in another process ([`TokenSource::revokes_previous_access_token`]),
    /// and callers wait for its successor.
    pub token_held_back: bool,
}

impl CachedTokenProvider {
    /// A provider with the default settings and no store.
    pub fn new(source: impl TokenSource) -> Self {
        Self::builder(source).build()
    }

    /// A builder.
    pub fn builder(source: impl TokenSource) -> CachedTokenProviderBuilder {
        Self::builder_arc(Arc::new(source))
    }

    /// A builder for a source already in an `Arc`.
    pub fn builder_arc(source: Arc<dyn TokenSource>) -> CachedTokenProviderBuilder {
        CachedTokenProviderBuilder {
            source,
            api: ApiAccess::bearer(),
            store: None,
            clock: None,
            policy: DEFAULT_POLICY,
            lease_ttl: DEFAULT_LEASE_TTL,
            lease_wait: DEFAULT_LEASE_WAIT,
            seed: None,
        }
    }

    /// A token with at least `min_valid` left, refreshing if needed.
    ///
    /// # Errors
    ///
    /// The refresh's error (shared by every caller waiting on it, and repeated for
    /// `failure_backoff`, or until [`force_refresh`](Self::force_refresh) for
    /// `invalid_grant`); [`AuthError::Store`] when another process's refresh lease was
    /// held for longer than the lease wait.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. A refresh runs in a spawned task: dropping this future does not cancel
    /// it, and its result is saved and published for the next caller.
    #[inline]
    pub async fn token(&self) -> Result<Arc<Token>, AuthError> {
        match self.cached() {
            Some(token) => Ok(token),
            // Boxed, and built out of line, so the hot path's future stays a few words and
            // its code small: the slow path's state machine is large.
            None => self.shared.token_slow_boxed().await,
        }
    }

    /// The cached token if it can be handed out without waiting (the hot path of
    /// [`token`](Self::token), synchronous). Starts a background refresh when one is due.
    ///
    /// Outside a Tokio runtime no background refresh can be spawned; the token is still
    /// handed out while it has `min_valid` left.
    #[inline]
    pub fn cached(&self) -> Option<Arc<Token>> {
        let shared = &self.shared;
        let guard = shared.published.load();
        let published = guard.as_ref()?;
        let now = shared.clock.reading();
        if Deadlines::before(now, published.deadlines.refresh_at) {
            return Some(Arc::clone(&published.token));
        }
        shared.cached_near_expiry(published, now)
    }

    /// Forgets the current token (after the API rejected it): the next `token()` gets a
    /// new one, and a stored copy of the same token is not adopted again.
    pub fn invalidate(&self) {
        let mut slow = self.shared.lock();
        slow.state.invalidate(None);
        self.shared.sync_published(&slow.state);
    }

    /// Like [`invalidate`](Self::invalidate), but only if `token` is still the current
    /// token (another caller may have replaced it already). Returns whether it was.
    pub fn invalidate_token(&self, token: &Token) -> bool {
        let mut slow = self.shared.lock();
        let was_current = slow.state.invalidate(Some(token.access_token()));
        self.shared.sync_published(&slow.state);
        was_current
    }

    /// Refreshes now, whatever the current token's state, clearing a remembered failure
    /// (`invalid_grant` included). Joins a refresh already running, then runs its own. A
    /// refresh token the vendor refused is still never presented again (that fails at
    /// once with `invalid_grant`); a new authorization in the store is adopted.
    ///
    /// # Errors
    ///
    /// The refresh's error.
    ///
    /// # Cancel safety
    ///
    /// As [`token`](Self::token).
    pub async fn force_refresh(&self) -> Result<Arc<Token>, AuthError> {
        self.shared.ensure_watching();
        let mut rounds = 0;
        loop {
            let (rx, ours) = {
                let mut slow = self.shared.lock();
                match Shared::live_inflight(&mut slow) {
                    Some(rx) => (rx, false),
                    None => {
                        slow.state.force();
                        (self.shared.start_refresh(&mut slow), true)
                    }
                }
            };
            let outcome = self.shared.wait(rx).await;
            if !ours {
                // That refresh started before this call and may have kept the current
                // token: force one of our own.
                continue;
            }
            if let Some(token) = outcome?
                && self.shared.usable_now(&token)
            {
                return Ok(token);
            }
            rounds += 1;
            if rounds >= MAX_ROUNDS {
                return Err(Shared::arrived_late());
            }
        }
    }

    /// Installs a token obtained outside the provider (a new authorization after
    /// `invalid_grant`): saves it (overwriting the store's record), clears remembered
    /// failures and publishes it. A refresh still running from the old authorization
    /// neither saves nor publishes its result.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] (or [`AuthError::StoreUnavailable`]) if it could not be saved;
    /// it is still held and used, and saved on a later call or by [`flush`](Self::flush).
    ///
    /// Of two calls running at once, the one that started last wins: the earlier one's
    /// token is not installed even if its save completes later (the later token then
    /// overwrites it in the store).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the save completes leaves the old authorization's
    /// refreshes unable to save (they were superseded) and the new token not installed:
    /// call it again.
    pub async fn replace_token(&self, token: Token) -> Result<Arc<Token>, AuthError> {
        self.shared.ensure_watching();
        let token = Arc::new(token);
        // First: a refresh of the old authorization, holding the lease now, must not save.
        let authorization = {
            let mut slow = self.shared.lock();
            slow.state.supersede();
            slow.state.authorization
        };
        let saved = match &self.shared.store {
            Some((store, key)) => Some(self.shared.save_under_lease(store, key, &token).await),
            None => None,
        };
        let mut slow = self.shared.lock();
        if slow.state.authorization != authorization {
            // A later replace_token started while this one saved: that one is the newest
            // authorization (held, and saved over this one if it is not yet).
            return match saved {
                Some(Err(error)) => Err(error),
                _ => Ok(token),
            };
        }
        let now = self.shared.clock.reading();
        let version = match &saved {
            Some(Ok(version)) => Some(*version),
            _ => None,
        };
        slow.state.replace(
            Arc::clone(&token),
            version,
            self.shared.store.is_some(),
            &self.shared.policy(),
            now,
        );
        self.shared.sync_published(&slow.state);
        match saved {
            Some(Err(error)) => Err(error),
            _ => Ok(token),
        }
    }

    /// Lets a running refresh finish, then saves anything the store has not accepted yet
    /// ([`flush`](Self::flush)): call it before the process exits, after the last
    /// `token()`.
    ///
    /// A refresh runs in a task spawned on the runtime; a runtime shut down under it
    /// drops the task, possibly after the vendor rotated a single-use refresh token and
    /// before the store saved the new one: the chain would be lost. A refresh started
    /// while this waits (a concurrent `token()`) is not waited for.
    ///
    /// # Errors
    ///
    /// As [`flush`](Self::flush). The refresh's own outcome is not reported: its error
    /// is what the next `token()` returns.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future leaves the refresh running.
    pub async fn settle(&self) -> Result<(), AuthError> {
        let running = Shared::live_inflight(&mut self.shared.lock());
        if let Some(rx) = running {
            let _ = self.shared.wait(rx).await;
        }
        self.flush().await
    }

    /// Saves a token the store has not accepted yet. Call it at shutdown (or
    /// [`settle`](Self::settle), which first lets a running refresh finish).
    ///
    /// An unsaved token derived from a record the store has since replaced (another
    /// process saved a newer rotation) is dropped instead: the store's is newer.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] if the save fails again.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the token unsaved (it is kept; call again).
    pub async fn flush(&self) -> Result<(), AuthError> {
        let Some((store, key)) = &self.shared.store else {
            return Ok(());
        };
        let unsaved = {
            let slow = self.shared.lock();
            slow.state
                .current
                .as_ref()
                .is_some_and(|c| c.unsaved.is_some())
        };
        if !unsaved {
            return Ok(());
        }
        let lease = store
            .lease(key, self.shared.lease_ttl, self.shared.lease_wait)
            .await?;
        let saved = self.shared.save_pending(store.as_ref(), key, &lease).await;
        refresh::release(store.as_ref(), key, lease).await;
        saved
    }

    /// How the vendor's API takes this provider's token (see
    /// [`CachedTokenProviderBuilder::api`]).
    pub fn api_access(&self) -> &ApiAccess {
        &self.shared.api
    }

    /// Whether a refresh is running or the current token is not saved yet: then a cache
    /// must not drop this provider (its replacement would start from an older, for
    /// single-use vendors spent, refresh token). Cheaper than [`status`](Self::status).
    pub(crate) fn is_busy(&self) -> bool {
        let slow = self.shared.lock();
        let state = &slow.state;
        state.refreshing.is_some() || state.current.as_ref().is_some_and(|c| c.unsaved.is_some())
    }

    /// What the provider knows about its token.
    pub fn status(&self) -> ProviderStatus {
        let slow = self.shared.lock();
        let state = &slow.state;
        let current = state.current.as_ref();
        let next_refresh_at = current
            .filter(|c| c.deadlines.refresh_at.wall != i64::MAX)
            .map(|c| DateTime::from_timestamp_nanos(c.deadlines.refresh_at.wall));
        ProviderStatus {
            expires_at: current.and_then(|c| c.token.expires_at()),
            next_refresh_at,
            last_refreshed_at: state.last_refreshed_at,
            last_error: state.failure.as_ref().map(|f| f.error.clone()),
            reauthorization_required: state.reauthorization_required(),
            unsaved: current.is_some_and(|c| c.unsaved.is_some()),
            refreshing: state.refreshing.is_some(),
            store_unavailable_since: state.store_unavailable_since,
            token_held_back: state.retiring.is_some(),
        }
    }
}

/// A handle on a [`CachedTokenProvider`] that does not keep it alive (`TokenCache` keeps
/// one for an evicted provider the application still holds).
pub(crate) struct WeakProvider(std::sync::Weak<Shared>);

impl WeakProvider {
    pub(crate) fn upgrade(&self) -> Option<CachedTokenProvider> {
        self.0
            .upgrade()
            .map(|shared| CachedTokenProvider { shared })
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.0.strong_count() == 0
    }
}

impl CachedTokenProvider {
    /// A handle that does not keep this provider alive.
    pub(crate) fn downgrade(&self) -> WeakProvider {
        WeakProvider(Arc::downgrade(&self.shared))
    }

    /// How many handles share this provider (clones, and a running refresh).
    pub(crate) fn handles(&self) -> usize {
        Arc::strong_count(&self.shared)
    }

    /// Whether `self` and `other` are clones of one provider.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl fmt::Debug for CachedTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status();
        f.debug_struct("CachedTokenProvider")
            .field("source", &self.shared.source)
            .field("api", &self.shared.api.vendor())
            .field("store", &self.shared.store)
            .field("expires_at", &status.expires_at)
            .field("refreshing", &status.refreshing)
            .field("last_error", &status.last_error)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The policy: the settings every provider built alike shares, with this subject's
    /// spread key.
    fn policy(&self) -> Policy {
        Policy {
            spread: self.spread,
            ..self.policy_settings
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slow> {
        self.slow.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the hot path hand out what the state says may be handed out without a lock.
    /// Call after every state change, under the lock.
    fn sync_published(&self, state: &State) {
        let Some(current) = state.publishable() else {
            self.published.store(None);
            return;
        };
        let same = self.published.load().as_ref().is_some_and(|p| {
            Arc::ptr_eq(&p.token, &current.token) && p.deadlines == current.deadlines
        });
        if !same {
            self.next_background.store(0, Ordering::Release);
            self.published.store(Some(Arc::new(Published {
                token: Arc::clone(&current.token),
                deadlines: current.deadlines,
            })));
        }
    }

    /// The rest of [`CachedTokenProvider::cached`]: the token is in its refresh window
    /// (start a background refresh, hand it out) or too close to expiry.
    #[cold]
    fn cached_near_expiry(
        self: &Arc<Self>,
        published: &Published,
        now: Reading,
    ) -> Option<Arc<Token>> {
        if !published.deadlines.usable(now) {
            return None;
        }
        self.maybe_background_refresh(now);
        Some(Arc::clone(&published.token))
    }

    /// Called from the hot path inside the refresh window: starts one background refresh,
    /// at most once per `failure_backoff`, without taking the lock on other calls.
    #[cold]
    fn maybe_background_refresh(self: &Arc<Self>, now: Reading) {
        let next = self.next_background.load(Ordering::Relaxed);
        if now.monotonic < next {
            return;
        }
        let backoff =
            u64::try_from(self.policy_settings.failure_backoff.as_nanos()).unwrap_or(u64::MAX);
        let claim = now.monotonic.saturating_add(backoff);
        if self
            .next_background
            .compare_exchange(next, claim, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        // Outside a Tokio runtime nothing can be spawned; the next async call refreshes.
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut slow = self.lock();
        if Self::live_inflight(&mut slow).is_some() {
            return;
        }
        if let Call::Serve { refresh: true, .. } =
            slow.state
                .on_call(&self.policy(), now, self.store.is_some())
        {
            // The receiver is dropped: nobody waits, the task runs to completion anyway.
            let _ = self.start_refresh(&mut slow);
        }
    }

    /// The running refresh, if its task is still alive.
    fn live_inflight(slow: &mut Slow) -> Option<watch::Receiver<Option<Refreshed>>> {
        if slow
            .inflight
            .as_ref()
            .is_some_and(|rx| rx.has_changed().is_err())
        {
            // Its task ended without reporting (dropped with its runtime).
            slow.inflight = None;
            slow.state.refreshing = None;
        }
        slow.inflight.clone()
    }

    #[cold]
    #[inline(never)]
    fn token_slow_boxed(self: &Arc<Self>) -> Pin<Box<dyn Future<Output = Outcome> + Send + '_>> {
        Box::pin(self.token_slow())
    }

    async fn token_slow(self: &Arc<Self>) -> Outcome {
        self.ensure_watching();
        for _ in 0..MAX_ROUNDS {
            let (rx, held_back) = {
                let mut slow = self.lock();
                let now = self.clock.reading();
                let call = slow
                    .state
                    .on_call(&self.policy(), now, self.store.is_some());
                // A held-back token whose deadline passed is handed out again.
                self.sync_published(&slow.state);
                let held_back = slow.state.retiring.is_some();
                let rx = match call {
                    Call::Serve { token, refresh } => {
                        if refresh && Self::live_inflight(&mut slow).is_none() {
                            let _ = self.start_refresh(&mut slow);
                        }
                        return Ok(token);
                    }
                    Call::Fail(error) => return Err(error),
                    Call::Wait => match Self::live_inflight(&mut slow) {
                        Some(rx) => rx,
                        None => self.start_refresh(&mut slow),
                    },
                };
                (rx, held_back)
            };
            match self.wait(rx).await {
                Ok(Some(token)) if self.usable_now(&token) => return Ok(token),
                Ok(_) => {}
                Err(error) if held_back => {
                    // A token held back while a refresh that would revoke it ran is
                    // handed out again when that refresh fails: the vendor revoked
                    // nothing.
                    let slow = self.lock();
                    return match slow.state.servable(self.clock.reading()) {
                        Some(current) => Ok(Arc::clone(&current.token)),
                        None => Err(error),
                    };
                }
                Err(error) => return Err(error),
            }
        }
        Err(Self::arrived_late())
    }

    /// Whether a refresh's result may be handed out now: it may arrive late (a paused
    /// process, a long lease wait) or be superseded by a new authorization, so it is
    /// checked on our clock before anyone gets it.
    fn usable_now(&self, token: &Token) -> bool {
        let now = self.clock.reading();
        let usable = self.policy().deadlines(token, now).usable(now);
        if !usable {
            tracing::warn!(
                "a refresh produced a token with less than min_valid left by the time it arrived; refreshing again"
            );
        }
        usable
    }

    fn arrived_late() -> AuthError {
        AuthError::RefreshAborted(
            "refreshed tokens kept arriving with less than min_valid left (is the process \
             being paused, or the clock stepping?)"
                .into(),
        )
    }

    /// Starts the refresh task for the state's next ticket.
    fn start_refresh(self: &Arc<Self>, slow: &mut Slow) -> watch::Receiver<Option<Refreshed>> {
        // Checked first: `tokio::spawn` would panic outside a runtime while the caller
        // holds the lock, and unwinding (`RefreshEnded`'s drop) would wait on that lock.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let (_, rx) = watch::channel(Some(Err(AuthError::InvalidConfig(
                "a token refresh runs on a Tokio runtime: call token() from within one".into(),
            ))));
            return rx;
        };
        let ticket = slow.state.begin();
        let (tx, rx) = watch::channel(None);
        slow.inflight = Some(rx.clone());
        let ended = RefreshEnded {
            shared: Arc::clone(self),
            ticket,
        };
        runtime.spawn(async move {
            let outcome = ended.shared.run_refresh(&ended.ticket).await;
            drop(ended);
            let _ = tx.send(Some(outcome));
        });
        rx
    }

    async fn wait(&self, mut rx: watch::Receiver<Option<Refreshed>>) -> Refreshed {
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| {
            Err(AuthError::RefreshAborted(
                "the token source panicked or the runtime shut down; the next call tries again"
                    .into(),
            ))
        })
    }
}

/// Marks the refresh ended when its task finishes, panics or is dropped with its runtime.
struct RefreshEnded {
    shared: Arc<Shared>,
    ticket: Ticket,
}

impl Drop for RefreshEnded {
    fn drop(&mut self) {
        let mut slow = self.shared.lock();
        slow.state.end(&self.ticket);
        slow.inflight = None;
        self.shared.sync_published(&slow.state);
    }
}

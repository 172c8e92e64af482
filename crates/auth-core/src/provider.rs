//! [`CachedTokenProvider`]: a cached, single-flight, auto-refreshing token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::clock;
use crate::store::{Lease, StoreKey, TokenStore};
use crate::{
    AccessToken, AuthError, Clock, OAuthErrorCode, RefreshToken, SystemClock, Token, TokenSource,
};

type Outcome = Result<Arc<Token>, AuthError>;

/// Default upper bound of the refresh window: refresh 5 minutes before expiry, or 10% of
/// the token's lifetime if that is smaller.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);
/// Default `min_valid`: a token closer than this to expiry is not handed out.
pub const DEFAULT_MIN_VALID: Duration = Duration::from_secs(30);
/// Default time a failed refresh is remembered (the negative cache).
pub const DEFAULT_FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// Every duration setting is capped at a day, so no arithmetic on it can overflow.
const MAX_SETTING: Duration = Duration::from_secs(24 * 3600);

/// A token kept up to date for many concurrent callers.
///
/// - **Hot path**: [`token`](Self::token) on a fresh token is one lock-free read
///   (`arc-swap`), one atomic load of a cached clock reading and an `Arc` clone: no lock,
///   no allocation, no clock call. The reading is the coarse monotonic clock, renewed
///   every 100 ms by one thread per process (`auth-core-clock`, started with the first
///   provider on the system clock) and taken one second ahead. The hot path uses it only
///   to prove a token outside its refresh window; every other decision reads the real
///   clock, and so does every call for a token whose refresh window leaves under 10 s
///   before `min_valid` (short-lived tokens). While the thread runs on time the reading
///   can only make a token look older. It can make one look younger if the thread stalls
///   for more than a second, for the first instants after a stopped process resumes, and
///   in a child forked without exec, which has no such thread: like a Tokio runtime or a
///   `reqwest::Client`, a provider must not be used across such a fork (build new ones in
///   the child; that starts the child's thread). [`send_with_token`](Self::send_with_token)'s
///   rejected-token retry covers a token that turns out expired, as after a machine
///   suspend. To read the clock on every call instead, pass `Arc::new(SystemClock)` to
///   [`clock`](CachedTokenProviderBuilder::clock).
/// - **Refresh window**: from `refresh_before` ahead of expiry (default: 5 minutes or 10%
///   of the lifetime, whichever is smaller, made earlier by up to 20% jitter so a fleet
///   does not refresh in step) a call starts one background refresh and still returns the
///   current token; closer than `min_valid` to expiry (default 30 s, at most half the
///   refresh window) callers wait for the refresh.
/// - **Single flight**: however many callers, one refresh runs at a time. A failure is
///   handed to every waiter and remembered for `failure_backoff` (default 5 s);
///   `invalid_grant` is remembered until [`force_refresh`](Self::force_refresh),
///   [`replace_token`](Self::replace_token) or a new authorization appearing in the store,
///   and the refresh token it was answered to is never sent again. A failed refresh never
///   replaces a token that is still valid.
/// - **Stores**: with a [`TokenStore`], the refresh takes the store's lease, reloads the
///   record (another process may have rotated the refresh token), refreshes with the
///   *stored* refresh token, saves, and only then publishes. A stored token wins over a
///   configured seed. If the save fails, the new token is kept here, not published to the
///   hot path, and saved on a later call or by [`flush`](Self::flush).
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

struct Shared {
    source: Arc<dyn TokenSource>,
    store: Option<(Arc<dyn TokenStore>, StoreKey)>,
    clock: ClockRef,
    config: Config,
    published: ArcSwapOption<Published>,
    /// Ticks (see [`ClockRef::ticks`]) before which the hot path does not try to start a
    /// refresh.
    next_background: AtomicU64,
    slow: Mutex<Slow>,
}

#[derive(Debug, Clone)]
struct Config {
    refresh_before: Duration,
    min_valid: Duration,
    jitter: f64,
    failure_backoff: Duration,
    lease_ttl: Duration,
    lease_wait: Duration,
}

/// The token the hot path hands out, with its deadlines in clock ticks.
// Cache lines of its own (128 bytes: a pair, as adjacent-line prefetch moves them
// together): the allocator could otherwise place it beside the token's reference count,
// which every caller's `Arc` clone writes, and each core's read would miss.
#[repr(align(128))]
struct Published {
    token: Arc<Token>,
    /// Before this, the token is outside its refresh window even by the cached clock
    /// reading (see [`ClockRef::hot_ticks`]); 0 when that reading is not to be trusted
    /// for this token.
    accept_before: u64,
    refresh_at: u64,
    usable_until: u64,
}

/// A token whose refresh window leaves less than this between the start of the refresh
/// and `min_valid` is always checked on the real clock: the cached reading is trusted to
/// within a second, and a longer stall of the clock thread must not hand out a
/// short-lived token too close to its expiry.
const HOT_PATH_MIN_GAP: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Slow {
    inflight: Option<watch::Receiver<Option<Outcome>>>,
    /// The newest token known, even if expired or not published (its refresh token is what
    /// the next refresh uses when there is no store).
    current: Option<Arc<Token>>,
    seed: Option<Token>,
    unsaved: bool,
    save_retry_at: Duration,
    last_error: Option<AuthError>,
    failed_until: Option<Duration>,
    invalid_grant: bool,
    rejected: Option<AccessToken>,
    force: bool,
    last_refreshed_at: Option<DateTime<Utc>>,
    /// The store version the unsaved token was derived from (`None`: save it regardless,
    /// as for a new authorization). If the store moved on, the unsaved token is stale.
    unsaved_base: Option<u64>,
    /// A refresh token the vendor answered `invalid_grant` to: never presented again.
    dead_refresh_token: Option<RefreshToken>,
    /// When a sticky `invalid_grant` may next be checked against the store (another
    /// process may have saved a new authorization).
    recheck_at: Duration,
}

/// The clock, with the system clock inlined on the hot path.
enum ClockRef {
    /// The system clock; on the hot path, this cached reading of it.
    System(&'static clock::RecentTicks),
    Custom(Arc<dyn Clock>),
}

impl ClockRef {
    #[inline]
    fn monotonic(&self) -> Duration {
        match self {
            Self::System(_) => SystemClock.monotonic(),
            Self::Custom(clock) => clock.monotonic(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System(_) => SystemClock.now(),
            Self::Custom(clock) => clock.now(),
        }
    }

    /// The monotonic clock in the unit the hot path compares: raw `coarsetime` ticks for
    /// the system clock (no conversion on the hot path), nanoseconds for a custom clock.
    #[inline]
    fn ticks(&self) -> u64 {
        match self {
            Self::System(_) => clock::coarse_now().as_ticks(),
            Self::Custom(clock) => clock.monotonic().as_nanos() as u64,
        }
    }

    /// Like [`ticks`](Self::ticks) but possibly ahead of it (behind only if the clock
    /// thread stalled, see [`clock::RecentTicks`]): for the system clock, the cached
    /// reading.
    #[inline]
    fn hot_ticks(&self) -> u64 {
        match self {
            Self::System(recent) => recent.upper_bound(),
            Self::Custom(clock) => clock.monotonic().as_nanos() as u64,
        }
    }

    fn to_ticks(&self, duration: Duration) -> u64 {
        match self {
            Self::System(_) => coarsetime::Duration::from(duration).as_ticks(),
            Self::Custom(_) => u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
        }
    }

    fn ticks_to_duration(&self, ticks: u64) -> Duration {
        match self {
            Self::System(_) => coarsetime::Duration::from_ticks(ticks).into(),
            Self::Custom(_) => Duration::from_nanos(ticks),
        }
    }
}

/// Builds a [`CachedTokenProvider`].
pub struct CachedTokenProviderBuilder {
    source: Arc<dyn TokenSource>,
    store: Option<(Arc<dyn TokenStore>, StoreKey)>,
    clock: Option<Arc<dyn Clock>>,
    config: Config,
    seed: Option<Token>,
}

impl fmt::Debug for CachedTokenProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTokenProviderBuilder")
            .field("source", &self.source)
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CachedTokenProviderBuilder {
    /// Keeps the token in `store` under `key`, shared with other providers and processes.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>, key: StoreKey) -> Self {
        self.store = Some((store, key));
        self
    }

    /// Starts from this token (for example the result of an authorization-code exchange).
    /// With a store it only seeds an empty store (it is saved there on the first
    /// `token()`): a stored token wins.
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

    /// Sets the clock: a [`ManualClock`](crate::ManualClock) in tests, or
    /// `Arc::new(SystemClock)` to read the system clock on every call rather than the
    /// cached reading the default uses on the hot path.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Upper bound of the background-refresh window before expiry (default 5 minutes; the
    /// window is also never more than 10% of the token's lifetime). At most a day.
    #[must_use]
    pub fn refresh_before(mut self, window: Duration) -> Self {
        self.config.refresh_before = window.min(MAX_SETTING);
        self
    }

    /// Do not hand out a token with less than this left; callers wait for the refresh
    /// instead (default 30 s; never more than half the refresh window).
    #[must_use]
    pub fn min_valid(mut self, min_valid: Duration) -> Self {
        self.config.min_valid = min_valid.min(MAX_SETTING);
        self
    }

    /// The refresh window is widened by a random share of itself up to this fraction
    /// (default 0.2; 0 disables jitter). Jitter only ever makes refreshes earlier.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.config.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// How long a failed refresh is remembered and handed to callers before another is
    /// tried (default 5 s).
    #[must_use]
    pub fn failure_backoff(mut self, backoff: Duration) -> Self {
        self.config.failure_backoff = backoff.min(MAX_SETTING);
        self
    }

    /// The store lease's TTL (default 90 s: longer than the token call's 60 s retry
    /// budget) and the longest wait for another holder.
    #[must_use]
    pub fn lease(mut self, ttl: Duration, wait: Duration) -> Self {
        self.config.lease_ttl = ttl.min(MAX_SETTING);
        self.config.lease_wait = wait.min(MAX_SETTING);
        self
    }

    /// Builds the provider. Synchronous: the store is read on the first `token()`.
    pub fn build(self) -> CachedTokenProvider {
        let clock = match &self.clock {
            Some(clock) => ClockRef::Custom(Arc::clone(clock)),
            None => ClockRef::System(clock::recent_clock()),
        };
        self.build_on(clock)
    }

    fn build_on(self, clock: ClockRef) -> CachedTokenProvider {
        CachedTokenProvider {
            shared: Arc::new(Shared {
                source: self.source,
                store: self.store,
                clock,
                config: self.config,
                published: ArcSwapOption::const_empty(),
                next_background: AtomicU64::new(0),
                slow: Mutex::new(Slow {
                    seed: self.seed,
                    ..Slow::default()
                }),
            }),
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
            store: None,
            clock: None,
            config: Config {
                refresh_before: DEFAULT_REFRESH_BEFORE,
                min_valid: DEFAULT_MIN_VALID,
                jitter: 0.2,
                failure_backoff: DEFAULT_FAILURE_BACKOFF,
                lease_ttl: Duration::from_secs(90),
                lease_wait: Duration::from_secs(90),
            },
            seed: None,
        }
    }

    /// A token with at least `min_valid` left, refreshing if needed.
    ///
    /// # Errors
    ///
    /// The refresh's error (shared by every caller waiting on it, and repeated for
    /// `failure_backoff`, or until [`force_refresh`](Self::force_refresh) for
    /// `invalid_grant`).
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
        // A reading kept ahead of the true time (see `clock::RecentTicks`): when it proves
        // the token outside its refresh window, the token is handed out without a clock
        // call.
        if shared.clock.hot_ticks() < published.accept_before {
            return Some(Arc::clone(&published.token));
        }
        shared.cached_near_expiry(published)
    }

    /// Forgets the current token (after the API rejected it): the next `token()` gets a
    /// new one, and a stored copy of the same token is not adopted again.
    pub fn invalidate(&self) {
        let mut slow = self.shared.lock();
        if let Some(current) = slow.current.as_ref() {
            slow.rejected = Some(current.access_token().clone());
        }
        self.shared.published.store(None);
    }

    /// Like [`invalidate`](Self::invalidate), but only if `token` is still the current
    /// token (another caller may have replaced it already). Returns whether it was.
    pub fn invalidate_token(&self, token: &Token) -> bool {
        let mut slow = self.shared.lock();
        let is_current = slow
            .current
            .as_ref()
            .is_some_and(|current| current.access_token().ct_eq(token.access_token()));
        if is_current {
            slow.rejected = Some(token.access_token().clone());
            self.shared.published.store(None);
        }
        is_current
    }

    /// Refreshes now, whatever the current token's state, clearing a remembered failure
    /// (`invalid_grant` included). Joins a refresh already running.
    ///
    /// # Errors
    ///
    /// The refresh's error.
    ///
    /// # Cancel safety
    ///
    /// As [`token`](Self::token).
    pub async fn force_refresh(&self) -> Result<Arc<Token>, AuthError> {
        loop {
            let (rx, ours) = {
                let mut slow = self.shared.lock();
                match Shared::live_inflight(&mut slow) {
                    Some(rx) => (rx, false),
                    None => {
                        slow.invalid_grant = false;
                        slow.dead_refresh_token = None;
                        slow.failed_until = None;
                        slow.force = true;
                        (self.shared.start_refresh(&mut slow), true)
                    }
                }
            };
            let outcome = self.shared.wait(rx).await;
            if ours {
                return outcome;
            }
            // That refresh started before this call and may have kept the current token:
            // force one of our own.
        }
    }

    /// Installs a token obtained outside the provider (a new authorization after
    /// `invalid_grant`): saves it (overwriting the store's record), clears remembered
    /// failures and publishes it.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] if it could not be saved; it is still held and used, and saved
    /// on a later call or by [`flush`](Self::flush).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the save completes leaves the provider unchanged.
    pub async fn replace_token(&self, token: Token) -> Result<Arc<Token>, AuthError> {
        let token = Arc::new(token);
        let saved = match &self.shared.store {
            Some((store, key)) => self.shared.save_under_lease(store, key, &token).await,
            None => Ok(()),
        };
        let mut slow = self.shared.lock();
        slow.invalid_grant = false;
        slow.dead_refresh_token = None;
        slow.failed_until = None;
        slow.last_error = None;
        slow.rejected = None;
        slow.seed = None;
        match saved {
            Ok(()) => {
                self.shared.publish(&mut slow, Arc::clone(&token));
                Ok(token)
            }
            Err(e) => {
                // A new authorization wins over whatever the store holds.
                self.shared.hold_unsaved(&mut slow, token, None);
                Err(e)
            }
        }
    }

    /// Saves a token the store has not accepted yet. Call it at shutdown.
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
        if !self.shared.lock().unsaved {
            return Ok(());
        }
        let lease = store
            .lease(
                key,
                self.shared.config.lease_ttl,
                self.shared.config.lease_wait,
            )
            .await?;
        let saved = self.shared.save_pending(store, key, &lease).await;
        self.shared.release(store, key, lease).await;
        saved.map(|_| ())
    }

    /// What the provider knows about its token.
    pub fn status(&self) -> ProviderStatus {
        let shared = &*self.shared;
        let slow = shared.lock();
        let next_refresh_at = shared.published.load().as_ref().and_then(|p| {
            let now = shared.clock.ticks();
            let ahead = shared
                .clock
                .ticks_to_duration(p.refresh_at.saturating_sub(now));
            chrono::Duration::from_std(ahead)
                .ok()
                .and_then(|ahead| shared.clock.now().checked_add_signed(ahead))
        });
        let no_refresh_token = shared.source.needs_refresh_token()
            && slow
                .current
                .as_ref()
                .and_then(|c| c.refresh_token())
                .is_none()
            && slow.seed.as_ref().and_then(|s| s.refresh_token()).is_none();
        ProviderStatus {
            expires_at: slow.current.as_ref().and_then(|c| c.expires_at()),
            next_refresh_at,
            last_refreshed_at: slow.last_refreshed_at,
            last_error: slow.last_error.clone(),
            reauthorization_required: slow.invalid_grant
                || (no_refresh_token && slow.last_error.is_some()),
            unsaved: slow.unsaved,
            refreshing: slow.inflight.is_some(),
        }
    }
}

impl fmt::Debug for CachedTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status();
        f.debug_struct("CachedTokenProvider")
            .field("source", &self.shared.source)
            .field("store", &self.shared.store)
            .field("expires_at", &status.expires_at)
            .field("refreshing", &status.refreshing)
            .field("last_error", &status.last_error)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slow> {
        self.slow.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rest of [`CachedTokenProvider::cached`], on the real clock: the token may be in
    /// its refresh window (start a background refresh) or too close to expiry.
    #[cold]
    fn cached_near_expiry(self: &Arc<Self>, published: &Published) -> Option<Arc<Token>> {
        let now = self.clock.ticks();
        if now < published.refresh_at {
            return Some(Arc::clone(&published.token));
        }
        if now < published.usable_until {
            self.maybe_background_refresh(now);
            return Some(Arc::clone(&published.token));
        }
        None
    }

    /// Called from the hot path inside the refresh window: starts one background refresh,
    /// at most once per `failure_backoff`, without taking the lock on other calls.
    #[cold]
    fn maybe_background_refresh(self: &Arc<Self>, now: u64) {
        let next = self.next_background.load(Ordering::Relaxed);
        if now < next {
            return;
        }
        let claim = now.saturating_add(self.clock.to_ticks(self.config.failure_backoff));
        if self
            .next_background
            .compare_exchange(next, claim, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let mut slow = self.lock();
        let mono = self.clock.monotonic();
        let blocked = slow.invalid_grant || slow.failed_until.is_some_and(|until| mono < until);
        // Outside a Tokio runtime nothing can be spawned; the next async call refreshes.
        let in_runtime = tokio::runtime::Handle::try_current().is_ok();
        if Self::live_inflight(&mut slow).is_none() && !blocked && in_runtime {
            // The receiver is dropped: nobody waits, the task runs to completion anyway.
            let _ = self.start_refresh(&mut slow);
        }
    }

    /// The running refresh, if its task is still alive (a task dropped with its runtime
    /// never reports; forget it so the next call starts another).
    fn live_inflight(slow: &mut Slow) -> Option<watch::Receiver<Option<Outcome>>> {
        if slow
            .inflight
            .as_ref()
            .is_some_and(|rx| rx.has_changed().is_err())
        {
            slow.inflight = None;
        }
        slow.inflight.clone()
    }

    #[cold]
    #[inline(never)]
    fn token_slow_boxed(self: &Arc<Self>) -> Pin<Box<dyn Future<Output = Outcome> + Send + '_>> {
        Box::pin(self.token_slow())
    }

    async fn token_slow(self: &Arc<Self>) -> Outcome {
        let rx = {
            let mut slow = self.lock();
            let now = self.clock.monotonic();
            if let Some(published) = self.published.load().as_ref()
                && self.clock.ticks() < published.usable_until
            {
                return Ok(Arc::clone(&published.token));
            }
            let inflight = Self::live_inflight(&mut slow);
            // A token held unsaved (the store failed) is still good to hand out.
            if slow.unsaved
                && let Some(current) = slow.current.clone()
                && self.usable(&slow, &current)
            {
                if inflight.is_none() && now >= slow.save_retry_at {
                    slow.save_retry_at = now.saturating_add(self.config.failure_backoff);
                    let _ = self.start_refresh(&mut slow);
                }
                return Ok(current);
            }
            if slow.invalid_grant
                && let Some(error) = slow.last_error.clone()
            {
                // With a store, look again now and then: another process (or the CLI) may
                // have saved a new authorization. The refresh never re-presents the dead
                // refresh token, so this sends nothing unless the store changed.
                let recheck = self.store.is_some() && now >= slow.recheck_at;
                if !recheck {
                    return Err(error);
                }
                slow.recheck_at = now.saturating_add(self.config.failure_backoff);
            } else if slow.failed_until.is_some_and(|until| now < until)
                && let Some(error) = &slow.last_error
            {
                return Err(error.clone());
            }
            match inflight {
                Some(rx) => rx,
                None => self.start_refresh(&mut slow),
            }
        };
        self.wait(rx).await
    }

    /// Whether `token` may be handed out now (enough validity left, not rejected).
    fn usable(&self, slow: &Slow, token: &Token) -> bool {
        let rejected = slow
            .rejected
            .as_ref()
            .is_some_and(|r| r.ct_eq(token.access_token()));
        !rejected && token.is_fresh(self.clock.now(), self.min_valid(token))
    }

    /// Whether `token` is outside its (jittered) refresh window: no refresh needed yet.
    /// The hot path's `refresh_at` and this agree, so a background refresh never keeps
    /// the token it was started to replace.
    fn not_due(&self, slow: &Slow, token: &Token) -> bool {
        self.usable(slow, token) && token.is_fresh(self.clock.now(), self.window(token))
    }

    /// `refresh_before`, capped at 10% of the token's lifetime when its issue time is known.
    /// (Without one the configured window alone: a guess from the time left would shrink
    /// on every look and the token would never come due.)
    fn base_window(&self, token: &Token) -> Duration {
        let lifetime = match (token.expires_at(), token.issued_at()) {
            (Some(exp), Some(issued)) => (exp - issued).to_std().ok(),
            _ => None,
        };
        match lifetime {
            Some(lifetime) => self.config.refresh_before.min(lifetime / 10),
            None => self.config.refresh_before,
        }
    }

    /// The base window widened by this token's jitter: a fraction fixed per token (a hash
    /// of it), so every look at the same token agrees and a fleet of tokens spreads out.
    fn window(&self, token: &Token) -> Duration {
        let fraction = self.config.jitter * token_jitter(token);
        self.base_window(token).mul_f64(1.0 + fraction)
    }

    fn min_valid(&self, token: &Token) -> Duration {
        self.config.min_valid.min(self.base_window(token) / 2)
    }

    fn start_refresh(self: &Arc<Self>, slow: &mut Slow) -> watch::Receiver<Option<Outcome>> {
        let (tx, rx) = watch::channel(None);
        slow.inflight = Some(rx.clone());
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            let outcome = shared.run_refresh().await;
            shared.finish(&outcome);
            let _ = tx.send(Some(outcome));
        });
        rx
    }

    async fn wait(&self, mut rx: watch::Receiver<Option<Outcome>>) -> Outcome {
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| {
            // The task ended without a result (it panicked, or its runtime shut down): let
            // the next call try again.
            let mut slow = self.lock();
            if slow.inflight.as_ref().is_some_and(|r| r.same_channel(&rx)) {
                slow.inflight = None;
            }
            Err(AuthError::InvalidConfig(
                "the token refresh task ended without a result (the token source panicked or \
                 the runtime shut down)"
                    .into(),
            ))
        })
    }

    fn finish(&self, outcome: &Outcome) {
        let mut slow = self.lock();
        slow.inflight = None;
        match outcome {
            Ok(_) => {
                slow.last_error = None;
                slow.failed_until = None;
                slow.invalid_grant = false;
            }
            Err(error) => {
                tracing::warn!(error = %error, key = ?self.store.as_ref().map(|(_, k)| k), "token refresh failed");
                slow.last_error = Some(error.clone());
                if error.is_invalid_grant() {
                    slow.invalid_grant = true;
                    slow.recheck_at = self
                        .clock
                        .monotonic()
                        .saturating_add(self.config.failure_backoff);
                } else {
                    let until = self
                        .clock
                        .monotonic()
                        .saturating_add(self.config.failure_backoff);
                    slow.failed_until = Some(until);
                    let until_ticks = self
                        .clock
                        .ticks()
                        .saturating_add(self.clock.to_ticks(self.config.failure_backoff));
                    self.next_background
                        .fetch_max(until_ticks, Ordering::AcqRel);
                }
            }
        }
    }

    async fn run_refresh(self: &Arc<Self>) -> Outcome {
        let force = std::mem::take(&mut self.lock().force);
        let Some((store, key)) = &self.store else {
            let candidate = {
                let slow = self.lock();
                slow.current
                    .clone()
                    .or_else(|| slow.seed.clone().map(Arc::new))
            };
            let (token, fetched) = self.refresh_from(candidate, force).await?;
            if fetched {
                tracing::info!(expires_at = ?token.expires_at(), "token refreshed");
            }
            let mut slow = self.lock();
            self.publish(&mut slow, Arc::clone(&token));
            return Ok(token);
        };

        let lease = store
            .lease(key, self.config.lease_ttl, self.config.lease_wait)
            .await?;
        let outcome = self.refresh_under_lease(store, key, &lease, force).await;
        self.release(store, key, lease).await;
        let (token, saved, base) = outcome?;
        let mut slow = self.lock();
        if saved {
            self.publish(&mut slow, Arc::clone(&token));
        } else {
            self.hold_unsaved(&mut slow, Arc::clone(&token), base);
        }
        Ok(token)
    }

    /// The refresh proper, under the store's lease: returns the token, whether it is saved,
    /// and (if not) the store version it derives from.
    async fn refresh_under_lease(
        &self,
        store: &Arc<dyn TokenStore>,
        key: &StoreKey,
        lease: &Lease,
        force: bool,
    ) -> Result<(Arc<Token>, bool, Option<u64>), AuthError> {
        // An unsaved rotation held here goes first, if the store has not moved on.
        self.save_pending(store, key, lease).await?;
        let record = store.load(key).await?;
        let version = record.as_ref().map_or(0, |r| r.version);
        let stored = record.map(|record| Arc::new(record.token));
        // Snapshot after taking the lease: another task of this provider may have
        // published meanwhile.
        let (current, seed) = {
            let slow = self.lock();
            (slow.current.clone(), slow.seed.clone())
        };
        // The store wins over memory and over the seed: another process may have
        // rotated the refresh token since we last looked.
        let from_store = stored.is_some();
        let candidate = stored.or(current).or_else(|| seed.map(Arc::new));
        let (token, fetched) = self.refresh_from(candidate, force).await?;
        if !fetched && from_store {
            return Ok((token, true, None));
        }
        // Fetched, or adopted from memory or the seed: the store must have it.
        match store.save(lease, &token).await {
            Ok(record) => {
                tracing::info!(%key, version = record.version, expires_at = ?token.expires_at(), fetched, "token saved");
                Ok((token, true, None))
            }
            Err(error) => {
                tracing::warn!(%key, error = %error, "token not saved; holding it and retrying the save later");
                Ok((token, false, Some(version)))
            }
        }
    }

    /// Saves the unsaved token under `lease`, unless the store has moved on since the
    /// token's base version (then the store's record is newer and the token is dropped).
    /// Returns whether a save happened.
    async fn save_pending(
        &self,
        store: &Arc<dyn TokenStore>,
        key: &StoreKey,
        lease: &Lease,
    ) -> Result<bool, AuthError> {
        let (pending, base) = {
            let slow = self.lock();
            match (slow.unsaved, &slow.current) {
                (true, Some(token)) => (Arc::clone(token), slow.unsaved_base),
                _ => return Ok(false),
            }
        };
        if let Some(base) = base {
            let version = store.load(key).await?.map_or(0, |r| r.version);
            if version != base {
                tracing::warn!(%key, base, version, "the store holds a newer token than the unsaved one; dropping the unsaved token");
                let mut slow = self.lock();
                if slow
                    .current
                    .as_ref()
                    .is_some_and(|c| Arc::ptr_eq(c, &pending))
                {
                    slow.unsaved = false;
                    slow.current = None;
                    self.published.store(None);
                }
                return Ok(false);
            }
        }
        store.save(lease, &pending).await?;
        let mut slow = self.lock();
        if slow
            .current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &pending))
        {
            self.publish(&mut slow, pending);
        }
        Ok(true)
    }

    /// Adopts `candidate` when it needs no refresh, else fetches from the source.
    /// Returns the token and whether it was fetched.
    async fn refresh_from(
        &self,
        candidate: Option<Arc<Token>>,
        force: bool,
    ) -> Result<(Arc<Token>, bool), AuthError> {
        let dead = {
            let slow = self.lock();
            if let Some(candidate) = &candidate
                && !force
                && self.not_due(&slow, candidate)
            {
                return Ok((Arc::clone(candidate), false));
            }
            let presented = candidate.as_ref().and_then(|c| c.refresh_token());
            match (&slow.dead_refresh_token, presented, &slow.last_error) {
                (Some(dead), Some(presented), Some(error)) if !force && dead.ct_eq(presented) => {
                    Some(error.clone())
                }
                _ => None,
            }
        };
        if let Some(error) = dead {
            // Known dead (invalid_grant): presenting it again cannot succeed.
            return Err(error);
        }
        if self.source.needs_refresh_token()
            && candidate.as_ref().and_then(|c| c.refresh_token()).is_none()
        {
            return Err(AuthError::OAuth {
                code: OAuthErrorCode::InvalidGrant,
                description: Some("no refresh token is known for this grant".into()),
                status: None,
                request_id: None,
                hint: Some(
                    "authorize the app, then seed the provider with the refresh token \
                     (seed_refresh_token or replace_token)"
                        .into(),
                ),
            });
        }
        let started = self.clock.now();
        match self.source.fetch_token(candidate.as_deref()).await {
            Ok(token) => {
                // The issue time anchors the 10%-of-lifetime refresh window.
                let token = match token.issued_at() {
                    Some(_) => token,
                    None => token.with_issued_at(started),
                };
                self.lock().last_refreshed_at = Some(self.clock.now());
                Ok((Arc::new(token), true))
            }
            Err(error) => {
                if error.is_invalid_grant()
                    && let Some(presented) = candidate.as_ref().and_then(|c| c.refresh_token())
                {
                    self.lock().dead_refresh_token = Some(presented.clone());
                }
                Err(error)
            }
        }
    }

    fn publish(&self, slow: &mut Slow, token: Arc<Token>) {
        let now = self.clock.ticks();
        let (refresh_at, usable_until) = match token.remaining(self.clock.now()) {
            None => (u64::MAX, u64::MAX),
            Some(left) => (
                now.saturating_add(
                    self.clock
                        .to_ticks(left.saturating_sub(self.window(&token))),
                ),
                now.saturating_add(
                    self.clock
                        .to_ticks(left.saturating_sub(self.min_valid(&token))),
                ),
            ),
        };
        slow.current = Some(Arc::clone(&token));
        slow.unsaved = false;
        slow.unsaved_base = None;
        slow.seed = None;
        self.next_background.store(0, Ordering::Release);
        let trusted_gap = self.clock.to_ticks(HOT_PATH_MIN_GAP);
        let accept_before =
            if usable_until.saturating_sub(refresh_at) >= trusted_gap || refresh_at == u64::MAX {
                refresh_at
            } else {
                0
            };
        self.published.store(Some(Arc::new(Published {
            token,
            accept_before,
            refresh_at,
            usable_until,
        })));
    }

    fn hold_unsaved(&self, slow: &mut Slow, token: Arc<Token>, base: Option<u64>) {
        slow.current = Some(token);
        slow.unsaved = true;
        slow.unsaved_base = base;
        slow.seed = None;
        slow.save_retry_at = self
            .clock
            .monotonic()
            .saturating_add(self.config.failure_backoff);
        // Keep callers on the slow path, where the save is retried.
        self.published.store(None);
    }

    async fn save_under_lease(
        &self,
        store: &Arc<dyn TokenStore>,
        key: &StoreKey,
        token: &Token,
    ) -> Result<(), AuthError> {
        let lease = store
            .lease(key, self.config.lease_ttl, self.config.lease_wait)
            .await?;
        let saved = store.save(&lease, token).await;
        self.release(store, key, lease).await;
        saved.map(|_| ())
    }

    async fn release(&self, store: &Arc<dyn TokenStore>, key: &StoreKey, lease: Lease) {
        if let Err(error) = store.release(lease).await {
            tracing::warn!(%key, error = %error, "could not release the refresh lease; it will expire");
        }
    }
}

/// A fraction in `[0, 1)` fixed for a token (FNV-1a of the access token): the token's
/// refresh jitter. Not a secret-revealing value: 64 bits of a hash, used only as a number.
fn token_jitter(token: &Token) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in token.access_token().expose_secret().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    //! The hot path's cached clock reading, injected: the system clock everywhere else.

    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::FnSource;
    use crate::clock::RecentTicks;

    /// A provider on the system clock whose hot path reads `recent`, and its fetch count.
    /// Every fetch returns an hour-long token; `replace_token` installs others.
    fn provider_on(recent: &'static RecentTicks) -> (CachedTokenProvider, Arc<AtomicUsize>) {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&fetches);
        let source = FnSource::new(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let now = Utc::now();
                let token = Token::new(AccessToken::new(format!("at-{n}")), Some(now + HOUR))
                    .with_issued_at(now);
                Ok(token)
            }
        });
        let provider = CachedTokenProvider::builder(source)
            .jitter(0.0)
            .build_on(ClockRef::System(recent));
        (provider, fetches)
    }

    const HOUR: chrono::Duration = chrono::Duration::hours(1);

    /// A token with `left` of a `lifetime` remaining.
    fn token_with(name: &str, lifetime: chrono::Duration, left: chrono::Duration) -> Token {
        let now = Utc::now();
        Token::new(AccessToken::new(name), Some(now + left)).with_issued_at(now + left - lifetime)
    }

    fn reading() -> &'static RecentTicks {
        Box::leak(Box::new(RecentTicks::new()))
    }

    /// Lets spawned refreshes run (current-thread runtime).
    async fn settle() {
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
    }

    fn name(token: &Token) -> &str {
        token.access_token().expose_secret()
    }

    #[tokio::test]
    async fn the_hot_path_trusts_the_cached_reading_to_prove_freshness() {
        let recent = reading();
        let (provider, fetches) = provider_on(recent);
        // 4 minutes left of an hour: inside the 5-minute refresh window.
        let due = token_with("due", HOUR, chrono::Duration::minutes(4));
        provider.replace_token(due).await.unwrap();

        // A reading 10 minutes old (as if the clock thread had stalled that long) says the
        // window is still ahead: the hot path hands the token out without a clock call and
        // starts nothing. This is the reading in use, and why it is kept fresh.
        let stale = clock::coarse_now()
            .as_ticks()
            .saturating_sub(coarsetime::Duration::from_secs(600).as_ticks())
            .max(1);
        recent.set(stale);
        assert_eq!(name(&provider.token().await.unwrap()), "due");
        settle().await;
        assert_eq!(fetches.load(Ordering::SeqCst), 0);

        // No reading cached: the real clock, which finds the token due.
        recent.set(0);
        assert_eq!(name(&provider.token().await.unwrap()), "due");
        settle().await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(name(&provider.cached().unwrap()), "at-1");
    }

    #[tokio::test]
    async fn a_reading_ahead_of_the_clock_only_sends_callers_to_the_real_clock() {
        let recent = reading();
        let (provider, fetches) = provider_on(recent);
        assert_eq!(name(&provider.token().await.unwrap()), "at-1");

        // Far ahead: nothing is proven fresh by it, yet the real clock finds the token
        // fresh, so it is handed out and no refresh starts.
        recent.set(u64::MAX / 2);
        for _ in 0..10 {
            assert_eq!(name(&provider.token().await.unwrap()), "at-1");
        }
        settle().await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn short_lived_tokens_are_always_checked_on_the_real_clock() {
        let recent = reading();
        let (provider, fetches) = provider_on(recent);
        // A 60 s token: 6 s window, 3 s min_valid, a 3 s gap: less than HOT_PATH_MIN_GAP.
        // 5 s left: due.
        let short = token_with(
            "short",
            chrono::Duration::seconds(60),
            chrono::Duration::seconds(5),
        );
        provider.replace_token(short).await.unwrap();

        // Even a stale reading that would prove it fresh is not trusted for it.
        recent.set(1);
        let _ = provider.token().await.unwrap();
        settle().await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(name(&provider.cached().unwrap()), "at-1");
    }

    #[tokio::test]
    async fn tokens_that_never_expire_stay_on_the_hot_path() {
        let recent = reading();
        let (provider, _) = provider_on(recent);
        provider
            .replace_token(Token::new(AccessToken::new("api-key"), None))
            .await
            .unwrap();
        let published = provider.shared.published.load_full().unwrap();
        assert_eq!(published.accept_before, u64::MAX);
    }
}

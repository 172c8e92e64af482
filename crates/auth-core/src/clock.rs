//! Time, injected: the system clock in production, a manual clock in tests.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A source of time.
///
/// Two readings: the wall clock (token expiry is wall-clock time, because vendors state it
/// so) and a cheap monotonic reading for the cached-token hot path, where a coarse clock
/// (a few milliseconds of resolution) is enough and a syscall would cost more than the
/// rest of the lookup.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;

    /// Time since an arbitrary fixed origin, never going backwards. May be coarse.
    fn monotonic(&self) -> Duration;
}

/// The operating system's clocks: `Utc::now()` and a coarse monotonic clock
/// (`CLOCK_MONOTONIC_COARSE` on Linux, via `coarsetime`).
///
/// A monotonic clock does not advance while the machine is suspended; after a resume a
/// cached token may look fresher than it is until the vendor rejects it, which the
/// rejected-token retry handles.
///
/// A [`CachedTokenProvider`](crate::CachedTokenProvider) built without a clock uses these
/// clocks, with a cached monotonic reading on its hot path; one given
/// `Arc::new(SystemClock)` reads the clock on every call.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    #[inline]
    fn monotonic(&self) -> Duration {
        coarse_now().duration_since(origin()).into()
    }
}

fn origin() -> coarsetime::Instant {
    static ORIGIN: std::sync::OnceLock<coarsetime::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(coarse_now)
}

/// The coarse monotonic clock. (`coarsetime::Instant::now()` would also store the reading
/// in a process-wide static: a write to one shared cache line on every call, which costs
/// every core that reads the clock.)
#[inline]
pub(crate) fn coarse_now() -> coarsetime::Instant {
    coarsetime::Instant::now_without_cache_update()
}

/// How often the process-wide [`RecentTicks`] reading is renewed.
pub(crate) const RECENT_PERIOD: Duration = Duration::from_millis(100);

/// Added to the cached reading so that it stays ahead of the true time while the updater
/// thread runs no later than this (ten periods).
const RECENT_SLACK_TICKS: u64 = coarsetime::Duration::from_secs(1).as_ticks();

/// A cached reading of the coarse monotonic clock, in `coarsetime` ticks, renewed every
/// [`RECENT_PERIOD`] by one background thread per process.
///
/// Loading an atomic costs under a nanosecond; a clock reading through the vDSO costs
/// 7–9 ns, as much as the rest of the cached-token hot path. [`upper_bound`] adds a
/// slack of one second, so it is never behind the true time unless the updater stalled
/// that long; the hot path uses it only to prove a token fresh (a deadline minutes away)
/// and reads the real clock for every other decision. The reading cannot follow the true
/// time in a child forked without exec (the thread is not copied; providers must not be
/// used across such a fork), when the updater stalls for more than the slack (tokens
/// whose refresh window leaves little time are therefore always checked on the real
/// clock), or for the first instants after a stopped process resumes.
///
/// [`upper_bound`]: Self::upper_bound
// Its own cache line pair: the updater's writes must not evict unrelated hot data.
#[repr(align(128))]
pub(crate) struct RecentTicks {
    /// 0 until the first update: then [`upper_bound`](Self::upper_bound) reads the clock.
    ticks: AtomicU64,
}

impl RecentTicks {
    pub(crate) const fn new() -> Self {
        Self {
            ticks: AtomicU64::new(0),
        }
    }

    /// A reading of the coarse clock that is not behind the true time: the cached reading
    /// plus the slack, or a real reading when none is cached.
    #[inline]
    pub(crate) fn upper_bound(&self) -> u64 {
        match self.ticks.load(Ordering::Relaxed) {
            0 => coarse_now().as_ticks(),
            ticks => ticks.saturating_add(RECENT_SLACK_TICKS),
        }
    }

    /// Stores a fresh reading.
    pub(crate) fn update(&self) {
        self.set(coarse_now().as_ticks().max(1));
    }

    /// Stores `ticks` as the reading (0: none; readers read the clock).
    pub(crate) fn set(&self, ticks: u64) {
        self.ticks.store(ticks, Ordering::Relaxed);
    }
}

/// The process-wide cached clock reading.
pub(crate) static RECENT: RecentTicks = RecentTicks::new();

/// Starts the thread that renews [`RECENT`], once per process (again in a child forked
/// without exec, which has the parent's reading but not its thread), and returns
/// [`RECENT`]. If the thread cannot be spawned, the reading is emptied and its readers
/// read the clock.
pub(crate) fn recent_clock() -> &'static RecentTicks {
    // No lock: a fork while another thread held one would deadlock the child here.
    static STARTED_IN: AtomicU32 = AtomicU32::new(0);
    start_updater(&STARTED_IN, &RECENT, std::process::id());
    &RECENT
}

/// Starts a thread renewing `recent` unless `started_in` says process `pid` started one.
/// Returns whether it started one.
fn start_updater(started_in: &AtomicU32, recent: &'static RecentTicks, pid: u32) -> bool {
    if started_in.swap(pid, Ordering::AcqRel) == pid {
        return false;
    }
    let spawned = std::thread::Builder::new()
        .name("auth-core-clock".into())
        .stack_size(64 * 1024)
        .spawn(|| {
            loop {
                recent.update();
                std::thread::sleep(RECENT_PERIOD);
            }
        });
    match spawned {
        // Valid before this returns, whenever the thread first runs.
        Ok(_) => recent.update(),
        Err(error) => {
            recent.ticks.store(0, Ordering::Relaxed);
            tracing::warn!(
                %error,
                "could not start the clock thread; the token hot path reads the clock instead"
            );
        }
    }
    true
}

/// A clock that moves only when told to, for tests.
///
/// [`advance`](Self::advance) moves both readings; [`set_wall`](Self::set_wall) moves only
/// the wall clock (to simulate a clock step or skew).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use auth_core::{Clock, ManualClock};
///
/// let clock = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now().to_rfc3339(), "2026-01-01T00:01:30+00:00");
/// ```
pub struct ManualClock {
    wall: Mutex<DateTime<Utc>>,
    monotonic_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            wall: Mutex::new(start),
            monotonic_nanos: AtomicU64::new(0),
        }
    }

    /// Moves both the wall clock and the monotonic clock forward.
    pub fn advance(&self, by: Duration) {
        let mut wall = self.wall.lock().unwrap_or_else(|e| e.into_inner());
        *wall += chrono::Duration::from_std(by).expect("duration in range");
        self.monotonic_nanos
            .fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }

    /// Sets the wall clock only.
    pub fn set_wall(&self, to: DateTime<Utc>) {
        *self.wall.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("wall", &self.now())
            .field("monotonic", &self.monotonic())
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.wall.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.monotonic_nanos.load(Ordering::SeqCst))
    }
}

impl<C: Clock> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn monotonic(&self) -> Duration {
        (**self).monotonic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_monotonic_never_goes_back() {
        let a = SystemClock.monotonic();
        let b = SystemClock.monotonic();
        assert!(b >= a);
    }

    #[test]
    fn recent_ticks_is_an_upper_bound_of_the_clock() {
        let recent = RecentTicks::new();
        // Nothing cached: a real reading.
        let before = coarse_now().as_ticks();
        let read = recent.upper_bound();
        assert!(read >= before && read <= coarse_now().as_ticks());

        recent.update();
        let read = recent.upper_bound();
        let now = coarse_now().as_ticks();
        assert!(
            read >= now,
            "the cached reading plus slack is ahead of the clock"
        );
        assert!(read <= now + RECENT_SLACK_TICKS);
        assert_eq!(
            RECENT_SLACK_TICKS,
            coarsetime::Duration::from(Duration::from_secs(1)).as_ticks()
        );

        // A stale reading stays stale: only the updater moves it.
        recent.set(5);
        assert_eq!(recent.upper_bound(), 5 + RECENT_SLACK_TICKS);
    }

    #[test]
    fn the_updater_thread_keeps_the_reading_fresh() {
        let recent: &'static RecentTicks = Box::leak(Box::new(RecentTicks::new()));
        let started_in = AtomicU32::new(0);
        assert!(start_updater(&started_in, recent, 1));
        let first = recent.ticks.load(Ordering::Relaxed);
        assert_ne!(
            first, 0,
            "a reading is cached as soon as the updater starts"
        );
        // A real thread on a real clock: wait (bounded) for its next renewal.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while recent.ticks.load(Ordering::Relaxed) == first {
            assert!(
                std::time::Instant::now() < deadline,
                "the updater never renewed"
            );
            std::thread::sleep(RECENT_PERIOD / 4);
        }
        assert!(recent.upper_bound() >= coarse_now().as_ticks());

        // Once per process; a forked child (another pid) starts its own.
        assert!(!start_updater(&started_in, recent, 1));
        assert!(start_updater(&started_in, recent, 2));
        assert!(!start_updater(&started_in, recent, 2));

        // The process-wide one.
        assert_ne!(recent_clock().ticks.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(DateTime::from_timestamp(1_000, 0).unwrap());
        assert_eq!(clock.monotonic(), Duration::ZERO);
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now().timestamp(), 1_005);
        assert_eq!(clock.monotonic(), Duration::from_secs(5));
        clock.set_wall(DateTime::from_timestamp(0, 0).unwrap());
        assert_eq!(clock.now().timestamp(), 0);
        assert_eq!(clock.monotonic(), Duration::from_secs(5));
    }
}

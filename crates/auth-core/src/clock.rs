//! Time, injected: the system clock in production, a manual clock in tests.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// The operating system's clocks: the wall clock (`Utc::now()`) and the monotonic clock.
///
/// A [`CachedTokenProvider`](crate::CachedTokenProvider) on the system clock (the default)
/// reads two cheap coarse clocks on every hot-path call (about 4 ns each through the
/// vDSO on Linux, `CLOCK_MONOTONIC_COARSE` and `CLOCK_REALTIME_COARSE`): the monotonic one, which no clock step moves,
/// and the wall one, which keeps counting while the machine is suspended. A token is
/// handed out only while **both** say it is outside its refresh window, so neither a
/// suspend nor a backward clock step can make a token look younger than it is. (A forward
/// step only starts a refresh early.) `CLOCK_BOOTTIME`, the monotonic clock that counts
/// suspended time, has no coarse variant and cost 21 ns here, more than the rest of the
/// hot path.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    #[inline]
    fn monotonic(&self) -> Duration {
        Duration::from_nanos(coarse_now().monotonic)
    }
}

/// A reading of the coarse clocks, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Coarse monotonic time since an arbitrary origin (never goes back).
    pub(crate) monotonic: u64,
    /// Coarse wall-clock time since the Unix epoch (counts suspended time; may step).
    pub(crate) wall: i64,
}

/// How far behind the true time a coarse reading may be: the kernel updates coarse clocks
/// once per tick (4 ms at `HZ=250`, 10 ms at `HZ=100`). Deadlines computed from a precise
/// clock are moved this much earlier so a lagging reading never hands out a token late.
pub(crate) const COARSE_RESOLUTION: Duration = Duration::from_millis(20);

/// Both coarse clocks, on Linux `CLOCK_MONOTONIC_COARSE` and `CLOCK_REALTIME_COARSE`
/// (vDSO, no syscall); elsewhere the precise clocks.
#[inline]
pub(crate) fn coarse_now() -> Reading {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::time::{ClockId, clock_gettime};
        let mono = clock_gettime(ClockId::MonotonicCoarse);
        let wall = clock_gettime(ClockId::RealtimeCoarse);
        Reading {
            monotonic: (mono.tv_sec as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(mono.tv_nsec as u64),
            wall: (wall.tv_sec as i64)
                .saturating_mul(1_000_000_000)
                .saturating_add(wall.tv_nsec as i64),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        Reading {
            monotonic: u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX),
            wall: Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX),
        }
    }
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
    fn coarse_readings_follow_the_precise_clocks() {
        let before_wall = Utc::now().timestamp_nanos_opt().unwrap();
        let reading = coarse_now();
        let after_wall = Utc::now().timestamp_nanos_opt().unwrap();
        let resolution = COARSE_RESOLUTION.as_nanos() as i64;
        assert!(
            reading.wall >= before_wall - resolution,
            "coarse wall lags at most a tick"
        );
        assert!(reading.wall <= after_wall);
        let next = coarse_now();
        assert!(next.monotonic >= reading.monotonic);
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

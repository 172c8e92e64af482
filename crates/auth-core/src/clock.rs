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

/// The operating system's clocks: `Utc::now()` and a coarse monotonic clock
/// (`CLOCK_MONOTONIC_COARSE` on Linux, via `coarsetime`).
///
/// A monotonic clock does not advance while the machine is suspended; after a resume a
/// cached token may look fresher than it is until the vendor rejects it, which the
/// rejected-token retry handles.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    #[inline]
    fn monotonic(&self) -> Duration {
        coarsetime::Instant::now().duration_since(origin()).into()
    }
}

fn origin() -> coarsetime::Instant {
    static ORIGIN: std::sync::OnceLock<coarsetime::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(coarsetime::Instant::now)
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

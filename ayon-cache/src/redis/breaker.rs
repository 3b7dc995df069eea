//! The circuit breaker that stops a resolve from paying the Redis timeout again and again
//! while Redis is down.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::BreakerState;

/// What [`Breaker::failure`] or [`Breaker::success`] changed, for the diagnostics log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Nothing worth reporting.
    None,
    /// The breaker just opened: Redis is skipped until the cooldown ends.
    Opened,
    /// A probe succeeded: Redis is used again.
    Closed,
}

#[derive(Debug)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// Closed: every call goes to Redis. After `threshold` consecutive failures it opens for
/// `cooldown`: calls skip Redis (a miss, no wait). Then one call probes (half-open); success
/// closes it, failure opens it for another cooldown.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State {
                consecutive_failures: 0,
                open_until: None,
                probing: false,
            }),
        }
    }

    /// Whether this call may go to Redis. While open, `false` until the cooldown ends; then
    /// `true` for exactly one probe at a time.
    pub(crate) fn allow(&self) -> bool {
        let mut s = self.state.lock();
        match s.open_until {
            None => true,
            Some(until) if Instant::now() < until => false,
            Some(_) if s.probing => false,
            Some(_) => {
                s.probing = true;
                true
            }
        }
    }

    pub(crate) fn success(&self) -> Transition {
        let mut s = self.state.lock();
        s.consecutive_failures = 0;
        s.probing = false;
        if s.open_until.take().is_some() {
            Transition::Closed
        } else {
            Transition::None
        }
    }

    pub(crate) fn failure(&self) -> Transition {
        let mut s = self.state.lock();
        s.consecutive_failures = s.consecutive_failures.saturating_add(1);
        let was_probe = std::mem::take(&mut s.probing);
        if was_probe || (s.open_until.is_none() && s.consecutive_failures >= self.threshold) {
            let newly = s.open_until.is_none();
            s.open_until = Some(Instant::now() + self.cooldown);
            if newly {
                return Transition::Opened;
            }
        }
        Transition::None
    }

    pub(crate) fn state(&self) -> BreakerState {
        let s = self.state.lock();
        match s.open_until {
            None => BreakerState::Closed,
            Some(until) if Instant::now() < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_closes_after_a_good_probe() {
        let b = Breaker::new(3, Duration::from_millis(30));
        assert_eq!(b.failure(), Transition::None);
        assert_eq!(b.failure(), Transition::None);
        assert!(b.allow());
        assert_eq!(b.failure(), Transition::Opened);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allow());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.allow(), "one probe after the cooldown");
        assert!(!b.allow(), "only one probe at a time");
        assert_eq!(
            b.failure(),
            Transition::None,
            "a failed probe reopens quietly"
        );
        assert!(!b.allow());
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow());
        assert_eq!(b.success(), Transition::Closed);
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.allow());
    }
}

//! The hidden technician gesture: five taps on the top-left corner within three seconds. The UI
//! only reports corner taps; the counting lives here with the clock injected, so it is tested
//! without waiting.

/// Taps needed.
pub const TAPS: usize = 5;
/// Window in which they must fall.
pub const WINDOW_MS: u64 = 3_000;

/// Counts corner taps.
#[derive(Debug, Default, Clone)]
pub struct CornerTaps {
    /// Times (ms, monotonic) of the recent taps, oldest first; never more than `TAPS`.
    taps: Vec<u64>,
}

impl CornerTaps {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a tap at `now_ms`; true when it completes the gesture (the count then restarts).
    pub fn tap(&mut self, now_ms: u64) -> bool {
        // A clock that went back (should not happen with a monotonic clock) restarts the count.
        if self.taps.last().is_some_and(|&t| now_ms < t) {
            self.taps.clear();
        }
        self.taps.retain(|&t| now_ms.saturating_sub(t) < WINDOW_MS);
        self.taps.push(now_ms);
        if self.taps.len() >= TAPS {
            self.taps.clear();
            return true;
        }
        false
    }

    /// Forgets the taps so far.
    pub fn reset(&mut self) {
        self.taps.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taps(times: &[u64]) -> Vec<bool> {
        let mut g = CornerTaps::new();
        times.iter().map(|&t| g.tap(t)).collect()
    }

    #[test]
    fn five_quick_taps_fire_once() {
        assert_eq!(
            taps(&[0, 400, 800, 1200, 1600]),
            [false, false, false, false, true]
        );
    }

    #[test]
    fn four_taps_do_not_fire() {
        assert!(!taps(&[0, 100, 200, 300]).contains(&true));
    }

    #[test]
    fn slow_taps_do_not_fire() {
        // Each tap 800 ms apart: the fifth is 3.2 s after the first.
        assert!(!taps(&[0, 800, 1600, 2400, 3200]).contains(&true));
    }

    #[test]
    fn old_taps_slide_out_of_the_window() {
        // The first tap is too old by the sixth; taps two to six are within 3 s.
        assert_eq!(
            taps(&[0, 2000, 2500, 3000, 3500, 4000]),
            [false, false, false, false, false, true]
        );
    }

    #[test]
    fn count_restarts_after_firing() {
        let mut g = CornerTaps::new();
        for t in 0..5 {
            g.tap(t * 10);
        }
        let again: Vec<bool> = (5..9).map(|t| g.tap(t * 10)).collect();
        assert_eq!(again, [false; 4]);
        assert!(g.tap(90));
    }

    #[test]
    fn clock_going_back_restarts() {
        let mut g = CornerTaps::new();
        for t in [5000, 5100, 5200, 5300] {
            g.tap(t);
        }
        assert!(!g.tap(100));
        assert!(!g.tap(200));
    }

    #[test]
    fn reset_forgets() {
        let mut g = CornerTaps::new();
        for t in 0..4 {
            g.tap(t);
        }
        g.reset();
        assert!(!g.tap(5));
    }
}

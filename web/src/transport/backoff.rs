//! Reconnect delays: exponential, capped, with jitter so that the tabs of a room do not all
//! reconnect in the same millisecond after the signal server restarts.

/// The first retry comes quickly: most drops are a server restart or a network blip.
const BASE_MS: f64 = 250.0;
/// A tab that lost the server is back within this long after the server is: below the runtime's
/// `BOOTSTRAP_ALONE_MS`, so a tab opened right after a restart finds the running cluster instead
/// of an empty room. A signaling attempt is one cheap WebSocket handshake, and the jitter spreads
/// the tabs of a room over the whole interval.
const CAP_MS: f64 = 1_500.0;

/// Delays for successive attempts: `BASE * 2^n` capped at `CAP`, drawn uniformly from the upper
/// half of that range ("equal jitter": never less than half the nominal delay).
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    attempts: u32,
}

impl Backoff {
    /// The delay before the next attempt, given a uniform random number in `[0, 1)`.
    pub fn next_delay_ms(&mut self, random: f64) -> u32 {
        let nominal = (BASE_MS * 2f64.powi(self.attempts.min(16) as i32)).min(CAP_MS);
        self.attempts = self.attempts.saturating_add(1);
        let jittered = nominal / 2.0 + nominal / 2.0 * random.clamp(0.0, 1.0);
        jittered as u32
    }

    /// Called once a session is established: the next drop retries quickly again.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u32> = (0..8).map(|_| backoff.next_delay_ms(1.0)).collect();
        assert_eq!(delays, [250, 500, 1000, 1500, 1500, 1500, 1500, 1500]);
        backoff.reset();
        assert_eq!(backoff.next_delay_ms(0.0), 125);
    }
}

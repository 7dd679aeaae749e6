//! The node's only source of randomness: a SplitMix64 generator seeded by the runtime.
//!
//! Why our own: the core is `no_std` (no `rand` thread RNG, no OS entropy), and it must be
//! deterministic so that a simulator seed replays a run exactly. SplitMix64 is a few lines,
//! passes BigCrush, and is more than enough to spread election timeouts.
use crate::NodeId;

pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// Mixes the node id into the seed, so that a runtime handing every node the same seed still
    /// gets different election timeouts on each.
    pub(crate) fn new(seed: u64, id: NodeId) -> Self {
        Rng { state: seed ^ id.wrapping_mul(0xA076_1D64_78BD_642F) }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `[low, high)`; `low` when the range is empty.
    pub(crate) fn in_range(&mut self, low: u64, high: u64) -> u64 {
        match high.checked_sub(low) {
            Some(span) if span > 0 => low + self.next_u64() % span,
            _ => low,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_sequence_and_ids_diverge() {
        let (mut a, mut b, mut c) = (Rng::new(7, 1), Rng::new(7, 1), Rng::new(7, 2));
        let xs: [u64; 4] = core::array::from_fn(|_| a.next_u64());
        let ys: [u64; 4] = core::array::from_fn(|_| b.next_u64());
        let zs: [u64; 4] = core::array::from_fn(|_| c.next_u64());
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn in_range_stays_in_range() {
        let mut rng = Rng::new(1, 1);
        for _ in 0..1000 {
            let x = rng.in_range(150, 300);
            assert!((150..300).contains(&x));
        }
        assert_eq!(rng.in_range(5, 5), 5);
    }
}

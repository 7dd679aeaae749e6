//! The simulated network between nodes: per-message latency, link faults (drop, duplicate,
//! reorder, delay spikes) and partitions.
//!
//! The network only decides each message's fate; the cluster keeps the messages in its event
//! queue. A partition is checked when a message is sent and again when it would arrive, so a
//! partition that starts while a message is in flight cuts it, as a broken path would.
use crate::rng::Rng;
use flotilla_core::{Millis, NodeId};
use std::fmt;

/// Latency of a healthy link: `min` plus an exponential tail of mean `mean_extra`, capped so
/// that no message is delayed beyond `max` without a delay-spike fault.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub min: Millis,
    pub mean_extra: f64,
    pub max: Millis,
}

impl Latency {
    /// One-way delays of a browser-to-browser data channel on a LAN or nearby region.
    pub const DEFAULT: Latency = Latency { min: 1, mean_extra: 4.0, max: 40 };

    fn sample(&self, rng: &mut Rng) -> Millis {
        // Inverse-CDF of the exponential distribution; `1 - unit` is in (0, 1].
        let extra = -self.mean_extra * (1.0 - rng.unit()).ln();
        (self.min + extra as Millis).min(self.max)
    }
}

/// Link faults in force on every link; all zero when the network is healthy.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinkFaults {
    /// Probability that a message is lost.
    pub drop: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    /// Extra uniform jitter in `0..=reorder_jitter` ms, so that later messages overtake.
    pub reorder_jitter: Millis,
    /// Delay spike: with probability `spike`, a message takes `spike_min..=spike_max` ms more.
    pub spike: f64,
    pub spike_min: Millis,
    pub spike_max: Millis,
}

impl LinkFaults {
    pub const NONE: LinkFaults = LinkFaults {
        drop: 0.0,
        duplicate: 0.0,
        reorder_jitter: 0,
        spike: 0.0,
        spike_min: 0,
        spike_max: 0,
    };
}

impl fmt::Display for LinkFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drop={:.2} duplicate={:.2} jitter={}ms spike={:.2}@{}..{}ms",
            self.drop,
            self.duplicate,
            self.reorder_jitter,
            self.spike,
            self.spike_min,
            self.spike_max
        )
    }
}

/// Who can talk to whom. Links are symmetric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partition {
    /// One node cut off from all others.
    Isolate(NodeId),
    /// Two sides that cannot reach each other (a majority and a minority).
    Split { majority: Vec<NodeId>, minority: Vec<NodeId> },
    /// Two sides joined only through one bridge node, which sees both (Jepsen's bridge).
    Bridge { left: Vec<NodeId>, bridge: NodeId, right: Vec<NodeId> },
    /// Nodes on a ring, each reaching only those within `reach` hops: every node sees a
    /// different group of peers, so no two nodes agree on who is reachable.
    Ring { order: Vec<NodeId>, reach: usize },
}

impl Partition {
    /// Whether `a` and `b` can exchange messages under this partition.
    pub fn connects(&self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return true;
        }
        match self {
            Partition::Isolate(node) => a != *node && b != *node,
            Partition::Split { majority, .. } => majority.contains(&a) == majority.contains(&b),
            Partition::Bridge { left, bridge, .. } => {
                a == *bridge || b == *bridge || left.contains(&a) == left.contains(&b)
            }
            Partition::Ring { order, reach } => {
                let position = |node| order.iter().position(|&n| n == node);
                match (position(a), position(b)) {
                    (Some(i), Some(j)) => {
                        let distance = i.abs_diff(j);
                        distance.min(order.len() - distance) <= *reach
                    }
                    // A node outside the ring (one added later) reaches everyone.
                    _ => true,
                }
            }
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list =
            |nodes: &[NodeId]| nodes.iter().map(|n| format!("n{n}")).collect::<Vec<_>>().join(",");
        match self {
            Partition::Isolate(node) => write!(f, "isolate n{node}"),
            Partition::Split { majority, minority } => {
                write!(f, "split [{}] | [{}]", list(majority), list(minority))
            }
            Partition::Bridge { left, bridge, right } => {
                write!(f, "bridge [{}] <n{bridge}> [{}]", list(left), list(right))
            }
            Partition::Ring { order, reach } => write!(f, "ring ({}) reach {reach}", list(order)),
        }
    }
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Lost by the link-fault drop probability.
    Dropped,
    /// The partition separated sender and receiver.
    Partitioned,
}

/// What happens to one sent message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Lost(Loss),
    /// Arrives at this time.
    Delivered(Millis),
    /// Arrives twice, at these times.
    Duplicated(Millis, Millis),
}

/// The network's current condition and its own random stream.
pub struct Network {
    latency: Latency,
    faults: LinkFaults,
    partition: Option<Partition>,
    rng: Rng,
}

impl Network {
    pub fn new(latency: Latency, rng: Rng) -> Self {
        Network { latency, faults: LinkFaults::NONE, partition: None, rng }
    }

    pub fn set_faults(&mut self, faults: LinkFaults) {
        self.faults = faults;
    }

    pub fn set_partition(&mut self, partition: Option<Partition>) {
        self.partition = partition;
    }

    pub fn connects(&self, a: NodeId, b: NodeId) -> bool {
        self.partition.as_ref().is_none_or(|p| p.connects(a, b))
    }

    /// Decides the fate of a message sent now from `from` to `to`.
    pub fn route(&mut self, now: Millis, from: NodeId, to: NodeId) -> Fate {
        if !self.connects(from, to) {
            return Fate::Lost(Loss::Partitioned);
        }
        if self.faults.drop > 0.0 && self.rng.chance(self.faults.drop) {
            return Fate::Lost(Loss::Dropped);
        }
        let first = now + self.delay();
        if self.faults.duplicate > 0.0 && self.rng.chance(self.faults.duplicate) {
            Fate::Duplicated(first, now + self.delay())
        } else {
            Fate::Delivered(first)
        }
    }

    fn delay(&mut self) -> Millis {
        let mut delay = self.latency.sample(&mut self.rng);
        if self.faults.reorder_jitter > 0 {
            delay += self.rng.below(self.faults.reorder_jitter + 1);
        }
        if self.faults.spike > 0.0 && self.rng.chance(self.faults.spike) {
            delay += self.rng.between(self.faults.spike_min, self.faults.spike_max);
        }
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_network_delivers_within_latency_bounds() {
        let mut network = Network::new(Latency::DEFAULT, Rng::new(3));
        for _ in 0..1000 {
            match network.route(100, 1, 2) {
                Fate::Delivered(at) => assert!((101..=140).contains(&at)),
                fate => panic!("unexpected {fate:?}"),
            }
        }
    }

    #[test]
    fn partitions_cut_the_right_links() {
        let isolate = Partition::Isolate(2);
        assert!(!isolate.connects(1, 2) && !isolate.connects(2, 3) && isolate.connects(1, 3));

        let split = Partition::Split { majority: vec![1, 2, 3], minority: vec![4, 5] };
        assert!(split.connects(1, 3) && split.connects(4, 5) && !split.connects(3, 4));

        let bridge = Partition::Bridge { left: vec![1, 2], bridge: 3, right: vec![4, 5] };
        assert!(bridge.connects(1, 3) && bridge.connects(3, 5) && !bridge.connects(2, 4));

        let ring = Partition::Ring { order: vec![1, 2, 3, 4, 5], reach: 1 };
        assert!(ring.connects(1, 2) && ring.connects(5, 1) && !ring.connects(1, 3));
        assert!(!ring.connects(2, 4) && ring.connects(4, 5));
    }

    #[test]
    fn partitioned_messages_are_lost() {
        let mut network = Network::new(Latency::DEFAULT, Rng::new(3));
        network.set_partition(Some(Partition::Isolate(1)));
        assert_eq!(network.route(0, 1, 2), Fate::Lost(Loss::Partitioned));
        assert!(matches!(network.route(0, 2, 3), Fate::Delivered(_)));
    }

    #[test]
    fn link_faults_drop_and_duplicate() {
        let mut network = Network::new(Latency::DEFAULT, Rng::new(9));
        network.set_faults(LinkFaults { drop: 0.5, duplicate: 0.5, ..LinkFaults::NONE });
        let fates: Vec<Fate> = (0..200).map(|_| network.route(0, 1, 2)).collect();
        assert!(fates.iter().any(|f| matches!(f, Fate::Lost(Loss::Dropped))));
        assert!(fates.iter().any(|f| matches!(f, Fate::Duplicated(..))));
        assert!(fates.iter().any(|f| matches!(f, Fate::Delivered(_))));
    }
}

//! The nemesis: a random fault schedule derived from the run's seed.
//!
//! A schedule is a time-ordered list of [`Fault`]s, fixed before the run starts, so a trace can
//! show it and a seed always replays the same faults. Faults come from independent tracks that
//! overlap freely: the partition track, the link-quality track, one track per node for crashes,
//! pauses and slow disks, and a track aimed at whoever leads when the fault fires (Jepsen's
//! targeted nemesis: random faults mostly hit followers). Every fault is undone by `heal_at`,
//! when [`Fault::HealAll`] brings the whole cluster back for the liveness check; most schedules
//! hit the leader shortly before, so the check sees a real re-election.
//!
//! Leadership transfers and step-downs are a track of their own, and so are membership changes: nodes join, leave (gracefully or by closing
//! their tab) and are removed by the leader. Which node they hit is drawn when they fire, since
//! the cluster's members are only known then. The grow-shrink schedule replaces that track with
//! a plan: one bootstrapped node, six joins, then six departures back down to one node.
//!
//! New kinds of disturbance are new `Fault` variants and new tracks here; the cluster applies
//! them in one `match`.
use crate::network::{LinkFaults, Partition};
use crate::rng::Rng;
use flotilla_core::{Millis, NodeId};
use std::fmt;

/// The node a process fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Node(NodeId),
    /// Whoever leads when the fault starts (nobody, if no leader is known then). The tag pairs
    /// the start of the fault with its end, which hits the same node.
    Leader(u32),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Node(node) => write!(f, "n{node}"),
            Target::Leader(tag) => write!(f, "leader#{tag}"),
        }
    }
}

/// One scheduled disturbance.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Installs a partition (replacing any previous one).
    Partition(Partition),
    /// Cuts whoever leads off from all others (replacing any previous partition).
    IsolateLeader,
    /// Removes the partition.
    HealPartition,
    /// Sets the link faults in force on every link (`LinkFaults::NONE` clears them).
    LinkFaults(LinkFaults),
    /// Kills a node: its memory and any output not yet processed are lost; its durable image
    /// stays.
    Crash(Target),
    /// Starts a crashed node again from its durable image.
    Restart(Target),
    /// Freezes a node (a suspended tab): it handles nothing; messages to it wait.
    Pause(Target),
    Resume(Target),
    /// Each durable write of the node takes this many extra ms (0 restores a fast disk).
    SlowDisk(NodeId, Millis),
    /// A new node starts with an empty log and asks a member to let it in.
    Join,
    /// A running node, drawn when the departure can happen, leaves for good. An abrupt leave
    /// closes its tab at once (if the others keep a working quorum without it; otherwise it
    /// leaves gracefully); a graceful one announces the departure and closes once its removal
    /// has committed.
    Leave {
        abrupt: bool,
    },
    /// The leader removes a member drawn when this fires (itself included); a removed node
    /// that still runs asks to join again.
    Remove,
    /// The leader hands leadership to a node drawn when this fires: any node, voter or not,
    /// up to date or behind, reachable or not.
    Transfer,
    /// The leader steps down in favour of its most up-to-date voter.
    StepDown,
    /// Ends every fault: heals the network, resumes, restarts and speeds up every node.
    HealAll,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Partition(partition) => write!(f, "partition {partition}"),
            Fault::IsolateLeader => write!(f, "isolate the leader"),
            Fault::HealPartition => write!(f, "heal partition"),
            Fault::LinkFaults(faults) if *faults == LinkFaults::NONE => {
                write!(f, "link faults off")
            }
            Fault::LinkFaults(faults) => write!(f, "link faults {faults}"),
            Fault::Crash(target) => write!(f, "crash {target}"),
            Fault::Restart(target) => write!(f, "restart {target}"),
            Fault::Pause(target) => write!(f, "pause {target}"),
            Fault::Resume(target) => write!(f, "resume {target}"),
            Fault::SlowDisk(node, 0) => write!(f, "fast disk n{node}"),
            Fault::SlowDisk(node, extra) => write!(f, "slow disk n{node} +{extra}ms"),
            Fault::Join => write!(f, "a new node joins"),
            Fault::Leave { abrupt: true } => write!(f, "a node leaves abruptly"),
            Fault::Leave { abrupt: false } => write!(f, "a node leaves gracefully"),
            Fault::Remove => write!(f, "the leader removes a member"),
            Fault::Transfer => write!(f, "the leader hands over"),
            Fault::StepDown => write!(f, "the leader steps down"),
            Fault::HealAll => write!(f, "heal all"),
        }
    }
}

/// The faults of one run, in time order.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub faults: Vec<(Millis, Fault)>,
    /// When `Fault::HealAll` fires; the liveness check starts there.
    pub heal_at: Millis,
}

impl Schedule {
    /// A schedule with no fault before `heal_at` (a fault-free run, for tests and baselines).
    pub fn calm(heal_at: Millis) -> Self {
        Schedule { faults: vec![(heal_at, Fault::HealAll)], heal_at }
    }

    /// A random schedule of every fault kind over `0..heal_at`, for a cluster of `nodes`.
    pub fn random(nodes: &[NodeId], heal_at: Millis, rng: &mut Rng) -> Self {
        let pace = Pace::draw(rng);
        let mut faults = network_and_process_faults(nodes, heal_at, pace, rng);
        // The membership track; a departure still waiting at the heal happens after it.
        let mut t = pace.gap(rng, 500, 5000);
        while t < heal_at {
            let fault = match rng.weighted(&[3, 3, 2]) {
                0 => Fault::Join,
                1 => Fault::Leave { abrupt: rng.chance(0.5) },
                _ => Fault::Remove,
            };
            faults.push((t, fault));
            t += pace.gap(rng, 1000, 6000);
        }
        Schedule::finish(faults, heal_at)
    }

    /// The grow-shrink plan over `nodes` (the first bootstraps): the others join one by one in
    /// the first third of the fault phase, then all but one leave in its second half, under
    /// the same network and process faults as a random schedule (with `faults`).
    pub fn grow_shrink(nodes: &[NodeId], heal_at: Millis, faults: bool, rng: &mut Rng) -> Self {
        let pace = Pace::draw(rng);
        let mut faults = match faults {
            true => network_and_process_faults(nodes, heal_at, pace, rng),
            false => Vec::new(),
        };
        for _ in 1..nodes.len() {
            faults.push((rng.between(100, heal_at / 3), Fault::Join));
            let abrupt = rng.chance(0.5);
            faults.push((rng.between(heal_at / 2, heal_at * 9 / 10), Fault::Leave { abrupt }));
        }
        Schedule::finish(faults, heal_at)
    }

    /// Adds the heal and puts the faults in time order.
    fn finish(mut faults: Vec<(Millis, Fault)>, heal_at: Millis) -> Self {
        faults.push((heal_at, Fault::HealAll));
        // Stable: faults at the same ms keep their track order, so an end never precedes its
        // own start.
        faults.sort_by_key(|(at, _)| *at);
        Schedule { faults, heal_at }
    }
}

/// One intensity per seed: some seeds are calm, some are storms.
#[derive(Clone, Copy)]
struct Pace(f64);

impl Pace {
    fn draw(rng: &mut Rng) -> Self {
        Pace(0.5 + rng.unit() * 1.5)
    }

    /// A pause between two faults of one track.
    fn gap(self, rng: &mut Rng, low: Millis, high: Millis) -> Millis {
        (rng.between(low, high) as f64 * self.0) as Millis
    }
}

/// The partition, link-quality, per-node process, leader and leadership-transfer tracks over
/// `0..heal_at`.
fn network_and_process_faults(
    nodes: &[NodeId],
    heal_at: Millis,
    pace: Pace,
    rng: &mut Rng,
) -> Vec<(Millis, Fault)> {
    let gap = |rng: &mut Rng, low, high| pace.gap(rng, low, high);
    let mut faults = Vec::new();

    // The partition track.
    let mut t = gap(rng, 0, 1500);
    while t < heal_at {
        let until = (t + rng.between(300, 3000)).min(heal_at);
        faults.push((t, Fault::Partition(random_partition(nodes, rng))));
        faults.push((until, Fault::HealPartition));
        t = until + gap(rng, 200, 2500);
    }

    // The link-quality track.
    let mut t = gap(rng, 0, 2000);
    while t < heal_at {
        let until = (t + rng.between(500, 4000)).min(heal_at);
        faults.push((t, Fault::LinkFaults(random_link_faults(rng))));
        faults.push((until, Fault::LinkFaults(LinkFaults::NONE)));
        t = until + gap(rng, 300, 3000);
    }

    // One process track per node.
    for &node in nodes {
        let mut t = gap(rng, 300, 5000);
        while t < heal_at {
            let target = Target::Node(node);
            let (start, end, length) = match rng.weighted(&[4, 3, 2]) {
                0 => (Fault::Crash(target), Fault::Restart(target), rng.between(20, 2500)),
                1 => (Fault::Pause(target), Fault::Resume(target), rng.between(50, 2500)),
                _ => {
                    let extra = rng.between(5, 150);
                    (Fault::SlowDisk(node, extra), Fault::SlowDisk(node, 0), 3000)
                }
            };
            let until = (t + length).min(heal_at);
            faults.push((t, start));
            faults.push((until, end));
            t = until + gap(rng, 500, 6000);
        }
    }

    // The leader track, and the final blow to the leader shortly before the heal.
    let mut tag = 0;
    let mut t = gap(rng, 500, 4000);
    while t < heal_at {
        let until = (t + rng.between(100, 2000)).min(heal_at);
        tag += 1;
        faults.extend(leader_fault(t, until, tag, rng));
        t = until + gap(rng, 1000, 5000);
    }
    if rng.chance(0.8) {
        tag += 1;
        let t = heal_at.saturating_sub(rng.between(20, 600));
        faults.extend(leader_fault(t, heal_at, tag, rng));
    }

    // The leadership-transfer track.
    let mut t = gap(rng, 200, 3000);
    while t < heal_at {
        faults.push((t, if rng.chance(0.75) { Fault::Transfer } else { Fault::StepDown }));
        t += gap(rng, 300, 4000);
    }
    faults
}

/// A fault on whoever leads at `start`, undone at `end`.
fn leader_fault(start: Millis, end: Millis, tag: u32, rng: &mut Rng) -> [(Millis, Fault); 2] {
    let leader = Target::Leader(tag);
    match rng.weighted(&[2, 1, 2]) {
        0 => [(start, Fault::Crash(leader)), (end, Fault::Restart(leader))],
        1 => [(start, Fault::Pause(leader)), (end, Fault::Resume(leader))],
        _ => [(start, Fault::IsolateLeader), (end, Fault::HealPartition)],
    }
}

fn random_partition(nodes: &[NodeId], rng: &mut Rng) -> Partition {
    let mut shuffled = nodes.to_vec();
    rng.shuffle(&mut shuffled);
    let n = shuffled.len();
    // A ring of three is fully connected, so three-node clusters draw from the other kinds.
    let kinds: &[u64] = if n >= 5 { &[3, 3, 2, 2] } else { &[3, 3, 2, 0] };
    match rng.weighted(kinds) {
        0 => Partition::Isolate(shuffled[0]),
        1 => {
            let minority_size = rng.between(1, (n as u64 - 1) / 2) as usize;
            let minority = shuffled.split_off(n - minority_size);
            Partition::Split { majority: shuffled, minority }
        }
        2 => {
            let right = shuffled.split_off(1 + (n - 1) / 2);
            let left = shuffled.split_off(1);
            Partition::Bridge { left, bridge: shuffled[0], right }
        }
        _ => Partition::Ring { order: shuffled, reach: n / 3 },
    }
}

fn random_link_faults(rng: &mut Rng) -> LinkFaults {
    // Each kind is on about half the time, so windows mix them differently.
    let mut faults = LinkFaults::NONE;
    if rng.chance(0.5) {
        faults.drop = rng.unit() * 0.3;
    }
    if rng.chance(0.5) {
        faults.duplicate = rng.unit() * 0.2;
    }
    if rng.chance(0.5) {
        faults.reorder_jitter = rng.between(5, 60);
    }
    if rng.chance(0.4) {
        faults.spike = rng.unit() * 0.2;
        faults.spike_min = rng.between(50, 150);
        faults.spike_max = faults.spike_min + rng.between(0, 400);
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: u64) -> Vec<NodeId> {
        (1..=n).collect()
    }

    #[test]
    fn same_seed_same_schedule() {
        let a = Schedule::random(&nodes(5), 10_000, &mut Rng::new(11));
        let b = Schedule::random(&nodes(5), 10_000, &mut Rng::new(11));
        assert_eq!(a.faults, b.faults);
    }

    #[test]
    fn every_fault_is_undone_by_heal_time() {
        for seed in 0..50 {
            let schedule = Schedule::random(&nodes(7), 8_000, &mut Rng::new(seed));
            assert!(schedule.faults.windows(2).all(|w| w[0].0 <= w[1].0));
            assert_eq!(schedule.faults.last(), Some(&(8_000, Fault::HealAll)));
            let targets = nodes(7).into_iter().map(Target::Node).chain((1..20).map(Target::Leader));
            for target in targets {
                let count =
                    |fault: Fault| schedule.faults.iter().filter(|(_, f)| *f == fault).count();
                assert_eq!(count(Fault::Crash(target)), count(Fault::Restart(target)));
                assert_eq!(count(Fault::Pause(target)), count(Fault::Resume(target)));
            }
        }
    }

    #[test]
    fn partitions_keep_every_node() {
        let mut rng = Rng::new(5);
        for n in [3, 5, 7] {
            for _ in 0..100 {
                let partition = random_partition(&nodes(n), &mut rng);
                let mut seen: Vec<NodeId> = match &partition {
                    Partition::Isolate(_) => nodes(n),
                    Partition::Split { majority, minority } => {
                        assert!(majority.len() > minority.len() && !minority.is_empty());
                        [majority.clone(), minority.clone()].concat()
                    }
                    Partition::Bridge { left, bridge, right } => {
                        [left.clone(), vec![*bridge], right.clone()].concat()
                    }
                    Partition::Ring { order, .. } => order.clone(),
                };
                seen.sort();
                assert_eq!(seen, nodes(n), "{partition}");
            }
        }
    }
}

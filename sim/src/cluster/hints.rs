//! Connection-closed hints, as a browser runtime gets them from WebRTC: when a link breaks (a
//! partition cuts it, or the tab at the other end crashes or closes), each end that is still up
//! learns it after a short detection delay and tells its node
//! ([`Node::handle_peer_disconnected`](flotilla_core::Node::handle_peer_disconnected)).
//!
//! A data channel closes in order: what the peer sent before arrives before the close is seen,
//! so a hint is never delivered before a message the peer sent earlier. Some hints are slow and
//! arrive after the link is back (late hints): a stale hint must not disturb a healthy leader,
//! nor cost liveness. A hint to a paused node waits for it to resume, like its messages; a hint
//! to a node that is down is lost with it.
use super::{Cluster, Input, SimEvent};
use crate::network::Partition;
use crate::rng::Rng;
use flotilla_core::{Millis, NodeId};

/// How late a late hint is (ms): long enough to outlive most partitions and crashes.
const LATE: (u64, u64) = (300, 3_000);

/// How the runtimes report closed connections.
#[derive(Clone, Debug)]
pub struct HintSetup {
    /// Draws each hint's delay.
    pub rng: Rng,
    /// How long a runtime takes to notice a closed connection (ms, a range): each end of a
    /// link notices at its own time.
    pub detection: (Millis, Millis),
    /// Share of hints that arrive late.
    pub late_share: f64,
}

impl Cluster {
    /// Installs `partition` (or heals the network) and hints at both ends of every link it cuts.
    pub(super) fn set_partition(&mut self, partition: Option<Partition>) {
        let up: Vec<NodeId> = self.hosts.iter().filter(|h| h.is_up()).map(|h| h.id).collect();
        let was_connected: Vec<(NodeId, NodeId)> =
            pairs(&up).filter(|&(a, b)| self.network.connects(a, b)).collect();
        self.network.set_partition(partition);
        for (a, b) in was_connected {
            if !self.network.connects(a, b) {
                self.send_hint(a, b);
                self.send_hint(b, a);
            }
        }
    }

    /// Node `id` went down: every node still connected to it hears of it.
    pub(super) fn hint_peers_of(&mut self, id: NodeId) {
        let peers: Vec<NodeId> = self
            .hosts
            .iter()
            .filter(|h| h.id != id && h.is_up() && self.network.connects(h.id, id))
            .map(|h| h.id)
            .collect();
        for peer in peers {
            self.send_hint(peer, id);
        }
    }

    /// Schedules the hint to `to` that its connection to `peer` closed, if hints are on.
    fn send_hint(&mut self, to: NodeId, peer: NodeId) {
        let Some(hints) = self.hints.as_mut() else { return };
        let late = hints.rng.chance(hints.late_share);
        let (low, high) = if late { LATE } else { hints.detection };
        let noticed = self.now + hints.rng.between(low, high);
        let after_data = self.last_arrival.get(&(peer, to)).copied().unwrap_or(0);
        self.schedule(noticed.max(after_data), SimEvent::Hint { to, peer });
    }

    /// The hint reaches `to`'s runtime.
    pub(super) fn deliver_hint(&mut self, to: NodeId, peer: NodeId) {
        let host = self.host(to);
        if !host.is_up() {
            return;
        }
        if host.paused {
            host.inbox.push_back(Input::Hint(peer));
            return;
        }
        self.hint(to, peer);
    }

    /// Hands the hint to the (running) node.
    pub(super) fn hint(&mut self, to: NodeId, peer: NodeId) {
        let now = self.now;
        let peer_up = self.hosts.iter().any(|h| h.id == peer && h.is_up());
        let late = peer_up && self.network.connects(to, peer);
        self.stats.hints += 1;
        self.stats.late_hints += u64::from(late);
        let when = if late { " (late: the link is back)" } else { "" };
        self.trace.line(now, || format!("n{to} hint: connection to n{peer} closed{when}"));
        if let Some(node) = self.host(to).node.as_mut() {
            node.handle_peer_disconnected(now, peer);
        }
        self.after_input(to);
    }
}

/// Every unordered pair of `ids`.
fn pairs(ids: &[NodeId]) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
    ids.iter().enumerate().flat_map(move |(i, &a)| ids[i + 1..].iter().map(move |&b| (a, b)))
}

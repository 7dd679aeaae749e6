//! Which cluster a tab belongs to, so that two clusters in one room never mix.
//!
//! Raft messages carry terms, not cluster identities: a leader that admitted a member of another
//! cluster would send it appends of a foreign log, and their terms would depose each other's
//! leaders. A room normally holds one cluster (a lone tab waits before founding one, see
//! `BOOTSTRAP_ALONE_MS`), but a signaling outage or a partition can still let a second one form.
//! So each cluster gets a random id when it is founded; a tab learns it from the member it joins
//! through (or from its leader), keeps it in durable storage beside its Raft state, and gossips
//! it. Raft traffic from a tab of another cluster is dropped, and such a tab is never admitted.
//! A lone tab whose cluster holds no posts yet gives it up when it meets another cluster's
//! member: it wipes its state and reloads, and joins that cluster as a fresh tab. A cluster with
//! posts is never given up automatically: its data is worth more than one room's tidiness.
use flotilla_core::gossip::{Key, Value};
use flotilla_core::NodeId;

use super::driver::{random_u53, Driver};
use crate::view::TimelineKind;

/// Gossip key: the id of this tab's cluster (0: none yet).
pub const CLUSTER_KEY: &str = "cluster";

impl Driver {
    /// The cluster `node` gossiped it belongs to, if it said one.
    pub(super) fn cluster_of(&self, node: NodeId) -> Option<u64> {
        match self.gossip.get(node, &Key::Custom(CLUSTER_KEY.to_owned())) {
            Some(&Value::Uint(cluster)) if cluster != 0 => Some(cluster),
            _ => None,
        }
    }

    /// Whether `node` said it belongs to a cluster other than this tab's.
    pub(super) fn is_foreign(&self, node: NodeId) -> bool {
        matches!((self.cluster, self.cluster_of(node)), (Some(ours), Some(theirs)) if ours != theirs)
    }

    /// Founds a new cluster (this tab bootstraps it).
    pub(super) fn found_cluster(&mut self) {
        self.set_cluster(random_u53());
    }

    /// Takes the cluster of `node` (the member this tab joins through, or its leader) if this
    /// tab has none yet and `node` said which; returns whether this tab now has one.
    pub(super) fn adopt_cluster_of(&mut self, node: NodeId) -> bool {
        if self.cluster.is_none() {
            if let Some(cluster) = self.cluster_of(node) {
                self.set_cluster(cluster);
            }
        }
        self.cluster.is_some()
    }

    fn set_cluster(&mut self, cluster: u64) {
        self.cluster = Some(cluster);
        if let Err(error) = self.store.set_cluster(cluster) {
            return self.fail(format!("cannot record the cluster id: {error}"));
        }
        self.publish_telemetry();
    }

    /// Gives up this tab's cluster for another one in the room, if this tab is all of it and it
    /// holds no posts: the other cluster's members would otherwise never be admitted here, nor
    /// this tab there.
    pub(super) fn yield_to_other_cluster(&mut self, at: f64) {
        let me = self.id.node;
        let membership = self.node.membership();
        let alone = membership.voters() == [me] && membership.learners().is_empty();
        if !alone || !self.node.committed_state().posts.is_empty() {
            return;
        }
        let other = self
            .by_node
            .keys()
            .copied()
            .find(|&node| self.is_foreign(node) && self.says_member(node));
        if let Some(other) = other {
            let text = format!(
                "{} met {} of another cluster in this room: joining it instead",
                self.id.name,
                self.name_of(other)
            );
            self.obs.event(at, TimelineKind::Join, text);
            self.wipe_and_reload();
        }
    }
}

//! Bad input never panics a node: a fuzz-style test (fixed seed, so failures replay) throws
//! arbitrary messages — any sender, term, index or entries (configurations included), with the
//! extremes of the integer range — at the nodes of a live cluster, checking after each that every node still
//! keeps `applied <= commit <= last index`.
mod common;

use common::{req, write, Cluster};
use flotilla_core::reducers::kv::KvAction;
use flotilla_core::{
    Change, Entry, EntryPayload, Membership, Message, MessageBody, ReadId, RequestId,
};

/// xorshift64*: a fixed-seed source of test inputs.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Mostly small numbers (the interesting ones), sometimes the extremes.
    fn number(&mut self) -> u64 {
        match self.next() % 15 {
            0 => u64::MAX - self.next() % 3,
            1 => self.next(),
            _ => self.next() % 12,
        }
    }

    fn flag(&mut self) -> bool {
        self.next() % 2 == 0
    }

    fn entries(&mut self) -> Vec<Entry<KvAction>> {
        let start = self.number();
        (0..self.next() % 4)
            .map(|i| Entry {
                term: self.number(),
                index: start.wrapping_add(i),
                payload: match self.next() % 4 {
                    0 => EntryPayload::Noop,
                    1 => EntryPayload::Membership(self.membership()),
                    _ => {
                        let request = RequestId { client: self.number(), seq: self.number() };
                        let action = KvAction::Write { key: 1, value: 2 };
                        EntryPayload::Action { request, action }
                    }
                },
            })
            .collect()
    }

    /// Any configuration, even one with no voters: a peer's entries are not to be trusted.
    fn membership(&mut self) -> Membership {
        let voters: Vec<u64> = (0..self.next() % 4).map(|_| self.number()).collect();
        let mut membership = Membership::with_voters(&voters);
        if self.flag() {
            membership = membership.apply(Change::AddLearner(self.number())).unwrap_or(membership);
        }
        if self.next() % 8 == 0 {
            membership = membership.apply(Change::Remove(self.number())).unwrap_or(membership);
        }
        membership
    }

    fn body(&mut self) -> MessageBody<KvAction> {
        let request = RequestId { client: self.number(), seq: self.number() };
        match self.next() % 15 {
            0 => MessageBody::RequestVote {
                pre_vote: self.flag(),
                last_index: self.number(),
                last_term: self.number(),
                transfer: self.flag(),
            },
            1 => MessageBody::VoteResponse { pre_vote: self.flag(), granted: self.flag() },
            2 => MessageBody::Append {
                prev_index: self.number(),
                prev_term: self.number(),
                commit: self.number(),
                entries: self.entries(),
            },
            3 => MessageBody::AppendAccepted { match_index: self.number() },
            4 => MessageBody::AppendRejected {
                rejected_index: self.number(),
                hint_index: self.number(),
                hint_term: self.number(),
            },
            5 => MessageBody::Heartbeat { commit: self.number(), round: self.number() },
            6 => MessageBody::HeartbeatResponse { round: self.number() },
            7 => MessageBody::Propose { request, action: KvAction::Read { key: 0 } },
            8 => MessageBody::JoinRequest { node: self.number() },
            11 => MessageBody::TimeoutNow { conditional_vote: self.flag().then(|| self.number()) },
            12 => MessageBody::ReadIndex { id: ReadId(self.number()) },
            13 => MessageBody::ReadIndexResponse {
                id: ReadId(self.number()),
                index: self.flag().then(|| self.number()),
            },
            9 => MessageBody::InstallSnapshot {
                index: self.number(),
                term: self.number(),
                membership: self.membership(),
                offset: self.number(),
                total: self.number(),
                data: (0..self.next() % 4).map(|_| self.next() as u8).collect(),
            },
            10 => MessageBody::SnapshotAck {
                index: self.number(),
                received: self.number(),
                resend: self.flag(),
            },
            _ => MessageBody::ProposeRejected { request },
        }
    }
}

#[test]
fn arbitrary_messages_never_panic_a_node() {
    let mut gen = Gen(0xBAD_1DEA);
    for round in 0..40 {
        let mut c = Cluster::new(3);
        c.elect(1);
        c.propose(1, req(1, 1), write(1, 1)).unwrap();
        c.settle();
        for _ in 0..500 {
            let to = 1 + gen.next() % 3;
            let message =
                Message { from: gen.next() % 5, to, term: gen.number(), body: gen.body() };
            let now = c.now;
            c.node_mut(to).handle_message(now, message);
            c.drain(to);
            if gen.next() % 50 == 0 {
                c.run_for(gen.next() % 200);
            }
            for id in 1..=3 {
                let status = c.node(id).status();
                assert!(
                    status.applied <= status.commit && status.commit <= status.last_index,
                    "round {round}: {status:?}"
                );
            }
        }
    }
}

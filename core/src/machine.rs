//! The replicated state machine: the reducer's state plus the session table that makes a retried
//! request apply once. Both advance together by applying committed entries in log order, on
//! every node alike, and a snapshot carries both — which is why they live together.
//!
//! The session table keeps, per client, the outputs of its most recent requests: a sliding window
//! of [`SESSION_WINDOW`] sequence numbers below the highest one seen. A retry inside the window
//! gets the original index and output back. A request older than the window cannot be told apart
//! from one never applied, so it is not applied and its proposer learns `TimedOut` (the outcome
//! is unknown to it, which is the truth).
use crate::vec_map::VecMap;
use crate::{Entry, EntryPayload, LogIndex, Reducer, RequestId};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// How many sequence numbers below a client's highest one are remembered.
pub const SESSION_WINDOW: u64 = 1024;

/// What applying one entry did.
pub(crate) enum Applied<O> {
    /// The entry was a no-op.
    Noop,
    /// The action ran; this is its output.
    Fresh(O),
    /// A retry of a request already applied at `index`, with the output it had then.
    Duplicate { index: LogIndex, output: O },
    /// A request too old for the session window: skipped.
    Expired,
}

/// What the session table knows about a request.
pub(crate) enum Earlier<'a, O> {
    /// Not applied, as far as the window tells.
    Unknown,
    /// Applied at this index with this output.
    Applied(LogIndex, &'a O),
    /// Older than the window: cannot tell.
    TooOld,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ClientSession<O> {
    /// `(seq, index, output)`, sorted by `seq`, all within the window below the last one.
    recent: VecDeque<(u64, LogIndex, O)>,
}

impl<O> ClientSession<O> {
    fn new() -> Self {
        ClientSession { recent: VecDeque::new() }
    }

    fn lookup(&self, seq: u64) -> Earlier<'_, O> {
        let newest = self.recent.back().map_or(0, |r| r.0);
        if seq > newest {
            return Earlier::Unknown; // the common case: the client's next request
        }
        if seq.saturating_add(SESSION_WINDOW) <= newest {
            return Earlier::TooOld;
        }
        match self.recent.binary_search_by_key(&seq, |r| r.0) {
            Ok(at) => Earlier::Applied(self.recent[at].1, &self.recent[at].2),
            Err(_) => Earlier::Unknown,
        }
    }

    fn remember(&mut self, seq: u64, index: LogIndex, output: O) {
        let recent = &mut self.recent;
        if recent.back().is_none_or(|r| r.0 < seq) {
            // Clients number requests upwards, so this is the common case.
            recent.push_back((seq, index, output));
        } else {
            let at = recent.partition_point(|r| r.0 < seq);
            recent.insert(at, (seq, index, output));
        }
        let newest = recent.back().map_or(0, |r| r.0);
        while recent.front().is_some_and(|r| r.0.saturating_add(SESSION_WINDOW) <= newest) {
            recent.pop_front();
        }
    }
}

pub(crate) struct Machine<R: Reducer> {
    pub(crate) state: R::State,
    sessions: VecMap<u64, ClientSession<R::Output>>,
    /// Index of the last entry applied.
    pub(crate) applied: LogIndex,
}

impl<R: Reducer> Machine<R> {
    pub(crate) fn new() -> Self {
        Machine { state: R::State::default(), sessions: VecMap::new(), applied: 0 }
    }

    /// The state and the session table in postcard: the data of a snapshot at `applied`.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        // Plain serde data into a growing buffer: postcard fails only on unknown-length
        // sequences, which neither the reducer's state (required by `Reducer`) nor ours use.
        crate::codec::encoded(postcard::to_allocvec(&(&self.state, &self.sessions)))
    }

    /// The machine a snapshot's data describes, as of `applied`.
    pub(crate) fn from_bytes(bytes: &[u8], applied: LogIndex) -> Result<Self, postcard::Error> {
        let (state, sessions) = postcard::from_bytes(bytes)?;
        Ok(Machine { state, sessions, applied })
    }

    /// What the session table knows about `request`.
    pub(crate) fn earlier_result(&self, request: RequestId) -> Earlier<'_, R::Output> {
        match self.sessions.get(&request.client) {
            Some(session) => session.lookup(request.seq),
            None => Earlier::Unknown,
        }
    }

    /// Applies the next committed entry.
    pub(crate) fn apply(&mut self, entry: &Entry<R::Action>) -> Applied<R::Output> {
        debug_assert_eq!(entry.index, self.applied + 1);
        self.applied = entry.index;
        let EntryPayload::Action { request, action } = &entry.payload else { return Applied::Noop };
        let session = self.sessions.entry(request.client).or_insert_with(ClientSession::new);
        match session.lookup(request.seq) {
            Earlier::TooOld => Applied::Expired,
            Earlier::Applied(index, output) => Applied::Duplicate { index, output: output.clone() },
            Earlier::Unknown => {
                let output = R::reduce(&mut self.state, action);
                session.remember(request.seq, entry.index, output.clone());
                Applied::Fresh(output)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reducers::kv::{Kv, KvAction, KvOutput};

    fn write(index: LogIndex, client: u64, seq: u64, value: u64) -> Entry<KvAction> {
        let request = RequestId { client, seq };
        let action = KvAction::Write { key: 1, value };
        Entry { term: 1, index, payload: EntryPayload::Action { request, action } }
    }

    #[test]
    fn a_retry_is_applied_once_and_gets_the_original_result() {
        let mut m = Machine::<Kv>::new();
        assert!(matches!(m.apply(&write(1, 7, 1, 10)), Applied::Fresh(KvOutput::Written)));
        assert!(matches!(m.apply(&write(2, 7, 2, 20)), Applied::Fresh(_)));
        assert!(matches!(m.apply(&write(3, 7, 1, 10)), Applied::Duplicate { index: 1, .. }));
        assert_eq!(m.state.values[&1], 20);
        assert_eq!(m.applied, 3);
    }

    #[test]
    fn a_snapshot_round_trip_keeps_the_state_and_the_sessions() {
        let mut m = Machine::<Kv>::new();
        m.apply(&write(1, 7, 1, 10));
        let copy = Machine::<Kv>::from_bytes(&m.to_bytes(), m.applied).unwrap();
        assert_eq!((copy.state.values[&1], copy.applied), (10, 1));
        assert!(matches!(
            copy.earlier_result(RequestId { client: 7, seq: 1 }),
            Earlier::Applied(1, _)
        ));
        assert!(Machine::<Kv>::from_bytes(&[0xff, 0xff], 1).is_err());
    }

    #[test]
    fn requests_older_than_the_window_are_skipped() {
        let mut m = Machine::<Kv>::new();
        m.apply(&write(1, 7, SESSION_WINDOW + 5, 1));
        assert!(matches!(m.apply(&write(2, 7, 5, 2)), Applied::Expired));
        assert!(matches!(m.apply(&write(3, 7, 6, 3)), Applied::Fresh(_)));
        assert_eq!(m.state.values[&1], 3);
    }
}

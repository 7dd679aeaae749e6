//! A follower's side of a snapshot transfer: chunks arrive in order over a reliable channel most
//! of the time, but a lost, repeated or reordered message must neither corrupt the result nor
//! stall the transfer. Chunks are accepted only in order, and every chunk is answered with how
//! much is in; a gap is reported as such once (the leader then goes back to the first missing
//! byte); a chunk of a newer snapshot starts over, and a late one of an older snapshot is
//! dropped. A chunk from a newer leader term starts over whatever its index: a partial snapshot
//! from a deposed leader will never be finished, and the new leader's may well be older. The leader's side, a window of chunks in flight, is in `progress`.
use crate::{LogIndex, Term};
use alloc::vec::Vec;

/// A snapshot being received.
pub(crate) struct Reassembly {
    /// The term of the leader sending it: only that leader will finish this transfer.
    leader_term: Term,
    index: LogIndex,
    term: Term,
    total: u64,
    data: Vec<u8>,
    /// The gap at this offset was reported: say nothing more until it is filled.
    gap_reported: Option<u64>,
}

/// What a chunk did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// It completed the snapshot: these are its bytes.
    Complete(Vec<u8>),
    /// This many bytes are in (the chunk was the next one, a duplicate, or beyond a gap
    /// already reported). Said every time: the leader may have started over (a new leader
    /// does) and needs to learn where the follower stands.
    Progress(u64),
    /// Bytes from this offset on are missing: the leader should resend from there.
    Gap(u64),
    /// A malformed chunk, or one of an older snapshot.
    Ignored,
}

/// Adds a chunk of snapshot `(index, term)` of `total` bytes, sent by the leader of
/// `leader_term`, to `slot`.
pub(crate) fn receive(
    slot: &mut Option<Reassembly>,
    leader_term: Term,
    (index, term, total): (LogIndex, Term, u64),
    offset: u64,
    data: Vec<u8>,
) -> Received {
    if slot.as_ref().is_some_and(|r| r.leader_term == leader_term && r.index > index) {
        return Received::Ignored; // a late chunk of an older transfer
    }
    let current = slot.as_ref().is_some_and(|r| {
        (r.leader_term, r.index, r.term, r.total) == (leader_term, index, term, total)
    });
    if !current {
        *slot = Some(Reassembly {
            leader_term,
            index,
            term,
            total,
            data: Vec::new(),
            gap_reported: None,
        });
    }
    let Some(r) = slot.as_mut() else { return Received::Ignored };
    let len = r.data.len() as u64;
    if offset < len || (offset > len && r.gap_reported == Some(len)) {
        return Received::Progress(len);
    }
    if offset > len {
        r.gap_reported = Some(len);
        return Received::Gap(len);
    }
    if len.saturating_add(data.len() as u64) > total {
        return Received::Ignored;
    }
    r.data.extend_from_slice(&data);
    r.gap_reported = None;
    if r.data.len() as u64 == total {
        let done = slot.take().map(|r| r.data).unwrap_or_default();
        return Received::Complete(done);
    }
    Received::Progress(r.data.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const SNAP: (LogIndex, Term, u64) = (10, 2, 6);

    #[test]
    fn in_order_chunks_complete_the_snapshot() {
        let mut slot = None;
        assert_eq!(receive(&mut slot, 1, SNAP, 0, vec![1, 2]), Received::Progress(2));
        assert_eq!(receive(&mut slot, 1, SNAP, 2, vec![3, 4]), Received::Progress(4));
        assert_eq!(
            receive(&mut slot, 1, SNAP, 4, vec![5, 6]),
            Received::Complete(vec![1, 2, 3, 4, 5, 6])
        );
        assert!(slot.is_none());
    }

    #[test]
    fn duplicates_are_answered_and_a_gap_is_reported_once() {
        let mut slot = None;
        receive(&mut slot, 1, SNAP, 0, vec![1, 2]);
        assert_eq!(receive(&mut slot, 1, SNAP, 0, vec![1, 2]), Received::Progress(2));
        assert_eq!(receive(&mut slot, 1, SNAP, 4, vec![5, 6]), Received::Gap(2));
        assert_eq!(receive(&mut slot, 1, SNAP, 4, vec![5, 6]), Received::Progress(2), "reported");
        assert_eq!(receive(&mut slot, 1, SNAP, 2, vec![3, 4]), Received::Progress(4));
        assert_eq!(receive(&mut slot, 1, SNAP, 4, vec![5, 6, 7]), Received::Ignored, "too long");
        assert_eq!(
            receive(&mut slot, 1, SNAP, 4, vec![5, 6]),
            Received::Complete(vec![1, 2, 3, 4, 5, 6])
        );
    }

    #[test]
    fn a_chunk_of_another_snapshot_starts_over() {
        let mut slot = None;
        receive(&mut slot, 1, SNAP, 0, vec![1, 2]);
        let newer = (12, 2, 2);
        assert_eq!(receive(&mut slot, 1, newer, 1, vec![9]), Received::Gap(0));
        assert_eq!(receive(&mut slot, 1, SNAP, 2, vec![3, 4]), Received::Ignored, "older");
        assert_eq!(receive(&mut slot, 1, newer, 0, vec![8, 9]), Received::Complete(vec![8, 9]));
    }

    #[test]
    fn a_new_leaders_older_snapshot_replaces_a_deposed_leaders_partial_one() {
        // CORE_BUGS 7 (sim seed 56): the old leader of term 1 never finishes its newer snapshot.
        let mut slot = None;
        let newer = (12, 2, 2);
        assert_eq!(receive(&mut slot, 1, newer, 0, vec![9]), Received::Progress(1));
        assert_eq!(receive(&mut slot, 2, SNAP, 0, vec![1, 2]), Received::Progress(2));
    }
}

//! The table of proposals made at this node and not yet settled, keyed by request id.
//!
//! Clients number their requests upwards and most proposals settle in the order they were
//! made, so each client's proposals sit in a queue sorted by sequence number: adding one is a
//! push at the back and settling one a pop at the front, with a binary search for the rare
//! proposal out of order. A busy leader does this for every entry, which is why this is not a
//! plain `BTreeMap<RequestId, _>`.
use crate::vec_map::VecMap;
use crate::RequestId;
use alloc::collections::VecDeque;

pub(super) struct PendingTable<P> {
    by_client: VecMap<u64, VecDeque<(u64, P)>>,
}

impl<P> PendingTable<P> {
    pub(super) fn new() -> Self {
        PendingTable { by_client: VecMap::new() }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_client.is_empty()
    }

    /// Where `seq` is, or would go, in a client's queue.
    fn position(queue: &VecDeque<(u64, P)>, seq: u64) -> Result<usize, usize> {
        match queue.back() {
            Some(&(last, _)) if last < seq => Err(queue.len()),
            _ => queue.binary_search_by_key(&seq, |&(s, _)| s),
        }
    }

    pub(super) fn contains(&self, request: RequestId) -> bool {
        self.by_client
            .get(&request.client)
            .is_some_and(|queue| Self::position(queue, request.seq).is_ok())
    }

    /// Adds a proposal; the caller has checked that the request is not pending already.
    pub(super) fn insert(&mut self, request: RequestId, proposal: P) {
        let queue = self.by_client.entry(request.client).or_default();
        if let Err(at) = Self::position(queue, request.seq) {
            queue.insert(at, (request.seq, proposal));
        }
    }

    pub(super) fn get_mut(&mut self, request: RequestId) -> Option<&mut P> {
        let queue = self.by_client.get_mut(&request.client)?;
        let at = Self::position(queue, request.seq).ok()?;
        Some(&mut queue[at].1)
    }

    pub(super) fn remove(&mut self, request: RequestId) -> Option<P> {
        let queue = self.by_client.get_mut(&request.client)?;
        let at = Self::position(queue, request.seq).ok()?;
        let (_, proposal) = if at == 0 { queue.pop_front()? } else { queue.remove(at)? };
        if queue.is_empty() {
            self.by_client.remove(&request.client);
        }
        Some(proposal)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (RequestId, &P)> {
        self.by_client.iter().flat_map(|(&client, queue)| {
            queue.iter().map(move |(seq, p)| (RequestId { client, seq: *seq }, p))
        })
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (RequestId, &mut P)> {
        self.by_client.iter_mut().flat_map(|(&client, queue)| {
            queue.iter_mut().map(move |(seq, p)| (RequestId { client, seq: *seq }, p))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn r(client: u64, seq: u64) -> RequestId {
        RequestId { client, seq }
    }

    #[test]
    fn keeps_each_clients_requests_in_order_whatever_the_insertion_order() {
        let mut table = PendingTable::new();
        for (client, seq) in [(1, 5), (2, 1), (1, 3), (1, 9), (1, 4)] {
            table.insert(r(client, seq), client * 100 + seq);
        }
        let order: Vec<RequestId> = table.iter().map(|(request, _)| request).collect();
        assert_eq!(order, [r(1, 3), r(1, 4), r(1, 5), r(1, 9), r(2, 1)]);
        assert!(table.contains(r(1, 4)) && !table.contains(r(1, 6)));
        assert_eq!(table.remove(r(1, 5)), Some(105));
        assert_eq!(table.remove(r(1, 5)), None);
        *table.get_mut(r(2, 1)).unwrap() = 7;
        assert_eq!(table.remove(r(2, 1)), Some(7));
        for seq in [3, 4, 9] {
            table.remove(r(1, seq));
        }
        assert!(table.is_empty());
    }
}

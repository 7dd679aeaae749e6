//! Durable state of this tab's Raft node, in `sessionStorage`.
//!
//! # Why sessionStorage
//! It survives a reload of the same tab (a reload is the same node restarting) and is private to
//! the tab. Above all it is synchronous: a write has returned before the runtime transmits the
//! messages that depend on it, so the persist-before-send rule holds trivially, at a cost of
//! microseconds. IndexedDB is asynchronous and would add milliseconds to every commit.
//!
//! # Layout
//! Under a prefix (one per room):
//!
//! | key              | value                                                        |
//! |------------------|--------------------------------------------------------------|
//! | `hard`           | the hard state (term, vote, commit): any serde type          |
//! | `snap`           | the latest snapshot: any serde type                          |
//! | `log`            | [`LogMeta`]: the first live index and where each segment starts |
//! | `log/{start}`    | one log segment: consecutive entries from index `start`      |
//!
//! Values are postcard bytes in the compact [`text`] encoding. Entries are stored in segments of
//! about [`SEGMENT_BYTES`], so an append rewrites only the last segment, never the whole log
//! (a burst's big batch fills segments of up to [`BATCH_SEGMENT_BYTES`], written once each);
//! truncating a conflicting suffix rewrites one segment and deletes the ones after it;
//! compaction (a snapshot) deletes whole segments below it.
//!
//! # Flushing
//! Changes are made in memory and written by [`DurableStore::flush`]. One `setItem` costs about
//! 20 µs in Chromium whatever its size (measured: 20 µs for 16 characters, 50 µs for 4096), so a
//! runtime applies every `Persist` of one batch of node outputs, flushes once, and only then
//! transmits the batch's messages: persist-before-send holds, at one write per key per batch.
//!
//! A flush writes in an order that keeps what a reload reads consistent: segment data before the
//! `log` key that lists it, and deletions after the `log` key stops listing them.
//!
//! The store is generic over what it holds (any serde values); [`DurableStore::persist`] and
//! [`DurableStore::durable_state`] speak the core's `Persist` and `DurableState`.
//!
//! # Errors
//! A failed flush (the quota is full) leaves the stored state valid but behind this object's
//! view: the runtime must not send anything that depended on it, and should stop the node.
use flotilla_core::VecMap;
use std::fmt;

use flotilla_core::{DurableState, Entry, LogIndex, NodeId, Persist, Term};
use js_sys::JsString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

pub mod identity;
pub mod text;

/// A segment is sealed once it holds this many bytes of encoded entries. Small enough that
/// rewriting it on every flush costs little more than the fixed cost of a write; large enough
/// that a long log is hundreds of keys, not tens of thousands.
pub const SEGMENT_BYTES: usize = 2048;
/// A segment that one append fills from empty is written whole once, never rewritten, so it
/// may hold this much: a burst's batch of thousands of entries is a few writes, not a hundred
/// (each `setItem` costs ~20 µs before its characters are even copied). The tail it leaves
/// is its last entry alone, so later appends still rewrite a small segment.
pub const BATCH_SEGMENT_BYTES: usize = 16 * SEGMENT_BYTES;

/// Which entries the `log` key says are stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMeta {
    /// The first live index: entries below it were compacted into the snapshot.
    first: u64,
    /// The first index of each segment, ascending; segment `i` ends where `i + 1` starts.
    starts: Vec<u64>,
}

#[derive(Debug)]
pub enum StoreError {
    /// This page has no sessionStorage (e.g. it is disabled).
    Unavailable,
    /// A write failed, usually because the storage quota is full.
    WriteFailed,
    /// Stored data does not decode: written by something else, or a different format.
    Corrupt(&'static str),
    /// A value could not be serialized.
    Encode(postcard::Error),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable => write!(f, "sessionStorage is not available"),
            Self::WriteFailed => write!(f, "sessionStorage refused a write (quota full?)"),
            Self::Corrupt(what) => write!(f, "stored {what} does not decode"),
            Self::Encode(error) => write!(f, "cannot encode a value: {error}"),
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// The browser's `TextDecoder`, for UTF-16LE: it builds a value's string straight from
    /// [`text::encode`]'s bytes (see there why not from a Rust `String`).
    type Utf16Decoder;
    #[wasm_bindgen(constructor, js_class = "TextDecoder")]
    fn new(label: &str) -> Utf16Decoder;
    #[wasm_bindgen(method, js_class = "TextDecoder")]
    fn decode(this: &Utf16Decoder, utf16le: &[u8]) -> JsString;
    /// A `Storage`, for `setItem` with a value already in JavaScript.
    type StorageJs;
    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_item(this: &StorageJs, key: &str, value: &JsString) -> Result<(), JsValue>;
}

/// The hard state as stored under `hard`.
#[derive(Serialize, Deserialize)]
struct HardState {
    term: Term,
    voted_for: Option<NodeId>,
    commit: LogIndex,
}

/// The tab's durable Raft state: hard state, log, snapshot. Generic over what it stores, so it
/// does not depend on the core's types: whatever they are, they are serde values.
pub struct DurableStore {
    storage: Storage,
    /// Turns [`text::encode`]'s bytes into the strings stored.
    utf16: Utf16Decoder,
    prefix: String,
    /// The log index as of the last change, and as last written.
    meta: LogMeta,
    stored_meta: LogMeta,
    /// The last segment, kept decoded so an append only encodes and writes it.
    tail: Segment,
    /// The tail changed since it was last written.
    tail_dirty: bool,
    /// Values changed since the last flush, by key name (the newest write of a key wins).
    pending: VecMap<String, Vec<u8>>,
    /// Segments to delete once the written `log` key no longer lists them.
    doomed: Vec<u64>,
}

impl DurableStore {
    /// Opens the store under `prefix` (e.g. `flotilla/lobby/`) in this tab's sessionStorage.
    pub fn open(prefix: &str) -> Result<Self, StoreError> {
        let storage = session_storage()?;
        let mut store = Self {
            storage,
            utf16: Utf16Decoder::new("utf-16le"),
            prefix: prefix.to_owned(),
            meta: LogMeta::default(),
            stored_meta: LogMeta::default(),
            tail: Segment::default(),
            tail_dirty: false,
            pending: VecMap::new(),
            doomed: Vec::new(),
        };
        if let Some(meta) = store.read::<LogMeta>("log", "log index")? {
            store.tail = match meta.starts.last() {
                Some(&start) => store.load_segment(start)?,
                None => Segment::starting_at(meta.first),
            };
            store.stored_meta = meta.clone();
            store.meta = meta;
        }
        Ok(store)
    }

    /// Writes every change since the last flush. Nothing that depends on those changes may be
    /// transmitted before this returns `Ok`.
    ///
    /// The order keeps a reload that interrupts it consistent: entries first, then the snapshot,
    /// then the `log` key that lists them, then the hard state (whose commit index may cover
    /// them), and deletions last.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.tail_dirty {
            self.write(&segment_name(self.tail.start), &self.tail.bytes)?;
            self.tail_dirty = false;
        }
        let sealed: Vec<String> =
            self.pending.keys().filter(|name| name.starts_with("log/")).cloned().collect();
        for name in sealed {
            self.flush_pending(&name)?;
        }
        self.flush_pending("snap")?;
        if self.meta != self.stored_meta {
            self.write("log", &postcard::to_allocvec(&self.meta).map_err(StoreError::Encode)?)?;
            self.stored_meta = self.meta.clone();
        }
        self.flush_pending("hard")?;
        for start in std::mem::take(&mut self.doomed) {
            if !self.meta.starts.contains(&start) {
                // A segment left behind is never read again; failing to delete it is harmless.
                let _ = self.storage.remove_item(&self.key(&segment_name(start)));
            }
        }
        Ok(())
    }

    fn flush_pending(&mut self, name: &str) -> Result<(), StoreError> {
        if let Some(bytes) = self.pending.remove(name) {
            if let Err(error) = self.write(name, &bytes) {
                self.pending.insert(name.to_owned(), bytes);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Whether there are changes that [`flush`](Self::flush) has not written yet.
    pub fn has_unflushed(&self) -> bool {
        self.tail_dirty || !self.pending.is_empty() || self.meta != self.stored_meta
    }

    pub fn hard_state<H: DeserializeOwned>(&self) -> Result<Option<H>, StoreError> {
        self.read("hard", "hard state")
    }

    pub fn set_hard_state<H: Serialize>(&mut self, hard_state: &H) -> Result<(), StoreError> {
        let bytes = postcard::to_allocvec(hard_state).map_err(StoreError::Encode)?;
        self.pending.insert("hard".to_owned(), bytes);
        Ok(())
    }

    /// The id of the cluster this node belongs to (see `runtime::cluster`), if it has one.
    pub fn cluster(&self) -> Result<Option<u64>, StoreError> {
        self.read("cluster", "cluster id")
    }

    /// Records the cluster this node belongs to, at once: nothing waits for it, and a reload
    /// that loses it only makes the node learn it again.
    pub fn set_cluster(&mut self, cluster: u64) -> Result<(), StoreError> {
        self.write("cluster", &postcard::to_allocvec(&cluster).map_err(StoreError::Encode)?)
    }

    /// Drops every stored entry at index `first_index` or above, then appends `entries` there
    /// (Raft's append after a conflict). Appending past the end, or below the compacted
    /// prefix, starts a fresh log at `first_index`.
    pub fn append<E: Serialize>(
        &mut self,
        first_index: u64,
        entries: &[E],
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        // Every entry encoded into one buffer (not a Vec each: a burst appends thousands), all
        // before anything changes, so that an encoding error leaves the store as it was.
        let mut encoded = Vec::with_capacity(entries.len() * 48);
        let mut ends = Vec::with_capacity(entries.len());
        for entry in entries {
            encoded = postcard::to_extend(entry, encoded).map_err(StoreError::Encode)?;
            ends.push(encoded.len());
        }
        let frames = ends.iter().scan(0, |start, &end| {
            let frame = &encoded[*start..end];
            *start = end;
            Some(frame)
        });
        let contiguous = !self.meta.starts.is_empty()
            && first_index >= self.meta.first
            && first_index <= self.tail.end();
        if contiguous {
            // Keep segments up to the one holding `first_index`, and cut that one there.
            let keep = self.meta.starts.partition_point(|&start| start <= first_index).max(1);
            let removed: Vec<u64> = self.meta.starts.drain(keep..).collect();
            let start = self.meta.starts[keep - 1];
            if start != self.tail.start {
                self.tail = self.load_segment(start)?;
                // The tail owns that segment now: a sealed copy still waiting to be written
                // is stale, and written after the tail it would undo the truncation.
                self.pending.remove(&segment_name(start));
            }
            self.forget_segments(removed);
            self.tail.truncate(first_index);
        } else {
            let removed = std::mem::take(&mut self.meta.starts);
            self.forget_segments(removed);
            self.meta.first = first_index;
            self.tail = Segment::starting_at(first_index);
        }
        if self.meta.starts.is_empty() {
            self.meta.starts.push(first_index);
        }
        // Whether the tail holds only entries of this append (see `BATCH_SEGMENT_BYTES`).
        let mut filled_here = self.tail.is_empty();
        for frame in frames {
            let limit = if filled_here { BATCH_SEGMENT_BYTES } else { SEGMENT_BYTES };
            if !self.tail.is_empty() && self.tail.bytes.len() + frame.len() > limit {
                self.seal_tail(self.tail.end());
                filled_here = true;
            }
            self.tail.push(frame);
        }
        if self.tail.bytes.len() > SEGMENT_BYTES && self.tail.offsets.len() > 1 {
            // Keep only the last entry in the tail, which the next append rewrites.
            self.seal_tail(self.tail.end() - 1);
        }
        self.tail_dirty = true;
        Ok(())
    }

    /// Seals the tail's entries below `split` into a segment to write, and makes the rest (at
    /// and after `split`) the new tail.
    fn seal_tail(&mut self, split: u64) {
        let mut sealed = std::mem::replace(&mut self.tail, Segment::starting_at(split));
        for (_, frame) in sealed.frames().skip((split - sealed.start) as usize) {
            self.tail.push(frame);
        }
        sealed.truncate(split);
        self.pending.insert(segment_name(sealed.start), sealed.bytes);
        self.meta.starts.push(split);
    }

    /// Records one of the core's durable writes (in memory until [`flush`](Self::flush)).
    pub fn persist<A: Serialize>(&mut self, write: &Persist<A>) -> Result<(), StoreError> {
        match write {
            Persist::HardState { term, voted_for, commit } => self.set_hard_state(&HardState {
                term: *term,
                voted_for: *voted_for,
                commit: *commit,
            }),
            Persist::Entries { entries } => match entries.first() {
                Some(first) => self.append(first.index, entries),
                None => Ok(()),
            },
            Persist::Snapshot { snapshot } => self.set_snapshot(snapshot.index, snapshot),
        }
    }

    /// What the core's `Node::restart` needs: everything [`persist`](Self::persist)ed.
    pub fn durable_state<A: DeserializeOwned>(&self) -> Result<DurableState<A>, StoreError> {
        let hard = self.hard_state::<HardState>()?;
        let (first, entries) = self.entries::<Entry<A>>()?;
        if entries.iter().zip(first..).any(|(entry, index)| entry.index != index) {
            return Err(StoreError::Corrupt("log (an entry is stored at the wrong index)"));
        }
        let (term, voted_for, commit) =
            hard.map_or((0, None, 0), |h| (h.term, h.voted_for, h.commit));
        let snapshot = self.snapshot()?;
        Ok(DurableState { term, voted_for, commit, snapshot, entries })
    }

    /// Every live entry, in index order, with the index of the first.
    pub fn entries<E: DeserializeOwned>(&self) -> Result<(u64, Vec<E>), StoreError> {
        let mut entries = Vec::new();
        let mut expected = None;
        for &start in &self.meta.starts {
            let loaded;
            let segment = if start == self.tail.start {
                &self.tail
            } else {
                loaded = self.load_segment(start)?;
                &loaded
            };
            if expected.is_some_and(|next| next != start) {
                return Err(StoreError::Corrupt("log (segments not contiguous)"));
            }
            expected = Some(segment.end());
            for (index, frame) in segment.frames() {
                if index >= self.meta.first {
                    let entry = postcard::from_bytes(frame)
                        .map_err(|_| StoreError::Corrupt("log entry"))?;
                    entries.push(entry);
                }
            }
        }
        Ok((self.meta.first, entries))
    }

    /// The first and last live index, or `None` if the log is empty.
    pub fn log_bounds(&self) -> Option<(u64, u64)> {
        let last = self.tail.end().checked_sub(1)?;
        (!self.meta.starts.is_empty() && last >= self.meta.first).then_some((self.meta.first, last))
    }

    pub fn snapshot<S: DeserializeOwned>(&self) -> Result<Option<S>, StoreError> {
        self.read("snap", "snapshot")
    }

    /// Stores a snapshot covering the log up to `last_included`, then forgets those entries
    /// (whole segments below it are deleted).
    pub fn set_snapshot<S: Serialize>(
        &mut self,
        last_included: u64,
        snapshot: &S,
    ) -> Result<(), StoreError> {
        let bytes = postcard::to_allocvec(snapshot).map_err(StoreError::Encode)?;
        self.pending.insert("snap".to_owned(), bytes);
        self.meta.first = self.meta.first.max(last_included + 1);
        if self.tail.end() <= self.meta.first {
            // The whole log is covered: the next append starts a fresh one.
            let removed = std::mem::take(&mut self.meta.starts);
            self.forget_segments(removed);
            self.tail = Segment::starting_at(self.meta.first);
            self.tail_dirty = false;
            return Ok(());
        }
        // Segment `i` is dead if the next one starts at or below the first live index.
        let first = self.meta.first;
        let dead = self.meta.starts.windows(2).take_while(|pair| pair[1] <= first).count();
        let removed: Vec<u64> = self.meta.starts.drain(..dead).collect();
        self.forget_segments(removed);
        Ok(())
    }

    /// Deletes everything under this store's prefix.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        let keys: Vec<String> = (0..self.storage.length().unwrap_or(0))
            .filter_map(|i| self.storage.key(i).ok().flatten())
            .filter(|key| key.starts_with(&self.prefix))
            .collect();
        for key in keys {
            self.storage.remove_item(&key).map_err(|_| StoreError::WriteFailed)?;
        }
        self.meta = LogMeta::default();
        self.stored_meta = LogMeta::default();
        self.tail = Segment::default();
        self.tail_dirty = false;
        self.pending.clear();
        self.doomed.clear();
        Ok(())
    }

    /// Segments no longer in the log: not to be written, and deleted at the next flush.
    fn forget_segments(&mut self, starts: Vec<u64>) {
        for &start in &starts {
            self.pending.remove(&segment_name(start));
        }
        self.doomed.extend(starts);
    }

    fn load_segment(&self, start: u64) -> Result<Segment, StoreError> {
        let bytes = self
            .read_bytes(&segment_name(start))?
            .ok_or(StoreError::Corrupt("log (a segment is missing)"))?;
        Segment::decode(start, bytes).ok_or(StoreError::Corrupt("log segment"))
    }

    fn read<T: DeserializeOwned>(
        &self,
        name: &str,
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        match self.read_bytes(name)? {
            Some(bytes) => {
                postcard::from_bytes(&bytes).map(Some).map_err(|_| StoreError::Corrupt(what))
            }
            None => Ok(None),
        }
    }

    /// The value of `name`: the unflushed one if there is one, else the stored one.
    fn read_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(bytes) = self.pending.get(name) {
            return Ok(Some(bytes.clone()));
        }
        let value = self.storage.get_item(&self.key(name)).map_err(|_| StoreError::Unavailable)?;
        match value {
            Some(value) => text::decode(&value).map(Some).ok_or(StoreError::Corrupt("value")),
            None => Ok(None),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let value = self.utf16.decode(&text::encode(bytes));
        let storage: &StorageJs = self.storage.unchecked_ref();
        storage.set_item(&self.key(name), &value).map_err(|_| StoreError::WriteFailed)
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

fn segment_name(start: u64) -> String {
    format!("log/{start}")
}

/// This tab's sessionStorage.
pub fn session_storage() -> Result<Storage, StoreError> {
    web_sys::window()
        .and_then(|window| window.session_storage().ok().flatten())
        .ok_or(StoreError::Unavailable)
}

/// Consecutive entries from `start`, each framed as a varint length and its postcard bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Segment {
    start: u64,
    bytes: Vec<u8>,
    /// Where each entry's frame begins in `bytes`.
    offsets: Vec<usize>,
}

impl Segment {
    fn starting_at(start: u64) -> Self {
        Self { start, ..Self::default() }
    }

    fn decode(start: u64, bytes: Vec<u8>) -> Option<Self> {
        let mut offsets = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            offsets.push(at);
            let (len, header) = read_varint(&bytes[at..])?;
            at = at.checked_add(header)?.checked_add(len)?;
        }
        (at == bytes.len()).then_some(Self { start, bytes, offsets })
    }

    fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// One past the last index held.
    fn end(&self) -> u64 {
        self.start + self.offsets.len() as u64
    }

    fn push(&mut self, frame: &[u8]) {
        self.offsets.push(self.bytes.len());
        write_varint(&mut self.bytes, frame.len());
        self.bytes.extend_from_slice(frame);
    }

    /// Drops the entries at `index` and above.
    fn truncate(&mut self, index: u64) {
        let keep = index.saturating_sub(self.start) as usize;
        if let Some(&cut) = self.offsets.get(keep) {
            self.bytes.truncate(cut);
            self.offsets.truncate(keep);
        }
    }

    /// Each entry's index and postcard bytes.
    fn frames(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.offsets.iter().enumerate().filter_map(move |(i, &at)| {
            let (len, header) = read_varint(&self.bytes[at..])?;
            Some((self.start + i as u64, self.bytes.get(at + header..at + header + len)?))
        })
    }
}

fn write_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A LEB128 length and how many bytes it took; `None` if truncated or absurdly long.
fn read_varint(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

impl From<StoreError> for JsValue {
    fn from(error: StoreError) -> Self {
        JsValue::from_str(&error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_frame_and_truncate() {
        let mut segment = Segment::starting_at(10);
        for frame in [&b"a"[..], &[7u8; 200][..], b"ccc"] {
            segment.push(frame);
        }
        assert_eq!(segment.end(), 13);
        let decoded = Segment::decode(10, segment.bytes.clone()).unwrap();
        assert_eq!(decoded, segment);
        let frames: Vec<_> = decoded.frames().map(|(i, f)| (i, f.len())).collect();
        assert_eq!(frames, [(10, 1), (11, 200), (12, 3)]);
        segment.truncate(11);
        assert_eq!(segment.end(), 11);
        assert_eq!(Segment::decode(10, vec![5, 1]), None);
    }
}

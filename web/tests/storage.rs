//! Durable storage in a real browser's sessionStorage: a store written, then "reloaded" (a new
//! store object over the same sessionStorage, which is what a reload sees), reads back the same
//! state; and the node id survives a reload but not a duplicated tab.
#![cfg(target_arch = "wasm32")]

use flotilla_web::runtime::storage::identity::{self, Origin, NODE_ID_KEY};
use flotilla_web::runtime::storage::{session_storage, DurableStore, StoreError};
use serde::{Deserialize, Serialize};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct HardState {
    term: u64,
    voted_for: Option<u64>,
    commit: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    term: u64,
    index: u64,
    text: String,
}

fn entry(term: u64, index: u64) -> Entry {
    Entry { term, index, text: format!("entry {index} of term {term}, with some padding text") }
}

fn entries(term: u64, indexes: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
    indexes.map(|index| entry(term, index)).collect()
}

/// A store under `prefix`, emptied first so that test runs do not see each other.
fn fresh(prefix: &str) -> DurableStore {
    let mut store = DurableStore::open(prefix).expect("sessionStorage");
    store.wipe().expect("wipe");
    store
}

fn segment_keys(prefix: &str) -> usize {
    let storage = session_storage().expect("sessionStorage");
    let log = format!("{prefix}log/");
    (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(&log))
        .count()
}

#[wasm_bindgen_test]
fn state_survives_a_reload() {
    let prefix = "test/reload/";
    let mut store = fresh(prefix);
    let hard = HardState { term: 5, voted_for: Some(2), commit: 240 };
    store.set_hard_state(&hard).expect("write hard state");
    // Batches of different sizes, enough to fill several segments.
    let mut next = 1;
    for batch in [1u64, 7, 50, 1, 120, 121] {
        store.append(next, &entries(1, next..=next + batch - 1)).expect("append");
        next += batch;
    }
    // A new leader overwrites a conflicting suffix, from inside an earlier segment.
    store.append(250, &entries(2, 250..=260)).expect("truncate and append");
    store.flush().expect("flush");
    assert!(segment_keys(prefix) >= 3, "the log should span several segments");

    let reloaded = DurableStore::open(prefix).expect("reopen");
    assert_eq!(reloaded.hard_state::<HardState>().expect("read"), Some(hard));
    assert_eq!(reloaded.log_bounds(), Some((1, 260)));
    let (first, log) = reloaded.entries::<Entry>().expect("read log");
    let mut expected = entries(1, 1..=249);
    expected.extend(entries(2, 250..=260));
    assert_eq!((first, log), (1, expected));
}

#[wasm_bindgen_test]
fn a_snapshot_compacts_the_log_and_both_survive_a_reload() {
    let prefix = "test/snapshot/";
    let mut store = fresh(prefix);
    // Small batches, as at light load: segments of about `SEGMENT_BYTES` each.
    for first in (1..=400).step_by(10) {
        store.append(first, &entries(1, first..=first + 9)).expect("append");
    }
    store.flush().expect("flush");
    let before = segment_keys(prefix);
    store.set_snapshot(300, &("state up to 300".to_owned(), 300u64)).expect("snapshot");
    store.flush().expect("flush");
    assert!(segment_keys(prefix) < before, "whole segments below the snapshot are deleted");

    let mut reloaded = DurableStore::open(prefix).expect("reopen");
    assert_eq!(reloaded.snapshot().expect("read"), Some(("state up to 300".to_owned(), 300u64)));
    assert_eq!(reloaded.log_bounds(), Some((301, 400)));
    assert_eq!(reloaded.entries::<Entry>().expect("read").1, entries(1, 301..=400));

    // A snapshot past the end of the log (installed from the leader) empties it; the next
    // append starts there.
    reloaded.set_snapshot(500, &("state up to 500".to_owned(), 500u64)).expect("snapshot");
    reloaded.flush().expect("flush");
    assert_eq!(reloaded.log_bounds(), None);
    assert_eq!(segment_keys(prefix), 0);
    reloaded.append(501, &entries(3, 501..=503)).expect("append");
    reloaded.flush().expect("flush");
    let reloaded = DurableStore::open(prefix).expect("reopen");
    assert_eq!(reloaded.entries::<Entry>().expect("read"), (501, entries(3, 501..=503)));
}

#[wasm_bindgen_test]
fn a_burst_is_written_in_a_few_big_segments_and_survives_a_reload() {
    let prefix = "test/burst/";
    let mut store = fresh(prefix);
    // About 130 KB of entries in one batch: 65 segments of 2 KB, or 5 of up to 32 KB.
    store.append(1, &entries(1, 1..=2_000)).expect("append");
    store.flush().expect("flush");
    assert!(segment_keys(prefix) <= 6, "{} segments for one batch", segment_keys(prefix));
    // The tail left behind is small: appends after the burst go on from it.
    store.append(2_001, &entries(1, 2_001..=2_002)).expect("append");
    store.flush().expect("flush");
    let reloaded = DurableStore::open(prefix).expect("reopen");
    assert_eq!(reloaded.entries::<Entry>().expect("read"), (1, entries(1, 1..=2_002)));
}

#[wasm_bindgen_test]
fn foreign_data_is_an_error_not_a_panic() {
    let prefix = "test/corrupt/";
    let mut store = fresh(prefix);
    store.append(1, &entries(1, 1..=3)).expect("append");
    store.flush().expect("flush");
    let storage = session_storage().expect("sessionStorage");
    storage.set_item(&format!("{prefix}hard"), "not ours").expect("write");
    storage.set_item(&format!("{prefix}log/1"), "\u{3000}\u{3001}").expect("write");
    assert!(matches!(store.hard_state::<HardState>(), Err(StoreError::Corrupt(_))));
    assert!(matches!(DurableStore::open(prefix), Err(StoreError::Corrupt(_))));
}

#[wasm_bindgen_test]
fn nothing_is_written_before_a_flush() {
    let prefix = "test/flush/";
    let mut store = fresh(prefix);
    store.set_hard_state(&HardState { term: 1, voted_for: None, commit: 0 }).expect("set");
    store.append(1, &entries(1, 1..=100)).expect("append");
    // This object sees its own changes; storage does not have them yet.
    assert!(store.has_unflushed());
    assert_eq!(store.entries::<Entry>().expect("read").1.len(), 100);
    let unflushed = DurableStore::open(prefix).expect("reopen");
    assert_eq!(unflushed.hard_state::<HardState>().expect("read"), None);
    assert_eq!(unflushed.log_bounds(), None);
    store.flush().expect("flush");
    assert!(!store.has_unflushed());
    assert_eq!(DurableStore::open(prefix).expect("reopen").log_bounds(), Some((1, 100)));
}

#[wasm_bindgen_test]
fn a_flush_per_entry_costs_tens_of_microseconds() {
    let mut store = fresh("test/speed/");
    const APPENDS: u64 = 2_000;
    let start = js_sys::Date::now();
    for index in 1..=APPENDS {
        store.append(index, &[entry(1, index)]).expect("append");
        store.set_hard_state(&HardState { term: 1, voted_for: None, commit: index }).expect("set");
        store.flush().expect("flush");
    }
    let per_flush_us = (js_sys::Date::now() - start) * 1000.0 / APPENDS as f64;
    console_log!("append + hard state + flush, per entry: {per_flush_us:.1} us");
    // Generous: a debug build on a loaded machine (a release build measured about 60 us).
    assert!(per_flush_us < 1_000.0, "a flush took {per_flush_us} us");
}

#[wasm_bindgen_test]
async fn the_node_id_survives_a_reload_but_not_a_duplicated_tab() {
    let first = identity::claim().await.expect("claim");
    // While `first` lives, a tab that finds the same stored id is a duplicate.
    let duplicate = identity::claim().await.expect("claim");
    assert_eq!(duplicate.origin, Origin::Duplicated);
    assert_ne!(duplicate.node_id, first.node_id);
    assert_ne!(duplicate.node_id, 0);
    let stored = session_storage().expect("storage").get_item(NODE_ID_KEY).expect("read");
    assert_eq!(stored, Some(duplicate.node_id.to_string()));
    // When no live tab holds the stored id, it is ours again: a reload.
    let kept = duplicate.node_id;
    drop((first, duplicate));
    let reloaded = identity::claim().await.expect("claim");
    assert_eq!((reloaded.node_id, reloaded.origin), (kept, Origin::Restarted));
}

/// The core's own `DurableState::apply` is the reference for what each write means: the store,
/// after a flush and a reload, must give back exactly what applying the same writes gives.
#[wasm_bindgen_test]
fn core_writes_survive_a_reload_exactly_as_the_core_applies_them() {
    use flotilla_core::{DurableState, EntryPayload, Persist, RequestId};

    let prefix = "test/core/";
    let mut store = fresh(prefix);
    let mut reference = DurableState::<String>::default();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut last = 0u64;
    let mut term = 1u64;
    for round in 0..300u64 {
        let write = if next() % 4 == 0 {
            Persist::HardState { term, voted_for: Some(next() % 5), commit: last / 2 }
        } else {
            // Mostly appends at the end; sometimes a new term overwrites a suffix.
            let first =
                if last > 0 && next() % 5 == 0 { last - next() % last.min(30) } else { last + 1 };
            if first <= last {
                term += 1;
            }
            let count = 1 + next() % 12;
            let entries = (first..first + count)
                .map(|index| flotilla_core::Entry {
                    term,
                    index,
                    payload: if index % 7 == 0 {
                        EntryPayload::Noop
                    } else {
                        EntryPayload::Action {
                            request: RequestId { client: next() % 3, seq: round },
                            action: format!("action {index} in round {round}"),
                        }
                    },
                })
                .collect::<Vec<_>>();
            last = first + count - 1;
            Persist::Entries { entries }
        };
        store.persist(&write).expect("persist");
        reference.apply(&write);
        if next() % 3 == 0 {
            store.flush().expect("flush");
        }
    }
    store.flush().expect("flush");
    let reloaded = DurableStore::open(prefix).expect("reopen");
    assert_eq!(reloaded.durable_state::<String>().expect("load"), reference);
}

//! The readable trace of a run: one line per step worth seeing (faults, messages, role changes,
//! client calls and answers), each stamped with virtual time.
//!
//! Lines are formatted only when someone reads them: printed for `--trace`, or hashed so a test
//! can prove two runs of one seed identical. A plain run skips the formatting entirely.
use flotilla_core::reducers::kv::KvAction;
use flotilla_core::{Entry, EntryPayload, MessageBody, Millis, Persist, RequestId};
use std::io::{self, Write};

/// Where trace lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceMode {
    Off,
    /// Fold every line into a hash.
    Hash,
    /// Print every line to stdout, and hash it.
    Print,
    /// Keep every line (for a test to read), and hash it.
    Collect,
}

pub struct Trace {
    mode: TraceMode,
    /// FNV-1a over every line, in order.
    hash: u64,
    /// The lines, with `TraceMode::Collect`.
    lines: Vec<String>,
}

impl Trace {
    pub fn new(mode: TraceMode) -> Self {
        Trace { mode, hash: 0xcbf2_9ce4_8422_2325, lines: Vec::new() }
    }

    pub fn enabled(&self) -> bool {
        self.mode != TraceMode::Off
    }

    /// Records the line `line()` at time `now`; `line` runs only when the trace is on.
    pub fn line(&mut self, now: Millis, line: impl FnOnce() -> String) {
        if self.mode == TraceMode::Off {
            return;
        }
        let line = format!("{now:>7}ms {}", line());
        for byte in line.bytes().chain([b'\n']) {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        match self.mode {
            // A reader that stops early (`| head`) is no reason to fail the run.
            TraceMode::Print => drop(writeln!(io::stdout().lock(), "{line}")),
            TraceMode::Collect => self.lines.push(line),
            TraceMode::Off | TraceMode::Hash => {}
        }
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The lines kept (none unless collecting).
    pub fn into_lines(self) -> Vec<String> {
        self.lines
    }
}

/// A message body for the trace: appends list their entries compactly, one short item each,
/// since their `Debug` form would fill the screen.
pub fn describe_body(body: &MessageBody<KvAction>) -> String {
    match body {
        MessageBody::Append { prev_index, prev_term, commit, entries } => {
            let entries: Vec<String> = entries.iter().map(describe_entry).collect();
            format!(
                "Append {{ prev: {prev_index}@{prev_term}, commit: {commit}, entries: [{}] }}",
                entries.join(", ")
            )
        }
        MessageBody::Propose { request, action } => {
            format!("Propose {}", describe_action(*request, action))
        }
        MessageBody::InstallSnapshot { index, term, offset, total, data, .. } => {
            let end = offset + data.len() as u64;
            format!("InstallSnapshot {{ {index}@{term}, bytes {offset}..{end} of {total} }}")
        }
        other => format!("{other:?}"),
    }
}

/// A durable write, e.g. `entries 12..=15` or `hard state term 3 vote Some(2) commit 11`.
pub fn describe_persist(write: &Persist<KvAction>) -> String {
    // `if let` rather than `match`, so a write the core adds shows by its `Debug` form.
    if let Persist::HardState { term, voted_for, commit } = write {
        format!("hard state term {term} vote {voted_for:?} commit {commit}")
    } else if let Persist::Entries { entries } = write {
        match (entries.first(), entries.last()) {
            (Some(first), Some(last)) => format!("entries {}..={}", first.index, last.index),
            _ => "no entries".into(),
        }
    } else if let Persist::Snapshot { snapshot } = write {
        let (index, term, size) = (snapshot.index, snapshot.term, snapshot.data.len());
        format!("snapshot at {index}@{term} ({size} bytes, {})", snapshot.membership)
    } else {
        format!("{write:?}")
    }
}

/// An entry as `index@term what`, e.g. `12@3 c4/7 cas k2 Some(5)->9` or `13@3 Noop`.
pub fn describe_entry(entry: &Entry<KvAction>) -> String {
    let what = match &entry.payload {
        EntryPayload::Action { request, action } => describe_action(*request, action),
        other => format!("{other:?}"),
    };
    format!("{}@{} {what}", entry.index, entry.term)
}

/// A request as `client/seq action`, e.g. `c4/7 write k2=9`.
fn describe_action(request: RequestId, action: &KvAction) -> String {
    let action = match action {
        KvAction::Read { key } => format!("read k{key}"),
        KvAction::Write { key, value } => format!("write k{key}={value}"),
        KvAction::Cas { key, from, to } => format!("cas k{key} {from:?}->{to}"),
    };
    format!("c{}/{} {action}", request.client, request.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_are_summarized() {
        let request = RequestId { client: 4, seq: 7 };
        let action = KvAction::Cas { key: 2, from: Some(5), to: 9 };
        let entries = vec![
            Entry { index: 12, term: 3, payload: EntryPayload::Noop },
            Entry { index: 13, term: 3, payload: EntryPayload::Action { request, action } },
        ];
        let body = MessageBody::Append { prev_index: 11, prev_term: 2, commit: 10, entries };
        assert_eq!(
            describe_body(&body),
            "Append { prev: 11@2, commit: 10, entries: [12@3 Noop, 13@3 c4/7 cas k2 Some(5)->9] }"
        );
    }

    #[test]
    fn the_hash_covers_every_line() {
        let mut a = Trace::new(TraceMode::Hash);
        let mut b = Trace::new(TraceMode::Hash);
        a.line(1, || "x".into());
        b.line(1, || "y".into());
        assert_ne!(a.hash(), b.hash());
        let mut off = Trace::new(TraceMode::Off);
        off.line(1, || unreachable!("an off trace formats nothing"));
    }
}

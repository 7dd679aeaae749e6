//! The key-value client history: one record per finished or abandoned operation, in the JSON
//! lines format of the issue, so any linearizability checker can read it.
use flotilla_core::reducers::kv::{Key, Value};
use flotilla_core::Millis;
use std::fmt::Write as _;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// A read through the log (a proposal of `KvAction::Read`).
    Read,
    /// A read served without the log, by ReadIndex or the leader's lease: `"op":"read"` in the
    /// JSON history too, since to a checker a read is a read.
    IndexRead,
    Write,
    Cas,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// Took effect (for a cas: matched and wrote).
    Ok,
    /// A cas that ran and did not match: no effect, and the key held another value then.
    Fail,
    /// Never reached the cluster (every attempt was refused at once): no effect, no knowledge.
    Refused,
    /// Abandoned without an answer: it may or may not have taken effect.
    Unknown,
}

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub client: u64,
    pub kind: OpKind,
    pub key: Key,
    /// A write's value, a cas's new value, or the value a read returned (`None`: never written,
    /// or unknown).
    pub value: Option<Value>,
    /// A cas's expected value (`None`: expects the key never written).
    pub from: Option<Value>,
    pub result: OpResult,
    /// Virtual ms of the call and of the answer (or of abandonment, for `Unknown`).
    pub call: Millis,
    pub ret: Millis,
    /// Positions of the call and of the answer in the run's single sequence of client events:
    /// they order events within one ms, so the checker sees the exact real-time order.
    pub call_order: u64,
    pub ret_order: u64,
}

impl Op {
    /// The JSON line of this operation (without the newline).
    pub fn json(&self) -> String {
        let kind = match self.kind {
            OpKind::Read | OpKind::IndexRead => "read",
            OpKind::Write => "write",
            OpKind::Cas => "cas",
        };
        let result = match self.result {
            OpResult::Ok => "ok",
            // Both took no effect, which is what "fail" means to a checker reading the file.
            OpResult::Fail | OpResult::Refused => "fail",
            OpResult::Unknown => "unknown",
        };
        let mut line = String::with_capacity(128);
        let _ = write!(
            line,
            r#"{{"client":{},"op":"{}","key":{},"value":{},"from":{},"result":"{}","call":{},"return":{}}}"#,
            self.client,
            kind,
            self.key,
            json_option(self.value),
            json_option(self.from),
            result,
            self.call,
            self.ret
        );
        line
    }
}

fn json_option(value: Option<Value>) -> String {
    value.map_or_else(|| "null".into(), |v| v.to_string())
}

/// Writes `ops` as JSON lines, in call order.
pub fn write_json_lines(ops: &[Op], out: &mut impl Write) -> io::Result<()> {
    let mut sorted: Vec<&Op> = ops.iter().collect();
    sorted.sort_by_key(|op| op.call_order);
    for op in sorted {
        writeln!(out, "{}", op.json())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_has_the_exact_format() {
        let op = Op {
            client: 3,
            kind: OpKind::Cas,
            key: 2,
            value: Some(9),
            from: None,
            result: OpResult::Unknown,
            call: 100,
            ret: 2100,
            call_order: 1,
            ret_order: 2,
        };
        assert_eq!(
            op.json(),
            r#"{"client":3,"op":"cas","key":2,"value":9,"from":null,"result":"unknown","call":100,"return":2100}"#
        );
    }
}

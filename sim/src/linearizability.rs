//! Linearizability of the key-value history, checked with the Wing–Gong–Lowe checker of the
//! `todc-utils` crate.
//!
//! A map of registers is linearizable iff each key's register is (linearizability is local,
//! Herlihy & Wing), so each key is checked alone: the search is exponential in the number of
//! concurrent operations, and per-key histories keep it small.
//!
//! Indeterminate operations (`unknown`) follow Jepsen's rule: their answer comes after every
//! other event, so the checker may place them anywhere after their call, including "never"
//! (last, where nothing observes them). An unknown read tells nothing and is left out, as are
//! operations refused before they reached the cluster.
use crate::history::{Op, OpKind, OpResult};
use flotilla_core::reducers::kv::{Key, Value};
use std::collections::BTreeMap;
use todc_utils::linearizability::history::{Action, History};
use todc_utils::linearizability::WGLChecker;
use todc_utils::Specification;

/// What one register operation did, as the sequential specification sees it.
#[derive(Clone, Debug)]
enum RegisterOp {
    Read(Option<Value>),
    Write(Value),
    /// A cas and whether it matched; `None` when its outcome is unknown.
    Cas {
        from: Option<Value>,
        to: Value,
        matched: Option<bool>,
    },
}

/// A register that starts unwritten (`None`).
struct Register;

impl Specification for Register {
    type State = Option<Value>;
    type Operation = RegisterOp;

    fn init() -> Self::State {
        None
    }

    fn apply(op: &RegisterOp, state: &Option<Value>) -> (bool, Option<Value>) {
        match *op {
            RegisterOp::Read(value) => (value == *state, *state),
            RegisterOp::Write(value) => (true, Some(value)),
            RegisterOp::Cas { from, to, matched: Some(true) } => (*state == from, Some(to)),
            RegisterOp::Cas { from, matched: Some(false), .. } => (*state != from, *state),
            // Placed here, an unknown cas acts as a cas would; "it never happened" is the
            // placement after everything else.
            RegisterOp::Cas { from, to, matched: None } => {
                (true, if *state == from { Some(to) } else { *state })
            }
        }
    }
}

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// The first key (in key order) whose register history has no linearization.
    NotLinearizable {
        key: Key,
    },
}

/// Checks a whole key-value history, key by key.
pub fn check(ops: &[Op]) -> Verdict {
    let mut by_key: BTreeMap<Key, Vec<&Op>> = BTreeMap::new();
    for op in ops {
        by_key.entry(op.key).or_default().push(op);
    }
    for (key, ops) in by_key {
        if !register_is_linearizable(&ops) {
            return Verdict::NotLinearizable { key };
        }
    }
    Verdict::Linearizable
}

fn register_is_linearizable(ops: &[&Op]) -> bool {
    // (position in real time, process, action); each operation is its own process, since the
    // checker pairs calls and answers per process in order and an abandoned operation's answer
    // comes after its client's next call.
    let mut events: Vec<(u64, usize, Action<RegisterOp>)> = Vec::with_capacity(ops.len() * 2);
    for (process, op) in ops.iter().enumerate() {
        let Some(register_op) = register_op(op) else { continue };
        let answered_at = match op.result {
            OpResult::Unknown => u64::MAX,
            OpResult::Ok | OpResult::Fail | OpResult::Refused => op.ret_order,
        };
        events.push((op.call_order, process, Action::Call(register_op.clone())));
        events.push((answered_at, process, Action::Response(register_op)));
    }
    if events.is_empty() {
        return true;
    }
    events.sort_by_key(|(at, process, _)| (*at, *process));
    let actions = events.into_iter().map(|(_, process, action)| (process, action)).collect();
    WGLChecker::<Register>::is_linearizable(History::from_actions(actions))
}

/// The register operation `op` stands for, or `None` when it tells the checker nothing.
fn register_op(op: &Op) -> Option<RegisterOp> {
    match (op.kind, op.result) {
        (_, OpResult::Refused) => None,
        (OpKind::Read | OpKind::IndexRead, OpResult::Ok) => Some(RegisterOp::Read(op.value)),
        (OpKind::Read | OpKind::IndexRead, _) => None,
        (OpKind::Write, OpResult::Fail) => None,
        (OpKind::Write, _) => Some(RegisterOp::Write(op.value?)),
        (OpKind::Cas, result) => Some(RegisterOp::Cas {
            from: op.from,
            to: op.value?,
            matched: match result {
                OpResult::Ok => Some(true),
                OpResult::Fail => Some(false),
                _ => None,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operation by its own client on key 0, called at `call` and answered at `ret` (used as
    /// both the ms and the step).
    fn op(kind: OpKind, value: Option<Value>, result: OpResult, call: u64, ret: u64) -> Op {
        Op {
            client: call,
            kind,
            key: 0,
            value,
            from: None,
            result,
            call,
            ret,
            call_order: call,
            ret_order: ret,
        }
    }

    #[test]
    fn sequential_history_is_linearizable() {
        let ops = [
            op(OpKind::Read, None, OpResult::Ok, 0, 1),
            op(OpKind::Write, Some(1), OpResult::Ok, 2, 3),
            op(OpKind::Read, Some(1), OpResult::Ok, 4, 5),
        ];
        assert_eq!(check(&ops), Verdict::Linearizable);
    }

    #[test]
    fn stale_read_is_caught() {
        let ops = [
            op(OpKind::Write, Some(1), OpResult::Ok, 0, 1),
            op(OpKind::Write, Some(2), OpResult::Ok, 2, 3),
            op(OpKind::Read, Some(1), OpResult::Ok, 4, 5),
        ];
        assert_eq!(check(&ops), Verdict::NotLinearizable { key: 0 });
    }

    #[test]
    fn unknown_write_may_take_effect_late_or_never() {
        let unknown = op(OpKind::Write, Some(7), OpResult::Unknown, 0, 1);
        let read = |value, at| op(OpKind::Read, value, OpResult::Ok, at, at + 1);
        // Seen long after it was abandoned.
        assert_eq!(
            check(&[unknown.clone(), read(None, 2), read(Some(7), 10)]),
            Verdict::Linearizable
        );
        // Never seen.
        assert_eq!(check(&[unknown.clone(), read(None, 2)]), Verdict::Linearizable);
        // But once seen, it cannot be unseen.
        assert_eq!(
            check(&[unknown, read(Some(7), 2), read(None, 4)]),
            Verdict::NotLinearizable { key: 0 }
        );
    }

    #[test]
    fn cas_must_match_to_win() {
        let mut cas = op(OpKind::Cas, Some(5), OpResult::Ok, 2, 3);
        cas.from = Some(1);
        let write = op(OpKind::Write, Some(1), OpResult::Ok, 0, 1);
        assert_eq!(check(&[write.clone(), cas.clone()]), Verdict::Linearizable);
        let other = op(OpKind::Write, Some(2), OpResult::Ok, 0, 1);
        assert_eq!(check(&[other.clone(), cas.clone()]), Verdict::NotLinearizable { key: 0 });
        cas.result = OpResult::Fail;
        assert_eq!(check(&[other, cas.clone()]), Verdict::Linearizable);
        assert_eq!(check(&[write, cas]), Verdict::NotLinearizable { key: 0 });
    }

    #[test]
    fn a_refused_cas_says_nothing_about_the_value() {
        let write = op(OpKind::Write, Some(1), OpResult::Ok, 0, 1);
        let mut cas = op(OpKind::Cas, Some(5), OpResult::Refused, 2, 3);
        cas.from = Some(1);
        assert_eq!(check(&[write, cas]), Verdict::Linearizable);
    }

    #[test]
    fn keys_are_independent() {
        let mut other_key = op(OpKind::Read, Some(1), OpResult::Ok, 4, 5);
        other_key.key = 1;
        let ops = [op(OpKind::Write, Some(1), OpResult::Ok, 0, 1), other_key];
        assert_eq!(check(&ops), Verdict::NotLinearizable { key: 1 });
    }
}

//! A key-value register with read / write / compare-and-set, for the linearizability workload.
//! Reads go through the log for now (ReadIndex comes with issue 3), so every operation is an
//! action and every answer is the output of applying it.
use crate::Reducer;
use alloc::collections::BTreeMap;
use core::convert::Infallible;
use serde::{Deserialize, Serialize};

pub type Key = u64;
pub type Value = u64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvAction {
    Read { key: Key },
    Write { key: Key, value: Value },
    Cas { key: Key, from: Option<Value>, to: Value },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOutput {
    /// The value read (None when the key was never written).
    Read(Option<Value>),
    Written,
    /// Whether the compare-and-set matched and wrote.
    Cas(bool),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    pub values: BTreeMap<Key, Value>,
}

#[derive(Clone, Copy, Debug)]
pub struct Kv;

impl Reducer for Kv {
    type State = KvState;
    type Action = KvAction;
    /// Every operation is valid whatever the state, so the intent is the action itself.
    type Intent = KvAction;
    type Rejection = Infallible;
    type Output = KvOutput;

    fn reduce(state: &mut KvState, action: &KvAction) -> KvOutput {
        match *action {
            KvAction::Read { key } => KvOutput::Read(state.values.get(&key).copied()),
            KvAction::Write { key, value } => {
                state.values.insert(key, value);
                KvOutput::Written
            }
            KvAction::Cas { key, from, to } => {
                let matched = state.values.get(&key).copied() == from;
                if matched {
                    state.values.insert(key, to);
                }
                KvOutput::Cas(matched)
            }
        }
    }

    fn method(_: &KvState, intent: KvAction) -> Result<KvAction, Infallible> {
        Ok(intent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_writes_only_when_the_expected_value_matches() {
        let mut state = KvState::default();
        assert_eq!(Kv::reduce(&mut state, &KvAction::Read { key: 1 }), KvOutput::Read(None));
        let first = KvAction::Cas { key: 1, from: None, to: 5 };
        assert_eq!(Kv::reduce(&mut state, &first), KvOutput::Cas(true));
        assert_eq!(Kv::reduce(&mut state, &first), KvOutput::Cas(false));
        assert_eq!(
            Kv::reduce(&mut state, &KvAction::Write { key: 1, value: 7 }),
            KvOutput::Written
        );
        let stale = KvAction::Cas { key: 1, from: Some(5), to: 9 };
        assert_eq!(Kv::reduce(&mut state, &stale), KvOutput::Cas(false));
        assert_eq!(Kv::reduce(&mut state, &KvAction::Read { key: 1 }), KvOutput::Read(Some(7)));
    }
}

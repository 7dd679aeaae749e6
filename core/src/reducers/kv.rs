//! SKELETON: a key-value register with read / write / compare-and-set, for the
//! linearizability workload. Reads go through the log (ReadIndex comes with issue 3).
use alloc::collections::BTreeMap;
use serde::{Deserialize, Serialize};

pub type Key = u64;
pub type Value = u64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvAction {
    Read { key: Key },
    Write { key: Key, value: Value },
    Cas { key: Key, from: Option<Value>, to: Value },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOutput {
    /// The value read (None when the key was never written).
    Read(Option<Value>),
    Written,
    /// Whether the compare-and-set matched and wrote.
    Cas(bool),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvState {
    pub values: BTreeMap<Key, Value>,
}

pub struct Kv;

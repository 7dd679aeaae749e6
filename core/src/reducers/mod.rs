//! SKELETON: the two reducers Flotilla ships.
pub mod kv;
pub mod shared_log;

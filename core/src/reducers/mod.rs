//! The two reducers Flotilla ships: [`shared_log::SharedLog`], the collaborative log the web app
//! shows, and [`kv::Kv`], the register the simulator's linearizability workload drives.
pub mod kv;
pub mod shared_log;

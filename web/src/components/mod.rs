//! The Yew components of the UI, one file per component. The status page in [`crate::app`]
//! needs none yet; the Raft views (ring, log grid, shared log, timeline) will live here.

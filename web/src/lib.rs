//! Flotilla in the browser: every tab is a Raft node, and the tabs talk over WebRTC.
//!
//! # Layout
//! - [`transport`]: the signaling client and the WebRTC full mesh that carries frames between
//!   tabs.
//! - [`runtime`]: what the tab gives its node: durable storage, the node id, a Worker timer.
//! - [`components`]: the Yew UI.
//! - [`app`]: the page's root component.
//! - [`view`]: the view model between runtime and UI: plain data in, commands out.
//!
//! The binary (`main.rs`) only mounts [`app::App`]; everything else lives here so the browser
//! tests can reach it.
pub mod app;
pub mod components;
pub mod runtime;
pub mod transport;
pub mod view;

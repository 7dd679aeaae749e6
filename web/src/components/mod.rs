//! The Yew components of the UI, one file per component, each rendering from plain view-model
//! data ([`crate::view`]) and asking for changes only through a `Callback<Command>`.
//!
//! - [`dashboard`]: the page: header, panels, help overlay, keyboard shortcuts.
//! - [`ring`], [`log_grid`], [`shared_log`], [`timeline`], [`inspector`], [`gossip`],
//!   [`stats`], [`controls`], [`header`], [`help`]: the panels and bars it is made of.
//! - [`panel`]: the card every panel sits in; [`shortcuts`]: the keyboard hook.
//! - [`paint`] and [`format`]: colours, labels and number formats shared by all of them.
//! - [`demo`]: a made-up cluster for `?demo` and for tests.
pub mod controls;
pub mod dashboard;
pub mod demo;
pub mod format;
pub mod gossip;
pub mod header;
pub mod help;
pub mod inspector;
pub mod log_grid;
pub mod paint;
pub mod panel;
pub mod ring;
pub mod shared_log;
pub mod shortcuts;
pub mod stats;
pub mod timeline;

/// The newest `n` of `items` (the end of the slice), cloned: what a panel that shows the recent
/// part of a growing list gets as props, so that a long session costs the same per frame as a
/// short one.
pub fn newest<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    items[items.len().saturating_sub(n)..].to_vec()
}

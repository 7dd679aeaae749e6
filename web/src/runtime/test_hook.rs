//! `window.flotilla`: what the end-to-end suite (issue 6) reads and drives in each tab.
//!
//! Getters read the live node, not the last rendered view, so they are exact and work in hidden
//! tabs (which render nothing). Ids are JavaScript numbers (node ids are below 2^53).
//!
//! | member                          | what                                                  |
//! |---------------------------------|-------------------------------------------------------|
//! | `ready`                         | the node has started                                  |
//! | `nodeId`, `name`, `room`        | who this tab is                                       |
//! | `role`, `leader`, `term`        | `"follower"`, `"precandidate"`, `"candidate"`, `"leader"`; leader id or `null` |
//! | `commit`, `applied`, `lastIndex`| the node's indexes                                    |
//! | `committedCount`                | posts in the committed shared log                     |
//! | `snapshotIndex`                 | the index the latest snapshot covers, 0 if none        |
//! | `signaling`                     | `"connecting"`, `"connected"` (in the room) or `"disconnected"` (retrying) |
//! | `links`                         | node ids this tab has an open data channel to         |
//! | `voters`, `learners`, `members` | the configuration in force (arrays of ids)            |
//! | `isMember`, `paused`, `isolated`| this tab's state                                      |
//! | `lastElection`                  | `{term, leader, durationMs, at}` of the last leader change seen here, or `null` |
//! | `append(text)`                  | Promise of the committed index (rejects with the error) |
//! | `burst(n)`                      | Promise of `{committed, failed, lastIndex, firstError}` once all `n` settled |
//! | `posts(from?, count?)`          | committed posts `[{author, text, at}]` (default: all)  |
//! | `stats()`                       | `{commitsPerS, latencyP50Ms, latencyP99Ms, totalCommits, messagesIn, messagesOut, droppedFrames, badFrames}` |
//! | `clearStats()`                  | forgets the latency samples                          |
//! | `timeline()`                    | the timeline `[{at, kind, text}]` (as the UI shows it) |
//! | `pause()`, `resume()`, `isolate()`, `heal()` | as the UI's controls                     |
//! | `command(json)`                 | any UI command, e.g. `{"SetDeadAfter": 5000}`        |
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use flotilla_core::Role;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::driver::{Driver, Input, Settle};
use super::Shared;
use crate::components::paint::timeline_label;
use crate::view::Command;

/// Sets `window.flotilla` to a hook on this runtime.
pub(crate) fn install(shared: Weak<Shared>) {
    let Some(window) = web_sys::window() else { return };
    let hook = JsValue::from(FlotillaHook::new(shared));
    // Fails only on a frozen window object: then there is no hook, and nothing else breaks.
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str("flotilla"), &hook);
}

/// The object behind `window.flotilla`.
#[wasm_bindgen]
pub struct FlotillaHook {
    shared: Weak<Shared>,
}

// The values are built as JavaScript objects directly rather than as `serde_json::Value`s
// stringified and parsed back: that kept serde_json's `Value` (its parser, printer and map) in the
// release bundle for this hook alone, about 4 KB gzip.

/// A plain object with these properties, in this order.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        // Cannot fail on a fresh plain object.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

/// A number as JSON would give it: NaN and the infinities become `null`.
fn number(value: f64) -> JsValue {
    if value.is_finite() {
        JsValue::from_f64(value)
    } else {
        JsValue::NULL
    }
}

/// An integer (ids, indexes, counts, milliseconds) as a JavaScript number.
fn integer(value: u64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// An array of ids.
fn ids(ids: impl IntoIterator<Item = u64>) -> JsValue {
    ids.into_iter().map(integer).collect::<Array>().into()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::PreCandidate => "precandidate",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// A promise and its two settling functions.
fn promise() -> (Promise, Function, Function) {
    let mut functions = None;
    let promise = Promise::new(&mut |resolve, reject| functions = Some((resolve, reject)));
    let (resolve, reject) = functions.expect("the Promise executor runs synchronously");
    (promise, resolve, reject)
}

/// Tallies the outcomes of a burst, and resolves its promise once all are in.
struct Burst {
    remaining: u32,
    committed: u32,
    failed: u32,
    last_index: u64,
    first_error: Option<String>,
    resolve: Function,
}

impl Burst {
    fn settle(&mut self, outcome: Result<u64, String>) {
        match outcome {
            Ok(index) => {
                self.committed += 1;
                self.last_index = self.last_index.max(index);
            }
            Err(error) => {
                self.failed += 1;
                self.first_error.get_or_insert(error);
            }
        }
        self.remaining -= 1;
        if self.remaining == 0 {
            let result = object(&[
                ("committed", self.committed.into()),
                ("failed", self.failed.into()),
                ("lastIndex", integer(self.last_index)),
                (
                    "firstError",
                    self.first_error.as_deref().map_or(JsValue::NULL, JsValue::from_str),
                ),
            ]);
            let _ = self.resolve.call1(&JsValue::NULL, &result);
        }
    }
}

impl FlotillaHook {
    pub(crate) fn new(shared: Weak<Shared>) -> Self {
        FlotillaHook { shared }
    }

    fn read<T>(&self, read: impl FnOnce(&Driver) -> T) -> Option<T> {
        self.shared.upgrade()?.with_driver(read)
    }

    fn input(&self, input: Input) -> bool {
        match self.shared.upgrade() {
            Some(shared) => {
                shared.input(input);
                true
            }
            None => false,
        }
    }

    fn run(&self, command: Command) {
        self.input(Input::Command(command));
    }
}

#[wasm_bindgen]
impl FlotillaHook {
    #[wasm_bindgen(getter)]
    pub fn ready(&self) -> bool {
        self.read(|_| ()).is_some()
    }

    #[wasm_bindgen(getter, js_name = nodeId)]
    pub fn node_id(&self) -> Option<f64> {
        self.read(|d| d.id.node as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> Option<String> {
        self.read(|d| d.id.name.clone())
    }

    #[wasm_bindgen(getter)]
    pub fn room(&self) -> Option<String> {
        self.read(|d| d.id.room.clone())
    }

    #[wasm_bindgen(getter)]
    pub fn role(&self) -> Option<String> {
        self.read(|d| role_name(d.node.status().role).to_owned())
    }

    #[wasm_bindgen(getter)]
    pub fn leader(&self) -> Option<f64> {
        self.read(|d| d.node.status().leader.map(|id| id as f64)).flatten()
    }

    #[wasm_bindgen(getter)]
    pub fn term(&self) -> Option<f64> {
        self.read(|d| d.node.status().term as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn commit(&self) -> Option<f64> {
        self.read(|d| d.node.status().commit as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn applied(&self) -> Option<f64> {
        self.read(|d| d.node.status().applied as f64)
    }

    #[wasm_bindgen(getter, js_name = lastIndex)]
    pub fn last_index(&self) -> Option<f64> {
        self.read(|d| d.node.status().last_index as f64)
    }

    #[wasm_bindgen(getter, js_name = committedCount)]
    pub fn committed_count(&self) -> Option<f64> {
        self.read(|d| d.node.committed_state().posts.len() as f64)
    }

    #[wasm_bindgen(getter, js_name = snapshotIndex)]
    pub fn snapshot_index(&self) -> Option<f64> {
        self.read(|d| d.snapshot_index as f64)
    }

    #[wasm_bindgen(getter)]
    pub fn signaling(&self) -> Option<String> {
        self.read(|d| d.signaling.as_str().to_owned())
    }

    #[wasm_bindgen(getter)]
    pub fn links(&self) -> JsValue {
        self.read(|d| ids(d.linked_nodes())).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter)]
    pub fn voters(&self) -> JsValue {
        self.read(|d| ids(d.node.membership().voters().iter().copied())).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter)]
    pub fn learners(&self) -> JsValue {
        self.read(|d| ids(d.node.membership().learners().iter().copied())).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter)]
    pub fn members(&self) -> JsValue {
        self.read(|d| ids(d.node.membership().members())).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter, js_name = isMember)]
    pub fn is_member(&self) -> bool {
        self.read(|d| d.node.membership().is_member(d.id.node)).unwrap_or(false)
    }

    #[wasm_bindgen(getter)]
    pub fn paused(&self) -> bool {
        self.read(|d| d.paused).unwrap_or(false)
    }

    #[wasm_bindgen(getter)]
    pub fn isolated(&self) -> bool {
        self.read(|d| d.isolated).unwrap_or(false)
    }

    #[wasm_bindgen(getter, js_name = lastElection)]
    pub fn last_election(&self) -> JsValue {
        self.read(|d| {
            d.obs.last_election.map(|e| {
                object(&[
                    ("term", integer(e.term)),
                    ("leader", integer(e.leader)),
                    ("durationMs", e.duration_ms.map_or(JsValue::NULL, number)),
                    ("at", number(e.at)),
                ])
            })
        })
        .flatten()
        .unwrap_or(JsValue::NULL)
    }

    /// Appends one post by this tab; resolves with its committed index.
    pub fn append(&self, text: String) -> Promise {
        let (promise, resolve, reject) = promise();
        let settle: Settle = Box::new(move |outcome| {
            let _ = match outcome {
                Ok(index) => resolve.call1(&JsValue::NULL, &JsValue::from_f64(index as f64)),
                Err(error) => reject.call1(&JsValue::NULL, &JsValue::from_str(&error)),
            };
        });
        if !self.input(Input::Propose(vec![(text, settle)])) {
            return Promise::reject(&JsValue::from_str("the runtime has stopped"));
        }
        promise
    }

    /// Appends `count` posts at once (one batch); resolves when every one has settled.
    pub fn burst(&self, count: u32) -> Promise {
        let (promise, resolve, _) = promise();
        if count == 0 {
            let result = object(&[("committed", 0.into()), ("failed", 0.into())]);
            let _ = resolve.call1(&JsValue::NULL, &result);
            return promise;
        }
        let burst = Rc::new(RefCell::new(Burst {
            remaining: count,
            committed: 0,
            failed: 0,
            last_index: 0,
            first_error: None,
            resolve,
        }));
        let posts = (1..=count)
            .map(|i| {
                let burst = burst.clone();
                let settle: Settle = Box::new(move |outcome| burst.borrow_mut().settle(outcome));
                (format!("burst {i}/{count}"), settle)
            })
            .collect();
        if !self.input(Input::Propose(posts)) {
            return Promise::reject(&JsValue::from_str("the runtime has stopped"));
        }
        promise
    }

    /// Committed posts from position `from` (default 0), at most `count` (default all).
    pub fn posts(&self, from: Option<u32>, count: Option<u32>) -> JsValue {
        self.read(|d| {
            let posts = &d.node.committed_state().posts;
            let from = (from.unwrap_or(0) as usize).min(posts.len());
            let count = count.map_or(posts.len(), |c| c as usize);
            let list: Array = posts[from..]
                .iter()
                .take(count)
                .map(|p| {
                    object(&[
                        ("author", JsValue::from_str(&p.author)),
                        ("text", JsValue::from_str(&p.text)),
                        ("at", integer(p.at)),
                    ])
                })
                .collect();
            list.into()
        })
        .unwrap_or(JsValue::NULL)
    }

    pub fn stats(&self) -> JsValue {
        let Some(shared) = self.shared.upgrade() else { return JsValue::NULL };
        let Ok(mut slot) = shared.driver.try_borrow_mut() else { return JsValue::NULL };
        let Some(driver) = slot.as_mut() else { return JsValue::NULL };
        let view = driver.stats.view(super::ticker::now());
        let stats = &driver.stats;
        object(&[
            ("commitsPerS", number(view.commits_per_s)),
            ("latencyP50Ms", number(view.latency_p50_ms)),
            ("latencyP99Ms", number(view.latency_p99_ms)),
            ("totalCommits", integer(stats.total_commits)),
            ("messagesIn", integer(stats.total_messages_in)),
            ("messagesOut", integer(stats.total_messages_out)),
            ("droppedFrames", integer(stats.dropped_frames)),
            ("badFrames", integer(stats.bad_frames)),
        ])
    }

    pub fn timeline(&self) -> JsValue {
        self.read(|d| {
            let events: Array = d
                .obs
                .timeline
                .iter()
                .map(|e| {
                    object(&[
                        ("at", number(e.at)),
                        ("kind", JsValue::from_str(timeline_label(e.kind))),
                        ("text", JsValue::from_str(&e.text)),
                    ])
                })
                .collect();
            events.into()
        })
        .unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(js_name = clearStats)]
    pub fn clear_stats(&self) {
        if let Some(shared) = self.shared.upgrade() {
            if let Ok(mut slot) = shared.driver.try_borrow_mut() {
                if let Some(driver) = slot.as_mut() {
                    driver.stats.clear_latencies();
                }
            }
        }
    }

    pub fn pause(&self) {
        self.run(Command::SetPaused(true));
    }

    pub fn resume(&self) {
        self.run(Command::SetPaused(false));
    }

    pub fn isolate(&self) {
        self.run(Command::SetIsolated(true));
    }

    pub fn heal(&self) {
        self.run(Command::SetIsolated(false));
    }

    /// Any UI command as JSON (serde's external tagging): `"StepDown"`,
    /// `{"SetDeadAfter": 5000}`, `{"TransferLeadership": 12345}`, ...
    pub fn command(&self, json: &str) -> Result<(), JsValue> {
        let command = parse_command(json).map_err(|e| JsValue::from_str(&e))?;
        self.run(command);
        Ok(())
    }
}

/// The UI commands the hook accepts as JSON. Numbers must be non-negative integers.
fn parse_command(json: &str) -> Result<Command, String> {
    let value = js_sys::JSON::parse(json).map_err(|e| format!("not JSON: {}", describe(&e)))?;
    let number = |v: &JsValue| {
        v.as_f64()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= u64::MAX as f64)
            .map(|n| n as u64)
            .ok_or_else(|| format!("not a number: {}", describe(v)))
    };
    let field =
        |v: &JsValue, name: &str| Reflect::get(v, &JsValue::from_str(name)).unwrap_or_default();
    if let Some(name) = value.as_string() {
        return match name.as_str() {
            "StepDown" => Ok(Command::StepDown),
            "CompactNow" => Ok(Command::CompactNow),
            "WipeAndReload" => Ok(Command::WipeAndReload),
            other => Err(format!("unknown command {other}")),
        };
    }
    let keys = if value.is_object() && !Array::is_array(&value) {
        Object::keys(value.unchecked_ref::<Object>())
    } else {
        Array::new()
    };
    if keys.length() != 1 {
        return Err(format!("not a command: {}", describe(&value)));
    }
    let name = keys.get(0).as_string().unwrap_or_default();
    let arg = field(&value, &name);
    match name.as_str() {
        "Append" => Ok(Command::Append(arg.as_string().unwrap_or_default())),
        "Burst" => Ok(Command::Burst(number(&arg)?.min(u32::MAX as u64) as u32)),
        "TransferLeadership" => Ok(Command::TransferLeadership(number(&arg)?)),
        "SetPaused" => Ok(Command::SetPaused(arg.as_bool().unwrap_or(false))),
        "SetIsolated" => Ok(Command::SetIsolated(arg.as_bool().unwrap_or(false))),
        "SetDeadAfter" => Ok(Command::SetDeadAfter(number(&arg)?)),
        "SetTimings" => Ok(Command::SetTimings {
            election_timeout_min_ms: number(&field(&arg, "election_timeout_min_ms"))?,
            election_timeout_max_ms: number(&field(&arg, "election_timeout_max_ms"))?,
            heartbeat_ms: number(&field(&arg, "heartbeat_ms"))?,
        }),
        other => Err(format!("unknown command {other}")),
    }
}

/// A value as JSON text for an error message (`undefined` for what JSON cannot show).
fn describe(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "undefined".into())
}

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
use js_sys::{Function, Promise};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use super::driver::{Driver, Input, Settle};
use super::Shared;
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

fn to_js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
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
            let result = json!({
                "committed": self.committed,
                "failed": self.failed,
                "lastIndex": self.last_index,
                "firstError": self.first_error,
            });
            let _ = self.resolve.call1(&JsValue::NULL, &to_js(&result));
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
        self.read(|d| to_js(&json!(d.linked_nodes().collect::<Vec<_>>()))).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter)]
    pub fn voters(&self) -> JsValue {
        self.read(|d| to_js(&json!(d.node.membership().voters()))).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter)]
    pub fn learners(&self) -> JsValue {
        self.read(|d| to_js(&json!(d.node.membership().learners()))).unwrap_or(JsValue::NULL)
    }

    #[wasm_bindgen(getter)]
    pub fn members(&self) -> JsValue {
        self.read(|d| {
            let members: Vec<u64> = d.node.membership().members().collect();
            to_js(&json!(members))
        })
        .unwrap_or(JsValue::NULL)
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
                to_js(&json!({
                    "term": e.term,
                    "leader": e.leader,
                    "durationMs": e.duration_ms,
                    "at": e.at,
                }))
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
            let _ = resolve.call1(&JsValue::NULL, &to_js(&json!({"committed": 0, "failed": 0})));
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
            let list: Vec<Value> = posts[from..]
                .iter()
                .take(count)
                .map(|p| json!({"author": p.author, "text": p.text, "at": p.at}))
                .collect();
            to_js(&Value::Array(list))
        })
        .unwrap_or(JsValue::NULL)
    }

    pub fn stats(&self) -> JsValue {
        let Some(shared) = self.shared.upgrade() else { return JsValue::NULL };
        let Ok(mut slot) = shared.driver.try_borrow_mut() else { return JsValue::NULL };
        let Some(driver) = slot.as_mut() else { return JsValue::NULL };
        let view = driver.stats.view(super::ticker::now());
        let stats = &driver.stats;
        to_js(&json!({
            "commitsPerS": view.commits_per_s,
            "latencyP50Ms": view.latency_p50_ms,
            "latencyP99Ms": view.latency_p99_ms,
            "totalCommits": stats.total_commits,
            "messagesIn": stats.total_messages_in,
            "messagesOut": stats.total_messages_out,
            "droppedFrames": stats.dropped_frames,
            "badFrames": stats.bad_frames,
        }))
    }

    pub fn timeline(&self) -> JsValue {
        self.read(|d| {
            let events: Vec<Value> = d
                .obs
                .timeline
                .iter()
                .map(|e| json!({"at": e.at, "kind": format!("{:?}", e.kind), "text": e.text}))
                .collect();
            to_js(&Value::Array(events))
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

/// The UI commands the hook accepts as JSON.
fn parse_command(json: &str) -> Result<Command, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let number = |v: &Value| v.as_u64().ok_or_else(|| format!("not a number: {v}"));
    match &value {
        Value::String(name) => match name.as_str() {
            "StepDown" => Ok(Command::StepDown),
            "CompactNow" => Ok(Command::CompactNow),
            "WipeAndReload" => Ok(Command::WipeAndReload),
            other => Err(format!("unknown command {other}")),
        },
        Value::Object(map) if map.len() == 1 => {
            let (name, arg) = map.iter().next().expect("one entry");
            match name.as_str() {
                "Append" => Ok(Command::Append(arg.as_str().unwrap_or_default().to_owned())),
                "Burst" => Ok(Command::Burst(number(arg)?.min(u32::MAX as u64) as u32)),
                "TransferLeadership" => Ok(Command::TransferLeadership(number(arg)?)),
                "SetPaused" => Ok(Command::SetPaused(arg.as_bool().unwrap_or(false))),
                "SetIsolated" => Ok(Command::SetIsolated(arg.as_bool().unwrap_or(false))),
                "SetDeadAfter" => Ok(Command::SetDeadAfter(number(arg)?)),
                "SetTimings" => Ok(Command::SetTimings {
                    election_timeout_min_ms: number(&arg["election_timeout_min_ms"])?,
                    election_timeout_max_ms: number(&arg["election_timeout_max_ms"])?,
                    heartbeat_ms: number(&arg["heartbeat_ms"])?,
                }),
                other => Err(format!("unknown command {other}")),
            }
        }
        other => Err(format!("not a command: {other}")),
    }
}

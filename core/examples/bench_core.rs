//! In-process throughput/latency benchmark of flotilla-core, driven exactly like the raft-rs
//! baseline in `shared/bench/raftrs-baseline` (see its header), so the figures compare:
//!
//! * K nodes (ids 1..=K) in one process and one thread, no network, no disk, no ticks: the
//!   clock stays at 0, so no timer ever fires. Node 1 campaigns and rounds run until quiescent
//!   (untimed). Each entry carries a 16-byte payload and a request id; the reducer counts the
//!   payloads it applies, as light as the baseline's apply step (which counts entries), so the
//!   figures measure the Raft core and not an application.
//! * A "round": for each node in id order, drain `poll_output`: `Persist` goes to the node's
//!   `DurableState`, `Send` to one outbox, `Event::Applied` counts the entry as applied. After all
//!   nodes are handled, every outbox message is delivered in order with `handle_message`; what
//!   that produces waits for the next round.
//! * W1 (K=3): propose one entry on the leader, run rounds until the leader applied it; latency
//!   is wall time from just before `propose` to the end of that round.
//! * W2 (K=3): loop { if proposed - committed + 64 <= 256 { 64 x propose() }; one round } until
//!   N entries are committed (applied on the leader); throughput = N / wall time.
//! * W3 (K=5): as W2.
//! * W4 (K=3, then a 4th node): N=100,000 entries are committed (untimed, with the default
//!   compaction: a snapshot every 4096 entries), with a reducer that keeps every payload, so the
//!   state is 1.6 MB. Then a new node joins as a learner; catchup_ms is the wall time from the
//!   membership change to the learner having applied everything, by snapshot (in 60 KiB chunks)
//!   and the entries after it.
//! * W5 (K=3): ReadIndex reads spread over the three nodes, as W2 pipelines proposals: up to 256
//!   in flight, issued 64 at a time, one round after each batch, until N reads are ready;
//!   reads_per_s = N / wall time.
//!
//! Each workload runs REPEATS times on a fresh cluster (checked afterwards: every node applied
//! all N entries) and the medians are printed as `core W1/W2/W3 ...` lines. The figures are also
//! written to `$CARGO_TARGET_DIR/bench-core.last` (default `target/`), and the next run prints
//! the change against them.
//! Usage: cargo run --release -p flotilla-core --example bench_core -- [N=200000] [REPEATS=3]
//! [W1|W2|W3|W4|W5] (the last one runs a single workload, for profiling).
use flotilla_core::{
    Change, Config, DurableState, Event, Message, MessageKind, Node, Output, ReadId, Reducer,
    RequestId, Role,
};
use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Instant;

const PAYLOAD: [u8; 16] = *b"0123456789abcdef";

/// The benchmark's state machine: applying a payload counts it.
struct Count;

impl Reducer for Count {
    type State = u64;
    type Action = [u8; 16];
    type Intent = [u8; 16];
    type Rejection = Infallible;
    type Output = u64;

    fn reduce(count: &mut u64, _: &[u8; 16]) -> u64 {
        *count += 1;
        *count
    }

    fn method(_: &u64, payload: [u8; 16]) -> Result<[u8; 16], Infallible> {
        Ok(payload)
    }
}

/// W4's state machine: keeps every payload, so that the snapshot has a realistic size.
struct Keep;

impl Reducer for Keep {
    type State = Vec<[u8; 16]>;
    type Action = [u8; 16];
    type Intent = [u8; 16];
    type Rejection = Infallible;
    type Output = ();

    fn reduce(kept: &mut Vec<[u8; 16]>, payload: &[u8; 16]) {
        kept.push(*payload);
    }

    fn method(_: &Vec<[u8; 16]>, payload: [u8; 16]) -> Result<[u8; 16], Infallible> {
        Ok(payload)
    }
}

/// What the workloads need of a reducer: payload in, payload logged.
trait Payload: Reducer<Action = [u8; 16], Intent = [u8; 16]> {}
impl<R: Reducer<Action = [u8; 16], Intent = [u8; 16]>> Payload for R {}

const BATCH: u64 = 64;
const W4_ENTRIES: u64 = 100_000;
const MAX_IN_FLIGHT: u64 = 256;
const CLIENT: u64 = 1;
const W1_COLS: &[&str] =
    &["commits_per_s", "mean_us", "p50_us", "p99_us", "rounds_per_entry", "msgs_per_entry"];
const WP_COLS: &[&str] = &["entries_per_s", "rounds_per_entry", "msgs_per_entry"];
const W4_COLS: &[&str] = &["catchup_ms", "snapshot_bytes", "chunks"];
const W5_COLS: &[&str] = &["reads_per_s", "rounds_per_read", "msgs_per_read"];

struct Cluster<R: Payload> {
    nodes: Vec<Node<R>>,
    disks: Vec<DurableState<[u8; 16]>>,
    applied: Vec<u64>,    // actions applied, per node
    last_index: Vec<u64>, // last applied log index, per node
    outbox: Vec<Message<[u8; 16]>>,
    /// Reads served (`ReadReady`), on all nodes.
    reads_ready: u64,
    next_seq: u64,
    rounds: u64, // rounds run and messages delivered (reported per entry, for sanity)
    msgs: u64,
    /// Wall time of the last `fill`, in seconds.
    elapsed: f64,
}

fn config(id: u64) -> Config {
    Config {
        max_inflight_appends: MAX_IN_FLIGHT as usize,
        max_entries_per_append: 4096,
        ..Config::new(id)
    }
}

impl<R: Payload> Cluster<R> {
    fn new(k: u64) -> Self {
        let ids: Vec<u64> = (1..=k).collect();
        let nodes = ids.iter().map(|&id| Node::new(config(id), &ids, id, 0)).collect();
        let n = k as usize;
        let mut c = Cluster {
            nodes,
            disks: vec![DurableState::default(); n],
            applied: vec![0; n],
            last_index: vec![0; n],
            outbox: Vec::new(),
            reads_ready: 0,
            next_seq: 1,
            rounds: 0,
            msgs: 0,
            elapsed: 0.0,
        };
        c.nodes[0].campaign(0);
        c.drain();
        assert_eq!(c.nodes[0].status().role, Role::Leader);
        c
    }

    fn propose(&mut self) {
        let request = RequestId { client: CLIENT, seq: self.next_seq };
        self.next_seq += 1;
        self.nodes[0].propose(0, request, PAYLOAD).expect("the leader accepts");
    }

    /// Drains node `i`'s outputs; returns whether there were any.
    fn handle_outputs(&mut self, i: usize) -> bool {
        let mut busy = false;
        while let Some(output) = self.nodes[i].poll_output() {
            busy = true;
            match output {
                Output::Persist(write) => self.disks[i].absorb(write),
                Output::Send(message) => self.outbox.push(message),
                Output::Event(Event::Applied { index, .. }) => {
                    self.applied[i] += 1;
                    self.last_index[i] = index;
                }
                Output::Event(Event::ReadReady { .. }) => self.reads_ready += 1,
                Output::Event(_) => {}
            }
        }
        busy
    }

    /// One round; returns false if there was nothing to do.
    fn round(&mut self) -> bool {
        let mut busy = false;
        self.rounds += 1;
        for i in 0..self.nodes.len() {
            busy |= self.handle_outputs(i);
        }
        let mut msgs = std::mem::take(&mut self.outbox);
        busy |= !msgs.is_empty();
        self.msgs += msgs.len() as u64;
        for m in msgs.drain(..) {
            let to = m.to as usize - 1;
            self.nodes[to].handle_message(0, m);
        }
        self.outbox = msgs; // keep the allocation
        busy
    }

    fn drain(&mut self) {
        while self.round() {}
    }

    /// Rounds and messages per entry since the last call (call once before timing).
    fn per_entry(&mut self, n: u64) -> (f64, f64) {
        let r = (self.rounds as f64 / n as f64, self.msgs as f64 / n as f64);
        (self.rounds, self.msgs) = (0, 0);
        r
    }

    /// Every node applied all `n` entries. Followers learn the last commit index from the
    /// leader's next append or heartbeat (the core sends no extra message for it), so one
    /// heartbeat goes out first; the timed part is over by then.
    fn check(&mut self, n: u64) {
        self.drain();
        if let Some(heartbeat) = self.nodes[0].poll_timeout() {
            self.nodes[0].handle_timeout(heartbeat);
        }
        self.drain();
        assert!(self.applied.iter().all(|&a| a == n), "applied {:?} != {n}", self.applied);
    }
}

/// W1: returns [commits/s, mean_us, p50_us, p99_us, rounds/entry, msgs/entry].
fn w1(n: u64) -> Vec<f64> {
    let mut c = Cluster::<Count>::new(3);
    let mut lat = Vec::with_capacity(n as usize);
    c.per_entry(1);
    let t0 = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        c.propose();
        let idx = c.nodes[0].status().last_index;
        while c.last_index[0] < idx {
            assert!(c.round(), "stalled");
        }
        lat.push(t.elapsed().as_nanos() as f64 / 1e3);
    }
    let secs = t0.elapsed().as_secs_f64();
    let (rounds, msgs) = c.per_entry(n);
    c.check(n);
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    vec![n as f64 / secs, mean, pct(0.50), pct(0.99), rounds, msgs]
}

/// W2/W3: returns [entries/s, rounds/entry, msgs/entry].
fn pipelined(k: u64, n: u64) -> Vec<f64> {
    let mut c = Cluster::<Count>::new(k);
    fill(&mut c, n);
    let secs = c.elapsed;
    let (rounds, msgs) = c.per_entry(n);
    c.check(n);
    vec![n as f64 / secs, rounds, msgs]
}

/// Proposes `n` entries as W2 does, timing it (in `c.elapsed`).
fn fill<R: Payload>(c: &mut Cluster<R>, n: u64) {
    let mut proposed = 0;
    c.per_entry(1);
    let t0 = Instant::now();
    while c.applied[0] < n {
        if proposed < n && proposed - c.applied[0] + BATCH <= MAX_IN_FLIGHT {
            for _ in 0..BATCH.min(n - proposed) {
                c.propose();
                proposed += 1;
            }
        }
        assert!(c.round(), "stalled");
    }
    c.elapsed = t0.elapsed().as_secs_f64();
}

/// W4: returns [catchup_ms, snapshot bytes, chunks sent].
fn w4() -> Vec<f64> {
    let mut c = Cluster::<Keep>::new(3);
    fill(&mut c, W4_ENTRIES);
    c.drain();
    let snapshot_index = c.nodes[0].snapshot_index();
    assert!(snapshot_index > 0, "the leader compacted");
    let newcomer = 4;
    c.nodes.push(Node::new(config(newcomer), &[], newcomer, 0));
    c.disks.push(DurableState::default());
    c.applied.push(0);
    c.last_index.push(0);
    let t0 = Instant::now();
    c.nodes[0].change_membership(0, Change::AddLearner(newcomer)).expect("a learner");
    let target = c.nodes[0].status().last_index;
    while c.nodes[3].status().applied < target || c.nodes[0].status().commit < target {
        assert!(c.round(), "stalled");
    }
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    assert_eq!(c.nodes[3].committed_state().len() as u64, W4_ENTRIES);
    assert!(c.applied[3] < W4_ENTRIES / 2, "it caught up by snapshot, not entry by entry");
    let chunks = c.nodes[0].counters().messages_out.get(MessageKind::InstallSnapshot);
    let bytes = c.disks[3].snapshot.as_ref().map_or(0, |s| s.data.len());
    vec![ms, bytes as f64, chunks as f64]
}

/// W5: returns [reads/s, rounds/read, msgs/read].
fn w5(n: u64) -> Vec<f64> {
    let mut c = Cluster::<Count>::new(3);
    fill(&mut c, 1_000);
    c.drain();
    c.per_entry(1);
    let (mut issued, t0) = (0, Instant::now());
    while c.reads_ready < n {
        if issued < n && issued - c.reads_ready + BATCH <= MAX_IN_FLIGHT {
            for _ in 0..BATCH.min(n - issued) {
                let at = (issued % 3) as usize;
                c.nodes[at].read(0, ReadId(issued)).expect("a leader is known");
                issued += 1;
            }
        }
        assert!(c.round(), "stalled");
    }
    let secs = t0.elapsed().as_secs_f64();
    let (rounds, msgs) = c.per_entry(n);
    vec![n as f64 / secs, rounds, msgs]
}

/// Runs `f` `reps` times, printing each run; returns the per-column medians.
fn repeat(name: &str, cols: &[&str], reps: usize, f: impl Fn() -> Vec<f64>) -> Vec<f64> {
    let fmt = |v: &[f64]| {
        cols.iter()
            .zip(v)
            .map(|(c, x)| if *x >= 1e3 { format!(" {c}={x:.0}") } else { format!(" {c}={x:.3}") })
            .collect::<String>()
    };
    let runs: Vec<Vec<f64>> = (0..reps)
        .map(|r| {
            let v = f();
            println!("  {name} run {r}:{}", fmt(&v));
            v
        })
        .collect();
    (0..cols.len())
        .map(|j| {
            let mut col: Vec<f64> = runs.iter().map(|v| v[j]).collect();
            col.sort_by(f64::total_cmp);
            col[col.len() / 2]
        })
        .collect()
}

/// Where the previous run's figures are kept, for the comparison line.
fn last_run_file() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("bench-core.last")
}

/// Prints how each figure moved since the previous run, then records this run's figures.
fn compare_with_last_run(figures: &[(&str, f64)]) {
    let path = last_run_file();
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    let mut deltas = Vec::new();
    for (name, value) in figures {
        let before = previous.lines().find_map(|line| {
            let (key, number) = line.split_once('=')?;
            (key == *name).then(|| number.parse::<f64>().ok()).flatten()
        });
        if let Some(before) = before.filter(|b| *b > 0.0) {
            deltas.push(format!("{name} {:+.1}%", (value / before - 1.0) * 100.0));
        }
    }
    if !deltas.is_empty() {
        println!("vs last run ({}): {}", path.display(), deltas.join(", "));
    }
    let record: String = figures.iter().map(|(name, value)| format!("{name}={value}\n")).collect();
    if let Err(error) = std::fs::write(&path, record) {
        println!("(could not record figures in {}: {error})", path.display());
    }
}

fn main() {
    let arg = |i: usize, d: u64| std::env::args().nth(i).map_or(d, |s| s.parse().expect("number"));
    let (n, reps) = (arg(1, 200_000), arg(2, 3) as usize);
    if let Some(only) = std::env::args().nth(3) {
        // Profiling aid: run one workload, print its runs, record nothing.
        match only.as_str() {
            "W1" => repeat("W1", W1_COLS, reps, || w1(n)),
            "W2" => repeat("W2", WP_COLS, reps, || pipelined(3, n)),
            "W3" => repeat("W3", WP_COLS, reps, || pipelined(5, n)),
            "W4" => repeat("W4", W4_COLS, reps, w4),
            "W5" => repeat("W5", W5_COLS, reps, || w5(n)),
            other => panic!("unknown workload {other}: expected W1 to W5"),
        };
        return;
    }
    println!("flotilla-core bench: N={n} repeats={reps}");
    let m1 = repeat("W1", W1_COLS, reps, || w1(n));
    let m2 = repeat("W2", WP_COLS, reps, || pipelined(3, n));
    let m3 = repeat("W3", WP_COLS, reps, || pipelined(5, n));
    let m4 = repeat("W4", W4_COLS, reps, w4);
    let m5 = repeat("W5", W5_COLS, reps, || w5(n));
    println!("core W1 commits_per_s={:.0} p50_us={:.2} p99_us={:.2}", m1[0], m1[2], m1[3]);
    println!("core W2 entries_per_s={:.0}", m2[0]);
    println!("core W3 entries_per_s={:.0}", m3[0]);
    println!("core W4 catchup_ms={:.1}", m4[0]);
    println!("core W5 reads_per_s={:.0}", m5[0]);
    compare_with_last_run(&[
        ("W1_commits_per_s", m1[0]),
        ("W1_p50_us", m1[2]),
        ("W2_entries_per_s", m2[0]),
        ("W3_entries_per_s", m3[0]),
        ("W4_catchup_ms", m4[0]),
        ("W5_reads_per_s", m5[0]),
    ]);
}

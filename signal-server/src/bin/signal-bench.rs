//! `cargo xtask bench signal`: the signal server against y-webrtc's and matchbox's signaling
//! servers, on loopback, with one load generator (tokio-tungstenite) for all three.
//!
//! Every server runs as its own child process, so its resident memory and CPU time are read from
//! `/proc/PID` apart from the load generator's. Ours is this binary re-run with `--serve ADDR`,
//! which runs `signal_server::serve` exactly as the `signal-server` binary does, on the same
//! runtime (`signal_server::runtime`, one thread unless `--server-threads` says otherwise; the
//! relay runs lift only the per-connection message rate, since a closed loop on 2 cores exceeds
//! its default on purpose). y-webrtc is `node node_modules/y-webrtc/bin/server.js` from `bench/` (installed
//! with `npm ci` when missing); matchbox_server is used if its binary is found, and skipped with
//! a line saying so otherwise.
//!
//! Workloads, rooms of 5 throughout:
//! - (a) connections held: 1,000, 5,000 and 10,000 clients join and keep reading; the server's
//!   RSS is read at each level.
//! - (b) relay: 200 rooms of 5; each client sends an addressed signal to the next member of its
//!   room and sends again once that one was delivered (closed loop), for 10 s after 1 s of
//!   warm-up. Deliveries are counted at the intended receiver (y-webrtc fans every publish out to
//!   the whole room; the other copies are discarded). Latency is send to delivery.
//! - (c) latency at a fixed rate (5,000 msg/s), spread evenly over the same clients.
//!
//! The relay and fixed-rate runs are repeated (`--runs`, 3 by default), interleaving the servers,
//! and medians are printed. The machine's load average is printed too: the cores are shared.
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Members per room, in every workload.
const ROOM_SIZE: usize = 5;
/// Connection handshakes in flight at once while filling a server.
const CONNECT_CONCURRENCY: usize = 64;
/// A realistic signal: the size of a trickled ICE candidate.
const CANDIDATE: &str = "candidate:842163049 1 udp 1677729535 192.0.2.3 46154 typ srflx raddr \
                         10.0.0.17 rport 46154 generation 0 ufrag EsAw network-cost 999";

#[derive(Parser, Debug)]
#[command(about = "Signal server benchmark (prints `signal ...` lines)")]
struct Args {
    /// Seconds of closed-loop relay per server, after one second of warm-up.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Rooms of 5 in the relay.
    #[arg(long, default_value_t = 200)]
    rooms: usize,
    /// Messages per second in the fixed-rate latency run.
    #[arg(long, default_value_t = 5000)]
    rate: u32,
    /// Seconds of the fixed-rate run.
    #[arg(long, default_value_t = 5)]
    rate_secs: u64,
    /// Connection counts at which RSS is read (`0` skips that workload).
    #[arg(long, value_delimiter = ',', default_values_t = [1000, 5000, 10000])]
    conns: Vec<usize>,
    /// Relay runs per server; medians are printed (0 skips the relay workloads).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Run only the fixed-rate latency workload (c), not the closed loop (b): for iterating on
    /// the latency tail.
    #[arg(long)]
    fixed_only: bool,
    /// Print every run's figures, not only the medians (to see how much runs vary).
    #[arg(long)]
    each_run: bool,
    /// Leave y-webrtc out.
    #[arg(long)]
    skip_ywebrtc: bool,
    /// matchbox_server binary (else $MATCHBOX_SERVER, /work/tools-matchbox/bin/matchbox_server,
    /// then PATH).
    #[arg(long)]
    matchbox: Option<PathBuf>,
    /// Leave matchbox_server out.
    #[arg(long)]
    skip_matchbox: bool,
    /// Our server's per-socket buffer, in bytes (to measure its effect on memory and speed).
    #[arg(long, default_value_t = signal_server::Config::default().socket_buffer_bytes)]
    socket_buffer_bytes: usize,
    /// Our server's worker threads (its `--threads`), to compare runtimes.
    #[arg(long, default_value_t = signal_server::DEFAULT_THREADS)]
    server_threads: usize,
    /// The load generator's worker threads (1: one thread, as the server's default).
    #[arg(long, default_value_t = num_cores())]
    generator_threads: usize,
    /// Write every fixed-rate sample to `PATH.<server>.<run>`: one line per message, its send
    /// time in CLOCK_MONOTONIC nanoseconds (the clock of `perf record -k CLOCK_MONOTONIC`, to
    /// line late messages up with a scheduler trace) and its latency in nanoseconds.
    #[arg(long, value_name = "PATH")]
    dump_samples: Option<PathBuf>,
    /// Internal: be the server under test, on this address.
    #[arg(long, hide = true)]
    serve: Option<SocketAddr>,
}

fn main() {
    let args = Args::parse();
    raise_open_file_limit();
    if let Some(addr) = args.serve {
        if let Err(error) = serve_child(addr, args.socket_buffer_bytes, args.server_threads) {
            eprintln!("signal-bench --serve: {error}");
            std::process::exit(1);
        }
        return;
    }
    // The load generator's own runtime, like the server's: `signal_server::runtime` (with one
    // thread, a current-thread runtime).
    let runtime = match signal_server::runtime(args.generator_threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("signal-bench: no runtime: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(bench(args)) {
        eprintln!("signal-bench: {error}");
        std::process::exit(1);
    }
}

/// The server under test, in this (child) process: the library's `serve`, as the binary runs it.
fn serve_child(addr: SocketAddr, socket_buffer_bytes: usize, threads: usize) -> Result<(), String> {
    let mut config = signal_server::Config { socket_buffer_bytes, ..Default::default() };
    config.limits.max_msgs_per_sec = 1_000_000;
    let runtime = signal_server::runtime(threads).map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
        signal_server::serve(listener, config, Duration::from_secs(1))
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

/// The servers compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Flotilla,
    YWebrtc,
    Matchbox,
}

impl Kind {
    /// The word in printed lines (ours prints the issue's bare `signal ...` lines).
    fn label(self) -> &'static str {
        match self {
            Kind::Flotilla => "",
            Kind::YWebrtc => "ywebrtc ",
            Kind::Matchbox => "matchbox ",
        }
    }

    fn url(self, addr: SocketAddr, room: &str) -> String {
        match self {
            Kind::Flotilla => format!("ws://{addr}/ws/{room}"),
            Kind::YWebrtc => format!("ws://{addr}/"),
            Kind::Matchbox => format!("ws://{addr}/{room}"),
        }
    }

    /// An addressed signal carrying its send time (nanoseconds since the bench's epoch).
    fn signal(self, room: &str, from: &str, to: &str, sent: u64) -> String {
        match self {
            Kind::Flotilla => format!(
                r#"{{"type":"signal","to":{to},"payload":{{"t":{sent},"candidate":"{CANDIDATE}"}}}}"#
            ),
            // As y-webrtc's own clients do: a publish to the room's topic, addressed inside.
            Kind::YWebrtc => format!(
                r#"{{"type":"publish","topic":"{room}","data":{{"type":"signal","from":"{from}","to":"{to}","signal":{{"t":{sent},"candidate":"{CANDIDATE}"}}}}}}"#
            ),
            Kind::Matchbox => format!(
                r#"{{"Signal":{{"receiver":"{to}","data":{{"t":{sent},"candidate":"{CANDIDATE}"}}}}}}"#
            ),
        }
    }

    /// The send time of a signal delivered to the client whose `to` needle is `me`, or `None`
    /// for anything else (y-webrtc's copies for other members included).
    fn delivery(self, text: &str, me: &str) -> Option<u64> {
        let ours = match self {
            Kind::Flotilla => text.starts_with(r#"{"type":"signal""#),
            Kind::YWebrtc => text.contains(me),
            Kind::Matchbox => text.starts_with(r#"{"Signal""#),
        };
        if !ours {
            return None;
        }
        let at = text.find(r#""t":"#)? + 4;
        let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
        text[at..at + digits].parse().ok()
    }
}

/// A server child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(kind: Kind, args: &Args, matchbox: Option<&Path>) -> Result<Server, String> {
        let addr = free_port()?;
        let mut command = match kind {
            Kind::Flotilla => {
                let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                let mut command = Command::new(exe);
                command
                    .arg("--serve")
                    .arg(addr.to_string())
                    .arg("--socket-buffer-bytes")
                    .arg(args.socket_buffer_bytes.to_string())
                    .arg("--server-threads")
                    .arg(args.server_threads.to_string());
                command
            }
            Kind::YWebrtc => {
                let dir = ensure_ywebrtc()?;
                let mut command = Command::new("node");
                command
                    .arg("node_modules/y-webrtc/bin/server.js")
                    .current_dir(dir)
                    .env("PORT", addr.port().to_string());
                command
            }
            Kind::Matchbox => {
                let mut command = Command::new(matchbox.ok_or("no matchbox_server")?);
                command.arg(addr.to_string()).env("RUST_LOG", "error");
                command
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {kind:?}: {e}"))?;
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!("{kind:?} did not start listening on {addr}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn rss_mib(&self) -> Result<f64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(|e| e.to_string())?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmRSS")?;
        Ok(kib / 1024.0)
    }

    /// Context switches so far, voluntary (a thread went to sleep: a wake-up to come) and
    /// involuntary (it was preempted), summed over the server's threads.
    fn switches(&self) -> Result<(u64, u64), String> {
        let dir = format!("/proc/{}/task", self.pid());
        let mut total = (0, 0);
        for task in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
            let path = task.map_err(|e| e.to_string())?.path().join("status");
            // A thread may exit between the listing and the read.
            let Ok(status) = std::fs::read_to_string(path) else { continue };
            for line in status.lines() {
                let field = |name: &str| {
                    line.strip_prefix(name).and_then(|rest| rest.trim().parse::<u64>().ok())
                };
                if let Some(n) = field("voluntary_ctxt_switches:") {
                    total.0 += n;
                } else if let Some(n) = field("nonvoluntary_ctxt_switches:") {
                    total.1 += n;
                }
            }
        }
        Ok(total)
    }

    /// User plus system CPU time so far.
    fn cpu(&self) -> Result<Duration, String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .map_err(|e| e.to_string())?;
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        let rest = stat.rsplit_once(')').ok_or("bad stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields.get(11).and_then(|f| f.parse().ok()).ok_or("bad utime")?;
        let ticks =
            ticks + fields.get(12).and_then(|f| f.parse::<u64>().ok()).ok_or("bad stime")?;
        // SAFETY: sysconf has no preconditions.
        let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_micros(ticks * 1_000_000 / per_sec))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An address on loopback that was free a moment ago.
fn free_port() -> Result<SocketAddr, String> {
    let listener = StdListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// `bench/` with y-webrtc installed from its lockfile.
fn ensure_ywebrtc() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench");
    if !dir.join("node_modules/y-webrtc/bin/server.js").is_file() {
        eprintln!("signal-bench: installing y-webrtc with npm ci in {}", dir.display());
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run npm: {e}"))?;
        if !status.success() {
            return Err(format!("npm ci failed in {}", dir.display()));
        }
    }
    Ok(dir)
}

fn find_matchbox(args: &Args) -> Option<PathBuf> {
    if let Some(path) = &args.matchbox {
        return Some(path.clone());
    }
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("MATCHBOX_SERVER").map(PathBuf::from).into_iter().collect();
    candidates.push(PathBuf::from("/work/tools-matchbox/bin/matchbox_server"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("matchbox_server")));
    }
    candidates.into_iter().find(|path| path.is_file())
}

/// A client that has joined a room.
struct Peer {
    ws: Ws,
    /// How other members address this one (peer id, y-webrtc name, or matchbox uuid).
    key: String,
}

async fn connect(kind: Kind, addr: SocketAddr, room: &str, index: usize) -> Result<Peer, String> {
    // Small buffers here too, so 10,000 clients fit in the generator comfortably.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(kind.url(addr, room), Some(config), true)
            .await
            .map_err(|e| format!("connect to {kind:?}: {e}"))?;
    let key = match kind {
        Kind::Flotilla => {
            let hello = format!(r#"{{"type":"hello","meta":{{"node":{index}}}}}"#);
            ws.send(Message::text(hello)).await.map_err(|e| e.to_string())?;
            let welcome = next_text(&mut ws).await?;
            let at = welcome.find(r#""id":"#).ok_or("no id in welcome")? + 5;
            welcome[at..].chars().take_while(char::is_ascii_digit).collect()
        }
        Kind::YWebrtc => {
            let subscribe = format!(r#"{{"type":"subscribe","topics":["{room}"]}}"#);
            ws.send(Message::text(subscribe)).await.map_err(|e| e.to_string())?;
            format!("c{index}")
        }
        Kind::Matchbox => {
            let assigned = next_text(&mut ws).await?;
            let at = assigned.find(r#"{"IdAssigned":""#).ok_or("no IdAssigned")? + 15;
            assigned[at..].chars().take_while(|c| *c != '"').collect()
        }
    };
    Ok(Peer { ws, key })
}

async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Ok(text.to_string()),
            Ok(Some(Ok(_))) => continue,
            other => return Err(format!("expected a text frame, got {other:?}")),
        }
    }
}

/// Connects `count` clients in rooms of 5 (`prefix-N`), `CONNECT_CONCURRENCY` at a time.
async fn connect_many(
    kind: Kind,
    addr: SocketAddr,
    prefix: &str,
    first: usize,
    count: usize,
) -> Result<Vec<(String, Peer)>, String> {
    futures_util::stream::iter(first..first + count)
        .map(|index| async move {
            let room = format!("{prefix}-{}", index / ROOM_SIZE);
            connect(kind, addr, &room, index).await.map(|peer| (room, peer))
        })
        .buffered(CONNECT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Workload (a): the server's RSS while holding each number of clients.
async fn hold_connections(kind: Kind, args: &Args, matchbox: Option<&Path>) -> Result<(), String> {
    let server = Server::start(kind, args, matchbox).await?;
    let levels = &args.conns;
    let mut readers = Vec::new();
    let mut held = 0;
    for &level in levels {
        let peers =
            connect_many(kind, server.addr, "hold", held, level.saturating_sub(held)).await?;
        held = held.max(level);
        // Each client keeps reading, so it answers pings and drains membership notices.
        readers.extend(peers.into_iter().map(|(_, mut peer)| {
            tokio::spawn(async move { while let Some(Ok(_)) = peer.ws.next().await {} })
        }));
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!("signal {}conns={level} rss_mb={:.1}", kind.label(), server.rss_mib()?);
    }
    drop(server);
    for reader in readers {
        reader.abort();
    }
    Ok(())
}

/// What the client tasks are doing.
const CLOSED_LOOP: u8 = 0;
const FIXED_RATE: u8 = 1;

/// Shared by the client tasks of one relay run.
struct Shared {
    kind: Kind,
    /// Time zero for the timestamps carried in signals.
    epoch: Instant,
    mode: AtomicU8,
    /// Closed-loop measurement window, in nanoseconds since `epoch`.
    closed: (u64, u64),
    /// Fixed-rate measurement window, set before the mode switches.
    fixed: std::sync::Mutex<(u64, u64)>,
    /// Ends every client task.
    stop: CancellationToken,
}

/// What one client measured, as delivery latencies in nanoseconds.
#[derive(Default)]
struct Samples {
    closed: Vec<u32>,
    /// Fixed-rate samples: send time (nanoseconds since the epoch) and latency.
    fixed: Vec<(u64, u32)>,
}

/// One client of the relay: sends when its `go` is notified, records deliveries addressed to it,
/// and in the closed loop notifies the sender of each delivery to send again.
async fn relay_client(
    mut ws: Ws,
    shared: Arc<Shared>,
    room: String,
    me: String,
    next: String,
    go: Arc<Notify>,
    sender_go: Arc<Notify>,
) -> Samples {
    let mut samples = Samples::default();
    let needle = format!(r#""to":"{me}""#);
    // Read once the fixed-rate run has begun (it is set before the mode switches).
    let mut fixed_window = (0, 0);
    loop {
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let Some(sent) = shared.kind.delivery(&text, &needle) else { continue };
                    let now = shared.epoch.elapsed().as_nanos() as u64;
                    let latency = now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
                    if shared.mode.load(Ordering::Relaxed) == CLOSED_LOOP {
                        if now >= shared.closed.0 && now < shared.closed.1 {
                            samples.closed.push(latency);
                        }
                        if now < shared.closed.1 {
                            sender_go.notify_one();
                        }
                    } else {
                        if fixed_window == (0, 0) {
                            fixed_window = *shared.fixed.lock().unwrap_or_else(|e| e.into_inner());
                        }
                        if now >= fixed_window.0 && now < fixed_window.1 {
                            samples.fixed.push((sent, latency));
                        }
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
            () = go.notified() => {
                let sent = shared.epoch.elapsed().as_nanos() as u64;
                let frame = shared.kind.signal(&room, &me, &next, sent);
                if ws.send(Message::text(frame)).await.is_err() {
                    break;
                }
            }
            () = shared.stop.cancelled() => break,
        }
    }
    samples
}

/// Figures from one relay run against one server.
#[derive(Clone, Copy, Debug)]
struct Relay {
    msgs_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_msg: f64,
    fixed_p50_ms: f64,
    fixed_p99_ms: f64,
    fixed_cpu_us_per_msg: f64,
    /// Voluntary and involuntary context switches per message at the fixed rate.
    fixed_switches_per_msg: (f64, f64),
}

/// Workloads (b) and (c) against a fresh server.
async fn relay(kind: Kind, args: &Args, matchbox: Option<&Path>) -> Result<Relay, String> {
    let server = Server::start(kind, args, matchbox).await?;
    let peers = connect_many(kind, server.addr, "relay", 0, args.rooms * ROOM_SIZE).await?;
    // Let joins and subscriptions settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let epoch = Instant::now();
    let epoch_monotonic = monotonic_ns();
    // With `--fixed-only` the closed loop is skipped: no warm-up, nothing measured.
    let (warmup, measured) = match args.fixed_only {
        true => (Duration::ZERO, Duration::ZERO),
        false => (Duration::from_secs(1), Duration::from_secs(args.secs)),
    };
    let shared = Arc::new(Shared {
        kind,
        epoch,
        mode: AtomicU8::new(CLOSED_LOOP),
        closed: (warmup.as_nanos() as u64, (warmup + measured).as_nanos() as u64),
        fixed: std::sync::Mutex::new((0, 0)),
        stop: CancellationToken::new(),
    });
    let gos: Vec<Arc<Notify>> = (0..peers.len()).map(|_| Arc::new(Notify::new())).collect();
    let keys: Vec<String> = peers.iter().map(|(_, peer)| peer.key.clone()).collect();
    let mut tasks = Vec::new();
    for (i, (room, peer)) in peers.into_iter().enumerate() {
        // Member k of a room sends to member k+1 and hears from member k-1.
        let base = i - i % ROOM_SIZE;
        let next = base + (i + 1) % ROOM_SIZE;
        let previous = base + (i + ROOM_SIZE - 1) % ROOM_SIZE;
        tasks.push(tokio::spawn(relay_client(
            peer.ws,
            Arc::clone(&shared),
            room,
            keys[i].clone(),
            keys[next].clone(),
            Arc::clone(&gos[i]),
            Arc::clone(&gos[previous]),
        )));
    }

    // (b) Closed loop: every client starts with one message in flight.
    let mut cpu_closed = Duration::ZERO;
    if !args.fixed_only {
        for go in &gos {
            go.notify_one();
        }
        tokio::time::sleep_until((epoch + warmup).into()).await;
        let cpu_start = server.cpu()?;
        tokio::time::sleep_until((epoch + warmup + measured).into()).await;
        cpu_closed = server.cpu()? - cpu_start;
        // Let the messages in flight land, then (c) the fixed rate.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let rate_start = epoch.elapsed() + Duration::from_millis(200);
    let rate_span = Duration::from_secs(args.rate_secs);
    *shared.fixed.lock().unwrap_or_else(|e| e.into_inner()) =
        (rate_start.as_nanos() as u64, (rate_start + rate_span).as_nanos() as u64);
    shared.mode.store(FIXED_RATE, Ordering::Relaxed);
    let cpu_fixed_start = server.cpu()?;
    let switches_start = server.switches()?;
    let dispatch = {
        // Clients in room-major order; stepping by ROOM_SIZE visits a different room each time.
        let order: Vec<Arc<Notify>> = (0..ROOM_SIZE)
            .flat_map(|k| gos.iter().skip(k).step_by(ROOM_SIZE).cloned().collect::<Vec<_>>())
            .collect();
        let (rate, count) = (args.rate, u64::from(args.rate) * args.rate_secs);
        let start = epoch + rate_start;
        // An OS thread paces the sends: tokio's timers tick in milliseconds, which would send
        // 5 at once every millisecond instead of one every 200 µs.
        std::thread::spawn(move || {
            for k in 0..count {
                let due = start + Duration::from_nanos(k * 1_000_000_000 / u64::from(rate));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                order[k as usize % order.len()].notify_one();
            }
        })
    };
    tokio::time::sleep_until((epoch + rate_start + rate_span).into()).await;
    let cpu_fixed = server.cpu()? - cpu_fixed_start;
    let switches_end = server.switches()?;
    let switches = (switches_end.0 - switches_start.0, switches_end.1 - switches_start.1);
    let _ = tokio::task::spawn_blocking(move || dispatch.join()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    shared.stop.cancel();
    let mut closed = Vec::new();
    let mut timed = Vec::new();
    for task in tasks {
        let samples = task.await.map_err(|e| e.to_string())?;
        closed.extend(samples.closed);
        timed.extend(samples.fixed);
    }
    if let Some(path) = &args.dump_samples {
        dump_samples(path, kind, server.pid(), epoch_monotonic, &mut timed)?;
    }
    let mut fixed: Vec<u32> = timed.iter().map(|&(_, latency)| latency).collect();
    drop(server);
    if closed.is_empty() && fixed.is_empty() || closed.is_empty() && !args.fixed_only {
        return Err(format!("{kind:?}: nothing was delivered"));
    }
    let delivered = closed.len() as f64;
    // The far tail, for `--each-run`: one stall of the server (or of the machine) shows here.
    let (fixed_p999_ms, fixed_max_ms) =
        (percentile(&mut fixed, 0.999), percentile(&mut fixed, 1.0));
    let relay = Relay {
        msgs_per_s: delivered / measured.as_secs_f64(),
        p50_ms: percentile(&mut closed, 0.50),
        p99_ms: percentile(&mut closed, 0.99),
        cpu_us_per_msg: cpu_closed.as_secs_f64() * 1e6 / delivered,
        fixed_p50_ms: percentile(&mut fixed, 0.50),
        fixed_p99_ms: percentile(&mut fixed, 0.99),
        fixed_cpu_us_per_msg: cpu_fixed.as_secs_f64() * 1e6 / (fixed.len().max(1) as f64),
        fixed_switches_per_msg: (
            switches.0 as f64 / fixed.len().max(1) as f64,
            switches.1 as f64 / fixed.len().max(1) as f64,
        ),
    };
    if args.each_run {
        println!(
            "signal {}run fixed_rate p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3} \
             server_cpu_us_per_msg={:.1} server_switches_per_msg={:.2}+{:.2} loadavg={}",
            kind.label(),
            relay.fixed_p50_ms,
            relay.fixed_p99_ms,
            fixed_p999_ms,
            fixed_max_ms,
            relay.fixed_cpu_us_per_msg,
            relay.fixed_switches_per_msg.0,
            relay.fixed_switches_per_msg.1,
            loadavg()
        );
    }
    Ok(relay)
}

/// CLOCK_MONOTONIC now, in nanoseconds (what `Instant` reads on Linux, and what
/// `perf record -k CLOCK_MONOTONIC` stamps events with).
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the struct passed by pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Writes one run's fixed-rate samples (see `--dump-samples`), in send order.
fn dump_samples(
    path: &Path,
    kind: Kind,
    pid: u32,
    epoch_monotonic: u64,
    samples: &mut [(u64, u32)],
) -> Result<(), String> {
    use std::io::Write;
    samples.sort_unstable();
    let path = format!("{}.{kind:?}.{pid}", path.display());
    let mut text = String::from("# send_monotonic_ns latency_ns\n");
    for (sent, latency) in samples.iter() {
        text.push_str(&format!("{} {latency}\n", epoch_monotonic + sent));
    }
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {path}: {e}"))
}

/// The `q` quantile of latencies in nanoseconds, in milliseconds.
fn percentile(samples: &mut [u32], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let index = ((samples.len() - 1) as f64 * q).round() as usize;
    f64::from(samples[index]) / 1e6
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The median of each figure over several runs.
fn medians(runs: &[Relay]) -> Relay {
    let pick = |f: fn(&Relay) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
    Relay {
        msgs_per_s: pick(|r| r.msgs_per_s),
        p50_ms: pick(|r| r.p50_ms),
        p99_ms: pick(|r| r.p99_ms),
        cpu_us_per_msg: pick(|r| r.cpu_us_per_msg),
        fixed_p50_ms: pick(|r| r.fixed_p50_ms),
        fixed_p99_ms: pick(|r| r.fixed_p99_ms),
        fixed_cpu_us_per_msg: pick(|r| r.fixed_cpu_us_per_msg),
        fixed_switches_per_msg: (
            pick(|r| r.fixed_switches_per_msg.0),
            pick(|r| r.fixed_switches_per_msg.1),
        ),
    }
}

fn print_relay(kind: Kind, relay: &Relay, args: &Args) {
    let (label, rate) = (kind.label(), args.rate);
    if !args.fixed_only {
        println!(
            "signal {label}relay msgs_per_s={:.0} p50_ms={:.3} p99_ms={:.3}",
            relay.msgs_per_s, relay.p50_ms, relay.p99_ms
        );
        println!("signal {label}relay server_cpu_us_per_msg={:.1}", relay.cpu_us_per_msg);
    }
    println!(
        "signal {label}fixed_rate msgs_per_s={rate} p50_ms={:.3} p99_ms={:.3} server_cpu_us_per_msg={:.1}",
        relay.fixed_p50_ms, relay.fixed_p99_ms, relay.fixed_cpu_us_per_msg
    );
}

/// The 1, 5 and 15 minute load averages: the machine is shared, and the figures mean little
/// without them.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(","))
        .unwrap_or_else(|_| "unknown".into())
}

async fn bench(args: Args) -> Result<(), String> {
    println!(
        "signal machine loadavg={} cores={} server_threads={} generator_threads={}",
        loadavg(),
        num_cores(),
        args.server_threads,
        args.generator_threads
    );
    let matchbox = if args.skip_matchbox { None } else { find_matchbox(&args) };
    let mut kinds = vec![Kind::Flotilla];
    if !args.skip_ywebrtc {
        kinds.push(Kind::YWebrtc);
    }
    match &matchbox {
        Some(_) => kinds.push(Kind::Matchbox),
        None if args.skip_matchbox => println!("signal matchbox skipped: --skip-matchbox"),
        None => println!(
            "signal matchbox skipped: no matchbox_server binary (cargo install matchbox_server \
             --version 0.15.0 --root /work/tools-matchbox, or pass --matchbox PATH)"
        ),
    }
    let matchbox = matchbox.as_deref();
    if args.conns.iter().any(|&level| level > 0) {
        for &kind in &kinds {
            hold_connections(kind, &args, matchbox).await?;
        }
    }
    if args.runs == 0 {
        return Ok(());
    }
    // Interleave the servers run by run, so a change in the machine's load hits all of them.
    let mut results: Vec<Vec<Relay>> = vec![Vec::new(); kinds.len()];
    for _ in 0..args.runs {
        for (i, &kind) in kinds.iter().enumerate() {
            results[i].push(relay(kind, &args, matchbox).await?);
        }
    }
    let summary: Vec<Relay> = results.iter().map(|runs| medians(runs)).collect();
    for (kind, relay) in kinds.iter().zip(&summary) {
        print_relay(*kind, relay, &args);
    }
    println!("signal machine loadavg={} (at the end)", loadavg());
    if args.fixed_only {
        return Ok(());
    }
    let ours = summary[0];
    for (kind, relay) in kinds.iter().zip(&summary).skip(1) {
        let name = match kind {
            Kind::YWebrtc => "ywebrtc",
            _ => "matchbox",
        };
        println!("signal relay_vs_{name} ratio={:.2}", ours.msgs_per_s / relay.msgs_per_s);
        println!(
            "signal cpu_per_msg_vs_{name} ratio={:.2}",
            ours.cpu_us_per_msg / relay.cpu_us_per_msg
        );
    }
    Ok(())
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// Raises the soft open-file limit to the hard one: 10,000 clients are 10,000 descriptors here
/// and as many in the server child, which inherits the raised limit.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

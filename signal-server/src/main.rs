//! The `signal-server` binary: command line and environment, logging, the listening socket, and
//! graceful shutdown on SIGINT/SIGTERM. Everything else is in the library's [`app`].
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use flotilla_signal_protocol::IceServer;
use signal_server::{runtime, serve, Config, Limits, Shutdown, DEFAULT_THREADS};

/// How long shutdown waits for sessions to send their close frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Flotilla's signal server: WebSocket signaling on /ws/{room}, and the web app's files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SIGNAL_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The trunk-built web app (a placeholder page is served until it has an index.html).
    #[arg(long, env = "SIGNAL_STATIC_DIR", default_value = "dist")]
    static_dir: PathBuf,
    /// Largest WebSocket frame accepted, in bytes.
    #[arg(long, env = "SIGNAL_MAX_FRAME_BYTES", default_value_t = Limits::default().max_frame_bytes)]
    max_frame_bytes: usize,
    /// Members per room.
    #[arg(long, env = "SIGNAL_MAX_PEERS_PER_ROOM", default_value_t = Limits::default().max_peers_per_room)]
    max_peers_per_room: usize,
    /// Rooms at once.
    #[arg(long, env = "SIGNAL_MAX_ROOMS", default_value_t = Limits::default().max_rooms)]
    max_rooms: usize,
    /// WebSocket connections at once.
    #[arg(long, env = "SIGNAL_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Frames per second per connection.
    #[arg(long, env = "SIGNAL_MAX_MSGS_PER_SEC", default_value_t = Limits::default().max_msgs_per_sec)]
    max_msgs_per_sec: u32,
    /// Frames queued per peer before signals to it are refused.
    #[arg(long, env = "SIGNAL_PEER_QUEUE", default_value_t = Limits::default().peer_queue)]
    peer_queue: usize,
    /// Bytes queued per peer before signals to it are refused.
    #[arg(long, env = "SIGNAL_PEER_QUEUE_BYTES", default_value_t = Limits::default().peer_queue_bytes)]
    peer_queue_bytes: usize,
    /// Seconds a dropped peer keeps its id for a resume.
    #[arg(long, env = "SIGNAL_RESUME_TTL_SECS", default_value_t = 30.0)]
    resume_ttl_secs: f64,
    /// Seconds of client silence before the server pings it.
    #[arg(long, env = "SIGNAL_PING_INTERVAL_SECS", default_value_t = 10.0)]
    ping_interval_secs: f64,
    /// Seconds of client silence before it is dropped and announced as left.
    #[arg(long, env = "SIGNAL_IDLE_TIMEOUT_SECS", default_value_t = 30.0)]
    idle_timeout_secs: f64,
    /// Seconds a client may take to send a request's header (the WebSocket upgrade included)
    /// before its connection is closed.
    #[arg(long, env = "SIGNAL_HEADER_READ_TIMEOUT_SECS", default_value_t = 10.0)]
    header_read_timeout_secs: f64,
    /// ICE servers handed to clients, as JSON:
    /// '[{"urls":["turn:turn.example.org:3478"],"username":"u","credential":"p"}]'.
    #[arg(long, env = "SIGNAL_ICE_SERVERS", default_value = "[]")]
    ice_servers: String,
    /// Per-socket read buffer and write batch, in bytes (memory per connection).
    #[arg(long, env = "SIGNAL_SOCKET_BUFFER_BYTES", default_value_t = Config::default().socket_buffer_bytes)]
    socket_buffer_bytes: usize,
    /// Worker threads: 1 runs everything on one thread (lowest latency); more use tokio's
    /// multi-thread runtime, for when one core is not enough.
    #[arg(long, env = "SIGNAL_THREADS", default_value_t = DEFAULT_THREADS)]
    threads: usize,
}

fn parse_ice_servers(json: &str) -> Result<Vec<IceServer>, String> {
    serde_json::from_str(json).map_err(|e| format!("--ice-servers is not a JSON list: {e}"))
}

fn seconds(value: f64, name: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("--{name} must be a positive duration"))
}

impl Args {
    fn config(self) -> Result<Config, String> {
        Ok(Config {
            static_dir: self.static_dir,
            limits: Limits {
                max_frame_bytes: self.max_frame_bytes,
                max_peers_per_room: self.max_peers_per_room,
                max_rooms: self.max_rooms,
                max_connections: self.max_connections,
                max_msgs_per_sec: self.max_msgs_per_sec,
                peer_queue: self.peer_queue.max(1),
                peer_queue_bytes: self.peer_queue_bytes,
            },
            resume_ttl: seconds(self.resume_ttl_secs, "resume-ttl-secs")?,
            ping_interval: seconds(self.ping_interval_secs, "ping-interval-secs")?,
            idle_timeout: seconds(self.idle_timeout_secs, "idle-timeout-secs")?,
            header_read_timeout: seconds(
                self.header_read_timeout_secs,
                "header-read-timeout-secs",
            )?,
            ice_servers: parse_ice_servers(&self.ice_servers)?,
            socket_buffer_bytes: self.socket_buffer_bytes,
            shutdown: Shutdown::new(),
        })
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "signal_server=info".into()),
        )
        .init();
    let args = Args::parse();
    let runtime = match runtime(args.threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let addr = args.addr;
    let threads = args.threads;
    let config = match args.config() {
        Ok(config) => config,
        Err(message) => {
            tracing::error!("{message}");
            return ExitCode::FAILURE;
        }
    };
    raise_open_file_limit();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        %addr,
        static_dir = %config.static_dir.display(),
        limits = ?config.limits,
        ice_servers = config.ice_servers.len(),
        threads,
        "signal server listening"
    );
    let shutdown = config.shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.trigger();
    });
    match serve(listener, config, SHUTDOWN_GRACE).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            tracing::warn!("some sessions did not close within {SHUTDOWN_GRACE:?}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}

/// Raises the soft limit on open files to the hard limit: each connection is a file descriptor,
/// and the usual soft limit (1024) would cap the server far below its connection limit.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::warn!("cannot raise the open file limit");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn command_line_defaults_and_ice_servers() {
        let args = Args::try_parse_from([
            "signal-server",
            "--ice-servers",
            r#"[{"urls":["turn:127.0.0.1:3478"],"username":"u","credential":"p"}]"#,
        ])
        .unwrap();
        assert_eq!(args.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(args.threads, 1);
        let config = args.config().unwrap();
        assert_eq!(config.static_dir, PathBuf::from("dist"));
        assert_eq!(config.resume_ttl, Duration::from_secs(30));
        assert_eq!(config.header_read_timeout, Config::default().header_read_timeout);
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.ice_servers[0].username.as_deref(), Some("u"));
        let bad = Args::try_parse_from(["signal-server", "--ice-servers", "{"]).unwrap();
        assert!(bad.config().is_err());
        let bad = Args::try_parse_from(["signal-server", "--idle-timeout-secs=-1"]).unwrap();
        assert!(bad.config().is_err());
    }
}

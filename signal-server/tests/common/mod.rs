//! Test harness: a server on 127.0.0.1:0 and a tokio-tungstenite client that speaks the protocol.
#![allow(dead_code)] // each test file uses its own subset of the harness

use std::net::SocketAddr;
use std::time::Duration;

use flotilla_signal_protocol::{ErrorCode, PeerId, PeerInfo, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use signal_server::{serve, Config, Shutdown};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for something that should happen (it normally takes microseconds).
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A server running in the test's runtime.
pub struct Server {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
}

/// Starts `app(config)` on an ephemeral port.
pub async fn start(config: Config) -> Server {
    let shutdown = config.shutdown.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, config, Duration::from_secs(2)));
    Server { addr, shutdown }
}

/// A config with a short resume TTL, so tests of it take a second; keepalive is lenient so a
/// busy machine cannot time out a client that a test is not reading at that moment.
pub fn quick_config() -> Config {
    Config {
        resume_ttl: Duration::from_secs(1),
        ping_interval: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// What `welcome` said.
#[derive(Debug)]
pub struct Welcome {
    pub id: PeerId,
    pub peers: Vec<PeerInfo>,
    pub token: String,
    pub ice_servers: Vec<flotilla_signal_protocol::IceServer>,
    pub resumed: bool,
    pub founder: PeerId,
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr, room: &str) -> Client {
        let url = format!("ws://{addr}/ws/{room}");
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await.unwrap();
        Client { ws }
    }

    /// Connects and sends `hello` with `meta` (and a resume token), returning the welcome.
    pub async fn join(
        addr: SocketAddr,
        room: &str,
        meta: Value,
        token: Option<&str>,
    ) -> (Client, Welcome) {
        let mut client = Client::connect(addr, room).await;
        let welcome = client.hello(meta, token).await;
        (client, welcome)
    }

    pub async fn hello(&mut self, meta: Value, token: Option<&str>) -> Welcome {
        self.send(json!({"type": "hello", "meta": meta, "resume_token": token}).to_string()).await;
        match self.recv().await {
            ServerMessage::Welcome { id, peers, resume_token, ice_servers, resumed, founder } => {
                Welcome { id, peers, token: resume_token, ice_servers, resumed, founder }
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn send(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.unwrap();
    }

    pub async fn signal(&mut self, to: PeerId, payload: Value) {
        self.send(json!({"type": "signal", "to": to, "payload": payload}).to_string()).await;
    }

    /// The next protocol message; panics on a close, an error or a timeout.
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("timed out waiting for a message");
            match frame {
                Some(Ok(Message::Text(text))) => return ServerMessage::decode(&text).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    pub async fn expect_error(&mut self, code: ErrorCode) {
        match self.recv().await {
            ServerMessage::Error { code: got, message } => {
                assert_eq!(got, code, "error message: {message}")
            }
            other => panic!("expected error {code}, got {other:?}"),
        }
    }

    /// Reads until the server's close frame, returning its code and the error codes before it.
    pub async fn expect_close(&mut self) -> (u16, Vec<ErrorCode>) {
        let mut errors = Vec::new();
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("timed out waiting for a close");
            match frame {
                Some(Ok(Message::Close(Some(CloseFrame { code, .. })))) => {
                    return (u16::from(code), errors)
                }
                Some(Ok(Message::Text(text))) => {
                    if let Ok(ServerMessage::Error { code, .. }) = ServerMessage::decode(&text) {
                        errors.push(code);
                    }
                }
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    /// Asserts that nothing but keepalives arrives for `time`.
    pub async fn expect_quiet(&mut self, time: Duration) {
        let deadline = tokio::time::Instant::now() + time;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("expected quiet, got {other:?}"),
            }
        }
    }

    /// Leaves politely: a close frame, then the server's reply.
    pub async fn close(mut self) {
        self.ws
            .close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))
            .await
            .ok();
        while let Ok(Some(Ok(_))) = tokio::time::timeout(PATIENCE, self.ws.next()).await {}
    }

    /// Drops the TCP connection without a close frame, as a lost network does.
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

/// A plain HTTP/1.1 GET, returning the status, lower-cased headers and body.
pub async fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw)).await.unwrap().unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v == "chunked") {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// One value from `/metrics`, e.g. `signal_rooms` or `signal_errors_total{code="room_full"}`.
pub async fn metric(addr: SocketAddr, name: &str) -> i64 {
    let (_, _, body) = http_get(addr, "/metrics", &[]).await;
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// Polls a metric until it equals `want` (they settle right after a socket closes).
pub async fn wait_for_metric(addr: SocketAddr, name: &str, want: i64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let got = metric(addr, name).await;
        if got == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name} stayed {got}, wanted {want}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

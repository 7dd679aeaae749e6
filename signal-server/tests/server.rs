//! The server's behaviour, end to end: tokio-tungstenite clients against `app` on port 0. Time-outs
//! are configured in milliseconds to a second, so the whole file runs in a few seconds.
mod common;

use std::time::{Duration, Instant};

use common::{header, http_get, metric, quick_config, start, wait_for_metric, Client, PATIENCE};
use flotilla_signal_protocol::{
    close_code, ErrorCode, IceServer, PeerId, ServerMessage, MAX_META_BYTES,
};
use futures_util::SinkExt;
use serde_json::json;
use signal_server::{Config, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn limits(change: impl FnOnce(&mut Limits)) -> Config {
    let mut config = quick_config();
    change(&mut config.limits);
    config
}

#[tokio::test]
async fn join_relay_and_leave() {
    let server = start(quick_config()).await;
    let (mut a, wa) = Client::join(server.addr, "r", json!({"node": 1, "name": "a"}), None).await;
    assert!(wa.peers.is_empty());
    assert!(!wa.resumed);
    assert_eq!(wa.token.len(), 32);

    let (mut b, wb) = Client::join(server.addr, "r", json!({"node": 2}), None).await;
    assert_ne!(wa.id, wb.id);
    assert_eq!(wb.peers.len(), 1);
    assert_eq!(wb.peers[0].id, wa.id);
    assert_eq!(wb.peers[0].meta.get(), r#"{"name":"a","node":1}"#);
    match a.recv().await {
        ServerMessage::PeerJoined { id, meta } => {
            assert_eq!(id, wb.id);
            assert_eq!(meta.get(), r#"{"node":2}"#);
        }
        other => panic!("{other:?}"),
    }

    // The payload goes through untouched, and `from` is set by the server.
    let offer = json!({"kind": "description", "sdp_type": "offer", "sdp": "v=0\r\n"});
    a.send(json!({"type": "signal", "to": wb.id, "from": 999, "payload": offer}).to_string()).await;
    match b.recv().await {
        ServerMessage::Signal { from, payload } => {
            assert_eq!(from, wa.id);
            assert_eq!(serde_json::from_str::<serde_json::Value>(payload.get()).unwrap(), offer);
        }
        other => panic!("{other:?}"),
    }
    b.signal(wa.id, json!("answer")).await;
    assert!(matches!(a.recv().await, ServerMessage::Signal { from, .. } if from == wb.id));

    b.close().await;
    assert!(matches!(a.recv().await, ServerMessage::PeerLeft { id, .. } if id == wb.id));
    assert_eq!(metric(server.addr, "signal_messages_relayed_total").await, 2);
    a.close().await;
    wait_for_metric(server.addr, "signal_rooms", 0).await;
    wait_for_metric(server.addr, "signal_connections", 0).await;
}

/// Who left and who founds the room now, from a `peer_left`.
fn left(message: ServerMessage) -> (PeerId, PeerId) {
    match message {
        ServerMessage::PeerLeft { id, founder } => (id, founder),
        other => panic!("expected peer_left, got {other:?}"),
    }
}

#[tokio::test]
async fn the_oldest_member_is_the_founder_and_a_successor_is_named_when_it_leaves() {
    let server = start(quick_config()).await;
    let (a, wa) = Client::join(server.addr, "r", json!("a"), None).await;
    assert_eq!(wa.founder, wa.id, "alone in a new room: the founder");
    let (mut b, wb) = Client::join(server.addr, "r", json!("b"), None).await;
    let (c, wc) = Client::join(server.addr, "r", json!("c"), None).await;
    assert_eq!((wb.founder, wc.founder), (wa.id, wa.id), "newcomers are told who founds");
    b.recv().await; // peer_joined c
    c.close().await;
    assert_eq!(left(b.recv().await), (wc.id, wa.id), "another tab leaving changes nothing");
    // The founder leaves (before it founded anything, say): the oldest left takes over.
    a.close().await;
    assert_eq!(left(b.recv().await), (wa.id, wb.id));
    let (_d, wd) = Client::join(server.addr, "r", json!("d"), None).await;
    assert_eq!(wd.founder, wb.id);
}

#[tokio::test]
async fn rooms_are_isolated() {
    let server = start(quick_config()).await;
    let (mut a, wa) = Client::join(server.addr, "one", json!(1), None).await;
    let (mut x, wx) = Client::join(server.addr, "two", json!(2), None).await;
    assert!(wx.peers.is_empty(), "a member of another room was listed");
    // Ids are unique across rooms, but a signal cannot cross rooms.
    a.signal(wx.id, json!("hi")).await;
    a.expect_error(ErrorCode::UnknownPeer).await;
    x.signal(wa.id, json!("hi")).await;
    x.expect_error(ErrorCode::UnknownPeer).await;
    // Joins and leaves are announced only inside the room.
    let (b, _) = Client::join(server.addr, "one", json!(3), None).await;
    assert!(matches!(a.recv().await, ServerMessage::PeerJoined { .. }));
    b.close().await;
    assert!(matches!(a.recv().await, ServerMessage::PeerLeft { .. }));
    x.expect_quiet(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn bad_input_gets_an_error_and_the_session_goes_on() {
    let server = start(quick_config()).await;
    let mut a = Client::connect(server.addr, "r").await;
    a.signal(1, json!(null)).await;
    a.expect_error(ErrorCode::NotJoined).await;
    let big_meta = "x".repeat(MAX_META_BYTES);
    a.send(json!({"type": "hello", "meta": big_meta}).to_string()).await;
    a.expect_error(ErrorCode::MetaTooLarge).await;
    let wa = a.hello(json!(null), None).await;
    let (mut b, wb) = Client::join(server.addr, "r", json!(null), None).await;
    a.recv().await; // peer_joined

    let cases: &[(&str, ErrorCode)] = &[
        ("{not json", ErrorCode::MalformedJson),
        ("[1,2,3]", ErrorCode::InvalidMessage),
        (r#"{"type":"signal","to":"b","payload":1}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"signal","payload":1}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"teleport"}"#, ErrorCode::UnknownType),
        (r#"{"type":"signal","to":123456789,"payload":1}"#, ErrorCode::UnknownPeer),
        (r#"{"type":"hello","meta":null}"#, ErrorCode::AlreadyJoined),
    ];
    for (frame, code) in cases {
        a.send(*frame).await;
        a.expect_error(*code).await;
    }
    a.ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    a.expect_error(ErrorCode::MalformedJson).await;

    // Still joined, still relaying.
    a.signal(wb.id, json!("after")).await;
    assert!(matches!(b.recv().await, ServerMessage::Signal { from, .. } if from == wa.id));
    assert_eq!(metric(server.addr, r#"signal_errors_total{code="unknown_type"}"#).await, 1);
    assert_eq!(metric(server.addr, r#"signal_errors_total{code="malformed_json"}"#).await, 2);
}

#[tokio::test]
async fn oversize_frame_is_refused_and_closed_without_harming_others() {
    let server = start(limits(|l| l.max_frame_bytes = 1024)).await;
    let (mut a, _) = Client::join(server.addr, "r", json!(null), None).await;
    let (mut other, wo) = Client::join(server.addr, "elsewhere", json!(null), None).await;
    let (mut friend, _) = Client::join(server.addr, "elsewhere", json!(null), None).await;
    other.recv().await; // peer_joined
                        // Under the limit is fine, over it is not.
    a.send(json!({"type": "signal", "to": 999, "payload": "x".repeat(900)}).to_string()).await;
    a.expect_error(ErrorCode::UnknownPeer).await;
    a.send(json!({"type": "signal", "to": 999, "payload": "x".repeat(5000)}).to_string()).await;
    let (code, errors) = a.expect_close().await;
    assert_eq!(code, close_code::MESSAGE_TOO_BIG);
    assert_eq!(errors, [ErrorCode::FrameTooLarge]);
    friend.signal(wo.id, json!("unaffected")).await;
    assert!(matches!(other.recv().await, ServerMessage::Signal { .. }));
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_closed() {
    let server = start(limits(|l| l.max_msgs_per_sec = 20)).await;
    let (mut a, wa) = Client::join(server.addr, "r", json!(null), None).await;
    // Up to the rate, signals go through (this one to itself).
    for _ in 0..10 {
        a.signal(wa.id, json!(1)).await;
        assert!(matches!(a.recv().await, ServerMessage::Signal { .. }));
    }
    for _ in 0..60 {
        a.signal(wa.id, json!(1)).await;
    }
    let (code, errors) = a.expect_close().await;
    assert_eq!(code, close_code::POLICY_VIOLATION);
    assert_eq!(errors, [ErrorCode::RateLimited, ErrorCode::RateLimited]);
}

#[tokio::test]
async fn room_full_and_too_many_rooms_are_refused_then_freed() {
    let server = start(limits(|l| {
        l.max_peers_per_room = 2;
        l.max_rooms = 1;
    }))
    .await;
    let (a, _) = Client::join(server.addr, "r", json!(null), None).await;
    let (b, _) = Client::join(server.addr, "r", json!(null), None).await;
    let mut c = Client::connect(server.addr, "r").await;
    c.send(r#"{"type":"hello","meta":null}"#).await;
    assert_eq!(c.expect_close().await, (close_code::TRY_AGAIN_LATER, vec![ErrorCode::RoomFull]));

    let mut d = Client::connect(server.addr, "s").await;
    d.send(r#"{"type":"hello","meta":null}"#).await;
    assert_eq!(
        d.expect_close().await,
        (close_code::TRY_AGAIN_LATER, vec![ErrorCode::TooManyRooms])
    );

    // Once room `r` empties it is freed, and `s` can be created.
    a.close().await;
    b.close().await;
    wait_for_metric(server.addr, "signal_rooms", 0).await;
    Client::join(server.addr, "s", json!(null), None).await;
    assert_eq!(metric(server.addr, r#"signal_errors_total{code="room_full"}"#).await, 1);
}

#[tokio::test]
async fn too_many_connections_are_refused() {
    let server = start(limits(|l| l.max_connections = 2)).await;
    let _a = Client::connect(server.addr, "r").await;
    let _b = Client::connect(server.addr, "r").await;
    wait_for_metric(server.addr, "signal_connections", 2).await;
    let mut c = Client::connect(server.addr, "r").await;
    let (code, errors) = c.expect_close().await;
    assert_eq!((code, errors), (close_code::TRY_AGAIN_LATER, vec![ErrorCode::TooManyConnections]));
    wait_for_metric(server.addr, "signal_connections", 2).await;
}

#[tokio::test]
async fn silent_and_half_sent_requests_are_closed_after_the_header_timeout() {
    let timeout = Duration::from_millis(300);
    let mut config = limits(|l| l.max_connections = 2);
    config.header_read_timeout = timeout;
    let server = start(config).await;
    // More of them than the connection limit: two send nothing, three half a request line.
    let connected = Instant::now();
    let mut sockets = Vec::new();
    for i in 0..5 {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        if i >= 2 {
            socket.write_all(b"GET /ws/r HT").await.unwrap();
        }
        sockets.push(socket);
    }
    // Meanwhile the WebSocket slots are all there: they count upgraded sessions only.
    let (_a, _) = Client::join(server.addr, "r", json!(null), None).await;
    let (_b, _) = Client::join(server.addr, "r", json!(null), None).await;
    for mut socket in sockets {
        // The server closes (EOF, or a reset if it could not send all it wrote) once the
        // timeout has passed, and not before.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(PATIENCE, socket.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a socket was still open after {PATIENCE:?}");
        assert!(connected.elapsed() >= timeout, "closed after {:?}", connected.elapsed());
    }
    // Every slot freed by the timeout: the server still takes requests.
    assert_eq!(http_get(server.addr, "/healthz", &[]).await.0, 200);
    wait_for_metric(server.addr, "signal_connections", 2).await;
}

#[tokio::test]
async fn bad_room_names_are_refused_before_the_upgrade() {
    let server = start(quick_config()).await;
    let long = "a".repeat(65);
    for room in ["has%20space", long.as_str(), "%C3%A9"] {
        let url = format!("ws://{}/ws/{room}", server.addr);
        assert!(tokio_tungstenite::connect_async(url).await.is_err(), "{room} was accepted");
    }
}

#[tokio::test]
async fn resume_after_a_dropped_socket_keeps_the_id_and_queued_signals() {
    let server = start(limits(|l| l.peer_queue = 3)).await;
    let (mut a, wa) = Client::join(server.addr, "r", json!("a"), None).await;
    let (b, wb) = Client::join(server.addr, "r", json!("b"), None).await;
    a.recv().await; // peer_joined
    b.drop_connection();
    wait_for_metric(server.addr, "signal_parked_peers", 1).await;
    // A parked member holds its place in the room, but no connection.
    wait_for_metric(server.addr, "signal_connections", 1).await;
    assert_eq!(metric(server.addr, "signal_peers").await, 2);
    // While b is away its queue holds signals, up to its limit.
    for n in 0..3 {
        a.signal(wb.id, json!(n)).await;
    }
    a.signal(wb.id, json!(3)).await;
    a.expect_error(ErrorCode::PeerOverloaded).await;

    let (mut b, again) = Client::join(server.addr, "r", json!("b"), Some(&wb.token)).await;
    assert!(again.resumed);
    assert_eq!(again.id, wb.id);
    assert_eq!(again.token, wb.token);
    assert_eq!(again.peers.len(), 1);
    for n in 0..3 {
        match b.recv().await {
            ServerMessage::Signal { from, payload } => {
                assert_eq!((from, payload.get()), (wa.id, n.to_string().as_str()))
            }
            other => panic!("{other:?}"),
        }
    }
    // a saw no leave and no join (both keep reading, so both answer pings).
    let quiet = Duration::from_millis(400);
    tokio::join!(a.expect_quiet(quiet), b.expect_quiet(quiet));
    assert_eq!(metric(server.addr, "signal_resumes_total").await, 1);
}

#[tokio::test]
async fn an_unresumed_peer_leaves_after_the_ttl() {
    let server = start(quick_config()).await;
    let (mut a, _) = Client::join(server.addr, "r", json!("a"), None).await;
    let (b, wb) = Client::join(server.addr, "r", json!("b"), None).await;
    a.recv().await; // peer_joined
    b.drop_connection();
    let started = tokio::time::Instant::now();
    assert!(matches!(a.recv().await, ServerMessage::PeerLeft { id, .. } if id == wb.id));
    assert!(started.elapsed() >= Duration::from_millis(900), "left before the TTL");
    // The token is spent: the same tab now joins as a newcomer.
    let (_b, again) = Client::join(server.addr, "r", json!("b"), Some(&wb.token)).await;
    assert!(!again.resumed);
    assert_ne!(again.id, wb.id);
    assert!(matches!(a.recv().await, ServerMessage::PeerJoined { id, .. } if id == again.id));
}

#[tokio::test]
async fn a_resume_takes_over_a_socket_that_still_looks_alive() {
    let server = start(quick_config()).await;
    let (mut a, _) = Client::join(server.addr, "r", json!("a"), None).await;
    let (mut old, wb) = Client::join(server.addr, "r", json!("b"), None).await;
    a.recv().await; // peer_joined
    let (mut new, again) = Client::join(server.addr, "r", json!("b"), Some(&wb.token)).await;
    assert!(again.resumed);
    assert_eq!(again.id, wb.id);
    assert_eq!(old.expect_close().await.0, close_code::SUPERSEDED);
    a.signal(wb.id, json!("to the new socket")).await;
    assert!(matches!(new.recv().await, ServerMessage::Signal { .. }));
    let quiet = Duration::from_millis(300);
    tokio::join!(a.expect_quiet(quiet), new.expect_quiet(quiet));
}

#[tokio::test]
async fn a_silent_client_is_dropped_and_announced_while_a_live_one_stays() {
    let server = start(Config {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_millis(500),
        ..quick_config()
    })
    .await;
    let (mut a, _) = Client::join(server.addr, "r", json!("a"), None).await;
    // `silent` never reads again, so it never answers the server's pings.
    let (silent, ws) = Client::join(server.addr, "r", json!("silent"), None).await;
    assert!(matches!(a.recv().await, ServerMessage::PeerJoined { .. }));
    // `a` keeps reading (tungstenite answers pings), over several idle timeouts.
    let started = tokio::time::Instant::now();
    assert!(matches!(a.recv().await, ServerMessage::PeerLeft { id, .. } if id == ws.id));
    assert!(started.elapsed() >= Duration::from_millis(400));
    a.expect_quiet(Duration::from_millis(1200)).await;
    a.signal(ws.id, json!("gone")).await;
    a.expect_error(ErrorCode::UnknownPeer).await;
    drop(silent);
}

#[tokio::test]
async fn shutdown_closes_every_session_with_going_away() {
    let server = start(quick_config()).await;
    let (mut a, _) = Client::join(server.addr, "r", json!("a"), None).await;
    let (mut b, _) = Client::join(server.addr, "s", json!("b"), None).await;
    let mut c = Client::connect(server.addr, "t").await;
    server.shutdown.trigger();
    for client in [&mut a, &mut b, &mut c] {
        assert_eq!(client.expect_close().await, (close_code::GOING_AWAY, vec![]));
    }
    assert!(server.shutdown.wait_for_sessions(Duration::from_secs(2)).await);
}

#[tokio::test]
async fn welcome_carries_the_configured_ice_servers() {
    let ice = IceServer {
        urls: vec!["turn:turn.test:3478".into(), "stun:stun.test:3478".into()],
        username: Some("user".into()),
        credential: Some("secret".into()),
    };
    let server = start(Config { ice_servers: vec![ice.clone()], ..quick_config() }).await;
    let (_a, wa) = Client::join(server.addr, "r", json!(null), None).await;
    assert_eq!(wa.ice_servers, [ice]);
    let default = start(quick_config()).await;
    let (_b, wb) = Client::join(default.addr, "r", json!(null), None).await;
    assert!(wb.ice_servers.is_empty());
}

/// A fresh directory under the system's temp dir.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("signal-server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serves_the_app_with_mime_types_compression_and_cache_headers() {
    let dir = temp_dir("dist");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Flotilla</title>").unwrap();
    // Compressible, and big enough to be worth it.
    let wasm: Vec<u8> = (0..64 * 1024).map(|i| (i % 7) as u8).collect();
    std::fs::write(dir.join("web-0123456789abcdef_bg.wasm"), &wasm).unwrap();
    std::fs::write(dir.join("web-0123456789abcdef.js"), "export default 1;").unwrap();
    let server = start(Config { static_dir: dir.clone(), ..quick_config() }).await;

    let (status, headers, body) = http_get(server.addr, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("<title>Flotilla</title>"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));

    let path = "/web-0123456789abcdef_bg.wasm";
    let (status, headers, body) = http_get(server.addr, path, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
    assert_eq!(header(&headers, "cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(body, wasm);
    for encoding in ["br", "gzip"] {
        let (status, headers, body) =
            http_get(server.addr, path, &[("Accept-Encoding", encoding)]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), Some(encoding));
        assert!(body.len() < wasm.len() / 10, "{encoding}: {} bytes", body.len());
    }
    let (_, headers, _) = http_get(server.addr, "/web-0123456789abcdef.js", &[]).await;
    assert_eq!(header(&headers, "content-type"), Some("text/javascript"));
    let (status, _, _) = http_get(server.addr, "/missing.js", &[]).await;
    assert_eq!(status, 404);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_release_builds_precompressed_files_are_sent_as_they_are() {
    let dir = temp_dir("precompressed");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Flotilla</title>").unwrap();
    let wasm: Vec<u8> = (0..64 * 1024).map(|i| (i % 7) as u8).collect();
    let name = "web-0123456789abcdef_bg.wasm";
    std::fs::write(dir.join(name), &wasm).unwrap();
    // Stand-ins the server cannot have made: it must send the files, not compress again.
    std::fs::write(dir.join(format!("{name}.br")), b"brotli bytes").unwrap();
    std::fs::write(dir.join(format!("{name}.gz")), b"gzip bytes").unwrap();
    let server = start(Config { static_dir: dir.clone(), ..quick_config() }).await;
    let path = format!("/{name}");
    for (encoding, expected) in [("br", &b"brotli bytes"[..]), ("gzip", &b"gzip bytes"[..])] {
        let (status, headers, body) =
            http_get(server.addr, &path, &[("Accept-Encoding", encoding)]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), Some(encoding));
        assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
        assert_eq!(body, expected);
    }
    let (_, headers, body) = http_get(server.addr, &path, &[]).await;
    assert_eq!((header(&headers, "content-encoding"), body), (None, wasm));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_a_built_app_a_placeholder_says_how_to_build_it() {
    let dir = temp_dir("empty");
    let server = start(Config { static_dir: dir.join("dist"), ..quick_config() }).await;
    let (status, headers, body) = http_get(server.addr, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("cargo xtask run"));
    let (status, _, body) = http_get(server.addr, "/healthz", &[]).await;
    assert_eq!((status, body), (200, b"ok\n".to_vec()));
    let (status, headers, _) = http_get(server.addr, "/metrics", &[]).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let _ = std::fs::remove_dir_all(dir);
}

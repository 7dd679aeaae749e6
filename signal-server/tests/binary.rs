//! The `signal-server` binary itself: it serves on `--addr`, reads its options, and on SIGTERM
//! closes its sockets with "going away" and exits cleanly.
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{http_get, Client};
use flotilla_signal_protocol::close_code;
use serde_json::json;

#[tokio::test]
async fn sigterm_closes_sockets_with_going_away_and_exits() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_signal-server"))
        .args(["--addr", &addr.to_string(), "--static-dir", "/nonexistent"])
        .env("SIGNAL_ICE_SERVERS", r#"[{"urls":["stun:stun.test:3478"]}]"#)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _, body) = http_get(addr, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("cargo xtask run"));
    // The environment variable reached the config.
    let (mut client, welcome) = Client::join(addr, "r", json!(null), None).await;
    assert_eq!(welcome.ice_servers[0].urls, ["stun:stun.test:3478"]);

    // SAFETY: kill only sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    assert_eq!(client.expect_close().await.0, close_code::GOING_AWAY);
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}

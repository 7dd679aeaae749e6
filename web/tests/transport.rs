//! Two RTCPeerConnections in one page, connected by the transport's own [`PeerLink`] through an
//! in-page loopback that stands in for the signal server. Runs in headless Chromium inside a
//! loopback-only network namespace (see `run-browser-tests.sh` for why each flag is needed).
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{sleep, wait_for};
use flotilla_core::codec;
use flotilla_core::{Message, MessageBody};
use flotilla_signal_protocol::SignalPayload;
use flotilla_web::transport::{CloseReason, LinkEvent, LinkState, PeerLink, Role, SendError};
use wasm_bindgen_futures::spawn_local;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

type Slot = Rc<RefCell<Option<PeerLink>>>;
type Seen = Rc<RefCell<Vec<LinkEvent>>>;

/// Both ends of a link pair and what each reported (signals excepted).
struct Pair {
    a: Slot,
    b: Slot,
    seen_a: Seen,
    seen_b: Seen,
}

/// The stand-in signal server: hands each signal to the other link. Descriptions are held back
/// 50 ms while candidates go straight through, so each side gets candidates before the remote
/// description and has to buffer them (the trickle-ICE race a real server can produce).
fn relay(to: &Slot, payload: SignalPayload) {
    let delay = match payload {
        SignalPayload::Description { .. } => 50,
        SignalPayload::Candidate { .. } => 0,
    };
    let to = to.clone();
    spawn_local(async move {
        sleep(delay).await;
        if let Some(link) = to.borrow().as_ref() {
            link.handle_signal(payload);
        }
    });
}

fn link(role: Role, other: &Slot, seen: &Seen) -> PeerLink {
    let other = other.clone();
    let seen = seen.clone();
    PeerLink::new(role, &[], move |event| match event {
        LinkEvent::Signal(payload) => relay(&other, payload),
        event => seen.borrow_mut().push(event),
    })
    .expect("an RTCPeerConnection")
}

/// Two links, offerer `a` and answerer `b`, once both channels are open.
async fn open_pair() -> Pair {
    let pair =
        Pair { a: Rc::default(), b: Rc::default(), seen_a: Rc::default(), seen_b: Rc::default() };
    *pair.a.borrow_mut() = Some(link(Role::Offerer, &pair.b, &pair.seen_a));
    *pair.b.borrow_mut() = Some(link(Role::Answerer, &pair.a, &pair.seen_b));
    let opened = |seen: &Seen| seen.borrow().contains(&LinkEvent::Open);
    wait_for("both channels to open", 10_000.0, || opened(&pair.seen_a) && opened(&pair.seen_b))
        .await;
    pair
}

fn messages(seen: &Seen) -> Vec<Vec<u8>> {
    let seen = seen.borrow();
    seen.iter()
        .filter_map(|event| match event {
            LinkEvent::Message(bytes) => Some(bytes.clone()),
            _ => None,
        })
        .collect()
}

fn send(slot: &Slot, frame: &[u8]) -> Result<(), SendError> {
    slot.borrow().as_ref().expect("a link").send(frame)
}

#[wasm_bindgen_test]
async fn links_connect_and_carry_core_messages_both_ways() {
    let pair = open_pair().await;
    // Garbage from the other side is logged and dropped; the link keeps working.
    if let Some(a) = pair.a.borrow().as_ref() {
        a.handle_signal(SignalPayload::Candidate {
            candidate: "not a candidate".into(),
            sdp_mid: None,
            sdp_m_line_index: None,
        });
        a.handle_signal(SignalPayload::Description { sdp_type: "rollback".into(), sdp: "".into() });
    }
    let heartbeat = Message::<String> {
        from: 1,
        to: 2,
        term: 3,
        body: MessageBody::Heartbeat { commit: 7, round: 1 },
    };
    let response = Message::<String> {
        from: 2,
        to: 1,
        term: 3,
        body: MessageBody::HeartbeatResponse { round: 1 },
    };
    send(&pair.a, &codec::encode(&heartbeat)).expect("a sends");
    send(&pair.b, &codec::encode(&response)).expect("b sends");
    wait_for("a frame each way", 5_000.0, || {
        !messages(&pair.seen_a).is_empty() && !messages(&pair.seen_b).is_empty()
    })
    .await;
    let at_b: Message<String> = codec::decode(&messages(&pair.seen_b)[0]).expect("decodes");
    let at_a: Message<String> = codec::decode(&messages(&pair.seen_a)[0]).expect("decodes");
    assert_eq!(at_b, heartbeat);
    assert_eq!(at_a, response);
}

#[wasm_bindgen_test]
async fn a_flood_is_queued_then_refused_and_what_was_accepted_arrives_in_order() {
    let pair = open_pair().await;
    const FRAME: usize = 100 * 1024;
    let mut accepted = 0u32;
    let mut peak_backlog = 0;
    loop {
        let mut frame = vec![0xab; FRAME];
        frame[..4].copy_from_slice(&accepted.to_be_bytes());
        match send(&pair.a, &frame) {
            Ok(()) => accepted += 1,
            Err(SendError::QueueFull) => break,
            Err(error) => panic!("unexpected send error {error:?}"),
        }
        let backlog = pair.a.borrow().as_ref().map_or(0, PeerLink::backlog_bytes);
        peak_backlog = peak_backlog.max(backlog);
        assert!(accepted < 1_000, "backpressure never refused a frame");
    }
    // The browser's buffer filled up first, then our queue, then sends were refused.
    assert!(peak_backlog > 4 * 1024 * 1024, "peak backlog only {peak_backlog} bytes");
    wait_for("every accepted frame", 30_000.0, || {
        messages(&pair.seen_b).len() == accepted as usize
    })
    .await;
    for (expected, frame) in messages(&pair.seen_b).iter().enumerate() {
        assert_eq!(frame.len(), FRAME);
        assert_eq!(frame[..4], (expected as u32).to_be_bytes(), "frames out of order");
    }
    assert_eq!(pair.a.borrow().as_ref().map(PeerLink::backlog_bytes), Some(0));
    assert_eq!(send(&pair.a, b"after the flood"), Ok(()));
}

#[wasm_bindgen_test]
async fn closing_one_side_is_seen_quickly_by_the_other() {
    let pair = open_pair().await;
    let closed_at = js_sys::Date::now();
    // Dropping a link closes its connection, as closing a tab does.
    pair.b.borrow_mut().take();
    let closed =
        |seen: &Seen| seen.borrow().iter().any(|event| matches!(event, LinkEvent::Closed(_)));
    wait_for("the other side to see the close", 2_000.0, || closed(&pair.seen_a)).await;
    let elapsed = js_sys::Date::now() - closed_at;
    console_log!("close seen by the other side after {elapsed} ms");
    assert!(pair.seen_a.borrow().contains(&LinkEvent::Closed(CloseReason::ChannelClosed)));
    let a = pair.a.borrow();
    let a = a.as_ref().expect("a link");
    assert_eq!(a.state(), LinkState::Closed);
    assert_eq!(a.send(b"too late"), Err(SendError::NotOpen));
    // The closed side reports nothing itself: its owner closed it.
    assert!(!closed(&pair.seen_b));
}

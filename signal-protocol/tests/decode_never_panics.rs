//! Property tests of the decoders: arbitrary frames never panic them, every error carries a code,
//! and every message the encoders produce decodes back to itself.
use flotilla_signal_protocol::{
    ClientMessage, ErrorCode, IceServer, Meta, PeerInfo, ServerMessage, MAX_META_BYTES,
};
use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

/// Arbitrary JSON values, nested a few levels, with the field names the decoder looks for
/// over-represented so that near-miss messages are common.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![Just("hello"), Just("signal"), Just("welcome"), Just("")]
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let key = prop_oneof![
            Just("type".to_string()),
            Just("to".to_string()),
            Just("payload".to_string()),
            Just("meta".to_string()),
            Just("resume_token".to_string()),
            ".{0,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A valid client frame, then mangled by deleting, inserting or replacing bytes.
fn mangled_frame() -> impl Strategy<Value = String> {
    let valid = prop_oneof![
        Just(r#"{"type":"hello","meta":{"node":1,"name":"a"},"resume_token":"00ff"}"#.to_string()),
        Just(r#"{"type":"signal","to":18446744073709551615,"payload":{"kind":"x"}}"#.to_string()),
    ];
    (valid, prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8))
        .prop_map(|(frame, edits)| {
            let mut bytes = frame.into_bytes();
            for (at, byte, op) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    1 => bytes.insert(i, byte),
                    _ if i < bytes.len() => bytes[i] = byte,
                    _ => bytes.push(byte),
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

fn check_client(text: &str) {
    match ClientMessage::decode(text) {
        // Whatever decodes must encode to something that decodes the same way.
        Ok(message) => {
            let again = ClientMessage::decode(&message.encode()).expect("re-decodes");
            assert_eq!(format!("{again:?}"), format!("{message:?}"));
        }
        Err(error) => assert!(ErrorCode::ALL.contains(&error.code)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        check_client(&text);
        let _ = ServerMessage::decode(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        check_client(&text);
        let _ = ServerMessage::decode(&text);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let text = value.to_string();
        check_client(&text);
        let _ = ServerMessage::decode(&text);
    }

    #[test]
    fn mangled_frames_never_panic(text in mangled_frame()) {
        check_client(&text);
        let _ = ServerMessage::decode(&text);
    }

    #[test]
    fn client_messages_round_trip(
        to in any::<u64>(),
        payload in json_value(),
        meta in json_value(),
        token in prop::option::of("[0-9a-f]{0,32}"),
    ) {
        let signal = ClientMessage::signal(to, &payload).unwrap();
        let ClientMessage::Signal { to: got_to, payload: got } =
            ClientMessage::decode(&signal.encode()).unwrap()
        else {
            panic!("not a signal")
        };
        prop_assert_eq!(got_to, to);
        // The payload travels verbatim, byte for byte.
        let sent = serde_json::value::to_raw_value(&payload).unwrap();
        prop_assert_eq!(got.get(), sent.get());

        match Meta::new(&meta) {
            Ok(meta) => {
                let hello = ClientMessage::Hello { meta: meta.clone(), resume_token: token.clone() };
                let ClientMessage::Hello { meta: got_meta, resume_token } =
                    ClientMessage::decode(&hello.encode()).unwrap()
                else {
                    panic!("not a hello")
                };
                prop_assert_eq!(got_meta, meta);
                prop_assert_eq!(resume_token, token);
            }
            Err(error) => {
                prop_assert_eq!(error.code, ErrorCode::MetaTooLarge);
                prop_assert!(meta.to_string().len() > MAX_META_BYTES);
            }
        }
    }

    #[test]
    fn server_messages_round_trip(id in any::<u64>(), ids in prop::collection::vec(any::<u64>(), 0..5)) {
        let meta = Meta::new(&serde_json::json!({"node": id})).unwrap();
        let welcome = ServerMessage::Welcome {
            id,
            peers: ids.iter().map(|&id| PeerInfo { id, meta: meta.clone() }).collect(),
            resume_token: "ab".repeat(16),
            ice_servers: vec![IceServer {
                urls: vec!["turn:127.0.0.1:3478".into()],
                username: Some("u".into()),
                credential: None,
            }],
            resumed: id % 2 == 0,
            founder: ids.iter().copied().min().unwrap_or(id),
        };
        let text = welcome.encode();
        let again = ServerMessage::decode(&text).unwrap();
        prop_assert_eq!(again.encode(), text);
        let left = ServerMessage::PeerLeft { id, founder: ids.first().copied().unwrap_or(id) };
        prop_assert_eq!(ServerMessage::decode(&left.encode()).unwrap().encode(), left.encode());
        let payload = RawValue::from_string(format!("[{id}]")).unwrap();
        let signal = ServerMessage::encode_signal(id, &payload);
        let ServerMessage::Signal { from, payload: got } = ServerMessage::decode(&signal).unwrap()
        else {
            panic!("not a signal")
        };
        prop_assert_eq!(from, id);
        prop_assert_eq!(got.get(), payload.get());
    }
}

#[test]
fn deeply_nested_frames_do_not_overflow_the_stack() {
    // An opaque payload is skipped iteratively, so depth costs nothing and it travels verbatim.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let frame = format!(r#"{{"type":"signal","to":1,"payload":{deep}}}"#);
    assert!(ClientMessage::decode(&frame).is_ok());
    // A typed field nested that deep is refused by serde_json's recursion limit.
    let frame = format!(r#"{{"type":"signal","to":{deep},"payload":1}}"#);
    assert_eq!(ClientMessage::decode(&frame).unwrap_err().code, ErrorCode::InvalidMessage);
    let frame = format!(r#"{{"type":"welcome","id":1,"peers":{deep},"resume_token":""}}"#);
    assert!(ServerMessage::decode(&frame).is_err());
    let frame = format!(r#"{{"type":"hello","meta":{}}}"#, "[".repeat(100_000));
    assert_eq!(ClientMessage::decode(&frame).unwrap_err().code, ErrorCode::MalformedJson);
}

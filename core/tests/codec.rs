//! The wire format: every message survives a round trip, the header errors say what is wrong,
//! and no input at all — random bytes, or valid encodings with bytes flipped, cut or appended —
//! makes `decode` panic (a fuzz-style test with a fixed seed, so failures replay).
use flotilla_core::codec::{
    decode, encode, encode_body, encode_with_body, DecodeError, MAGIC, VERSION,
};
use flotilla_core::reducers::kv::KvAction;
use flotilla_core::reducers::shared_log::Post;
use flotilla_core::{Entry, EntryPayload, Membership, Message, MessageBody, ReadId, RequestId};

fn every_body() -> Vec<MessageBody<KvAction>> {
    let request = RequestId { client: 3, seq: 99 };
    let entries = vec![
        Entry {
            term: 2,
            index: 4,
            payload: EntryPayload::Membership(Membership::with_voters(&[1])),
        },
        Entry { term: 2, index: 5, payload: EntryPayload::Noop },
        Entry {
            term: 2,
            index: 6,
            payload: EntryPayload::Action {
                request,
                action: KvAction::Cas { key: 1, from: None, to: 7 },
            },
        },
    ];
    vec![
        MessageBody::RequestVote { pre_vote: true, last_index: 10, last_term: 3, transfer: false },
        MessageBody::VoteResponse { pre_vote: false, granted: true },
        MessageBody::Append { prev_index: 3, prev_term: 2, commit: 3, entries },
        MessageBody::AppendAccepted { match_index: u64::MAX },
        MessageBody::AppendRejected { rejected_index: 9, hint_index: 4, hint_term: 1 },
        MessageBody::Heartbeat { commit: 12, round: 40 },
        MessageBody::HeartbeatResponse { round: 40 },
        MessageBody::Propose { request, action: KvAction::Write { key: 1, value: 2 } },
        MessageBody::ProposeRejected { request },
        MessageBody::InstallSnapshot {
            index: 40,
            term: 3,
            membership: Membership::with_voters(&[1, 2, 3]),
            offset: 1024,
            total: 4096,
            data: vec![7; 1024],
        },
        MessageBody::SnapshotAck { index: 40, received: 2048, resend: true },
        MessageBody::ReadIndex { id: ReadId(5) },
        MessageBody::ReadIndexResponse { id: ReadId(5), index: Some(77) },
        MessageBody::TimeoutNow { conditional_vote: None },
        MessageBody::TimeoutNow { conditional_vote: Some(12) },
        MessageBody::JoinRequest { node: 4 },
    ]
}

fn messages() -> Vec<Message<KvAction>> {
    every_body().into_iter().map(|body| Message { from: 1, to: 2, term: 7, body }).collect()
}

#[test]
fn a_body_encoded_once_makes_the_same_bytes_for_every_receiver() {
    for body in every_body() {
        let shared = encode_body(&body);
        for (from, to, term) in [(1, 2, 7), (1, 3, 7), (u64::MAX, 300, 1 << 40), (0, 0, 0)] {
            let message = Message { from, to, term, body: body.clone() };
            assert_eq!(encode_with_body(from, to, term, &shared), encode(&message));
        }
    }
}

#[test]
fn every_message_survives_a_round_trip_behind_the_header() {
    for message in messages() {
        let bytes = encode(&message);
        assert_eq!(bytes[..2], MAGIC);
        assert_eq!(bytes[2], VERSION);
        assert_eq!(decode::<KvAction>(&bytes), Ok(message));
    }
    let post = Message {
        from: 1,
        to: 2,
        term: 1,
        body: MessageBody::Propose {
            request: RequestId { client: 1, seq: 1 },
            action: Post { author: "ada".into(), text: "hé".into(), at: 5 },
        },
    };
    assert_eq!(decode::<Post>(&encode(&post)), Ok(post));
}

#[test]
fn header_errors_say_what_is_wrong() {
    let good = encode(&messages()[0]);
    assert_eq!(decode::<KvAction>(b"FL"), Err(DecodeError::TooShort { len: 2 }));
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    assert_eq!(decode::<KvAction>(&bad_magic), Err(DecodeError::BadMagic { found: *b"XL" }));
    let mut newer = good.clone();
    newer[2] = VERSION + 1;
    let error = decode::<KvAction>(&newer).unwrap_err();
    assert_eq!(error, DecodeError::UnsupportedVersion { found: VERSION + 1 });
    assert_eq!(
        error.to_string(),
        format!("unsupported wire format version {} (this build speaks {VERSION})", VERSION + 1)
    );
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(decode::<KvAction>(&longer), Err(DecodeError::TrailingBytes { count: 1 }));
    let cut = &good[..good.len() - 1];
    assert!(matches!(decode::<KvAction>(cut), Err(DecodeError::Malformed(_))));
    assert_eq!(
        DecodeError::BadMagic { found: *b"XL" }.to_string(),
        "not a Flotilla message: starts with 58 4c, expected 46 4c"
    );
}

/// xorshift64*: a fixed-seed source of test inputs.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Decodes `bytes` as both action types; whatever decodes must encode back to the same bytes.
fn decode_must_not_panic(bytes: &[u8]) {
    if let Ok(message) = decode::<KvAction>(bytes) {
        assert_eq!(decode::<KvAction>(&encode(&message)), Ok(message));
    }
    if let Ok(message) = decode::<Post>(bytes) {
        assert_eq!(decode::<Post>(&encode(&message)), Ok(message));
    }
}

#[test]
fn fuzz_arbitrary_bytes_never_panic() {
    let mut rng = Bytes(0x5EED);
    for _ in 0..50_000 {
        let len = rng.below(64);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half of the inputs get a valid header, so the body decoder is exercised too.
        if rng.next() % 2 == 0 && len >= 3 {
            bytes[..2].copy_from_slice(&MAGIC);
            bytes[2] = VERSION;
        }
        decode_must_not_panic(&bytes);
    }
}

#[test]
fn fuzz_mutated_valid_messages_never_panic() {
    let mut rng = Bytes(0xF1A7);
    let valid: Vec<Vec<u8>> = messages().iter().map(encode).collect();
    for _ in 0..50_000 {
        let mut bytes = valid[rng.below(valid.len())].clone();
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                0 if !bytes.is_empty() => {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                1 => bytes.truncate(rng.below(bytes.len() + 1)),
                2 => bytes.push(rng.next() as u8),
                3 => {
                    // Huge lengths in varints are the classic way to make a decoder allocate.
                    let at = 3 + rng.below(bytes.len().saturating_sub(3).max(1));
                    if at < bytes.len() {
                        bytes.splice(at..at, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
                    }
                }
                _ => {}
            }
        }
        decode_must_not_panic(&bytes);
    }
}

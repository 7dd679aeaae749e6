//! The checkers catch what they must, on histories built by hand.
use flotilla_sim::history::{Op, OpKind, OpResult};
use flotilla_sim::linearizability::{check, Verdict};

/// An operation on `key` by its own client, over `[call, ret]` (ms and order alike).
fn op(key: u64, kind: OpKind, value: Option<u64>, result: OpResult, call: u64, ret: u64) -> Op {
    Op {
        client: call,
        kind,
        key,
        value,
        from: None,
        result,
        call,
        ret,
        call_order: call,
        ret_order: ret,
    }
}

#[test]
fn concurrent_reads_may_see_either_side_of_a_write() {
    // w(1) overlaps both reads: one sees the old value, the later one the new.
    let ops = [
        op(0, OpKind::Write, Some(1), OpResult::Ok, 0, 10),
        op(0, OpKind::Read, None, OpResult::Ok, 1, 2),
        op(0, OpKind::Read, Some(1), OpResult::Ok, 3, 4),
    ];
    assert_eq!(check(&ops), Verdict::Linearizable);
}

#[test]
fn a_read_that_goes_back_in_time_is_not_linearizable() {
    // The second read follows the first in real time, yet sees an older value: no single order
    // of the operations explains both reads.
    let ops = [
        op(0, OpKind::Write, Some(1), OpResult::Ok, 0, 10),
        op(0, OpKind::Read, Some(1), OpResult::Ok, 1, 2),
        op(0, OpKind::Read, None, OpResult::Ok, 3, 4),
    ];
    assert_eq!(check(&ops), Verdict::NotLinearizable { key: 0 });
}

#[test]
fn two_cas_from_the_same_value_cannot_both_win() {
    let cas = |to, call, ret| Op {
        from: Some(1),
        ..op(3, OpKind::Cas, Some(to), OpResult::Ok, call, ret)
    };
    let ops = [op(3, OpKind::Write, Some(1), OpResult::Ok, 0, 1), cas(2, 2, 5), cas(3, 3, 6)];
    assert_eq!(check(&ops), Verdict::NotLinearizable { key: 3 });
}

#[test]
fn a_lost_acknowledged_write_is_not_linearizable_but_an_unknown_one_is() {
    let read_old = op(1, OpKind::Read, None, OpResult::Ok, 20, 21);
    let acked = op(1, OpKind::Write, Some(9), OpResult::Ok, 0, 10);
    assert_eq!(check(&[acked, read_old.clone()]), Verdict::NotLinearizable { key: 1 });
    let unknown = op(1, OpKind::Write, Some(9), OpResult::Unknown, 0, 10);
    assert_eq!(check(&[unknown, read_old]), Verdict::Linearizable);
}

#[test]
fn a_read_without_the_log_is_checked_like_any_read() {
    let index_read = |value, call, ret| op(2, OpKind::IndexRead, value, OpResult::Ok, call, ret);
    let write = op(2, OpKind::Write, Some(7), OpResult::Ok, 0, 1);
    assert_eq!(check(&[write.clone(), index_read(Some(7), 2, 3)]), Verdict::Linearizable);
    assert_eq!(check(&[write, index_read(None, 2, 3)]), Verdict::NotLinearizable { key: 2 });
}

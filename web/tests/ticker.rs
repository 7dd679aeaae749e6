//! The Worker ticker in a real browser: its timer keeps time while the main thread is busy.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{sleep, wait_for};
use flotilla_web::runtime::ticker::{now, Tick, Ticker};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn ticker() -> (Ticker, Rc<RefCell<Vec<Tick>>>) {
    let ticks = Rc::new(RefCell::new(Vec::new()));
    let sink = ticks.clone();
    let ticker = Ticker::new(move |tick| sink.borrow_mut().push(tick)).expect("a worker");
    (ticker, ticks)
}

/// The page's clock in epoch milliseconds, comparable with `Tick::fired_at_epoch_ms`.
fn epoch_now() -> f64 {
    let performance = web_sys::window().and_then(|w| w.performance()).expect("performance");
    performance.time_origin() + performance.now()
}

#[wasm_bindgen_test]
async fn ticks_fire_in_the_worker_while_the_main_thread_is_busy() {
    let (ticker, ticks) = ticker();
    // Let the worker start up before timing it.
    ticker.wake_at(now());
    wait_for("the worker to start", 5_000.0, || !ticks.borrow().is_empty()).await;
    ticks.borrow_mut().clear();

    let busy_from = epoch_now();
    ticker.wake_at(now() + 20.0);
    // Block the main thread for 200 ms: no page timer or event can run meanwhile.
    let until = now() + 200.0;
    while now() < until {}
    let busy_until = epoch_now();
    assert!(ticks.borrow().is_empty(), "nothing runs on a blocked main thread");

    wait_for("the queued tick", 1_000.0, || !ticks.borrow().is_empty()).await;
    let fired = ticks.borrow()[0].fired_at_epoch_ms;
    console_log!("tick fired {:.1} ms into a 200 ms busy stretch", fired - busy_from);
    // It fired in the worker at about +20 ms, while the main thread was still blocked.
    assert!(fired >= busy_from + 15.0 && fired < busy_until - 50.0, "fired at {fired}");
}

#[wasm_bindgen_test]
async fn the_earliest_deadline_wins_and_pause_stops_ticks() {
    let (ticker, ticks) = ticker();
    let start = now();
    ticker.wake_at(start + 30.0);
    ticker.wake_at(start + 2_000.0); // later than the armed deadline: ignored
    wait_for("the earlier deadline", 1_000.0, || !ticks.borrow().is_empty()).await;
    assert!(now() - start < 1_000.0);

    ticks.borrow_mut().clear();
    ticker.pause();
    assert!(ticker.is_paused());
    ticker.wake_at(now() + 5.0);
    sleep(100).await;
    assert!(ticks.borrow().is_empty(), "a paused ticker does not tick");

    ticker.resume();
    wait_for("a tick right after resuming", 1_000.0, || !ticks.borrow().is_empty()).await;
}

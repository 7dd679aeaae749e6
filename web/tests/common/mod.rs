//! Helpers shared by the browser tests: waiting without blocking the page.
use js_sys::Promise;
use wasm_bindgen_futures::JsFuture;

/// Resolves after `ms` milliseconds of the page's event loop.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("a timer never fails");
}

/// Polls `done` every few milliseconds until it holds; panics naming `what` after `limit_ms`.
pub async fn wait_for(what: &str, limit_ms: f64, mut done: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !done() {
        assert!(js_sys::Date::now() - start < limit_ms, "timed out waiting for {what}");
        sleep(5).await;
    }
}

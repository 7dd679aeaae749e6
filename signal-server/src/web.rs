//! Serving the web app: the trunk-built directory with compression and cache headers, or a
//! placeholder page saying how to build the app while there is none.
use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

/// The static-file router: `dir` served as is (`index.html` for directories), gzip or brotli by
/// `Accept-Encoding`, cache headers by file kind, and the placeholder where `index.html` is
/// missing. The directory is looked at per request, so building the app needs no restart.
///
/// A release build ships `NAME.br` and `NAME.gz` beside each file (web/precompress.mjs): those
/// are sent as they are. Compressing on the fly is only the fallback (a debug build), because
/// it runs on the server's thread, where signaling waits meanwhile (40-50 ms for the wasm).
pub(crate) fn files(dir: PathBuf) -> Router {
    let placeholder_dir = dir.clone();
    let placeholder = get(move |request: Request| placeholder(placeholder_dir.clone(), request));
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip().fallback(placeholder);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        // Brotli's default level (11) takes seconds on a megabyte of wasm, on every request; 5
        // compresses nearly as well at a small fraction of the time.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
}

/// Answers a path that has no file: the placeholder page at `/` while the app is not built,
/// 404 otherwise.
async fn placeholder(dir: PathBuf, request: Request) -> Response {
    let path = request.uri().path();
    if (path == "/" || path == "/index.html") && !dir.join("index.html").is_file() {
        return Html(placeholder_page(&dir)).into_response();
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

fn placeholder_page(dir: &Path) -> String {
    let dir = html_escape(&dir.display().to_string());
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Flotilla: app not built</title></head>\n<body>\
         <h1>Flotilla's signal server is running</h1>\n\
         <p>The web app is not built yet: there is no <code>index.html</code> in \
         <code>{dir}</code>.</p>\n\
         <p>Build it and serve it with <code>cargo xtask run</code> (trunk builds the app into \
         <code>dist/</code>, then this server serves it), then reload this page.</p>\n\
         <p>The signaling endpoint <code>/ws/{{room}}</code> works meanwhile.</p>\n\
         </body></html>\n"
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `Cache-Control` by what a file is: trunk puts a content hash in the names of the wasm, JS
/// and CSS it emits, so those never change and are cached for a year; `index.html` names them
/// and must be revalidated every time; anything else gets an hour.
async fn cache_headers(request: Request, next: Next) -> Response {
    let policy = cache_policy(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

fn cache_policy(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.is_empty() || name.ends_with(".html") {
        "no-cache"
    } else if is_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    }
}

/// Whether a file name carries a trunk content hash: `name-<16 hex digits>.ext` (or `_bg.wasm`).
fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_policy_by_file_kind() {
        assert_eq!(cache_policy("/"), "no-cache");
        assert_eq!(cache_policy("/index.html"), "no-cache");
        assert_eq!(
            cache_policy("/web-9f86d081884c7d65_bg.wasm"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_policy("/web-9f86d081884c7d65.js"), "public, max-age=31536000, immutable");
        assert_eq!(cache_policy("/favicon.ico"), "public, max-age=3600");
        assert_eq!(cache_policy("/my-app.js"), "public, max-age=3600");
    }
}

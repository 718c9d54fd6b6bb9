//! The web UI: the files of `ui/` (plain HTML, CSS and ES modules, no build step) compiled
//! into the binary and served under `/static/`, with `index.html` for every page URL so deep
//! links survive a reload.
//!
//! **Invariant:** the UI talks to the server only through `/api/v2`, `/auth` and `/ui/events`;
//! nothing here renders data.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "ui/"]
#[exclude = "dev/*"]
#[exclude = "*.md"]
struct Assets;

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// One embedded file, with an ETag so unchanged files answer 304.
pub fn asset(path: &str, headers: &HeaderMap) -> Option<Response> {
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, mime(path))], file.data.into_owned()).into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(res)
}

/// Whether a path belongs to the UI's pages (so unknown ones get `index.html`).
pub fn is_page(path: &str) -> bool {
    ![
        "/api/",
        "/auth/",
        "/static/",
        "/ui/",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/docs",
    ]
    .iter()
    .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'))
}

/// Every embedded file name (for size checks).
pub fn files() -> impl Iterator<Item = std::borrow::Cow<'static, str>> {
    Assets::iter()
}

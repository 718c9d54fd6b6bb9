//! Cross-cutting HTTP layers: the DNS-rebinding `Host` guard, request metrics, and turning
//! every non-JSON error body (404 fallbacks, 405, 408, 413...) into Airflow's `{"detail": ...}`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// Which `Host` header values the server answers.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// `None` means any host is accepted (bound to a non-loopback address).
    allowed: Option<Vec<String>>,
}

impl HostPolicy {
    /// Loopback binds accept only loopback names plus `extra`; other binds accept any host
    /// (those require authentication instead).
    pub fn new(bind: std::net::IpAddr, extra: &[String]) -> HostPolicy {
        if !bind.is_loopback() {
            return HostPolicy { allowed: None };
        }
        let mut allowed: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        allowed.push(bind.to_string());
        allowed.extend(extra.iter().map(|h| h.to_ascii_lowercase()));
        HostPolicy {
            allowed: Some(allowed),
        }
    }

    /// Whether `host` (a `Host` header value, port included or not) is acceptable.
    pub fn allows(&self, host: &str) -> bool {
        let Some(allowed) = &self.allowed else {
            return true;
        };
        let host = host.trim().to_ascii_lowercase();
        let name = if host.starts_with('[') {
            // [::1]:8088
            host.split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or(host.clone())
        } else if host.matches(':').count() == 1 {
            host.split(':').next().unwrap_or("").to_string()
        } else {
            host.clone()
        };
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        allowed.iter().any(|a| a == &name || a == bare) || bare.ends_with(".localhost")
    }

    fn describe(&self) -> String {
        self.allowed
            .as_ref()
            .map(|a| a.join(", "))
            .unwrap_or_else(|| "any".into())
    }
}

/// Refuses requests whose `Host` is not ours (a DNS-rebinding attack would carry another name).
pub async fn host_guard(
    State(policy): State<Arc<HostPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if policy.allows(host) {
        return next.run(req).await;
    }
    ApiError::bad_request(format!(
        "Invalid host header {host:?}: this server answers only {} (add the name to allowed_hosts / LEOFLOW_ALLOWED_HOSTS to allow it)",
        policy.describe()
    ))
    .into_response()
}

/// The list reads clients and the UI poll hardest, answered from memory while nothing was
/// written since (the store's write generation, which another process's writes bump too).
const CACHED_ROUTES: &[&str] = &[
    "/api/v2/dags",
    "/api/v2/dags/{dag_id}/dagRuns",
    "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances",
];

/// At most this many answers are kept (emptied when full), each at most this big (bigger ones
/// are served uncached); so the cache stays under 64 MiB.
const CACHED_ANSWERS: usize = 64;
const CACHED_ANSWER_BYTES: usize = 1 << 20;

/// Cached answers by request URI: (write generation, content type, body).
#[derive(Default)]
pub struct ReadCache {
    answers: std::sync::Mutex<std::collections::HashMap<String, (u64, HeaderValue, Bytes)>>,
}

/// Serves a cached answer of a [`CACHED_ROUTES`] GET when the database has not changed since;
/// otherwise runs the handler and keeps a 200 answer. Runs after auth (a route layer).
pub async fn cached_reads(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cacheable = req.method() == Method::GET
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|m| CACHED_ROUTES.contains(&m.as_str()));
    if !cacheable {
        return next.run(req).await;
    }
    let mut key = req.uri().to_string();
    // `is_favorite` answers differ per user.
    if req.uri().query().is_some_and(|q| q.contains("is_favorite")) {
        let who = req
            .extensions()
            .get::<crate::auth::Identity>()
            .map(|i| i.username.clone())
            .unwrap_or_default();
        key = format!("{key}\n{who}");
    }
    let generation = state.store.generation();
    let hit = state
        .reads
        .answers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|(g, _, _)| *g == generation)
        .map(|(_, ct, body)| (ct.clone(), body.clone()));
    if let Some((ct, body)) = hit {
        return ([(header::CONTENT_TYPE, ct)], body).into_response();
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal("the answer could not be read").into_response();
    };
    if bytes.len() <= CACHED_ANSWER_BYTES
        && let Some(ct) = parts.headers.get(header::CONTENT_TYPE)
    {
        let mut answers = state
            .reads
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if answers.len() >= CACHED_ANSWERS {
            answers.clear();
        }
        answers.insert(key, (generation, ct.clone(), bytes.clone()));
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Counts requests by method, matched route and status.
pub async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    state.metrics.observe_http(
        &method,
        &route,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

/// Rewrites error responses that are not JSON into `{"detail": "<reason>"}`.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail = match status {
        StatusCode::NOT_FOUND => "Not Found".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed".to_string(),
        _ if !text.is_empty() => text,
        _ => status.canonical_reason().unwrap_or("Error").to_string(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&serde_json::json!({ "detail": detail })).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_policy_accepts_local_names_only() {
        let p = HostPolicy::new([127, 0, 0, 1].into(), &["dev.box".into()]);
        for ok in [
            "localhost:8088",
            "127.0.0.1:1",
            "[::1]:8088",
            "localhost",
            "DEV.BOX:80",
            "ui.localhost:8088",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in ["evil.com", "evil.com:8088", "127.0.0.1.evil.com", ""] {
            assert!(!p.allows(bad), "{bad}");
        }
        let open = HostPolicy::new([0, 0, 0, 0].into(), &[]);
        assert!(open.allows("anything.example"));
    }
}

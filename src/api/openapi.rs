//! Lite's own OpenAPI document (`GET /openapi.json`) and API reference page (`GET /docs`).
//!
//! The document is Airflow 3.2's (the public REST API, the simple auth manager's `/auth` and
//! the UI's private `/ui` routes, converted once from YAML to the JSON in `openapi/`) filtered
//! to the operations this router really serves, plus Lite's own routes. "Really serves" is
//! asked of the router itself: [`probe`] is a route layer that, for an internal probe request
//! (marked by a request extension a client cannot set), answers with the route that matched
//! instead of running the handler. So the document cannot drift from the routes: an
//! operation is listed exactly when a route with its path template and method exists.
//! It is built on the first request (not at start-up) and cached.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

const AIRFLOW_V2: &str = include_str!("openapi/airflow-v2.json");
const AIRFLOW_AUTH: &str = include_str!("openapi/airflow-auth.json");
const AIRFLOW_UI: &str = include_str!("openapi/airflow-ui.json");

/// Marks an internal probe request (an extension: never set from the network).
#[derive(Clone, Copy)]
struct Probe;

/// The response header carrying the matched route template of a probe.
const ROUTE_HEADER: &str = "x-leoflow-route";

/// The router (without the outer layers) that probes are sent to.
static ROUTER: OnceLock<Router> = OnceLock::new();
/// The document, built once.
static DOC: tokio::sync::OnceCell<Arc<Vec<u8>>> = tokio::sync::OnceCell::const_new();

/// Route layer: answers a probe with the matched route instead of running the handler.
///
/// It wraps each method's handler and the route's "method not allowed" fallback alike; axum
/// adds an `Allow` header to whatever the fallback path answers, so a probe answer without
/// `Allow` means a handler for the probed method exists.
pub async fn probe(req: Request, next: Next) -> Response {
    if req.extensions().get::<Probe>().is_none() {
        return next.run(req).await;
    }
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&matched) {
        r.headers_mut().insert(ROUTE_HEADER, v);
    }
    r
}

/// Keeps the router (all routes, with [`probe`] as route layer) to probe later.
pub fn remember(router: Router) {
    let _ = ROUTER.set(router);
}

/// `/a/{x}/b` and `/a/{y}/b` are the same route.
fn template(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "{}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every `(method, path)` of Airflow's documents and Lite's own.
#[cfg(test)]
pub(super) fn candidates() -> Vec<(String, String)> {
    let lite = lite_paths();
    let mut out = Vec::new();
    for spec in [AIRFLOW_V2, AIRFLOW_AUTH, AIRFLOW_UI] {
        let v: Value = serde_json::from_str(spec).expect("embedded OpenAPI JSON");
        for (path, ops) in v["paths"].as_object().into_iter().flatten() {
            for m in ops.as_object().into_iter().flatten().map(|(m, _)| m) {
                out.push((m.clone(), path.clone()));
            }
        }
    }
    for (path, ops) in lite.as_object().into_iter().flatten() {
        for m in ops.as_object().into_iter().flatten().map(|(m, _)| m) {
            out.push((m.clone(), path.clone()));
        }
    }
    out
}

/// Whether the router last given to [`remember`] has a route with `path`'s template for
/// `method`.
#[cfg(test)]
pub(super) async fn serves(method: &str, path: &str) -> bool {
    let router = ROUTER.get().expect("remember() ran").clone();
    served(&router, method, path).await
}

/// Whether the router has a route with `path`'s template for `method`.
async fn served(router: &Router, method: &str, path: &str) -> bool {
    let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
        return false;
    };
    let concrete = path
        .split('/')
        .map(|s| if s.starts_with('{') { "probe" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let Ok(mut req) = Request::builder()
        .method(m)
        .uri(&concrete)
        .body(axum::body::Body::empty())
    else {
        return false;
    };
    req.extensions_mut().insert(Probe);
    let r = match router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    template(&header(ROUTE_HEADER)) == template(path) && !r.headers().contains_key(header::ALLOW)
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Lite's own routes, described in the same form as Airflow's.
fn lite_paths() -> Value {
    let text = |desc: &str, ctype: &str| json!({"200": {"description": desc, "content": {ctype: {"schema": {"type": "string"}}}}});
    json!({
        "/ui/events": {"get": {
            "tags": ["Leoflow"], "operationId": "leoflow_events", "summary": "Live Events",
            "description": "Server-Sent Events of the in-process event bus: `dag_updated`, `dag_removed`, `import_errors`, `dag_run`, `task_instance`, `log`, `backfill`. Each event is `event: KIND` and `data: JSON`.",
            "responses": text("An event stream", "text/event-stream"),
        }},
        "/healthz": {"get": {
            "tags": ["Leoflow"], "operationId": "leoflow_healthz", "summary": "Liveness",
            "description": "Answers 200 while the process serves requests.",
            "responses": text("Alive", "text/plain"),
        }},
        "/metrics": {"get": {
            "tags": ["Leoflow"], "operationId": "leoflow_metrics", "summary": "Metrics",
            "description": "Prometheus text format: requests by route and status, latencies, runs and tasks.",
            "responses": text("Prometheus metrics", "text/plain"),
        }},
        "/openapi.json": {"get": {
            "tags": ["Leoflow"], "operationId": "leoflow_openapi", "summary": "This Document",
            "description": "The OpenAPI document of the routes this server serves.",
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
        "/docs": {"get": {
            "tags": ["Leoflow"], "operationId": "leoflow_docs", "summary": "API Reference",
            "description": "An HTML page listing the operations of this document by tag.",
            "responses": text("HTML", "text/html"),
        }},
        "/static/{path}": {"get": {
            "tags": ["Leoflow"], "operationId": "leoflow_static", "summary": "UI Files",
            "description": "The embedded web UI's files, with ETags.",
            "parameters": [{"name": "path", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": text("The file", "application/octet-stream"),
        }},
    })
}

/// Every `$ref` target name (`#/components/schemas/NAME`) under `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref"
                    && let Some(name) = x
                        .as_str()
                        .and_then(|s| s.strip_prefix("#/components/schemas/"))
                {
                    out.push(name.to_string());
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Builds the document: Airflow's operations the router serves, Lite's own, and the schemas
/// they reference.
pub async fn build(router: &Router) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut security = Value::Null;
    let lite = lite_paths();
    let sources: Vec<Value> = [AIRFLOW_V2, AIRFLOW_AUTH, AIRFLOW_UI]
        .iter()
        .map(|s| serde_json::from_str(s).expect("embedded OpenAPI JSON"))
        .chain(std::iter::once(json!({"paths": lite})))
        .collect();
    for spec in &sources {
        if let Some(Value::Object(s)) = spec.pointer("/components/schemas") {
            for (k, v) in s {
                schemas.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if security.is_null()
            && let Some(s) = spec.pointer("/components/securitySchemes")
        {
            security = s.clone();
        }
        let Some(Value::Object(ps)) = spec.get("paths") else {
            continue;
        };
        for (path, ops) in ps {
            let Value::Object(ops) = ops else { continue };
            for (method, op) in ops {
                if !METHODS.contains(&method.as_str())
                    || paths
                        .get(path)
                        .and_then(|p| p.get(method.as_str()))
                        .is_some()
                {
                    continue;
                }
                if served(router, method, path).await {
                    let entry = paths
                        .entry(path.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    entry[method.as_str()] = op.clone();
                }
            }
        }
    }
    // Keep only the schemas the kept operations reach.
    let mut keep = std::collections::BTreeSet::new();
    let mut todo = Vec::new();
    refs(&Value::Object(paths.clone()), &mut todo);
    while let Some(name) = todo.pop() {
        if keep.insert(name.clone())
            && let Some(s) = schemas.get(&name)
        {
            refs(s, &mut todo);
        }
    }
    schemas.retain(|k, _| keep.contains(k));
    let mut tags: Vec<String> = paths
        .values()
        .flat_map(|ops| ops.as_object().into_iter().flat_map(|o| o.values()))
        .flat_map(|op| {
            op.get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(String::from))
        })
        .collect();
    tags.sort();
    tags.dedup();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Leoflow Lite",
            "version": crate::VERSION,
            "description": "The Apache Airflow 3.2 REST API (`/api/v2`, same paths, fields and errors) as Leoflow Lite serves it, the simple auth manager's `/auth` routes, the UI's `/ui` routes, and Lite's own (`/healthz`, `/metrics`, `/ui/events`). Only operations this server answers are listed.",
        },
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security},
    })
}

async fn document() -> Result<Arc<Vec<u8>>, super::ApiError> {
    let router = ROUTER
        .get()
        .ok_or_else(|| super::ApiError::internal("the OpenAPI router was not registered"))?;
    DOC.get_or_try_init(|| async {
        let doc = build(router).await;
        serde_json::to_vec(&doc)
            .map(Arc::new)
            .map_err(super::ApiError::internal)
    })
    .await
    .cloned()
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> Result<Response, super::ApiError> {
    let doc = document().await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        doc.as_ref().clone(),
    )
        .into_response())
}

/// `GET /docs`: the reference page (it renders `/openapi.json` in the browser).
pub async fn docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
            ),
        ],
        include_str!("openapi/docs.html"),
    )
        .into_response()
}

/// `/openapi.json` and `/docs`.
pub fn routes(g: super::routes::Group) -> super::routes::Group {
    g.get("/openapi.json", openapi_json).get("/docs", docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_ignore_parameter_names() {
        assert_eq!(template("/a/{x}/b"), template("/a/{dag_id}/b"));
        assert_ne!(template("/a/{x}/b"), template("/a/{x}/c"));
    }

    #[tokio::test]
    async fn only_served_operations_are_listed() {
        async fn ok() -> &'static str {
            "ok"
        }
        async fn must_not_run() -> &'static str {
            panic!("a probe must not run a handler")
        }
        let router: Router = Router::new()
            .route("/api/v2/dags", axum::routing::get(ok))
            .route("/api/v2/dags/{id}", axum::routing::get(ok))
            .route("/api/v2/dags/{dag_id}/{anything}", axum::routing::get(ok))
            .route(
                "/api/v2/variables/{variable_key}",
                axum::routing::get(ok).delete(must_not_run),
            )
            .route_layer(axum::middleware::from_fn(probe));
        let doc = build(&router).await;
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths["/api/v2/dags"].get("get").is_some());
        assert!(paths["/api/v2/dags"].get("patch").is_none(), "not served");
        assert!(paths["/api/v2/dags/{dag_id}"].get("get").is_some());
        // `/dags/{dag_id}/details` would match `{anything}`, but it is another route.
        assert!(!paths.contains_key("/api/v2/dags/{dag_id}/details"));
        assert!(doc["components"]["schemas"]["DAGCollectionResponse"].is_object());
        assert!(doc["components"]["schemas"].get("PoolResponse").is_none());
        assert_eq!(doc["info"]["title"], "Leoflow Lite");
        let var = &paths["/api/v2/variables/{variable_key}"];
        assert!(var.get("get").is_some() && var.get("delete").is_some());
        assert!(var.get("patch").is_none(), "PATCH has no handler: {var}");
    }
}

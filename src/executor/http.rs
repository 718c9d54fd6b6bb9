//! `HttpOperator` run natively with reqwest, with Airflow's `HttpHook` rules: the base URL from
//! the `http_conn_id` connection (`host` with a scheme, else `schema://host[:port]`), the
//! connection's `extra` as headers then the task's `headers`, `login`/`password` as basic
//! auth, GET/HEAD `data` as the query string, other methods' `data` as the body (a dict
//! form-encoded), `extra_options` `timeout`/`verify`/`check_response`; status >= 400 fails
//! with `CODE:Reason`. The response text is the XCom. An operator with Python callables
//! (`response_check`, `response_filter`, `pagination_function`) runs in the Python runtime.
//!
//! **Invariant:** never starts a process and never runs Python; the request is bounded by
//! `execution_timeout`.
//!
//! Called by `subprocess` for a try whose task kind is `http` and [`is_native`]; `run` renders
//! the template fields, `send` is the hook.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::Outcome;
use super::log::LogWriter;
use super::subprocess::{Ctx, failed};
use super::template::Renderer;

/// Whether this task can run without Python.
pub fn is_native(args: &serde_json::Map<String, Value>) -> bool {
    ["response_check", "response_filter", "pagination_function"]
        .iter()
        .all(|k| args.get(*k).is_none_or(Value::is_null))
        && args.get("deferrable").and_then(Value::as_bool) != Some(true)
}

/// The rendered request fields (Airflow's template fields of HttpOperator).
pub struct Request {
    pub conn_id: String,
    pub method: String,
    pub endpoint: String,
    pub data: Value,
    pub headers: Value,
    pub extra_options: Value,
    pub log_response: bool,
}

/// What came back; `Err` is the task's failure message.
pub struct Response {
    pub url: String,
    pub status: u16,
    pub text: String,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Airflow's `HttpHook.url_from_endpoint` over a connection object.
pub fn url(conn: Option<&Value>, endpoint: &str) -> String {
    let host = conn.map(|c| text(&c["host"])).unwrap_or_default();
    let mut url = if host.contains("://") {
        host.clone()
    } else if host.is_empty() {
        String::new()
    } else {
        let schema = conn
            .map(|c| text(&c["schema"]))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "http".into());
        format!("{schema}://{host}")
    };
    if let Some(port) = conn.and_then(|c| c["port"].as_i64())
        && !host.contains("://")
        && !host.is_empty()
    {
        url.push_str(&format!(":{port}"));
    }
    if !url.is_empty() && !url.ends_with('/') && !endpoint.is_empty() && !endpoint.starts_with('/')
    {
        url.push('/');
    }
    url.push_str(endpoint);
    url
}

/// Sends the request; `connections` is the task's connection map.
pub async fn send(req: &Request, connections: &Value) -> Result<Response, String> {
    let conn = connections.get(&req.conn_id).filter(|c| c.is_object());
    if conn.is_none() && !req.conn_id.is_empty() {
        return Err(format!(
            "The conn_id `{}` isn't defined; create it under Admin > Connections (type http, host e.g. https://api.example.com)",
            req.conn_id
        ));
    }
    let url = url(conn, &req.endpoint);
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        format!(
            "cannot build a URL from connection {:?} and endpoint {:?}: {url:?} ({e})",
            req.conn_id, req.endpoint
        )
    })?;
    let opts = &req.extra_options;
    let mut client = reqwest::Client::builder();
    if let Some(t) = opts.get("timeout").and_then(Value::as_f64) {
        client = client.timeout(Duration::from_secs_f64(t.max(0.001)));
    }
    if opts.get("verify").and_then(Value::as_bool) == Some(false) {
        client = client.danger_accept_invalid_certs(true);
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let method = reqwest::Method::from_bytes(req.method.to_uppercase().as_bytes())
        .map_err(|_| format!("{:?} is not an HTTP method", req.method))?;
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    if let Some(Value::Object(extra)) = conn.map(|c| &c["extra"]) {
        headers.extend(extra.iter().map(|(k, v)| (k.clone(), text(v))));
    }
    if let Value::Object(h) = &req.headers {
        headers.extend(h.iter().map(|(k, v)| (k.clone(), text(v))));
    }
    let mut rb = client.request(method.clone(), parsed);
    if let Some(login) = conn.map(|c| text(&c["login"])).filter(|l| !l.is_empty())
        && !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        let password = conn.map(|c| text(&c["password"]));
        rb = rb.basic_auth(login, password);
    }
    for (k, v) in &headers {
        rb = rb.header(k, v);
    }
    let has_data =
        !matches!(&req.data, Value::Null) && req.data != json!({}) && req.data != json!("");
    if has_data {
        if method == reqwest::Method::GET || method == reqwest::Method::HEAD {
            rb = match &req.data {
                Value::Object(m) => {
                    let pairs: Vec<(String, String)> =
                        m.iter().map(|(k, v)| (k.clone(), text(v))).collect();
                    rb.query(&pairs)
                }
                other => {
                    let mut u = url.clone();
                    u.push(if u.contains('?') { '&' } else { '?' });
                    u.push_str(&text(other));
                    client.request(
                        method.clone(),
                        reqwest::Url::parse(&u).map_err(|e| e.to_string())?,
                    )
                }
            };
        } else {
            rb = match &req.data {
                Value::Object(m) => {
                    let pairs: Vec<(String, String)> =
                        m.iter().map(|(k, v)| (k.clone(), text(v))).collect();
                    rb.form(&pairs)
                }
                other => rb.body(text(other)),
            };
        }
    }
    let resp = rb
        .send()
        .await
        .map_err(|e| format!("HTTP request to {url} failed: {e}"))?;
    let status = resp.status();
    let final_url = resp.url().to_string();
    let body = resp.text().await.unwrap_or_default();
    if opts.get("check_response").and_then(Value::as_bool) != Some(false) && status.as_u16() >= 400
    {
        return Err(format!(
            "{}:{}\n{body}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ));
    }
    Ok(Response {
        url: final_url,
        status: status.as_u16(),
        text: body,
    })
}

/// Runs an `HttpOperator` try without Python: renders `endpoint`, `data` and `headers`, sends
/// the request within `execution_timeout`, logs the status (and the body with
/// `log_response`); the response text is the XCom.
pub(super) async fn run(ctx: &Ctx<'_>, log: &mut LogWriter) -> (Outcome, BTreeMap<String, Value>) {
    let (req, t) = (ctx.req, &ctx.req.task);
    let mut rendered = BTreeMap::new();
    let renderer = Renderer::new(&req.context, ctx.xcom, &t.task_id);
    let mut field = |name: &str, default: Value| -> Result<Value, String> {
        let v = t.args.get(name).cloned().unwrap_or(default);
        let v = renderer.render_value(name, &v)?;
        rendered.insert(name.to_string(), v.clone());
        Ok(v)
    };
    let fields = (|| -> Result<_, String> {
        Ok((
            field("endpoint", Value::Null)?,
            field("data", json!({}))?,
            field("headers", json!({}))?,
        ))
    })();
    let (endpoint, data, headers) = match fields {
        Ok(f) => f,
        Err(e) => {
            log.line("leoflow", Some("error"), &e).await;
            return (failed(e), rendered);
        }
    };
    let http = Request {
        conn_id: t
            .args
            .get("http_conn_id")
            .and_then(|v| v.as_str())
            .unwrap_or("http_default")
            .to_string(),
        method: t
            .args
            .get("method")
            .and_then(|v| v.as_str())
            .unwrap_or("POST")
            .to_string(),
        endpoint: endpoint.as_str().map(String::from).unwrap_or_default(),
        data,
        headers,
        extra_options: t.args.get("extra_options").cloned().unwrap_or(Value::Null),
        log_response: t
            .args
            .get("log_response")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
    };
    log.line(
        "leoflow",
        Some("info"),
        &format!(
            "Calling HTTP method {} on connection {:?}",
            http.method, http.conn_id
        ),
    )
    .await;
    let sent = match req.timeout {
        Some(limit) => tokio::time::timeout(limit, send(&http, &req.context.connections))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "Timeout: the task exceeded its execution_timeout of {}s",
                    limit.as_secs_f64()
                ))
            }),
        None => send(&http, &req.context.connections).await,
    };
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            for l in e.lines() {
                log.line("leoflow", Some("error"), l).await;
            }
            let first = e.lines().next().unwrap_or_default().to_string();
            return (failed(first), rendered);
        }
    };
    log.line(
        "leoflow",
        Some("info"),
        &format!("{} {} -> {}", http.method, resp.url, resp.status),
    )
    .await;
    if http.log_response {
        for l in resp.text.lines() {
            log.line("stdout", None, l).await;
        }
    }
    (ctx.succeed(log, Some(json!(resp.text))).await, rendered)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn urls_follow_http_hook() {
        let c = json!({"host": "api.example.com", "schema": "https", "port": 8443});
        assert_eq!(
            super::url(Some(&c), "v1/items"),
            "https://api.example.com:8443/v1/items"
        );
        let c = json!({"host": "http://localhost:9000/base/", "port": 1});
        assert_eq!(super::url(Some(&c), "x"), "http://localhost:9000/base/x");
        let c = json!({"host": "example.org"});
        assert_eq!(super::url(Some(&c), "/a"), "http://example.org/a");
        assert_eq!(super::url(None, "https://x.y/z"), "https://x.y/z");
    }

    #[test]
    fn callables_need_python() {
        let native = |v: serde_json::Value| super::is_native(v.as_object().unwrap());
        assert!(native(json!({"endpoint": "x", "response_check": null})));
        assert!(!native(
            json!({"response_check": {"__callable__": {"qualname": "f"}}})
        ));
    }
}

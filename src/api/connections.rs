//! `/api/v2/connections`: list, get, create, patch (`update_mask`), delete, bulk, `test` and
//! `defaults`. Password and extra are stored encrypted; answers show the password as `***`
//! (null when unset) and mask sensitive keys of `extra`, as Airflow 3.2 does. A masked value
//! sent back unchanged keeps the stored secret.
//!
//! `test` really checks: HTTP types get a `GET` (plain HTTP) or a TCP connect (HTTPS), other
//! types with a host a TCP connect to their port, each with a short timeout.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::admin::{
    self, BulkEntity, Mask, audit_extra, cipher, invalid, no_team, present, write_api,
};
use super::identity::Identity;
use super::params::Params;
use super::{ApiError, AppState, JsonBody};
use crate::audit::{self, Entry, Masking};
use crate::secrets::{Cipher, MASK, python_json, redact, unmask};
use crate::store::admin::{self as q, ConnectionRow};
use crate::store::runs::Where;

/// The longest connection id Airflow accepts.
const MAX_ID: usize = 200;
/// How long `test` waits to connect, and for an HTTP answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// `ConnectionBody`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionBody {
    connection_id: String,
    conn_type: String,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    host: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    login: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    schema: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    port: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    password: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    extra: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    team_name: Option<Option<String>>,
}

impl ConnectionBody {
    fn validate(&self) -> Result<(), ApiError> {
        let id = &self.connection_id;
        if id.is_empty()
            || id.chars().count() > MAX_ID
            || !id
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(invalid(
                "connection_id",
                "string_pattern_mismatch",
                format!(
                    "String should match pattern '^[\\w.-]+$' and be at most {MAX_ID} characters: letters, digits, '_', '.' and '-'"
                ),
                json!(id),
            ));
        }
        if let Some(Some(e)) = &self.extra {
            extra_object(e)?;
        }
        no_team(&self.team_name)
    }

    /// Applies the body to `old` (or a new connection) through `mask`, encrypting the secrets.
    fn row(&self, c: &Cipher, old: Option<&ConnectionRow>, mask: &Mask) -> ConnectionRow {
        let mut row = old.cloned().unwrap_or_else(|| ConnectionRow {
            conn_id: self.connection_id.clone(),
            ..Default::default()
        });
        if mask.wants("conn_type", true) {
            row.conn_type = self.conn_type.clone();
        }
        let set = |f: &str, v: &Option<Option<String>>, into: &mut Option<String>| {
            if mask.wants(f, v.is_some()) {
                *into = v.clone().flatten();
            }
        };
        set("description", &self.description, &mut row.description);
        set("host", &self.host, &mut row.host);
        set("login", &self.login, &mut row.login);
        set("schema", &self.schema, &mut row.schema);
        if mask.wants("port", self.port.is_some()) {
            row.port = self.port.flatten();
        }
        let (old_pw, old_extra) = old
            .and_then(|o| c.connection(o).ok())
            .unwrap_or((None, None));
        if mask.wants("password", self.password.is_some()) {
            row.password = match self.password.clone().flatten() {
                Some(p) if p == MASK && old_pw.is_some() => old.and_then(|o| o.password.clone()),
                Some(p) => Some(c.encrypt(&p)),
                None => None,
            };
        }
        if mask.wants("extra", self.extra.is_some()) {
            row.extra = self.extra.clone().flatten().map(|e| {
                let e = if e.is_empty() { "{}".to_string() } else { e };
                let merged = match (
                    serde_json::from_str::<Value>(&e),
                    old_extra.as_deref().map(serde_json::from_str::<Value>),
                ) {
                    (Ok(n), Some(Ok(o))) => unmask(&n, &o).to_string(),
                    _ => e,
                };
                c.encrypt(&merged)
            });
        }
        row
    }
}

/// Checks that `extra` is a JSON object (or empty), Airflow's rule and message.
fn extra_object(e: &str) -> Result<(), ApiError> {
    if e.is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<Value>(e) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(invalid(
            "extra",
            "value_error",
            "Value error, The `extra` field must be a valid JSON object (e.g., {'key': 'value'})",
            json!(e),
        )),
        Err(_) => Err(invalid(
            "extra",
            "value_error",
            "Value error, The `extra` field must be a valid JSON object (e.g., {'key': 'value'}), but encountered non-JSON in `extra` field",
            json!(e),
        )),
    }
}

/// The `ConnectionResponse` shape.
fn connection_json(c: &Cipher, row: &ConnectionRow) -> Result<Value, ApiError> {
    let (password, extra) = c.connection(row).map_err(admin::secrets_error)?;
    let extra = extra.map(|e| match serde_json::from_str::<Value>(&e) {
        Ok(v) => python_json(&redact(&v, None)),
        Err(_) => e,
    });
    Ok(json!({
        "connection_id": row.conn_id,
        "conn_type": row.conn_type,
        "description": row.description,
        "host": row.host,
        "login": row.login,
        "schema": row.schema,
        "port": row.port,
        "password": password.map(|_| MASK),
        "extra": extra,
        "team_name": null,
    }))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "The Connection with connection_id: `{id}` was not found"
    ))
}

fn record_extra(method: &str, raw: Option<&Value>, id: &str) -> Value {
    audit_extra(
        method,
        raw,
        json!({ "connection_id": id }),
        Masking::Connection,
    )
}

/// `GET /connections`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(
        &p,
        &[
            ("conn_id", "conn_id"),
            ("connection_id", "conn_id"),
            ("conn_type", "conn_type"),
            ("description", "description"),
            ("host", "host"),
            ("port", "port"),
            ("id", "rowid"),
        ],
        vec![("rowid", false)],
    )?;
    let mut wh = Where::default();
    p.patterns(&mut wh, &[("connection_id", "conn_id")]);
    let (rows, total) = s
        .store
        .read(move |c| q::list_connections(c, &wh, &order, page))
        .await?;
    let c = cipher(&s)?;
    let conns = rows
        .iter()
        .map(|r| connection_json(&c, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"connections": conns, "total_entries": total})))
}

/// `GET /connections/{connection_id}`.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let i = id.clone();
    let row = s
        .store
        .read(move |c| q::get_connection(c, &i))
        .await?
        .ok_or_else(|| not_found(&id))?;
    let c = cipher(&s)?;
    Ok(Json(connection_json(&c, &row)?))
}

/// `POST /connections`: 201, or 409 when the id exists.
pub async fn create(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let body: ConnectionBody = admin::typed(&raw)?;
    body.validate()?;
    let c = cipher(&s)?;
    let row = body.row(&c, None, &Mask::from_list(None));
    let stored = row.clone();
    write_api(&s, move |tx| {
        if q::get_connection(tx, &stored.conn_id)?.is_some() {
            return Err(ApiError::conflict(format!(
                "The Connection with connection_id: `{}` already exists",
                stored.conn_id
            )));
        }
        Ok(q::put_connection(tx, &stored)?)
    })
    .await?;
    audit::record(
        &s.store,
        &identity,
        Entry::new("post_connection").extra(record_extra("POST", Some(&raw), &row.conn_id)),
    )
    .await;
    Ok((StatusCode::CREATED, Json(connection_json(&c, &row)?)).into_response())
}

/// `PATCH /connections/{connection_id}`: the fields sent, narrowed by `update_mask`.
pub async fn patch(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
    p: Params,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let body: ConnectionBody = admin::typed(&raw)?;
    if body.connection_id != id {
        return Err(ApiError::bad_request(format!(
            "The connection_id in the request body ({:?}) does not match the URL parameter ({id:?})",
            body.connection_id
        )));
    }
    body.validate()?;
    let mask = Mask::from_params(&p);
    let c = cipher(&s)?;
    let c2 = c.clone();
    let i = id.clone();
    let row = write_api(&s, move |tx| {
        let old = q::get_connection(tx, &i)?.ok_or_else(|| not_found(&i))?;
        let row = body.row(&c2, Some(&old), &mask);
        q::put_connection(tx, &row)?;
        Ok(row)
    })
    .await?;
    audit::record(
        &s.store,
        &identity,
        Entry::new("patch_connection").extra(record_extra("PATCH", Some(&raw), &id)),
    )
    .await;
    Ok(Json(connection_json(&c, &row)?))
}

/// `DELETE /connections/{connection_id}`: 204, or 404.
pub async fn delete(
    State(s): State<AppState>,
    identity: Identity,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let i = id.clone();
    if !s
        .store
        .write(move |tx| q::delete_connection(tx, &i))
        .await?
    {
        return Err(not_found(&id));
    }
    audit::record(
        &s.store,
        &identity,
        Entry::new("delete_connection").extra(record_extra("DELETE", None, &id)),
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

impl BulkEntity for ConnectionBody {
    const WHAT: &'static str = "connections with these connection_ids:";

    fn id(&self) -> &str {
        &self.connection_id
    }

    fn exists(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<bool, ApiError> {
        Ok(q::get_connection(tx, id)?.is_some())
    }

    fn create(&self, tx: &rusqlite::Transaction<'_>, c: &Cipher) -> Result<(), ApiError> {
        self.validate()?;
        Ok(q::put_connection(
            tx,
            &self.row(c, None, &Mask::from_list(None)),
        )?)
    }

    fn update(
        &self,
        tx: &rusqlite::Transaction<'_>,
        c: &Cipher,
        mask: &Mask,
    ) -> Result<(), ApiError> {
        self.validate()?;
        let old = q::get_connection(tx, &self.connection_id)?
            .ok_or_else(|| not_found(&self.connection_id))?;
        Ok(q::put_connection(tx, &self.row(c, Some(&old), mask))?)
    }

    fn delete(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<(), ApiError> {
        q::delete_connection(tx, id)?;
        Ok(())
    }
}

/// `PATCH /connections`: bulk create, update and delete.
pub async fn bulk(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let out =
        admin::bulk::<ConnectionBody>(&s, &identity, raw, "bulk_connections", Masking::Connection)
            .await?;
    Ok(out)
}

/// `POST /connections/defaults`: Airflow creates its sample connections; Lite has none to
/// create, so this only records the request.
pub async fn defaults(State(s): State<AppState>, identity: Identity) -> Response {
    audit::record(
        &s.store,
        &identity,
        Entry::new("create_default_connections").extra(json!({"method": "POST"})),
    )
    .await;
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /connections/test`: the body merged over the stored connection of the same id (so a
/// saved password is used), then a real reachability check. `{status, message}`.
pub async fn test(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<ConnectionBody>,
) -> Result<Json<Value>, ApiError> {
    body.validate()?;
    let id = body.connection_id.clone();
    let old = s.store.read(move |c| q::get_connection(c, &id)).await?;
    let c = cipher(&s)?;
    let row = body.row(&c, old.as_ref(), &Mask::from_list(None));
    let (status, message) = check(&row).await;
    Ok(Json(json!({"status": status, "message": message})))
}

/// The usual port of a connection type, for a TCP check when none is given.
fn default_port(conn_type: &str) -> Option<u16> {
    Some(match conn_type {
        "http" => 80,
        "https" => 443,
        "postgres" | "postgresql" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mongo" | "mongodb" => 27017,
        "mssql" => 1433,
        "oracle" => 1521,
        "ssh" | "sftp" => 22,
        "ftp" => 21,
        "smtp" | "email" => 25,
        "amqp" | "rabbitmq" => 5672,
        "elasticsearch" => 9200,
        "kafka" => 9092,
        _ => return None,
    })
}

/// Reaches the connection's host: `(status, message)` as Airflow's `test_connection` answers.
async fn check(row: &ConnectionRow) -> (bool, String) {
    let Some(raw_host) = row.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) else {
        return (
            false,
            format!(
                "Leoflow Lite tests a connection by reaching its host, and connection `{}` ({}) has no host",
                row.conn_id, row.conn_type
            ),
        );
    };
    // The host may be a URL (`https://api.example.com:8443/v1`).
    let (scheme, rest) = match raw_host.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, raw_host),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let kind = scheme.as_deref().unwrap_or(row.conn_type.as_str());
    let (host, url_port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() && !h.is_empty() => (h, p.parse::<u16>().ok()),
        _ => (authority, None),
    };
    let port = url_port
        .or_else(|| row.port.and_then(|p| u16::try_from(p).ok()))
        .or_else(|| default_port(kind));
    let Some(port) = port else {
        return (
            false,
            format!(
                "Leoflow Lite tests `{}` connections with a TCP connect, and connection `{}` has no port",
                row.conn_type, row.conn_id
            ),
        );
    };
    let addr = format!("{host}:{port}");
    let started = Instant::now();
    let stream =
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return (false, format!("Cannot connect to {addr}: {e}")),
            Err(_) => {
                return (
                    false,
                    format!("Cannot connect to {addr}: no answer within {CONNECT_TIMEOUT:?}"),
                );
            }
        };
    if kind != "http" {
        return (
            true,
            format!(
                "Connection successfully tested: TCP connect to {addr} in {} ms",
                started.elapsed().as_millis()
            ),
        );
    }
    let url = format!("http://{addr}{path}");
    match tokio::time::timeout(HTTP_TIMEOUT, http_get(stream, host, path)).await {
        Ok(Ok(code)) if code < 400 => (true, "Connection successfully tested".into()),
        Ok(Ok(code)) => (false, format!("GET {url} answered HTTP {code}")),
        Ok(Err(e)) => (false, format!("GET {url} failed: {e}")),
        Err(_) => (
            false,
            format!("GET {url}: no answer within {HTTP_TIMEOUT:?}"),
        ),
    }
}

/// A minimal HTTP/1.1 `GET`; the status code of the answer.
async fn http_get(
    mut stream: tokio::net::TcpStream,
    host: &str,
    path: &str,
) -> std::io::Result<u16> {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: leoflow-lite\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while !buf.contains(&b'\n') && buf.len() < 8192 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    line.split_whitespace()
        .nth(1)
        .filter(|_| line.starts_with("HTTP/"))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("the answer is not HTTP"))
}

//! `/api/v2/connections/test` and `/connections/defaults` (the rest of the connection routes
//! are the generic resource routes of `api::resources`).
//!
//! `test` really checks: HTTP types get a `GET` (plain HTTP) or a TCP connect (HTTPS), other
//! types with a host a TCP connect to their port, each with a short timeout.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ApiError, AppState, JsonBody};
use crate::auth::Identity;
use crate::ops::resources::{self as res, ConnectionBody};
use crate::store::admin::ConnectionRow;

/// How long `test` waits to connect, and for an HTTP answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// `POST /connections/defaults`: Airflow creates its sample connections; Lite has none to
/// create, so this only records the request.
pub async fn defaults(State(s): State<AppState>, identity: Identity) -> Result<Response, ApiError> {
    res::create_default_connections(&s.ops, &identity).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /connections/test`: the body merged over the stored connection of the same id (so a
/// saved password is used), then a real reachability check. `{status, message}`.
pub async fn test(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<ConnectionBody>,
) -> Result<Json<Value>, ApiError> {
    let row = res::connection_to_test(&s.ops, body).await?;
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

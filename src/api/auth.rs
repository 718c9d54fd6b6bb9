//! Sign-in, sign-out and the check every request passes, as Airflow 3's simple auth manager
//! answers them:
//!
//! - `POST /auth/token` (JSON or form `username`/`password`) → 201 `{"access_token": ...}`;
//!   401 `Invalid credentials`; 429 with `Retry-After` after too many failures.
//! - `POST /auth/token/cli`: the same for airflowctl.
//! - `GET /auth/token` → a token for the anonymous admin, only when auth is off.
//! - `GET /api/v2/auth/login?next=` → 307 to the UI's sign-in page, `next` kept.
//! - `GET /api/v2/auth/logout` → revokes the token, clears the `_token` cookie, 307 to sign-in.
//! - [`require`]: the route layer of every protected route group: the token from
//!   `Authorization: Bearer` or the `_token` cookie; 401 `Not authenticated`, 401 `Token
//!   Expired`, 403 `Invalid JWT token`, 403 `Forbidden` (role below the group's). On success
//!   (or with auth off: the anonymous admin) the request carries an [`Identity`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::routes::Group;
use super::{ApiError, AppState};
use crate::auth::{Identity, LoginError, Role, TokenError};

/// The cookie the UI keeps the token in (Airflow's name).
pub const COOKIE: &str = "_token";
/// The UI's sign-in page.
const LOGIN_PAGE: &str = "/login";
/// Largest sign-in body read.
const MAX_LOGIN_BODY: usize = 64 * 1024;

/// `/auth/token` (and `/auth/token/cli`, airflowctl's), at the root as in Airflow.
pub fn token_routes(g: Group) -> Group {
    g.get("/auth/token", token_all_admins)
        .post("/auth/token", create_token)
        .post("/auth/token/cli", create_token)
}

/// `/auth/login` and `/auth/logout`, nested under `/api/v2`.
pub fn api_routes(g: Group) -> Group {
    g.get("/auth/login", login).get("/auth/logout", logout)
}

/// Route layer of a protected group: lets a request through only with a valid token whose
/// role is at least `min`, and puts the caller's [`Identity`] into it. With auth off
/// (`--no-auth`, loopback only) every caller is the anonymous admin, as Airflow's simple auth
/// manager does with `all_admins`.
pub async fn require(
    State((s, min)): State<(AppState, Role)>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(auth) = s.auth.as_ref().filter(|_| !s.config.no_auth) else {
        req.extensions_mut().insert(Identity::anonymous_admin());
        return next.run(req).await;
    };
    let Some((token, from_cookie)) = token_of(req.headers()) else {
        return not_authenticated();
    };
    if from_cookie && !is_read(req.method()) && is_cross_site(req.headers()) {
        return ApiError::forbidden(
            "Forbidden: a write authenticated by the _token cookie must come from this server's own pages; send the token as Authorization: Bearer",
        )
        .into_response();
    }
    let who = match auth.identity(&token) {
        Ok(who) => who,
        Err(TokenError::Expired) => {
            return ApiError::unauthorized("Token Expired").into_response();
        }
        Err(TokenError::Invalid) => {
            return ApiError::forbidden("Invalid JWT token").into_response();
        }
    };
    if who.role < min {
        return ApiError::forbidden("Forbidden").into_response();
    }
    req.extensions_mut().insert(who);
    next.run(req).await
}

/// `POST /auth/token`.
async fn create_token(State(s): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".into());
    let form = match content_type.as_str() {
        "application/json" => false,
        "application/x-www-form-urlencoded" => true,
        other => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Unsupported Media Type {other:?}: send username and password as application/json or application/x-www-form-urlencoded"
                ),
            ));
        }
    };
    let body = axum::body::to_bytes(req.into_body(), MAX_LOGIN_BODY)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The sign-in body is larger than {MAX_LOGIN_BODY} bytes"),
            )
        })?;
    let (username, password) = login_body(&body, form)?;
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::bad_request(
            "Username and password must be provided",
        ));
    }
    let Some(auth) = s.auth.as_ref() else {
        return Err(ApiError::forbidden("Authentication is not configured"));
    };
    let token = if s.config.no_auth {
        auth.issue(&Identity::anonymous_admin())
            .map_err(ApiError::internal)?
    } else {
        match auth.login(&username, &password, client).await {
            Ok(t) => t,
            Err(LoginError::Invalid) => return Err(ApiError::unauthorized("Invalid credentials")),
            Err(LoginError::RateLimited(wait)) => {
                return Ok(rate_limited(&username, client, wait));
            }
            Err(LoginError::Internal(e)) => return Err(ApiError::internal(e)),
        }
    };
    Ok(token_response(token))
}

/// `GET /auth/token`: Airflow's `simple_auth_manager_all_admins`, i.e. auth off.
async fn token_all_admins(State(s): State<AppState>) -> Result<Response, ApiError> {
    match s.auth.as_ref().filter(|_| s.config.no_auth) {
        Some(auth) => Ok(token_response(
            auth.issue(&Identity::anonymous_admin())
                .map_err(ApiError::internal)?,
        )),
        None => Err(ApiError::forbidden(
            "A token without credentials is only given when the server runs with --no-auth; POST /auth/token with a username and password",
        )),
    }
}

/// `GET /api/v2/auth/login?next=`: to the sign-in page, keeping a same-site `next`.
async fn login(uri: axum::http::Uri) -> Result<Response, ApiError> {
    let next = uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned())
            .last()
    });
    let location = match next.filter(|n| !n.is_empty()) {
        None => LOGIN_PAGE.to_string(),
        Some(n) if is_local_path(&n) => format!(
            "{LOGIN_PAGE}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &n)
                .finish()
        ),
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "Invalid or unsafe next URL {n:?}: give a path on this server, e.g. /dags"
            )));
        }
    };
    Ok(redirect(&location))
}

/// `GET /api/v2/auth/logout`: revokes the token, clears the cookie, back to sign-in.
async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let (Some(auth), Some((token, _))) = (s.auth.as_ref(), token_of(&headers))
        && let Err(e) = auth.revoke(&token).await
    {
        tracing::warn!(error = %e, "recording a revoked token failed");
    }
    let mut res = redirect(LOGIN_PAGE);
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("_token=; Path=/; Max-Age=0; SameSite=Lax"),
    );
    res
}

/// The token of a request: `Authorization: Bearer` first, else the `_token` cookie. The flag
/// says whether it came from the cookie.
fn token_of(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = v.trim().split_once(' ').unwrap_or((v, ""));
        let token = token.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
            return Some((token.to_string(), false));
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == COOKIE && !v.trim().is_empty())
        .map(|(_, v)| (v.trim().trim_matches('"').to_string(), true))
}

fn is_read(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a browser said the request comes from another site (`Origin` not this `Host`).
fn is_cross_site(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(o), Some(h)) => o.split_once("://").map(|(_, rest)| rest) != Some(h),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// A path on this server (`/dags?x=1`), not another site (`//evil`, `https://...`, `/\evil`).
fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

/// The sign-in body as FastAPI validates `LoginBody` (two strings, nothing else): 422 with one
/// entry per problem. Passwords are never echoed back.
fn login_body(body: &Bytes, form: bool) -> Result<(String, String), ApiError> {
    let value: Value = if form {
        let map: Map<String, Value> = form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(map)
    } else if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::unprocessable(
            "missing",
            &["body"],
            "Field required: send {\"username\": ..., \"password\": ...}",
            Value::Null,
        ));
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::unprocessable(
                "json_invalid",
                &["body", &e.column().to_string()],
                format!("JSON decode error: {e}"),
                Value::Null,
            )
        })?
    };
    let Value::Object(map) = value else {
        return Err(ApiError::unprocessable(
            "model_attributes_type",
            &["body"],
            "Input should be a valid dictionary or object to extract fields from",
            redact(&value),
        ));
    };
    let mut errors = Vec::new();
    let mut field = |name: &str| match map.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(json!({"type": "string_type", "loc": ["body", name],
                "msg": "Input should be a valid string", "input": redact_field(name, other)}));
            None
        }
        None => {
            errors.push(json!({"type": "missing", "loc": ["body", name],
                "msg": "Field required", "input": redact(&Value::Object(map.clone()))}));
            None
        }
    };
    let username = field("username");
    let password = field("password");
    for (k, v) in &map {
        if k != "username" && k != "password" {
            errors.push(json!({"type": "extra_forbidden", "loc": ["body", k],
                "msg": "Extra inputs are not permitted (LoginBody takes username and password)",
                "input": v}));
        }
    }
    match (username, password) {
        (Some(u), Some(p)) if errors.is_empty() => Ok((u, p)),
        _ => Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: Value::Array(errors),
        }),
    }
}

fn redact_field(name: &str, v: &Value) -> Value {
    if name == "password" {
        Value::String("********".into())
    } else {
        v.clone()
    }
}

fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), redact_field(k, v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn token_response(token: String) -> Response {
    let mut res = (
        StatusCode::CREATED,
        axum::Json(json!({ "access_token": token })),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn not_authenticated() -> Response {
    let mut res = ApiError::unauthorized("Not authenticated").into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

fn rate_limited(username: &str, client: IpAddr, wait: std::time::Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let at = chrono::Utc::now() + chrono::Duration::seconds(secs as i64);
    let detail = format!(
        "Too many failed sign-in attempts for user {username:?} from {client} ({} in {} s): try again in {secs} s, after {}",
        crate::auth::LOGIN_ATTEMPTS,
        crate::auth::LOGIN_WINDOW.as_secs(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let mut res = ApiError::new(StatusCode::TOO_MANY_REQUESTS, detail).into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

fn redirect(location: &str) -> Response {
    let mut res = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let h = headers(&[("authorization", "Bearer abc"), ("cookie", "_token=xyz")]);
        assert_eq!(token_of(&h), Some(("abc".into(), false)));
        let h = headers(&[("cookie", "a=1; _token=xyz; b=2")]);
        assert_eq!(token_of(&h), Some(("xyz".into(), true)));
        let h = headers(&[("authorization", "Basic Zm9v")]);
        assert_eq!(token_of(&h), None);
        assert_eq!(token_of(&headers(&[("cookie", "_token=")])), None);
    }

    #[test]
    fn next_must_stay_on_this_server() {
        for ok in ["/dags", "/dags/x?tab=grid", "/"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.com",
            "https://evil.com",
            "/\\evil.com",
            "dags",
            "/a\nb",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn login_bodies_are_checked_like_fastapi() {
        let ok = login_body(&Bytes::from(r#"{"username":"a","password":"b"}"#), false).unwrap();
        assert_eq!(ok, ("a".into(), "b".into()));
        let ok = login_body(&Bytes::from("username=a&password=b%20c"), true).unwrap();
        assert_eq!(ok, ("a".into(), "b c".into()));
        let e = login_body(&Bytes::from(r#"{"password":"secret","x":1}"#), false).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = e.detail.to_string();
        assert!(
            text.contains("\"missing\"") && text.contains("username"),
            "{text}"
        );
        assert!(text.contains("extra_forbidden"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        let e = login_body(&Bytes::from("[1]"), false).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = login_body(&Bytes::from("{"), false).unwrap_err();
        assert!(e.detail.to_string().contains("json_invalid"));
    }

    #[test]
    fn cross_site_is_told_by_origin() {
        assert!(!is_cross_site(&headers(&[("host", "127.0.0.1:8088")])));
        assert!(!is_cross_site(&headers(&[
            ("host", "127.0.0.1:8088"),
            ("origin", "http://127.0.0.1:8088")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "127.0.0.1:8088"),
            ("origin", "http://evil.com")
        ])));
    }
}

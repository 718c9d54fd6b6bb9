//! Authentication and roles, as Airflow 3's simple auth manager answers them: tokens from
//! `POST /auth/token`, bearer or `_token` cookie, Airflow's 401/403 details, the role policy,
//! the failed sign-in limit, the first-start admin, `leoflow users`, sign-in/out redirects.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const ADMIN_PW: &str = "admin-secret-1";

fn with_admin_pw(home: &Path) -> Command {
    let mut c = leoflow(home);
    c.env("LEOFLOW_ADMIN_PASSWORD", ADMIN_PW);
    c
}

/// A server with auth on and a known admin password.
fn secure(home: &Path, extra: &[&str]) -> Server {
    Server::start_secure_with(with_admin_pw(home), home, extra)
}

/// `leoflow users ...` on `home`: (exit code, stdout, stderr).
fn users(home: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = leoflow(home);
    c.arg("users").args(args);
    run(c)
}

fn add_user(home: &Path, name: &str, role: &str, password: &str) {
    let (code, out, err) = users(
        home,
        &[
            "create",
            "--username",
            name,
            "--role",
            role,
            "--password",
            password,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
}

/// Sends a request with an optional bearer token: (status, headers, JSON body or Null).
fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut r = http().request(method.parse().unwrap(), url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().unwrap_or_default();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// The whole start-up banner (the server is ready before its last lines are read).
fn banner(s: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = s.output();
        if out.contains("  Stop ") {
            return out;
        }
        assert!(Instant::now() < deadline, "no complete banner:\n{out}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn login(s: &Server, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    call("POST", &s.url("/auth/token"), None, Some(body))
}

/// The decoded JSON of a JWT part (0 header, 1 claims).
fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    let b64 = part.replace('-', "+").replace('_', "/");
    let pad = "=".repeat((4 - b64.len() % 4) % 4);
    let bytes = base64_decode(&format!("{b64}{pad}"));
    serde_json::from_slice(&bytes).unwrap()
}

/// Standard base64, enough for tests (no extra dependency).
fn base64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | A.iter().position(|x| *x == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn base64url_encode(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| (a << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn anonymous_callers_get_version_and_health_only() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    for ok in [
        "/api/v2/version",
        "/api/v2/monitor/health",
        "/healthz",
        "/",
        "/login",
    ] {
        let r = http().get(s.url(ok)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{ok}");
    }
    for (method, path) in [
        ("GET", "/api/v2/dags"),
        ("GET", "/api/v2/importErrors"),
        ("GET", "/api/v2/dags/x/dagRuns"),
        ("POST", "/api/v2/dags/x/dagRuns"),
        ("PATCH", "/api/v2/dags/x"),
        ("GET", "/api/v2/variables"),
        ("GET", "/ui/events"),
        ("GET", "/metrics"),
    ] {
        let (status, headers, body) = call(method, &s.url(path), None, Some(json!({})));
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert_eq!(
            body,
            json!({"detail": "Not authenticated"}),
            "{method} {path}"
        );
        assert_eq!(headers["www-authenticate"], "Bearer", "{method} {path}");
    }
}

#[test]
fn tokens_from_json_and_form_work_as_bearer_and_as_cookie() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    let (status, headers, body) = login(&s, json!({"username": "admin", "password": ADMIN_PW}));
    assert_eq!(status, 201, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    // Airflow's header and claims.
    let header = jwt_part(&token, 0);
    assert_eq!(header["alg"], "HS512");
    let claims = jwt_part(&token, 1);
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["aud"], "apache-airflow");
    for k in ["jti", "nbf", "exp", "iat"] {
        assert!(!claims[k].is_null(), "{k} missing: {claims}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86_400
    );

    let form = http()
        .post(s.url("/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={ADMIN_PW}"))
        .send()
        .unwrap();
    assert_eq!(form.status().as_u16(), 201);
    let form_token = form.json::<Value>().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(form_token, token);
    // airflowctl's endpoint answers the same way.
    let (status, _, body) = call(
        "POST",
        &s.url("/auth/token/cli"),
        None,
        Some(json!({"username": "admin", "password": ADMIN_PW})),
    );
    assert_eq!(status, 201, "{body}");

    let (status, _, body) = call("GET", &s.url("/api/v2/dags"), Some(&form_token), None);
    assert_eq!(status, 200, "{body}");
    assert!(body["total_entries"].is_number(), "{body}");
    let by_cookie = http()
        .get(s.url("/api/v2/dags"))
        .header("cookie", format!("theme=dark; _token={token}"))
        .send()
        .unwrap();
    assert_eq!(by_cookie.status().as_u16(), 200);
    // The SSE stream can only authenticate by cookie (EventSource sends no headers).
    let sse = http()
        .get(s.url("/ui/events"))
        .header("cookie", format!("_token={token}"))
        .send()
        .unwrap();
    assert_eq!(sse.status().as_u16(), 200);
    assert!(
        sse.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    drop(sse);
    // A write authenticated by the cookie alone, from another site's page, is refused.
    let csrf = http()
        .patch(s.url("/api/v2/dags/x"))
        .header("cookie", format!("_token={token}"))
        .header("origin", "http://evil.example")
        .json(&json!({"is_paused": false}))
        .send()
        .unwrap();
    assert_eq!(csrf.status().as_u16(), 403);
}

#[test]
fn bad_credentials_and_bad_bodies_get_4xx_with_a_useful_detail() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    let (status, _, body) = login(&s, json!({"username": "admin", "password": "wrong-one"}));
    assert_eq!(
        (status, body),
        (401, json!({"detail": "Invalid credentials"}))
    );
    let (status, _, body) = login(&s, json!({"username": "nobody", "password": "whatever1"}));
    assert_eq!(
        (status, body),
        (401, json!({"detail": "Invalid credentials"}))
    );
    let (status, _, body) = login(&s, json!({"username": "", "password": ""}));
    assert_eq!(
        (status, body),
        (
            400,
            json!({"detail": "Username and password must be provided"})
        )
    );
    let (status, _, body) = login(&s, json!({"username": "admin", "password": 5, "x": 1}));
    assert_eq!(status, 422, "{body}");
    let detail = body["detail"].as_array().unwrap();
    assert!(
        detail
            .iter()
            .any(|d| d["loc"] == json!(["body", "password"]) && d["type"] == "string_type"),
        "{body}"
    );
    assert!(
        detail
            .iter()
            .any(|d| d["loc"] == json!(["body", "x"]) && d["type"] == "extra_forbidden"),
        "{body}"
    );
    let (status, _, body) = login(&s, json!({"password": "hunter2hunter2"}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["detail"][0]["loc"], json!(["body", "username"]));
    assert!(
        !body.to_string().contains("hunter2"),
        "password echoed: {body}"
    );
    for (ct, payload, want) in [
        ("application/json", "{not json", 422),
        ("application/json", "[1, 2]", 422),
        ("application/json", "", 422),
        ("text/plain", "username=admin", 415),
    ] {
        let r = http()
            .post(s.url("/auth/token"))
            .header("content-type", ct)
            .body(payload)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().unwrap();
        assert_eq!(status, want, "{ct} {payload:?}: {body}");
        assert!(!body["detail"].is_null(), "{body}");
    }
}

#[test]
fn expired_tampered_and_garbage_tokens_get_airflows_answers() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = with_admin_pw(home.path());
    cmd.env("LEOFLOW_TOKEN_TTL", "1");
    let s = Server::start_secure_with(cmd, home.path(), &[]);
    let token = s.token("admin", ADMIN_PW);
    let claims = jwt_part(&token, 1);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1
    );

    // A claim changed after signing (role escalated), a broken signature, garbage.
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims.clone();
    forged["sub"] = json!("mallory");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64url_encode(forged.to_string().as_bytes()),
        parts[2]
    );
    let mut bad_sig = token.clone();
    let last = bad_sig.pop().unwrap();
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [forged.as_str(), bad_sig.as_str(), "garbage", "a.b.c"] {
        let (status, _, body) = call("GET", &s.url("/api/v2/dags"), Some(bad), None);
        assert_eq!(
            (status, body),
            (403, json!({"detail": "Invalid JWT token"})),
            "{bad}"
        );
    }

    std::thread::sleep(Duration::from_millis(2100));
    let (status, _, body) = call("GET", &s.url("/api/v2/dags"), Some(&token), None);
    assert_eq!((status, body), (401, json!({"detail": "Token Expired"})));
    let r = http()
        .get(s.url("/api/v2/dags"))
        .header("cookie", format!("_token={token}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

const DAG: &str = r#"
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG("guarded", schedule=None):
    BashOperator(task_id="t", bash_command="true")
"#;

fn wait_for_dag(s: &Server, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, _) = call("GET", &s.url("/api/v2/dags/guarded"), Some(token), None);
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "DAG not parsed: {}", s.output());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn viewers_read_users_run_dags_admins_manage_variables() {
    let home = tempfile::tempdir().unwrap();
    let dags = tempfile::tempdir().unwrap();
    std::fs::write(dags.path().join("guarded.py"), DAG).unwrap();
    add_user(home.path(), "vera", "viewer", "viewer-pass-1");
    add_user(home.path(), "ursula", "user", "user-pass-1");
    let s = secure(home.path(), &[dags.path().to_str().unwrap()]);
    let viewer = s.token("vera", "viewer-pass-1");
    let user = s.token("ursula", "user-pass-1");
    let admin = s.token("admin", ADMIN_PW);
    wait_for_dag(&s, &viewer);
    let url = |p: &str| s.url(p);

    // Viewer: reads, including the POST batch reads; every write is 403 Forbidden.
    for path in [
        "/api/v2/dags",
        "/api/v2/dags/guarded/dagRuns",
        "/api/v2/pools",
    ] {
        let (status, _, body) = call("GET", &url(path), Some(&viewer), None);
        assert!(
            status != 401 && status != 403,
            "viewer GET {path}: {status} {body}"
        );
    }
    let (status, _, body) = call(
        "POST",
        &url("/api/v2/dags/~/dagRuns/list"),
        Some(&viewer),
        Some(json!({})),
    );
    assert!(
        status != 401 && status != 403,
        "batch read: {status} {body}"
    );
    for (method, path, body) in [
        ("PATCH", "/api/v2/dags/guarded", json!({"is_paused": false})),
        (
            "POST",
            "/api/v2/dags/guarded/dagRuns",
            json!({"logical_date": null}),
        ),
        ("DELETE", "/api/v2/dags/guarded/dagRuns/nope", json!({})),
        (
            "POST",
            "/api/v2/variables",
            json!({"key": "k", "value": "v"}),
        ),
    ] {
        let (status, _, answer) = call(method, &url(path), Some(&viewer), Some(body));
        assert_eq!(
            (status, answer),
            (403, json!({"detail": "Forbidden"})),
            "viewer {method} {path}"
        );
    }
    let (status, _, _) = call("GET", &url("/api/v2/variables"), Some(&viewer), None);
    assert_eq!(status, 403);

    // User: triggers and pauses, but variables and connections are the admin's.
    let (status, _, run) = call(
        "POST",
        &url("/api/v2/dags/guarded/dagRuns"),
        Some(&user),
        Some(json!({"logical_date": null})),
    );
    assert_eq!(status, 200, "user trigger: {run}");
    let (status, _, body) = call(
        "PATCH",
        &url("/api/v2/dags/guarded"),
        Some(&user),
        Some(json!({"is_paused": true})),
    );
    assert_eq!(status, 200, "user pause: {body}");
    for (method, path) in [
        ("GET", "/api/v2/variables"),
        ("POST", "/api/v2/variables"),
        ("GET", "/api/v2/connections"),
    ] {
        let (status, _, body) = call(
            method,
            &url(path),
            Some(&user),
            Some(json!({"key": "k", "value": "v"})),
        );
        assert_eq!(
            (status, body),
            (403, json!({"detail": "Forbidden"})),
            "user {method} {path}"
        );
    }

    // Admin: past the role check everywhere.
    let (status, _, body) = call("GET", &url("/api/v2/variables"), Some(&admin), None);
    assert!(status != 401 && status != 403, "admin: {status} {body}");
}

#[test]
fn repeated_failed_sign_ins_are_limited_and_say_when_to_retry() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    for i in 0..5 {
        let (status, _, body) = login(
            &s,
            json!({"username": "admin", "password": format!("guess-{i}")}),
        );
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    let (status, headers, body) = login(&s, json!({"username": "admin", "password": "guess-6"}));
    assert_eq!(status, 429, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("admin") && detail.contains(&format!("try again in {retry} s")),
        "{detail}"
    );
    // Even the right password waits now; other users are not affected.
    let (status, _, _) = login(&s, json!({"username": "admin", "password": ADMIN_PW}));
    assert_eq!(status, 429);
    let (status, _, _) = login(
        &s,
        json!({"username": "someone", "password": "guess-guess"}),
    );
    assert_eq!(status, 401);
}

#[cfg(unix)]
#[test]
fn first_start_prints_the_admin_password_once_and_keeps_it_0600() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let s = Server::start_secure(home.path(), &[]);
    let out = banner(&s);
    let line = out
        .lines()
        .find(|l| l.contains("(shown once):"))
        .unwrap_or_else(|| panic!("no password line:\n{out}"));
    let password = line.rsplit(' ').next().unwrap().to_string();
    let file = home.path().join("admin_password");
    assert!(line.contains(&file.display().to_string()), "{line}");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), password);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let secret = std::fs::metadata(home.path().join("jwt_secret")).unwrap();
    assert_eq!(secret.permissions().mode() & 0o777, 0o600);
    let token = s.token("admin", &password);
    let (status, _, _) = call("GET", &s.url("/api/v2/dags"), Some(&token), None);
    assert_eq!(status, 200);
    assert_eq!(s.stop(libc::SIGTERM).0, 0);

    // The second start says where the password is, not what it is; old tokens still work
    // (the signing secret persisted).
    let s = Server::start_secure(home.path(), &[]);
    let out = banner(&s);
    assert!(!out.contains(&password), "password printed again:\n{out}");
    assert!(
        out.contains(&format!("password in {}", file.display())),
        "{out}"
    );
    let (status, _, _) = call("GET", &s.url("/api/v2/dags"), Some(&token), None);
    assert_eq!(status, 200);
    s.token("admin", &password);
}

#[test]
fn leoflow_admin_password_sets_the_admin_password() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    let out = banner(&s);
    assert!(out.contains("LEOFLOW_ADMIN_PASSWORD"), "{out}");
    assert!(!out.contains(ADMIN_PW), "{out}");
    assert!(!home.path().join("admin_password").exists());
    s.token("admin", ADMIN_PW);
    drop(s);

    // Too short: refused at start with the reason.
    let mut c = leoflow(home.path());
    c.env("LEOFLOW_ADMIN_PASSWORD", "short")
        .args(["lite", "--port", "0"]);
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(
        err.contains("LEOFLOW_ADMIN_PASSWORD") && err.contains("8"),
        "{err}"
    );
}

#[test]
fn without_auth_everyone_is_admin_and_a_token_is_still_given() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    assert!(banner(&s).contains("Auth      off"), "{}", s.output());
    let (status, _, _) = call("GET", &s.url("/api/v2/variables"), None, None);
    assert_ne!(status, 401);
    assert_ne!(status, 403);
    let (status, _, body) = call("GET", &s.url("/auth/token"), None, None);
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        jwt_part(body["access_token"].as_str().unwrap(), 1)["sub"],
        "Anonymous"
    );
}

#[test]
fn users_create_list_and_reset_password_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    // While the server runs, on the same home.
    let (code, out, err) = users(
        home.path(),
        &["create", "--username", "ann", "--role", "user"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let first = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap_or_else(|| panic!("no generated password: {out}"))
        .to_string();
    s.token("ann", &first);

    let (code, out, _) = users(home.path(), &["list"]);
    assert_eq!(code, 0);
    let ann = out
        .lines()
        .find(|l| l.starts_with("ann "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(ann.contains(" user "), "{ann}");
    assert!(!ann.contains("never"), "ann signed in: {ann}");
    assert!(out.lines().next().unwrap().starts_with("USERNAME"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("admin ")), "{out}");

    let (code, _, err) = users(
        home.path(),
        &["create", "--username", "ann", "--role", "viewer"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = users(
        home.path(),
        &["create", "--username", "bob", "--role", "owner"],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = users(
        home.path(),
        &[
            "create",
            "--username",
            "bob",
            "--role",
            "viewer",
            "--password",
            "short",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("8"), "{err}");

    let (code, out, err) = users(
        home.path(),
        &[
            "reset-password",
            "--username",
            "ann",
            "--password",
            "brand-new-pass",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (status, _, _) = login(&s, json!({"username": "ann", "password": first}));
    assert_eq!(status, 401);
    s.token("ann", "brand-new-pass");
    let (code, _, err) = users(home.path(), &["reset-password", "--username", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("no user named"), "{err}");
}

#[test]
fn sign_in_redirect_keeps_next_and_sign_out_clears_the_cookie() {
    let home = tempfile::tempdir().unwrap();
    let s = secure(home.path(), &[]);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(s.url("/api/v2/auth/login?next=/dags"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 307);
    assert_eq!(r.headers()["location"], "/login?next=%2Fdags");
    let r = client.get(s.url("/api/v2/auth/login")).send().unwrap();
    assert_eq!(r.headers()["location"], "/login");
    let r = client
        .get(s.url("/api/v2/auth/login?next=//evil.example/x"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let token = s.token("admin", ADMIN_PW);
    let r = client
        .get(s.url("/api/v2/auth/logout"))
        .header("cookie", format!("_token={token}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 307);
    assert_eq!(r.headers()["location"], "/login");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("_token=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    // The signed-out token is revoked, also after a restart.
    let (status, _, body) = call("GET", &s.url("/api/v2/dags"), Some(&token), None);
    assert_eq!(
        (status, body),
        (403, json!({"detail": "Invalid JWT token"}))
    );
    drop(s);
    let s = secure(home.path(), &[]);
    let (status, _, _) = call("GET", &s.url("/api/v2/dags"), Some(&token), None);
    assert_eq!(status, 403);
}

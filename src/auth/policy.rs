//! Who may call what: one function from (method, path) to the access a request needs, after
//! Airflow's simple auth manager with its roles mapped onto Lite's three (Airflow's `OP` rights
//! go to `admin`).
//!
//! - Anonymous: `/api/v2/version`, `/api/v2/monitor/health`, `/healthz`, sign-in and sign-out,
//!   the UI's static files and pages.
//! - `viewer`: reads (GET, HEAD, OPTIONS, and the POST batch reads `dagRuns/list` and
//!   `taskInstances/list`), except variables, connections and config.
//! - `user`: also DAG operations: trigger, clear, mark states, pause, delete runs, notes, XCom
//!   entries.
//! - `admin`: also variables, connections, config, pools, assets, backfills and users.

use axum::http::Method;

use crate::api::identity::Role;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with or without a token.
    Public,
    /// A valid token whose role is at least this one.
    Role(Role),
}

/// The access `method path` needs (`path` without the query string).
pub fn required(method: &Method, path: &str) -> Access {
    const PUBLIC: &[&str] = &[
        "/api/v2/version",
        "/api/v2/monitor/health",
        "/api/v2/auth/login",
        "/api/v2/auth/logout",
        "/healthz",
    ];
    let path = path.trim_end_matches('/');
    if PUBLIC.contains(&path) || path == "/auth" || path.starts_with("/auth/") {
        return Access::Public;
    }
    let protected = path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/ui/")
        || path == "/ui"
        || path == "/metrics";
    if !protected {
        // The UI's static files and page URLs (the page asks for a token when it needs one).
        return Access::Public;
    }
    let segments: Vec<&str> = path
        .strip_prefix("/api/v2/")
        .map(|p| p.split('/').collect())
        .unwrap_or_default();
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || is_batch_read(method, &segments);
    let first = segments.first().copied().unwrap_or("");
    Access::Role(match first {
        // Airflow: OP (or ADMIN) even to read.
        "variables" | "connections" | "config" | "users" | "roles" | "permissions" => Role::Admin,
        // Airflow: anyone may read, OP writes.
        "pools" | "assets" | "backfills" if !read => Role::Admin,
        _ if read => Role::Viewer,
        _ => Role::User,
    })
}

/// `POST /dags/{dag_id}/dagRuns/list` and `POST /dags/{dag_id}/dagRuns/{run_id}/taskInstances/list`
/// read in bulk; Airflow lets viewers call them.
fn is_batch_read(method: &Method, s: &[&str]) -> bool {
    *method == Method::POST
        && matches!(
            s,
            ["dags", _, "dagRuns", "list"] | ["dags", _, "dagRuns", _, "taskInstances", "list"]
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: Method, path: &str) -> Access {
        required(&method, path)
    }

    #[test]
    fn anonymous_paths() {
        for p in [
            "/api/v2/version",
            "/api/v2/monitor/health",
            "/healthz",
            "/auth/token",
            "/api/v2/auth/login",
            "/api/v2/auth/logout",
            "/",
            "/dags/x/grid",
            "/static/app.js",
            "/login",
        ] {
            assert_eq!(check(Method::GET, p), Access::Public, "{p}");
        }
        assert_eq!(check(Method::POST, "/auth/token"), Access::Public);
    }

    #[test]
    fn roles_by_route() {
        use Access::Role as R;
        let cases = [
            (Method::GET, "/api/v2/dags", R(Role::Viewer)),
            (Method::GET, "/ui/events", R(Role::Viewer)),
            (Method::GET, "/metrics", R(Role::Viewer)),
            (Method::GET, "/api/v2/nope", R(Role::Viewer)),
            (Method::POST, "/api/v2/dags/~/dagRuns/list", R(Role::Viewer)),
            (
                Method::POST,
                "/api/v2/dags/~/dagRuns/~/taskInstances/list",
                R(Role::Viewer),
            ),
            (Method::PATCH, "/api/v2/dags/d", R(Role::User)),
            (Method::POST, "/api/v2/dags/d/dagRuns", R(Role::User)),
            (Method::DELETE, "/api/v2/dags/d/dagRuns/r", R(Role::User)),
            (
                Method::POST,
                "/api/v2/dags/d/clearTaskInstances",
                R(Role::User),
            ),
            (Method::GET, "/api/v2/variables", R(Role::Admin)),
            (Method::POST, "/api/v2/variables", R(Role::Admin)),
            (Method::GET, "/api/v2/connections/c", R(Role::Admin)),
            (Method::GET, "/api/v2/config", R(Role::Admin)),
            (Method::GET, "/api/v2/pools", R(Role::Viewer)),
            (Method::PATCH, "/api/v2/pools/p", R(Role::Admin)),
        ];
        for (m, p, want) in cases {
            assert_eq!(check(m.clone(), p), want, "{m} {p}");
        }
    }
}

//! Every route has an access policy, and the policy holds: the route table is walked against
//! the real router (in process, with authentication on), so a route added outside a
//! [`super::routes::Group`], or a protected route that lets the wrong caller through, fails
//! here.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use tower::ServiceExt;

use super::{AppState, app, route_table};
use crate::auth::{Access, Auth, Identity, Role};

/// A server state on a temp home, with authentication on.
fn state(home: &std::path::Path) -> (AppState, Arc<Auth>) {
    let none = crate::config::Layer::default();
    let config = crate::config::Config::resolve(home.into(), &none, &none, home).unwrap();
    let store = crate::store::Store::open(&home.join("leoflow.db")).unwrap();
    let xcom = crate::xcom::XcomStore::open(&home.join("xcom"), 1 << 20).unwrap();
    let auth = Arc::new(
        Auth::new(
            store.clone(),
            b"test secret",
            std::time::Duration::from_secs(600),
        )
        .unwrap(),
    );
    let events = crate::events::EventBus::default();
    let (_tx, shutdown) = tokio::sync::watch::channel(false);
    std::mem::forget(_tx);
    let ops = crate::ops::Ops {
        store: store.clone(),
        xcom: Some(xcom.clone()),
        events: events.clone(),
        scheduler: None,
        home: home.to_path_buf(),
        parse_requests: None,
    };
    let s = AppState {
        config: Arc::new(config),
        store,
        xcom,
        metrics: Arc::new(crate::metrics::Metrics::new()),
        health: Arc::new(crate::health::Heartbeats::default()),
        events,
        progress: Arc::new(crate::dag_processor::Progress::default()),
        scheduler: None,
        auth: Some(auth.clone()),
        shutdown,
        reads: Default::default(),
        ops,
    };
    (s, auth)
}

/// A path template with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "probe" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn template(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The status of `method path` with `token` (none: anonymous).
async fn status(
    router: &axum::Router,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> StatusCode {
    let mut req = Request::builder()
        .method(method.clone())
        .uri(concrete(path))
        .header("host", "127.0.0.1")
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = if *method == Method::GET || *method == Method::DELETE {
        Body::empty()
    } else {
        Body::from("{}")
    };
    router
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap()
        .status()
}

/// A read in Airflow's sense: a method that changes nothing, a batch list, or marking a DAG
/// as one's own favourite (Airflow asks only read access to the DAG for it).
fn mutating(method: &Method, path: &str) -> bool {
    !(*method == Method::GET
        || path.ends_with("/list")
        || path.ends_with("/favorite")
        || path.ends_with("/unfavorite"))
}

#[tokio::test]
async fn every_route_has_a_policy_and_the_policy_holds() {
    let home = tempfile::tempdir().unwrap();
    let (s, auth) = state(home.path());
    let router = app(s);
    let table = route_table();
    assert!(table.len() > 100, "{}", table.len());

    // Every route the router answers, among every operation Airflow documents and every
    // route in the table, is in the table (so it has a policy).
    let known: std::collections::BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.to_string(), template(&r.path)))
        .collect();
    let mut candidates = super::openapi::candidates();
    candidates.extend(table.iter().map(|r| (r.method.to_string(), r.path.clone())));
    for (method, path) in &candidates {
        if super::openapi::serves(method, path).await {
            assert!(
                known.contains(&(method.to_uppercase(), template(path))),
                "{method} {path} is served but has no policy in the route table"
            );
        }
    }
    for r in &table {
        assert!(
            super::openapi::serves(r.method.as_str(), &r.path).await,
            "{} {} is in the table but not served",
            r.method,
            r.path
        );
    }

    let token = |role| {
        auth.issue(&Identity {
            username: format!("{role:?}"),
            role,
        })
        .unwrap()
    };
    let (viewer, user) = (token(Role::Viewer), token(Role::User));
    let mut mutating_routes = 0;
    for r in &table {
        let Access::Role(min) = r.access else {
            // Public routes never ask for a token.
            if r.path != "/auth/token" && r.path != "/auth/token/cli" {
                let st = status(&router, &r.method, &r.path, None).await;
                assert!(
                    st != StatusCode::UNAUTHORIZED && st != StatusCode::FORBIDDEN,
                    "public {} {} answered {st}",
                    r.method,
                    r.path
                );
            }
            continue;
        };
        // Without a token: 401.
        let st = status(&router, &r.method, &r.path, None).await;
        assert_eq!(
            st,
            StatusCode::UNAUTHORIZED,
            "{} {} without a token",
            r.method,
            r.path
        );
        if mutating(&r.method, &r.path) {
            mutating_routes += 1;
            assert!(
                min > Role::Viewer,
                "{} {} changes things but viewers may call it",
                r.method,
                r.path
            );
            // A viewer is refused every mutating route.
            let st = status(&router, &r.method, &r.path, Some(&viewer)).await;
            assert_eq!(
                st,
                StatusCode::FORBIDDEN,
                "viewer on {} {}",
                r.method,
                r.path
            );
        }
        if min == Role::Admin {
            let st = status(&router, &r.method, &r.path, Some(&user)).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "user on {} {}", r.method, r.path);
        }
        if min == Role::Viewer && r.path != "/ui/events" {
            let st = status(&router, &r.method, &r.path, Some(&viewer)).await;
            assert!(
                st != StatusCode::UNAUTHORIZED && st != StatusCode::FORBIDDEN,
                "viewer refused on the read {} {}: {st}",
                r.method,
                r.path
            );
        }
    }
    assert!(mutating_routes > 30, "{mutating_routes}");
}

#[tokio::test]
async fn a_handler_without_a_policy_gets_no_identity() {
    // Regression (issue #11): an identity the auth layer did not set was the admin.
    async fn who(id: Identity) -> String {
        id.username
    }
    let router: axum::Router = axum::Router::new().route("/x", axum::routing::get(who));
    let res = router
        .oneshot(Request::builder().uri("/x").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// The README's endpoint table, as the route table says it should read.
fn endpoint_table() -> String {
    let who = |a: Access| match a {
        Access::Public => "anyone",
        Access::Role(Role::Viewer) => "viewer",
        Access::Role(Role::User) => "user",
        Access::Role(Role::Admin) => "admin",
    };
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for r in route_table() {
        let cell = format!("{} ({})", r.method, who(r.access));
        match rows.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, cells)) => cells.push(cell),
            None => rows.push((r.path.clone(), vec![cell])),
        }
    }
    let mut out = String::from("| path | methods (who may call) |\n| --- | --- |\n");
    for (path, cells) in rows {
        out.push_str(&format!("| `{path}` | {} |\n", cells.join(", ")));
    }
    out
}

#[test]
fn the_readme_lists_every_route_with_its_policy() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = endpoint_table();
    assert!(
        readme.contains(&table),
        "README.md's Endpoints section should hold this table (from api::route_table):\n\n{table}"
    );
}

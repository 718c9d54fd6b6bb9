//! The embedded web UI: served from the binary, deep links answered with `index.html`,
//! modules with a JavaScript MIME type, API 404s kept as JSON.

use crate::support::*;

#[test]
fn ui_is_served_from_the_binary_with_deep_links() {
    let home = tempfile::tempdir().unwrap();
    let s = Server::start(home.path(), &[]);
    for page in [
        "/",
        "/dags",
        "/dags/etl_xcom/graph",
        "/dags/x/runs/manual__1/tasks/t?try=2",
    ] {
        let r = http().get(s.url(page)).send().unwrap();
        assert_eq!(r.status(), 200, "{page}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{page}"
        );
        assert!(
            r.text().unwrap().contains("data-testid=\"env-badge\""),
            "{page}"
        );
    }
    let r = http().get(s.url("/static/app.js")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = http()
        .get(s.url("/static/app.js"))
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    let (status, v) = get_json(&s.url("/static/nope.js"));
    assert_eq!((status, v["detail"].as_str()), (404, Some("Not Found")));
    let (status, _) = get_json(&s.url("/api/v2/nope"));
    assert_eq!(status, 404);
    // Development files stay out of the binary.
    assert!(!leoflow::ui::files().any(|f| f.starts_with("dev/") || f.ends_with(".md")));
}

#[test]
fn ui_assets_fit_the_gzip_budget() {
    use std::io::Write;
    let mut total = 0usize;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    for f in leoflow::ui::files() {
        let bytes = std::fs::read(root.join(f.as_ref())).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        total += gz.finish().unwrap().len();
    }
    assert!(
        total < 300 * 1024,
        "UI assets are {total} bytes gzipped, over the 300 KB budget"
    );
}

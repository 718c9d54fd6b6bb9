//! `leoflow auth` and `leoflow deploy` end to end (issue #13), with real parts only: a second
//! Lite (authentication on, container executor on the suite's Podman) as the control plane,
//! the suite's plain-HTTP `docker-registry` (which that Podman may pull from), and once a
//! registry behind basic auth. The base image is the engine's Python test image, pushed to
//! the registry by the engine.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::engine_images::{PYTHON_IMAGE, docker_host, images, with_engine};
use crate::registry::TestRegistry;
use crate::support::*;

const WAIT: Duration = Duration::from_secs(120);
const PASSWORD: &str = "deploy-test-password";

/// The suite's shared registry (`scripts/test` starts it; Podman may pull from it).
fn shared_registry() -> String {
    std::env::var("LEOFLOW_TEST_REGISTRY").unwrap_or_else(|_| {
        panic!(
            "the deploy tests need the suite's shared registry and container engine: run `scripts/test`, which starts both and sets LEOFLOW_TEST_REGISTRY and DOCKER_HOST"
        )
    })
}

/// The base image of these tests: the engine's Python test image, pushed once to the shared
/// registry (through the engine).
fn base() -> String {
    static BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
        let reference = format!("{}/leoflow-test/deploy-base-{id}:1", shared_registry());
        push_base(&reference);
        reference
    })
    .clone()
}

/// Pushes the engine's Python test image to `reference` (through the engine).
fn push_base(reference: &str) {
    images();
    let (repo, tag) = reference.rsplit_once(':').unwrap();
    with_engine(async |docker| {
        use futures_util::StreamExt;
        let opts = bollard::query_parameters::TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        docker.tag_image(PYTHON_IMAGE, Some(opts)).await.unwrap();
        let opts = bollard::query_parameters::PushImageOptionsBuilder::default()
            .tag(tag)
            .build();
        let mut push = docker.push_image(repo, Some(opts), None);
        while let Some(step) = push.next().await {
            match step {
                Ok(info) => {
                    if let Some(e) = info.error_detail.and_then(|d| d.message) {
                        panic!("pushing {reference}: {e}");
                    }
                }
                Err(e) => panic!("pushing {reference}: {e}"),
            }
        }
    });
}

/// A `leoflow` command for the deploying user: its own home, credentials and Docker config.
struct User {
    home: tempfile::TempDir,
    config: tempfile::TempDir,
}

impl User {
    fn new() -> User {
        User {
            home: tempfile::tempdir().unwrap(),
            config: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = leoflow(self.home.path());
        c.env("XDG_CONFIG_HOME", self.config.path())
            .env("DOCKER_CONFIG", self.config.path().join("docker"))
            .env_remove("LEOFLOW_TOKEN")
            .args(args);
        c
    }

    /// Runs with `stdin` piped in: (exit code, stdout, stderr).
    fn run_with(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        {
            use std::io::Write;
            let mut i = child.stdin.take().unwrap();
            let _ = i.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_with(args, "")
    }
}

/// The JSON line a deploy prints per registered DAG.
fn registered(out: &str, dag_id: &str) -> Value {
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["dag_id"] == dag_id)
        .unwrap_or_else(|| panic!("no registration line for {dag_id} in:\n{out}"))
}

/// The tags of `repo` on `registry` (`None`: the repository does not exist).
fn tags(registry: &str, repo: &str) -> Option<Vec<String>> {
    let r = http()
        .get(format!("http://{registry}/v2/{repo}/tags/list"))
        .send()
        .unwrap();
    if r.status() == 404 {
        return None;
    }
    let v: Value = r.json().unwrap();
    Some(
        v["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
    )
}

/// The paths in the last layer of `repo@digest`.
fn last_layer_paths(registry: &str, repo: &str, digest: &str) -> Vec<String> {
    let manifest: Value = http()
        .get(format!("http://{registry}/v2/{repo}/manifests/{digest}"))
        .header(
            "Accept",
            "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let layer = manifest["layers"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = http()
        .get(format!("http://{registry}/v2/{repo}/blobs/{layer}"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&blob[..]));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let p = e.path().unwrap().display().to_string();
            let mut sink = Vec::new();
            let _ = e.read_to_end(&mut sink);
            p
        })
        .collect()
}

/// A DAG folder with two DAGs (a TaskFlow `@dag` one and a `with DAG` one), a secret `.env`
/// and a nested `.git` that must never ship.
fn dag_folder(root: &Path) -> PathBuf {
    let dags = root.join("dags");
    std::fs::create_dir_all(dags.join(".git")).unwrap();
    for name in ["etl_xcom", "fan_out_fan_in"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/dags/{name}.py")),
            dags.join(format!("{name}.py")),
        )
        .unwrap();
    }
    std::fs::write(dags.join(".env"), "API_KEY=do-not-ship\n").unwrap();
    std::fs::write(dags.join(".git/config"), "[core]\n").unwrap();
    dags
}

#[test]
fn deploy_builds_pushes_pins_registers_and_runs_on_a_control_plane() {
    let shared = shared_registry();
    let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let base = base();
    let registry = format!("{shared}/deploy-{id}");

    // The control plane: a Lite with authentication and the container executor.
    let plane_home = tempfile::tempdir().unwrap();
    let plane_dags = tempfile::tempdir().unwrap();
    let mut cmd = leoflow(plane_home.path());
    cmd.env("LEOFLOW_ADMIN_PASSWORD", PASSWORD)
        .env("DOCKER_HOST", docker_host());
    let plane = Server::start_secure_with(
        cmd,
        plane_home.path(),
        &["--executor", "docker", plane_dags.path().to_str().unwrap()],
    );
    let server = plane.base.clone();

    let user = User::new();
    let work = tempfile::tempdir().unwrap();
    let dags = dag_folder(work.path());
    let folder = dags.to_str().unwrap();
    let common = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "deploy",
            "--dags-folder",
            folder,
            "--server",
            &server,
            "--base-image",
            &base,
            "--insecure-registry",
            "--yes",
        ]
        .map(String::from)
        .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let deploy = |extra: &[&str]| {
        let args = common(extra);
        user.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // Each missing piece fails before anything moves, with the line that fixes it.
    let (code, _, err) = deploy(&["etl_xcom"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no registry configured: pass --registry"),
        "{err}"
    );
    let (code, _, err) = deploy(&["etl_xcom", "--registry", &registry]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "not signed in to {server}: run `leoflow auth login --server {server}`"
        )),
        "{err}"
    );
    let login = [
        "auth",
        "login",
        "--server",
        &server,
        "--username",
        "admin",
        "--password-stdin",
    ];
    let (code, _, err) = user.run_with(&login, "wrong-password\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("check the username and password"), "{err}");
    let (code, out, err) = user.run_with(&login, &format!("{PASSWORD}\n"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Signed in"), "{out}");
    let (code, out, _) = user.run(&["auth", "status", "--server", &server]);
    assert_eq!(code, 0);
    assert!(
        out.contains("admin") && out.contains("valid until"),
        "{out}"
    );
    let mut dead = TestRegistry::start();
    let dead_addr = dead.addr.clone();
    dead.stop();
    let (code, _, err) = deploy(&["etl_xcom", "--registry", &format!("{dead_addr}/x")]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("cannot reach registry {dead_addr}")),
        "{err}"
    );
    assert!(err.contains("Nothing was pushed or registered"), "{err}");
    assert_eq!(tags(&shared, &format!("deploy-{id}/etl_xcom")), None);

    // A dry run plans and changes nothing.
    let (code, out, err) = deploy(&["etl_xcom", "--registry", &registry, "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("new on the server"), "{out}");
    assert!(out.contains("would upload"), "{out}");
    assert_eq!(tags(&shared, &format!("deploy-{id}/etl_xcom")), None);
    assert_eq!(get_status_secure(&plane, "/api/v2/dags/etl_xcom"), 404);

    // Deploy by DAG id: built, pushed, pinned, registered.
    let (code, out, err) = deploy(&["etl_xcom", "--registry", &registry]);
    assert_eq!(code, 0, "{out}{err}");
    let first = registered(&out, "etl_xcom");
    assert_eq!(first["version"], 1, "{out}");
    let image = first["image"].as_str().unwrap().to_string();
    let (repo_ref, digest) = image.split_once('@').unwrap();
    assert!(digest.starts_with("sha256:"), "{image}");
    assert_eq!(repo_ref, format!("{registry}/etl_xcom"));
    // The image holds the DAG folder's code and the generated entrypoints, nothing secret.
    let paths = last_layer_paths(&shared, &format!("deploy-{id}/etl_xcom"), digest);
    for want in [
        "opt/leoflow/dags/etl_xcom.py",
        "opt/leoflow/dags/fan_out_fan_in.py",
        "opt/leoflow/dags/leoflow_tasks_etl_xcom.py",
    ] {
        assert!(paths.iter().any(|p| p == want), "{want} not in {paths:?}");
    }
    for p in &paths {
        assert!(
            !p.contains(".env") && !p.contains(".git") && !p.contains("leoflow.db"),
            "{p} shipped: {paths:?}"
        );
    }
    let details = get_json_secure(&plane, "/api/v2/dags/etl_xcom/details");
    assert_eq!(details["image"], image.as_str(), "{details}");
    assert_eq!(details["bundle_name"], "registered");

    // Unchanged code: the same digest, and the server answers 200 (same version).
    let (code, out, err) = deploy(&["etl_xcom", "--registry", &registry]);
    assert_eq!(code, 0, "{out}{err}");
    let again = registered(&out, "etl_xcom");
    assert_eq!(again["image"], image.as_str(), "{out}");
    assert_eq!(again["version"], 1);
    assert!(out.contains("unchanged"), "{out}");
    assert!(out.contains("0 B uploaded"), "{out}");

    // A one-line change: a new digest, version 2, and --trigger runs it in its image.
    let file = dags.join("etl_xcom.py");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "Extracted {len(orders)} orders",
            "Extracted {len(orders)} orders (v2)",
        ),
    )
    .unwrap();
    let (code, out, err) = deploy(&["etl_xcom", "--registry", &registry, "--trigger"]);
    assert_eq!(code, 0, "{out}{err}");
    let second = registered(&out, "etl_xcom");
    assert_eq!(second["version"], 2, "{out}");
    assert_ne!(second["image"], image.as_str());
    assert!(out.contains("trigger"), "{out}");
    let run_id = out
        .lines()
        .find_map(|l| l.split("run ").nth(1)?.split(' ').next().map(String::from))
        .unwrap_or_else(|| panic!("no run id in {out}"));
    let deadline = std::time::Instant::now() + WAIT;
    let run = loop {
        let run = get_json_secure(
            &plane,
            &format!("/api/v2/dags/etl_xcom/dagRuns/{}", enc_run(&run_id)),
        );
        if run["state"] == "success" || run["state"] == "failed" {
            break run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{run}\n{}",
            plane.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = try_log(plane_home.path(), "etl_xcom", &run_id, "extract", 1);
    assert_eq!(
        run["state"],
        "success",
        "{run}\nextract: {log}\nload: {}",
        try_log(plane_home.path(), "etl_xcom", &run_id, "load", 1)
    );
    assert!(log.contains("Extracted 4 orders (v2)"), "{log}");
    let load = try_log(plane_home.path(), "etl_xcom", &run_id, "load", 1);
    assert!(load.contains("594.45"), "{load}");

    // --all: every DAG of the folder; by path: a Leoflow project.
    let (code, out, err) = deploy(&["--all", "--registry", &registry]);
    assert_eq!(code, 0, "{out}{err}");
    registered(&out, "fan_out_fan_in");
    assert_eq!(registered(&out, "etl_xcom")["version"], 2, "{out}");
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dags/leoflow_project");
    let (code, out, err) = deploy(&[project.to_str().unwrap(), "--registry", &registry]);
    assert_eq!(code, 0, "{out}{err}");
    registered(&out, "leoflow_project_example");
    let (code, out, _) = user.run(&["auth", "logout", "--server", &server]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = user.run(&["auth", "status", "--server", &server]);
    assert_eq!(code, 1);
}

/// A registry behind basic auth: `--registry-user` with the password on stdin works, a wrong
/// password fails before anything is pushed (the base is copied from the shared registry).
#[test]
fn deploy_to_a_registry_that_asks_for_credentials() {
    let shared = shared_registry();
    let base = base();
    let locked = TestRegistry::start_with_auth("ci", "registry-secret");
    let plane_home = tempfile::tempdir().unwrap();
    let plane = Server::start(plane_home.path(), &[]);
    let user = User::new();
    let work = tempfile::tempdir().unwrap();
    let dags = dag_folder(work.path());
    // A --no-auth server takes any token.
    let run = |password: &str| {
        let mut c = user.cmd(&[
            "deploy",
            "fan_out_fan_in",
            "--dags-folder",
            dags.to_str().unwrap(),
            "--server",
            &plane.base,
            "--registry",
            &format!("{}/team", locked.addr),
            "--base-image",
            &base,
            "--insecure-registry",
            "--registry-user",
            "ci",
            "--registry-password-stdin",
            "--yes",
        ]);
        c.env("LEOFLOW_TOKEN", "unused")
            .env("LEOFLOW_INSECURE_REGISTRIES", &shared)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        {
            use std::io::Write;
            let mut i = child.stdin.take().unwrap();
            let _ = writeln!(i, "{password}");
        }
        let o = child.wait_with_output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, out) = run("wrong");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("registry {}", locked.addr)), "{out}");
    assert!(!out.contains("wrong"), "the password leaked: {out}");
    let (code, out) = run("registry-secret");
    assert_eq!(code, 0, "{out}");
    let r = registered(&out, "fan_out_fan_in");
    assert!(
        r["image"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/team/fan_out_fan_in@sha256:", locked.addr)),
        "{r}"
    );
}

fn secure_get(s: &Server, path: &str) -> (u16, Value) {
    let token = s.token("admin", PASSWORD);
    let r = http().get(s.url(path)).bearer_auth(token).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or_default())
}

fn get_json_secure(s: &Server, path: &str) -> Value {
    let (status, v) = secure_get(s, path);
    assert_eq!(status, 200, "{path}: {v}");
    v
}

fn get_status_secure(s: &Server, path: &str) -> u16 {
    secure_get(s, path).0
}

//! The container engine the container tests run against, and the images they use, built
//! here from this machine's own files (no registry is reachable): a `FROM scratch` image with
//! Debian's static busybox and bash, and one that adds the host's Python 3 with its standard
//! library. Built once per engine through its Docker API (bollard), so Docker and Podman both
//! work.
//!
//! The engine is the one `scripts/test` starts (Podman's Docker-compatible service, its socket
//! in `DOCKER_HOST`), or any engine at the default sockets; without one these tests fail and
//! say how to get one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use futures_util::StreamExt;

/// The shell-only image.
pub const SHELL_IMAGE: &str = "localhost/leoflow-test/shell:2";
/// The shell image plus the host's python3.
pub const PYTHON_IMAGE: &str = "localhost/leoflow-test/python:2";

/// The engine's socket URL (`unix:///...`), for the server's `DOCKER_HOST`.
pub fn docker_host() -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let env = |k: &str| std::env::var(k).ok();
        leoflow::executor::engine::candidates(&env)
            .into_iter()
            .find(|h| Path::new(h.trim_start_matches("unix://")).exists())
            .unwrap_or_else(|| {
                panic!(
                    "the container tests need a container engine: run `scripts/test`, which installs Podman and starts its Docker-compatible service, or set DOCKER_HOST to a Docker/Podman socket"
                )
            })
    })
    .clone()
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Runs `f` with a client of the test engine.
pub fn with_engine<T>(f: impl AsyncFnOnce(&bollard::Docker) -> T) -> T {
    let host = docker_host();
    runtime().block_on(async move {
        let engine = leoflow::executor::engine::Engine::at(&host)
            .await
            .unwrap_or_else(|e| panic!("the container engine at {host} does not answer: {e}"));
        f(&engine.docker).await
    })
}

/// Both test images, built once (and reused while the engine has them).
pub fn images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        build(SHELL_IMAGE, &shell_files());
        let mut py = shell_files();
        py.extend(python_files());
        build(PYTHON_IMAGE, &py);
    });
}

/// Host files (absolute paths) an image holds at the same place, with the shared libraries
/// the binaries among them need.
fn with_libraries(files: Vec<PathBuf>) -> BTreeSet<PathBuf> {
    let mut out: BTreeSet<PathBuf> = BTreeSet::new();
    for f in files {
        if f.extension().is_some_and(|e| e == "so") || is_elf(&f) {
            let ldd = std::process::Command::new("ldd").arg(&f).output();
            if let Ok(o) = ldd {
                for line in String::from_utf8_lossy(&o.stdout).lines() {
                    let path = line
                        .split_whitespace()
                        .find(|w| w.starts_with('/'))
                        .map(PathBuf::from);
                    if let Some(p) = path {
                        out.insert(p);
                    }
                }
            }
        }
        out.insert(f);
    }
    out
}

fn is_elf(p: &Path) -> bool {
    std::fs::read(p).is_ok_and(|b| b.starts_with(b"\x7fELF"))
}

fn shell_files() -> Vec<(PathBuf, String)> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("Debian's busybox-static (scripts/test installs it)");
    let mut out = vec![(busybox, "/bin/busybox".to_string())];
    for f in with_libraries(vec![PathBuf::from("/bin/bash")]) {
        let target = f.display().to_string();
        out.push((f, target));
    }
    out
}

fn python_files() -> Vec<(PathBuf, String)> {
    let python = std::fs::canonicalize("/usr/bin/python3").expect("Debian's python3");
    let version = python.file_name().unwrap().to_string_lossy().into_owned();
    let stdlib = PathBuf::from("/usr/lib").join(&version);
    let mut files = vec![python.clone()];
    let skip = [
        "test",
        "idlelib",
        "tkinter",
        "ensurepip",
        "lib2to3",
        "turtledemo",
        "pydoc_data",
        "__pycache__",
        "config-",
    ];
    let mut stack = vec![stdlib];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if skip.iter().any(|s| name.starts_with(s)) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                files.push(p);
            }
        }
    }
    let mut out: Vec<(PathBuf, String)> = with_libraries(files)
        .into_iter()
        .map(|f| {
            let t = f.display().to_string();
            (f, t)
        })
        .collect();
    out.push((python, "/usr/bin/python3".to_string()));
    out
}

/// Builds `tag` from scratch with `files` (and busybox's applets linked in /bin) unless the
/// engine has it.
fn build(tag: &str, files: &[(PathBuf, String)]) {
    with_engine(async |docker| {
        if docker.inspect_image(tag).await.is_ok() {
            return;
        }
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        let mut seen = BTreeSet::new();
        for (src, dst) in files {
            let dst = format!("rootfs{dst}");
            if seen.insert(dst.clone()) {
                tar.append_path_with_name(src, &dst)
                    .unwrap_or_else(|e| panic!("{}: {e}", src.display()));
            }
        }
        let dockerfile = "FROM scratch\nCOPY rootfs/ /\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN [\"/bin/busybox\", \"mkdir\", \"-p\", \"/tmp\", \"/usr/bin\"]\nRUN [\"/bin/busybox\", \"chmod\", \"1777\", \"/tmp\"]\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(dockerfile.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "Dockerfile", dockerfile.as_bytes())
            .unwrap();
        let context = tar.into_inner().unwrap();
        let opts = bollard::query_parameters::BuildImageOptionsBuilder::default()
            .t(tag)
            .rm(true)
            .build();
        let mut build = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
        let mut log = String::new();
        while let Some(step) = build.next().await {
            match step {
                Ok(info) => {
                    if let Some(e) = info.error_detail.and_then(|d| d.message) {
                        panic!("building {tag}: {e}\n{log}");
                    }
                    if let Some(s) = info.stream {
                        log.push_str(&s);
                    }
                }
                Err(e) => panic!("building {tag}: {e}\n{log}"),
            }
        }
        assert!(
            docker.inspect_image(tag).await.is_ok(),
            "{tag} was not built:\n{log}"
        );
    })
}

/// The containers of a home's server still on the engine (any state): `(id, state)`.
pub fn leftovers(label: &str, value: &str) -> Vec<(String, String)> {
    with_engine(async |docker| {
        let filters = std::collections::HashMap::from([(
            "label".to_string(),
            vec![format!("{label}={value}")],
        )]);
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        docker
            .list_containers(Some(opts))
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.id.unwrap_or_default(),
                    c.state.map(|s| format!("{s:?}")).unwrap_or_default(),
                )
            })
            .collect()
    })
}

/// The engine's view of a container.
pub fn inspect(id: &str) -> bollard::models::ContainerInspectResponse {
    with_engine(async |docker| {
        docker
            .inspect_container(id, None)
            .await
            .unwrap_or_else(|e| panic!("inspecting {id}: {e}"))
    })
}

//! The `deploy` section: `leoflow deploy` of a DAG to a Lite control plane and a real
//! `docker-registry` on loopback: first deploy, an unchanged re-deploy (everything cached) and
//! a one-line change, wall time and bytes pushed.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{bin, free_port, get, percentile, spawn_with, stop};

#[path = "../../tests/it/registry.rs"]
#[allow(dead_code)]
mod registry;

/// Pushes a one-layer busybox base (Docker v2 schema 2) to `reference`.
async fn push_base(addr: &str, reference: &str) {
    use leoflow::deploy::oci;
    use oci_client::client::{ClientConfig, ClientProtocol};
    use oci_client::manifest::{
        IMAGE_DOCKER_CONFIG_MEDIA_TYPE, IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
        IMAGE_MANIFEST_MEDIA_TYPE,
    };
    use sha2::Digest;
    let sha = |b: &[u8]| format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)));
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Debian's busybox-static (scripts/test installs it)");
    let layer = oci::layer(&[(busybox.into(), "/bin/busybox".into())]).unwrap();
    let r: oci_client::Reference = reference.parse().unwrap();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![addr.to_string()]),
        ..ClientConfig::default()
    });
    let anon = oci_client::secrets::RegistryAuth::Anonymous;
    client
        .auth(&r, &anon, oci_client::RegistryOperation::Push)
        .await
        .unwrap();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
    }))
    .unwrap();
    client
        .push_blob(&r, layer.gzip.clone(), &layer.digest)
        .await
        .unwrap();
    client
        .push_blob(&r, config.clone(), &sha(&config))
        .await
        .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": IMAGE_MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": IMAGE_DOCKER_CONFIG_MEDIA_TYPE, "size": config.len(), "digest": sha(&config)},
        "layers": [{"mediaType": IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE, "size": layer.gzip.len(), "digest": layer.digest}],
    }))
    .unwrap();
    client
        .push_manifest_raw(&r, manifest, IMAGE_MANIFEST_MEDIA_TYPE.parse().unwrap())
        .await
        .unwrap();
}

/// Bytes from a summary's "N KiB uploaded".
fn uploaded(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("Deployed"))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let before = line.split(" uploaded").next().unwrap();
    let mut words = before.rsplit(' ');
    let unit = words.next().unwrap();
    let n: f64 = words.next().unwrap().parse().unwrap();
    n * match unit {
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        _ => 1.0,
    }
}

pub fn deploy() {
    if !Path::new(registry::BINARY).exists() {
        println!(
            "deploy: skipped (no {}; run scripts/test, which installs it)",
            registry::BINARY
        );
        return;
    }
    let reg = registry::TestRegistry::start();
    let base = format!("{}/bench/base:1", reg.addr);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(push_base(&reg.addr, &base));
    let dir = tempfile::tempdir().unwrap();
    let plane_dags = dir.path().join("plane-dags");
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&plane_dags).unwrap();
    std::fs::create_dir_all(&dags).unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dags");
    for f in ["etl_xcom.py", "fan_out_fan_in.py"] {
        std::fs::copy(examples.join(f), dags.join(f)).unwrap();
    }
    let port = free_port();
    let plane = spawn_with(&dir.path().join("plane"), port, &plane_dags, &[], &[]);
    let t0 = Instant::now();
    while get(port, "/api/v2/monitor/health").is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "control plane not ready"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let server = format!("http://127.0.0.1:{port}");
    let registry = format!("{}/bench", reg.addr);
    let run = || {
        let t = Instant::now();
        let out = std::process::Command::new(bin())
            .env("LEOFLOW_TOKEN", "unused-with-no-auth")
            .env("HOME", dir.path())
            .args(["--home"])
            .arg(dir.path().join("home"))
            .args(["deploy", "etl_xcom", "--dags-folder"])
            .arg(&dags)
            .args([
                "--server",
                &server,
                "--registry",
                &registry,
                "--base-image",
                &base,
            ])
            .args(["--insecure-registry", "--yes"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (t.elapsed().as_secs_f64() * 1000.0, uploaded(&text))
    };
    let (first, first_bytes) = run();
    let mut same = Vec::new();
    let mut same_bytes = 0.0;
    for _ in 0..5 {
        let (ms, b) = run();
        same.push(ms);
        same_bytes += b;
    }
    let file = dags.join("etl_xcom.py");
    let mut changed = Vec::new();
    let mut changed_bytes = Vec::new();
    for i in 0..5 {
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("{text}# change {i}\n")).unwrap();
        let (ms, b) = run();
        changed.push(ms);
        changed_bytes.push(b);
    }
    stop(plane);
    same.sort_by(|a, b| a.partial_cmp(b).unwrap());
    changed.sort_by(|a, b| a.partial_cmp(b).unwrap());
    changed_bytes.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "deploy: leoflow deploy of a 3-task DAG to a Lite control plane and docker-registry on loopback"
    );
    println!("  first deploy (base layer mounted): {first:.0} ms, {first_bytes:.0} B uploaded");
    println!(
        "  unchanged re-deploy: median {:.0} ms (min {:.0}), {:.0} B uploaded in 5 runs (same digest, server 200)",
        percentile(&same, 0.5),
        same[0],
        same_bytes
    );
    println!(
        "  one-line change: median {:.0} ms (min {:.0}), median {:.0} B uploaded (the DAG layer and config; new digest, server 201)",
        percentile(&changed, 0.5),
        changed[0],
        percentile(&changed_bytes, 0.5)
    );
}

//! The daemonless image builder and pusher (`leoflow::deploy::oci`) against a real
//! `docker-registry` on loopback (`registry::TestRegistry`): reproducible layers, images built
//! on Docker v2 schema 2, OCI and multi-platform bases, pushes that skip and mount, basic
//! auth from a Docker config, unreachable and stalled registries, and (with the suite's shared
//! registry and container engine) an image the engine pulls and runs.
//!
//! Base images are pushed here with oci-client directly, not with the module under test.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leoflow::deploy::oci::{
    self, BaseImage, BlobKind, Built, ImageRef, OciError, Progress, Registry, RegistryAuth,
};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::{
    IMAGE_CONFIG_MEDIA_TYPE, IMAGE_DOCKER_CONFIG_MEDIA_TYPE, IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
    IMAGE_LAYER_GZIP_MEDIA_TYPE, IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::registry::TestRegistry;

/// `created` of the test bases.
const BASE_CREATED: &str = "2024-01-02T03:04:05Z";

const ACCEPT: &[&str] = &[
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
];

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn write(root: &Path, rel: &str, content: &str, mode: u32) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// A DAG folder: a DAG, a helper module, an executable script and a symlink.
fn dag_folder(root: &Path) {
    write(root, "hello.py", "from airflow import DAG\n", 0o640);
    write(root, "lib/util.py", "X = 1\n", 0o600);
    write(root, "bin/run.sh", "#!/bin/sh\necho hi\n", 0o750);
    std::os::unix::fs::symlink("lib/util.py", root.join("util-link.py")).unwrap();
}

/// The files of the test bases' one layer.
fn base_layer() -> oci::Layer {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/base-release", "base 1\n", 0o644);
    write(dir.path(), "usr/share/base/README", "a test base\n", 0o644);
    oci::layer(&[
        (dir.path().join("etc"), "/etc".into()),
        (dir.path().join("usr"), "/usr".into()),
    ])
    .unwrap()
}

/// An oci-client speaking plain HTTP to `addr`.
fn raw_client(addr: &str) -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![addr.to_string()]),
        ..ClientConfig::default()
    })
}

/// Pushes a one-layer image (`docker`: Docker v2 schema 2, else OCI) for `arch` to
/// `reference` with oci-client; returns the manifest's digest.
async fn push_base(
    reference: &str,
    docker: bool,
    arch: &str,
    layer: &oci::Layer,
    env: &[&str],
    auth: &oci_client::secrets::RegistryAuth,
) -> String {
    let r: Reference = reference.parse().unwrap();
    let client = raw_client(r.registry());
    client
        .auth(&r, auth, RegistryOperation::Push)
        .await
        .unwrap();
    let config = json!({
        "architecture": arch,
        "os": "linux",
        "created": BASE_CREATED,
        "docker_version": "a field typed config structs would drop",
        "config": {"Env": env, "Labels": {"base": "yes"}, "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created": BASE_CREATED, "created_by": "the test base"}],
    });
    let config = serde_json::to_vec(&config).unwrap();
    client
        .push_blob(&r, layer.gzip.clone(), &layer.digest)
        .await
        .unwrap();
    client
        .push_blob(&r, config.clone(), &sha(&config))
        .await
        .unwrap();
    let (mt, cmt, lmt) = if docker {
        (
            IMAGE_MANIFEST_MEDIA_TYPE,
            IMAGE_DOCKER_CONFIG_MEDIA_TYPE,
            IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
        )
    } else {
        (
            OCI_IMAGE_MEDIA_TYPE,
            IMAGE_CONFIG_MEDIA_TYPE,
            IMAGE_LAYER_GZIP_MEDIA_TYPE,
        )
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": {"mediaType": cmt, "size": config.len(), "digest": sha(&config)},
        "layers": [{"mediaType": lmt, "size": layer.gzip.len(), "digest": layer.digest}],
    });
    // Pretty-printed: its bytes differ from what the module under test would write.
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    client
        .push_manifest_raw(&r, bytes.clone(), mt.parse().unwrap())
        .await
        .unwrap();
    sha(&bytes)
}

/// Pushes an OCI index to `reference` with an arm64 then an amd64 image (each also tagged
/// `arm64` / `amd64`); returns (index digest, amd64 digest).
async fn push_index(reference: &str, layer: &oci::Layer) -> (String, String) {
    let r: Reference = reference.parse().unwrap();
    let anon = oci_client::secrets::RegistryAuth::Anonymous;
    let repo = format!("{}/{}", r.registry(), r.repository());
    let arm = push_base(&format!("{repo}:arm64"), false, "arm64", layer, &[], &anon).await;
    let amd = push_base(&format!("{repo}:amd64"), false, "amd64", layer, &[], &anon).await;
    let client = raw_client(r.registry());
    let size = |d: &str| {
        let client = client.clone();
        let pinned = r.clone_with_digest(d.to_string());
        async move {
            let (b, _) = client
                .pull_manifest_raw(&pinned, &anon_auth(), ACCEPT)
                .await
                .unwrap();
            b.len()
        }
    };
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_INDEX_MEDIA_TYPE,
        "manifests": [
            {"mediaType": OCI_IMAGE_MEDIA_TYPE, "digest": arm, "size": size(&arm).await,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": OCI_IMAGE_MEDIA_TYPE, "digest": amd, "size": size(&amd).await,
             "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    client
        .push_manifest_raw(
            &r,
            bytes.clone(),
            OCI_IMAGE_INDEX_MEDIA_TYPE.parse().unwrap(),
        )
        .await
        .unwrap();
    (sha(&bytes), amd)
}

fn anon_auth() -> oci_client::secrets::RegistryAuth {
    oci_client::secrets::RegistryAuth::Anonymous
}

/// The entries of a layer: (path, type, mode, uid, gid, mtime, username, link target,
/// content).
type TarEntry = (
    String,
    tar::EntryType,
    u32,
    u64,
    u64,
    u64,
    String,
    String,
    String,
);

fn entries(layer: &oci::Layer) -> Vec<TarEntry> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(&layer.gzip[..])
        .read_to_end(&mut tar)
        .unwrap();
    assert_eq!(sha(&tar), layer.diff_id, "diff_id is the tar's sha256");
    let mut archive = tar::Archive::new(&tar[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let mut content = String::new();
            e.read_to_string(&mut content).unwrap();
            (
                e.path().unwrap().display().to_string(),
                h.entry_type(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
                h.username().unwrap().unwrap_or("").to_string(),
                e.link_name()
                    .unwrap()
                    .map(|l| l.display().to_string())
                    .unwrap_or_default(),
                content,
            )
        })
        .collect()
}

#[test]
fn layers_are_reproducible_sorted_and_normalised() {
    let a = tempfile::tempdir().unwrap();
    dag_folder(a.path());
    let files = |root: &Path| vec![(root.to_path_buf(), "/opt/leoflow/dags".to_string())];
    let one = oci::layer(&files(a.path())).unwrap();
    let two = oci::layer(&files(a.path())).unwrap();
    assert_eq!(one.gzip, two.gzip);
    assert_eq!((&one.digest, &one.diff_id), (&two.digest, &two.diff_id));
    assert_eq!(one.digest, sha(&one.gzip));
    assert_eq!(one.files, 4);

    // The same folder elsewhere, made later, with other mtimes and other non-exec modes.
    let b = tempfile::tempdir().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    dag_folder(b.path());
    std::fs::set_permissions(
        b.path().join("hello.py"),
        std::fs::Permissions::from_mode(0o664),
    )
    .unwrap();
    std::fs::set_permissions(
        b.path().join("bin/run.sh"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    std::fs::File::options()
        .write(true)
        .open(b.path().join("lib/util.py"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let three = oci::layer(&files(b.path())).unwrap();
    assert_eq!(three.gzip, one.gzip, "another path, mtimes and modes");

    // The gzip header: no name, mtime 0, OS byte 255.
    assert_eq!(&one.gzip[..4], &[0x1f, 0x8b, 8, 0], "no FNAME flag");
    assert_eq!(&one.gzip[4..8], &[0, 0, 0, 0], "gzip mtime 0");
    assert_eq!(one.gzip[9], 255);

    let got = entries(&one);
    let paths: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "opt",
            "opt/leoflow",
            "opt/leoflow/dags",
            "opt/leoflow/dags/bin",
            "opt/leoflow/dags/bin/run.sh",
            "opt/leoflow/dags/hello.py",
            "opt/leoflow/dags/lib",
            "opt/leoflow/dags/lib/util.py",
            "opt/leoflow/dags/util-link.py",
        ]
    );
    for (path, kind, mode, uid, gid, mtime, user, link, content) in &got {
        assert_eq!((*uid, *gid, *mtime), (0, 0, 1), "{path}");
        assert_eq!(user, "", "{path}");
        let want = match path.as_str() {
            "opt/leoflow/dags/bin/run.sh" => (tar::EntryType::Regular, 0o755),
            "opt/leoflow/dags/hello.py" | "opt/leoflow/dags/lib/util.py" => {
                (tar::EntryType::Regular, 0o644)
            }
            "opt/leoflow/dags/util-link.py" => (tar::EntryType::Symlink, 0o777),
            _ => (tar::EntryType::Directory, 0o755),
        };
        assert_eq!((*kind, *mode), want, "{path}");
        if path.ends_with("util-link.py") {
            assert_eq!(link, "lib/util.py");
        }
        if path.ends_with("hello.py") {
            assert_eq!(content, "from airflow import DAG\n");
        }
    }

    // Pinned bytes: the same inputs give this digest on every machine (a change in the tar
    // or gzip writer shows up here).
    let pinned = tempfile::tempdir().unwrap();
    let f = write(pinned.path(), "a.txt", "leoflow\n", 0o644);
    let l = oci::layer_at(&[(f, "/a.txt".into())], 1).unwrap();
    assert_eq!(
        (l.diff_id.as_str(), l.digest.as_str()),
        (
            "sha256:c6c6a33f8678d9b8ff9c45a5b321dab64f029aa35abf2f7fdc8db42763c4e197",
            "sha256:cefe097686af33036dcc8789c602e3c5de2a5063a436a22972b95d3371ad967d"
        ),
    );
    // SOURCE_DATE_EPOCH's path: another mtime, another diff id.
    let f = pinned.path().join("a.txt");
    let later = oci::layer_at(&[(f, "/a.txt".into())], 1_700_000_000).unwrap();
    assert_ne!(later.diff_id, l.diff_id);
    assert!(entries(&later).iter().all(|e| e.5 == 1_700_000_000));
}

#[test]
fn long_paths_and_link_targets_survive() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}/file.py", ["a-rather-long-directory-name"; 6].join("/"));
    write(dir.path(), &deep, "deep\n", 0o644);
    let target = format!("/{}", "t".repeat(150));
    std::os::unix::fs::symlink(&target, dir.path().join("far")).unwrap();
    let l = oci::layer(&[(dir.path().to_path_buf(), "/d".into())]).unwrap();
    let got = entries(&l);
    let file = got
        .iter()
        .find(|e| e.0 == format!("d/{deep}"))
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(file.8, "deep\n");
    let link = got.iter().find(|e| e.0 == "d/far").unwrap();
    assert_eq!(
        (link.1, link.7.as_str()),
        (tar::EntryType::Symlink, target.as_str())
    );
    assert_eq!(
        oci::layer(&[(dir.path().to_path_buf(), "/d".into())])
            .unwrap()
            .gzip,
        l.gzip
    );
}

#[test]
fn layers_refuse_special_files_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    dag_folder(dir.path());
    let fifo = dir.path().join("lib/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let e = oci::layer(&[(dir.path().to_path_buf(), "/dags".into())]).unwrap_err();
    assert!(matches!(e, OciError::Invalid { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&fifo.display().to_string()) && msg.contains("FIFO"),
        "{msg}"
    );
    std::fs::remove_file(&fifo).unwrap();

    let a = dir.path().join("hello.py");
    let b = dir.path().join("lib/util.py");
    let msg = oci::layer(&[(a.clone(), "/x.py".into()), (b.clone(), "/x.py".into())])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("/x.py") && msg.contains("two sources"),
        "{msg}"
    );
    let msg = oci::layer(&[(a.clone(), "/x".into()), (b, "/x/y.py".into())])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("/x/y.py") && msg.contains("not a directory"),
        "{msg}"
    );
    let msg = oci::layer(&[(a.clone(), "relative.py".into())])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("relative.py") && msg.contains("absolute"),
        "{msg}"
    );
    let missing = dir.path().join("nope.py");
    let e = oci::layer(&[(missing.clone(), "/nope.py".into())]).unwrap_err();
    assert!(matches!(e, OciError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains(&missing.display().to_string()));
}

/// The new image's config, pulled back from the registry.
async fn pushed_config(target: &str, manifest: &Value) -> Value {
    let r: Reference = target.parse().unwrap();
    let digest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let mut out = Vec::new();
    raw_client(r.registry())
        .pull_blob(&r, digest.as_str(), &mut out)
        .await
        .unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// The image every build test makes on `base`: the DAG folder, two env vars (one replacing
/// the base's `KEEP`), a label.
fn build_dags(base: &BaseImage) -> Built {
    let dags = tempfile::tempdir().unwrap();
    dag_folder(dags.path());
    let layer = oci::layer(&[(dags.path().to_path_buf(), "/opt/leoflow/dags".into())]).unwrap();
    let env = [
        ("KEEP".to_string(), "2".to_string()),
        ("LEOFLOW_DAGS".to_string(), "/opt/leoflow/dags".to_string()),
    ];
    let labels = BTreeMap::from([("io.leoflow.dag".to_string(), "hello".to_string())]);
    oci::build(base, layer, &env, &labels).unwrap()
}

/// Builds on `base_ref` and pushes to `target`; checks what the registry then serves.
async fn build_push_and_verify(
    registry: &Registry,
    base_ref: &str,
    target: &str,
    docker: bool,
) -> (BaseImage, Built) {
    let anon = RegistryAuth::Anonymous;
    let base = registry.base(base_ref, &anon, "linux/amd64").await.unwrap();
    let built = build_dags(&base);
    assert_eq!(built.digest, sha(&built.manifest));
    registry.check(target, &anon).await.unwrap();
    let missing = registry.missing_blobs(&built, target, &anon).await.unwrap();
    assert_eq!(
        missing.len(),
        3,
        "base layer, new layer, config: {missing:?}"
    );
    let mut events = Vec::new();
    let pushed = registry
        .push(&built, &base, target, &anon, &mut |p| events.push(p))
        .await
        .unwrap();
    assert_eq!(pushed.digest, built.digest);
    // Same registry, another repository: the base layer is mounted, the rest uploaded.
    assert_eq!(
        (
            pushed.blobs_mounted,
            pushed.blobs_uploaded,
            pushed.blobs_skipped
        ),
        (1, 2, 0),
        "{events:?}"
    );
    assert_eq!(
        pushed.bytes_uploaded,
        (built.layer.gzip.len() + built.config.len()) as u64
    );
    assert!(
        matches!(
            &events[0],
            Progress::Mounted {
                kind: BlobKind::BaseLayer,
                ..
            }
        ),
        "{events:?}"
    );
    assert!(events.contains(&Progress::Done {
        kind: BlobKind::Layer,
        digest: built.layer.digest.clone(),
        size: built.layer.gzip.len() as u64,
    }));
    assert!(events.iter().any(|e| matches!(e,
        Progress::Uploading { kind: BlobKind::Layer, sent, size, .. } if sent == size)));

    // What the registry serves is exactly what was built.
    let r: Reference = target.parse().unwrap();
    let (bytes, digest) = raw_client(r.registry())
        .pull_manifest_raw(&r, &anon_auth(), ACCEPT)
        .await
        .unwrap();
    assert_eq!(&bytes[..], &built.manifest[..]);
    assert_eq!(sha(&bytes), pushed.digest);
    assert_eq!(digest, pushed.digest);
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    let (mt, cmt, lmt) = if docker {
        (
            IMAGE_MANIFEST_MEDIA_TYPE,
            IMAGE_DOCKER_CONFIG_MEDIA_TYPE,
            IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
        )
    } else {
        (
            OCI_IMAGE_MEDIA_TYPE,
            IMAGE_CONFIG_MEDIA_TYPE,
            IMAGE_LAYER_GZIP_MEDIA_TYPE,
        )
    };
    assert_eq!(manifest["mediaType"], mt);
    assert_eq!(built.manifest_media_type, mt);
    assert_eq!(manifest["config"]["mediaType"], cmt);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[1]["mediaType"], lmt);
    assert_eq!(layers[1]["digest"], built.layer.digest.as_str());
    assert_eq!(
        layers[0]["mediaType"], lmt,
        "the base's layer kept as it was"
    );

    let config = pushed_config(target, &manifest).await;
    let base_config: Value = serde_json::from_slice(&base.config).unwrap();
    let mut diff_ids = base_config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .clone();
    diff_ids.push(json!(built.layer.diff_id));
    assert_eq!(config["rootfs"]["diff_ids"], Value::Array(diff_ids));
    let history = config["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[1],
        json!({"created": BASE_CREATED, "created_by": "leoflow deploy"})
    );
    assert_eq!(
        config["created"], BASE_CREATED,
        "created is the base's, not now"
    );
    assert_eq!(
        config["config"]["Env"],
        json!([
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "KEEP=2",
            "LEOFLOW_DAGS=/opt/leoflow/dags"
        ])
    );
    assert_eq!(
        config["config"]["Labels"],
        json!({"base": "yes", "io.leoflow.dag": "hello"})
    );
    assert_eq!(config["config"]["Cmd"], json!(["/bin/sh"]));
    assert_eq!(
        config["docker_version"], base_config["docker_version"],
        "fields typed structs do not know are kept"
    );
    (base, built)
}

const BASE_ENV: &[&str] = &["PATH=/usr/local/bin:/usr/bin:/bin", "KEEP=1"];

#[test]
fn build_and_push_on_a_docker_v2_base() {
    let reg = TestRegistry::start();
    rt().block_on(async {
        let base_ref = format!("{}/base/docker:1", reg.addr);
        let digest = push_base(
            &base_ref,
            true,
            "amd64",
            &base_layer(),
            BASE_ENV,
            &anon_auth(),
        )
        .await;
        let registry = Registry::new(std::slice::from_ref(&reg.addr));
        let target = format!("{}/team/dags:v1", reg.addr);
        let (base, _) = build_push_and_verify(&registry, &base_ref, &target, true).await;
        assert_eq!(base.digest, digest);
        assert_eq!(base.index_digest, None);
        assert_eq!(base.manifest_media_type, IMAGE_MANIFEST_MEDIA_TYPE);
        assert_eq!(base.pinned(), format!("{}/base/docker@{digest}", reg.addr));
    });
}

#[test]
fn build_and_push_on_an_oci_base() {
    let reg = TestRegistry::start();
    rt().block_on(async {
        let base_ref = format!("{}/base/oci:1", reg.addr);
        push_base(
            &base_ref,
            false,
            "amd64",
            &base_layer(),
            BASE_ENV,
            &anon_auth(),
        )
        .await;
        let registry = Registry::new(std::slice::from_ref(&reg.addr));
        let target = format!("{}/team/dags:v1", reg.addr);
        let (base, _) = build_push_and_verify(&registry, &base_ref, &target, false).await;
        assert_eq!(base.manifest_media_type, OCI_IMAGE_MEDIA_TYPE);
        assert_eq!(base.config_media_type, IMAGE_CONFIG_MEDIA_TYPE);
    });
}

#[test]
fn a_multi_platform_base_resolves_to_the_platform_asked() {
    let reg = TestRegistry::start();
    rt().block_on(async {
        let base_ref = format!("{}/base/multi:1", reg.addr);
        let layer = base_layer();
        let (index, amd64) = push_index(&base_ref, &layer).await;
        let registry = Registry::new(std::slice::from_ref(&reg.addr));
        let anon = RegistryAuth::Anonymous;

        let base = registry
            .base(&base_ref, &anon, "linux/amd64")
            .await
            .unwrap();
        assert_eq!(base.digest, amd64);
        assert_eq!(base.index_digest.as_deref(), Some(index.as_str()));
        let config: Value = serde_json::from_slice(&base.config).unwrap();
        assert_eq!(config["architecture"], "amd64");
        let arm = registry
            .base(&base_ref, &anon, "linux/arm64")
            .await
            .unwrap();
        assert_ne!(arm.digest, amd64);

        // The image built on it is a plain manifest for that platform.
        let built = build_dags(&base);
        let target = format!("{}/team/multi:v1", reg.addr);
        let pushed = registry
            .push(&built, &base, &target, &anon, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(pushed.digest, built.digest);
        let r: Reference = target.parse().unwrap();
        let (bytes, _) = raw_client(&reg.addr)
            .pull_manifest_raw(&r, &anon_auth(), ACCEPT)
            .await
            .unwrap();
        let manifest: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(manifest["mediaType"], OCI_IMAGE_MEDIA_TYPE);

        let e = registry
            .base(&base_ref, &anon, "linux/s390x")
            .await
            .unwrap_err();
        assert!(matches!(e, OciError::NotFound { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("linux/s390x") && msg.contains("linux/arm64/v8, linux/amd64"),
            "{msg}"
        );

        // A single-platform base for another platform is refused, naming both.
        let e = registry
            .base(
                &format!("{}/base/multi:arm64", reg.addr),
                &anon,
                "linux/amd64",
            )
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("linux/arm64") && msg.contains("not linux/amd64"),
            "{msg}"
        );

        let e = registry
            .base(&format!("{}/base/none:1", reg.addr), &anon, "linux/amd64")
            .await
            .unwrap_err();
        assert!(matches!(e, OciError::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("base/none:1"), "{e}");
    });
}

#[test]
fn pushes_skip_what_the_repository_has_and_mount_or_copy_the_rest() {
    let reg = TestRegistry::start();
    let other = TestRegistry::start();
    rt().block_on(async {
        let base_ref = format!("{}/base/docker:1", reg.addr);
        push_base(
            &base_ref,
            true,
            "amd64",
            &base_layer(),
            BASE_ENV,
            &anon_auth(),
        )
        .await;
        let registry = Registry::new(&[reg.addr.clone(), other.addr.clone()]);
        let anon = RegistryAuth::Anonymous;
        let base = registry
            .base(&base_ref, &anon, "linux/amd64")
            .await
            .unwrap();
        let built = build_dags(&base);
        let target = format!("{}/team/dags:v1", reg.addr);
        let first = registry
            .push(&built, &base, &target, &anon, &mut |_| {})
            .await
            .unwrap();

        // The same build again: nothing to upload, the same digest.
        let mut events = Vec::new();
        let again = registry
            .push(&built, &base, &target, &anon, &mut |p| events.push(p))
            .await
            .unwrap();
        assert_eq!(again.digest, first.digest);
        assert_eq!(
            (
                again.bytes_uploaded,
                again.blobs_skipped,
                again.blobs_mounted,
                again.blobs_uploaded
            ),
            (0, 3, 0, 0)
        );
        assert!(
            events.iter().all(|e| matches!(e, Progress::Skipped { .. })),
            "{events:?}"
        );
        assert!(
            registry
                .missing_blobs(&built, &target, &anon)
                .await
                .unwrap()
                .is_empty()
        );

        // Another repository on the same registry: the base layer is mounted, not uploaded.
        let elsewhere = format!("{}/team/other:v1", reg.addr);
        let moved = registry
            .push(&built, &base, &elsewhere, &anon, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(moved.digest, first.digest);
        assert_eq!((moved.blobs_mounted, moved.blobs_uploaded), (1, 2));

        // Another registry: the base layer is streamed over from the base's registry.
        let far = format!("{}/team/dags:v1", other.addr);
        let copied = registry
            .push(&built, &base, &far, &anon, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(copied.digest, first.digest);
        assert_eq!((copied.blobs_mounted, copied.blobs_uploaded), (0, 3));
        let base_layer_size: u64 = built
            .blobs()
            .iter()
            .filter(|b| b.0 == BlobKind::BaseLayer)
            .map(|b| b.2)
            .sum();
        assert_eq!(
            copied.bytes_uploaded,
            base_layer_size + (built.layer.gzip.len() + built.config.len()) as u64
        );
        let r: Reference = far.parse().unwrap();
        let (bytes, _) = raw_client(&other.addr)
            .pull_manifest_raw(&r, &anon_auth(), ACCEPT)
            .await
            .unwrap();
        assert_eq!(&bytes[..], &built.manifest[..]);

        // An image is pushed only with the base it was built on.
        let other_base = registry
            .base(&format!("{}/team/dags:v1", reg.addr), &anon, "linux/amd64")
            .await
            .unwrap();
        let e = registry
            .push(&built, &other_base, &target, &anon, &mut |_| {})
            .await
            .unwrap_err();
        assert!(matches!(e, OciError::Invalid { .. }), "{e:?}");
    });
}

/// The repositories a registry stores (none before anything was pushed).
fn repositories(reg: &TestRegistry) -> Vec<String> {
    let root = reg.storage().join("docker/registry/v2/repositories");
    let mut out: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn basic_auth_from_a_docker_config_and_failures_before_any_push() {
    let mut reg = TestRegistry::start_with_auth("leo", "s3cret");
    let docker_config = tempfile::tempdir().unwrap();
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "leo:s3cret");
    std::fs::write(
        docker_config.path().join("config.json"),
        json!({"auths": {reg.addr.clone(): {"auth": encoded}}}).to_string(),
    )
    .unwrap();
    let dir = docker_config.path().display().to_string();
    let env = move |k: &str| (k == "DOCKER_CONFIG").then(|| dir.clone());
    let auth = oci::auth_for_env(&reg.addr, &env).unwrap();
    assert_eq!(
        auth,
        RegistryAuth::Basic {
            username: "leo".into(),
            password: "s3cret".into()
        }
    );
    let no_home = |_: &str| None;
    assert_eq!(
        oci::auth_for_env(&reg.addr, &no_home).unwrap(),
        RegistryAuth::Anonymous
    );

    let registry = Registry::new(std::slice::from_ref(&reg.addr));
    let target = format!("{}/team/dags:v1", reg.addr);
    rt().block_on(async {
        // Refusals come from `check`, before anything is pushed.
        let wrong = RegistryAuth::Basic {
            username: "leo".into(),
            password: "wrong".into(),
        };
        let e = registry.check(&target, &wrong).await.unwrap_err();
        assert!(matches!(e, OciError::Unauthorized { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&reg.addr)
                && msg.contains("refused the credentials of user `leo`")
                && msg.contains(&format!("docker login {}", reg.addr))
                && msg.contains("--registry-password-stdin")
                && !msg.contains("wrong"),
            "{msg}"
        );
        let e = registry
            .check(&target, &RegistryAuth::Anonymous)
            .await
            .unwrap_err();
        assert!(matches!(e, OciError::Unauthorized { .. }), "{e:?}");
        assert!(e.to_string().contains("asks for credentials"), "{e}");
        assert!(repositories(&reg).is_empty(), "{:?}", repositories(&reg));

        // The right credentials: check, read the base, push.
        registry.check(&target, &auth).await.unwrap();
        let base_ref = format!("{}/base/docker:1", reg.addr);
        let basic = oci_client::secrets::RegistryAuth::Basic("leo".into(), "s3cret".into());
        push_base(&base_ref, true, "amd64", &base_layer(), BASE_ENV, &basic).await;
        let e = registry
            .base(&base_ref, &wrong, "linux/amd64")
            .await
            .unwrap_err();
        assert!(matches!(e, OciError::Unauthorized { .. }), "{e:?}");
        let base = registry
            .base(&base_ref, &auth, "linux/amd64")
            .await
            .unwrap();
        let built = build_dags(&base);
        let pushed = registry
            .push(&built, &base, &target, &auth, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(pushed.digest, built.digest);
        assert_eq!(pushed.blobs_mounted, 1);
    });

    // A stopped registry: unreachable, at once.
    reg.stop();
    rt().block_on(async {
        let started = Instant::now();
        let e = registry.check(&target, &auth).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(e, OciError::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().contains(&reg.addr), "{e}");
    });
}

#[test]
fn a_stalled_registry_is_unreachable_within_the_timeout() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let registry = Registry::with_timeout(std::slice::from_ref(&addr), Duration::from_secs(1));
    rt().block_on(async {
        let started = Instant::now();
        let e = registry
            .check(&format!("{addr}/team/dags:v1"), &RegistryAuth::Anonymous)
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(e, OciError::Unreachable { .. }), "{e:?}");
        let e = registry
            .base(
                &format!("{addr}/base:1"),
                &RegistryAuth::Anonymous,
                "linux/amd64",
            )
            .await
            .unwrap_err();
        assert!(matches!(e, OciError::Unreachable { .. }), "{e:?}");
    });
    // Not marked insecure: the error says how to speak plain HTTP to it.
    let plain = Registry::with_timeout(&[], Duration::from_secs(1));
    let e = rt()
        .block_on(plain.check("127.0.0.1:9/team/dags:v1", &RegistryAuth::Anonymous))
        .unwrap_err();
    assert!(
        e.to_string().contains("--insecure-registry 127.0.0.1:9"),
        "{e}"
    );
}

#[test]
fn an_engine_pulls_and_runs_a_pushed_image() {
    let (Ok(shared), Ok(_)) = (
        std::env::var("LEOFLOW_TEST_REGISTRY"),
        std::env::var("DOCKER_HOST"),
    ) else {
        panic!(
            "this test needs the suite's shared registry and container engine: run `scripts/test`, which starts both and sets LEOFLOW_TEST_REGISTRY and DOCKER_HOST"
        );
    };
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("Debian's busybox-static (scripts/test installs it)");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let platform = oci::host_platform();
    let arch = platform.split('/').nth(1).unwrap();
    let registry = Registry::new(std::slice::from_ref(&shared));
    let anon = RegistryAuth::Anonymous;
    let target = format!("{shared}/leoflow-test/deployed-{id}:1");
    let pushed = rt().block_on(async {
        let base_ref = format!("{shared}/leoflow-test/busybox-{id}:1");
        let base_layer = oci::layer(&[(busybox, "/bin/busybox".into())]).unwrap();
        push_base(
            &base_ref,
            true,
            arch,
            &base_layer,
            &["PATH=/bin"],
            &anon_auth(),
        )
        .await;
        let base = registry.base(&base_ref, &anon, platform).await.unwrap();
        let dags = tempfile::tempdir().unwrap();
        write(
            dags.path(),
            "hello.txt",
            "hello from the added layer\n",
            0o600,
        );
        let layer = oci::layer(&[(dags.path().to_path_buf(), "/opt/leoflow/dags".into())]).unwrap();
        let built = oci::build(&base, layer, &[], &BTreeMap::new()).unwrap();
        registry.check(&target, &anon).await.unwrap();
        registry
            .push(&built, &base, &target, &anon, &mut |_| {})
            .await
            .unwrap()
    });
    let pinned = ImageRef::parse(&target).unwrap().pinned(&pushed.digest);
    let output = crate::engine_images::with_engine(async |docker| {
        use bollard::query_parameters::{
            CreateImageOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
            RemoveImageOptionsBuilder,
        };
        use futures_util::StreamExt;
        let bound = Duration::from_secs(60);
        let opts = CreateImageOptionsBuilder::default()
            .from_image(&pinned)
            .build();
        let mut pull = docker.create_image(Some(opts), None, None);
        let pulled = tokio::time::timeout(bound, async {
            while let Some(step) = pull.next().await {
                match step {
                    Ok(info) => {
                        if let Some(e) = info.error_detail.and_then(|d| d.message) {
                            return Err(e);
                        }
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            Ok(())
        })
        .await
        .expect("the pull did not finish in a minute");
        if let Err(e) = pulled {
            panic!("the engine could not pull {pinned}: {e}");
        }
        let body = bollard::models::ContainerCreateBody {
            image: Some(pinned.clone()),
            cmd: Some(
                [
                    "/bin/busybox",
                    "sh",
                    "-c",
                    "/bin/busybox ls /opt/leoflow/dags && /bin/busybox cat /opt/leoflow/dags/hello.txt",
                ]
                .map(String::from)
                .to_vec(),
            ),
            ..Default::default()
        };
        let id = docker.create_container(None, body).await.unwrap().id;
        docker.start_container(&id, None).await.unwrap();
        let mut wait = docker.wait_container(&id, None);
        let code = tokio::time::timeout(bound, wait.next())
            .await
            .expect("the container did not end in a minute");
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut out = String::new();
        let mut logs = docker.logs(&id, Some(opts));
        while let Some(Ok(chunk)) = logs.next().await {
            out.push_str(&chunk.to_string());
        }
        let rm = RemoveContainerOptionsBuilder::default().force(true).build();
        let _ = docker.remove_container(&id, Some(rm)).await;
        let rm = RemoveImageOptionsBuilder::default().force(true).build();
        let _ = docker.remove_image(&pinned, Some(rm), None).await;
        assert!(
            matches!(code, Some(Ok(ref r)) if r.status_code == 0),
            "exit {code:?}, output:\n{out}"
        );
        out
    });
    assert!(
        output.contains("hello.txt") && output.contains("hello from the added layer"),
        "{output}"
    );
}

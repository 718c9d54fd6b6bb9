//! A daemonless OCI image builder and pusher: a DAG's image is its base image plus one layer,
//! built here and pushed straight to a registry, with no Docker or Podman daemon involved.
//!
//! The steps `leoflow deploy` takes: [`auth_for`] finds the credentials Docker would use;
//! [`Registry::check`] proves the target registry answers and accepts those credentials for a
//! push before anything is uploaded; [`Registry::base`] fetches the base image's manifest
//! (resolving a multi-platform index to one platform) and config; [`layer`] packs the files
//! reproducibly; [`build`] writes the new config and manifest, once, as bytes; and
//! [`Registry::push`] uploads only the blobs the target repository lacks (mounting the base's
//! layers across repositories of one registry, or streaming them from the base's registry
//! when it is another one), then the manifest bytes exactly as built, and returns their digest,
//! checked against the registry's, so tasks can be pinned to `repo@sha256:…`.
//!
//! The registry protocol is oci-client's: this module never writes a registry HTTP request
//! itself. Manifests and indexes are read with oci-client's types; the image config is edited
//! as a JSON value, so fields those types do not know (Docker's extras) survive. The new image
//! stays in its base's media-type family (Docker v2 schema 2 or OCI). Every request is bounded
//! ([`REQUEST_TIMEOUT`], and blob transfers by size), so a stalled registry is an error, not a
//! hang.
//!
//! **Invariant:** no container engine, no daemon, no shelling out (except the credential
//! helpers `docker_credential` runs); nothing is pushed before [`Registry::check`] passes;
//! credentials never appear in `Debug` output or errors.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{
    IMAGE_CONFIG_MEDIA_TYPE, IMAGE_DOCKER_CONFIG_MEDIA_TYPE, IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
    IMAGE_LAYER_GZIP_MEDIA_TYPE, IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageIndex,
    OciImageManifest,
};
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use super::layer::{Layer, layer, layer_at};

/// How long one registry request may take (a blob transfer gets this plus one second per
/// [`MIN_TRANSFER_RATE`] bytes).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The slowest blob transfer tolerated, in bytes per second (256 KiB/s).
pub const MIN_TRANSFER_RATE: u64 = 256 * 1024;

/// The largest image config accepted from a base image.
const MAX_CONFIG_BYTES: i64 = 8 * 1024 * 1024;

/// `created_by` of the history entry [`build`] adds.
pub const CREATED_BY: &str = "leoflow deploy";

/// `created` when the base image's config has none.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// The manifest kinds asked for when pulling a base image.
const ACCEPTED_MANIFESTS: &[&str] = &[
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
];

/// The fix suggested when a registry wants other credentials.
const LOGIN_FLAGS: &str = "--registry-user/--registry-password-stdin";

/// How to sign in to a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    /// No credentials.
    Anonymous,
    /// A user name and password (or token used as a password), sent as HTTP Basic or traded
    /// for a bearer token, as the registry asks.
    Basic { username: String, password: String },
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryAuth::Anonymous => write!(f, "Anonymous"),
            RegistryAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

impl RegistryAuth {
    fn to_oci(&self) -> oci_client::secrets::RegistryAuth {
        match self {
            RegistryAuth::Anonymous => oci_client::secrets::RegistryAuth::Anonymous,
            RegistryAuth::Basic { username, password } => {
                oci_client::secrets::RegistryAuth::Basic(username.clone(), password.clone())
            }
        }
    }
}

/// Why an image could not be read, built or pushed. Each message is one line naming the
/// registry, reference or path at fault and the fix.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The registry did not answer: refused connection, unknown host, TLS failure, timeout.
    #[error("cannot reach registry {registry} while {action}: {reason}; {fix}")]
    Unreachable {
        registry: String,
        action: String,
        reason: String,
        fix: String,
    },
    /// The registry wants credentials, refused them, or denied the access asked for.
    #[error("registry {registry} {reason} while {action}: {fix}")]
    Unauthorized {
        registry: String,
        action: String,
        reason: String,
        fix: String,
    },
    /// A repository, tag, blob or platform that does not exist.
    #[error("{what} was not found on registry {registry}: {fix}")]
    NotFound {
        what: String,
        registry: String,
        fix: String,
    },
    /// Broken input: a bad reference, platform, file, manifest or config.
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
    /// A local file could not be read.
    #[error("cannot read {path}: {err}")]
    Io {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    /// The registry answered with an error not covered above, or answered wrongly.
    #[error("registry {registry} failed while {action}: {reason}")]
    Registry {
        registry: String,
        action: String,
        reason: String,
    },
}

/// Credentials for `registry` (`host[:port]`) as Docker finds them: `config.json` in
/// `DOCKER_CONFIG`, else in `~/.docker`, its `auths` entry or its credential helper
/// (`credHelpers`, `credsStore`). Anonymous when there is no config file or no entry for the
/// registry; an error when the entry is unusable or its helper fails.
pub fn auth_for(registry: &str) -> Result<RegistryAuth, OciError> {
    auth_for_env(registry, &|k| std::env::var(k).ok())
}

/// [`auth_for`] with the environment (`DOCKER_CONFIG`, `HOME`) read through `env`.
pub fn auth_for_env(
    registry: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RegistryAuth, OciError> {
    let dir = env("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".docker")));
    let Some(path) = dir.map(|d| d.join("config.json")) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RegistryAuth::Anonymous),
        Err(err) => return Err(OciError::Io { path, err }),
    };
    // Docker keys Docker Hub's credentials (and asks helpers) by this URL.
    let server = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        r => r,
    };
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    let invalid = |reason: String| OciError::Invalid {
        what: format!("the credentials for {registry} in {}", path.display()),
        reason,
    };
    match docker_credential::get_credential_from_reader(std::io::BufReader::new(file), server) {
        Ok(DockerCredential::UsernamePassword(username, password)) => {
            Ok(RegistryAuth::Basic { username, password })
        }
        Ok(DockerCredential::IdentityToken(_)) => Err(invalid(format!(
            "they are an identity token, which Leoflow cannot use: pass {LOGIN_FLAGS}"
        ))),
        Err(E::NoCredentialConfigured) | Err(E::ConfigNotFound) => Ok(RegistryAuth::Anonymous),
        Err(E::HelperFailure { stdout, stderr, .. })
            if stdout.contains("credentials not found")
                || stderr.contains("credentials not found") =>
        {
            Ok(RegistryAuth::Anonymous)
        }
        Err(E::ConfigReadError) => Err(OciError::Invalid {
            what: path.display().to_string(),
            reason: "it is not a Docker config.json (JSON with `auths`): fix or remove it".into(),
        }),
        Err(E::HelperFailure { helper, stderr, .. }) => Err(invalid(format!(
            "the credential helper docker-credential-{helper} failed ({}): run `docker login {registry}` or pass {LOGIN_FLAGS}",
            stderr.trim()
        ))),
        Err(E::HelperCommunicationError) => Err(invalid(format!(
            "its credential helper could not be run: install the docker-credential-… program it names, or pass {LOGIN_FLAGS}"
        ))),
        Err(e) => Err(invalid(format!(
            "{e}: run `docker login {registry}` again or pass {LOGIN_FLAGS}"
        ))),
    }
}

/// The `os/architecture` of this machine, as image platforms name it (`linux/amd64`).
pub fn host_platform() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "linux/amd64",
        "aarch64" => "linux/arm64",
        "arm" => "linux/arm",
        "x86" => "linux/386",
        "powerpc64" => "linux/ppc64le",
        "s390x" => "linux/s390x",
        "riscv64" => "linux/riscv64",
        _ => "linux/amd64",
    }
}

/// A parsed image reference, `[host[:port]/]repo[:tag|@digest]` (Docker's rules: no host
/// means Docker Hub, no tag means `latest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef(Reference);

impl ImageRef {
    /// Parses `s`; an error names it and the expected shape.
    pub fn parse(s: &str) -> Result<ImageRef, OciError> {
        s.parse::<Reference>()
            .map(ImageRef)
            .map_err(|e| OciError::Invalid {
                what: format!("image reference `{s}`"),
                reason: format!(
                    "{e}: expected host[:port]/repository[:tag] or …@sha256:<64 hex digits>, in lowercase"
                ),
            })
    }

    /// The registry as written (`127.0.0.1:5000`, `docker.io`).
    pub fn registry(&self) -> &str {
        self.0.registry()
    }

    /// The repository (`team/dags`, `library/python`).
    pub fn repository(&self) -> &str {
        self.0.repository()
    }

    /// The tag, if any (`latest` when neither a tag nor a digest was given).
    pub fn tag(&self) -> Option<&str> {
        self.0.tag()
    }

    /// The digest, if the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.0.digest()
    }

    /// `registry/repository@digest`: this repository pinned to `digest`.
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry(), self.repository())
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for ImageRef {
    type Err = OciError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

/// A base image for one platform: what [`build`] starts from and [`Registry::push`] copies
/// layers from.
#[derive(Clone)]
pub struct BaseImage {
    /// The reference it was asked as, normalised (`docker.io/library/python:3.12`).
    pub reference: String,
    /// The platform's manifest digest.
    pub digest: String,
    /// The digest of the index (manifest list) it was resolved through, if any.
    pub index_digest: Option<String>,
    /// The platform asked for (`linux/amd64`).
    pub platform: String,
    /// The manifest, as the registry serves it.
    pub manifest: Vec<u8>,
    /// The manifest's media type: Docker v2 schema 2 or OCI.
    pub manifest_media_type: String,
    /// The image config (JSON), as the registry serves it.
    pub config: Vec<u8>,
    /// The config's media type.
    pub config_media_type: String,
    /// `registry/repository@digest`, where its blobs are read from.
    source: Reference,
    /// The credentials it was read with (used again to copy its layers).
    auth: RegistryAuth,
    /// Its layers, in order.
    layers: Vec<OciDescriptor>,
}

impl std::fmt::Debug for BaseImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaseImage")
            .field("reference", &self.reference)
            .field("digest", &self.digest)
            .field("index_digest", &self.index_digest)
            .field("platform", &self.platform)
            .field("manifest_media_type", &self.manifest_media_type)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl BaseImage {
    /// `registry/repository@digest` of this platform's manifest.
    pub fn pinned(&self) -> String {
        self.source.whole()
    }

    /// Is it a Docker v2 schema 2 image (else OCI)?
    fn docker(&self) -> bool {
        self.manifest_media_type == IMAGE_MANIFEST_MEDIA_TYPE
    }
}

/// What a blob is, in [`Progress`] events and [`Built::blobs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    /// A layer of the base image.
    BaseLayer,
    /// The layer [`build`] added.
    Layer,
    /// The image config.
    Config,
}

/// One step of [`Registry::push`], per blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The target repository already has it.
    Skipped {
        kind: BlobKind,
        digest: String,
        size: u64,
    },
    /// Mounted from the base's repository on the same registry, without uploading.
    Mounted {
        kind: BlobKind,
        digest: String,
        size: u64,
        from: String,
    },
    /// Being uploaded: `sent` of `size` bytes handed to the connection so far.
    Uploading {
        kind: BlobKind,
        digest: String,
        sent: u64,
        size: u64,
    },
    /// Uploaded.
    Done {
        kind: BlobKind,
        digest: String,
        size: u64,
    },
}

/// The new image, ready to push: its manifest and config as exact bytes.
#[derive(Clone)]
pub struct Built {
    /// The manifest JSON, serialised once: these bytes are pushed and [`Built::digest`] is
    /// their hash.
    pub manifest: Vec<u8>,
    /// The manifest's media type (the base's family).
    pub manifest_media_type: String,
    /// The image config JSON.
    pub config: Vec<u8>,
    /// `sha256:<hex>` of `config`.
    pub config_digest: String,
    /// The added layer.
    pub layer: Layer,
    /// The added layer's media type (gzip, in the base's family).
    pub layer_media_type: String,
    /// `sha256:<hex>` of `manifest`: what tasks pin (`repo@digest`).
    pub digest: String,
    /// The digest of the base manifest it was built on.
    base_digest: String,
    /// The base's layers, in order.
    base_layers: Vec<OciDescriptor>,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("digest", &self.digest)
            .field("manifest_media_type", &self.manifest_media_type)
            .field("config_digest", &self.config_digest)
            .field("layer", &self.layer)
            .field("base_digest", &self.base_digest)
            .finish()
    }
}

impl Built {
    /// Every blob the image references, in push order: the base's layers, the added layer,
    /// then the config, each with its digest and size.
    pub fn blobs(&self) -> Vec<(BlobKind, String, u64)> {
        let mut out: Vec<(BlobKind, String, u64)> = self
            .base_layers
            .iter()
            .map(|d| (BlobKind::BaseLayer, d.digest.clone(), d.size.max(0) as u64))
            .collect();
        out.push((
            BlobKind::Layer,
            self.layer.digest.clone(),
            self.layer.gzip.len() as u64,
        ));
        out.push((
            BlobKind::Config,
            self.config_digest.clone(),
            self.config.len() as u64,
        ));
        out
    }
}

/// What [`Registry::push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The manifest digest, as the registry confirmed it.
    pub digest: String,
    /// Blob bytes uploaded (mounted and skipped blobs count 0).
    pub bytes_uploaded: u64,
    /// Blobs the target repository already had.
    pub blobs_skipped: usize,
    /// Blobs mounted from the base's repository.
    pub blobs_mounted: usize,
    /// Blobs uploaded.
    pub blobs_uploaded: usize,
}

/// The new image: `base`'s config with `env` set in `config.Env` (a name already there is
/// replaced in place, new names are appended in order), `labels` merged into
/// `config.Labels`, `layer`'s diff id appended to `rootfs.diff_ids` and a history entry
/// (`created_by` [`CREATED_BY`], `created` the base's `created`, or the epoch: never now);
/// every other field of the base config is kept as it was. The manifest lists the base's
/// layers then `layer`, in the base's media-type family, and is serialised once.
pub fn build(
    base: &BaseImage,
    layer: Layer,
    env: &[(String, String)],
    labels: &BTreeMap<String, String>,
) -> Result<Built, OciError> {
    let bad_config = |reason: String| OciError::Invalid {
        what: format!("the image config of {}", base.reference),
        reason,
    };
    let mut config: Value = serde_json::from_slice(&base.config)
        .map_err(|e| bad_config(format!("it is not JSON: {e}")))?;
    let root = config
        .as_object_mut()
        .ok_or_else(|| bad_config("it is not a JSON object".into()))?;
    let created = root
        .get("created")
        .and_then(Value::as_str)
        .unwrap_or(EPOCH)
        .to_string();

    let inner = root.entry("config").or_insert_with(|| json!({}));
    if inner.is_null() {
        *inner = json!({});
    }
    let inner = inner
        .as_object_mut()
        .ok_or_else(|| bad_config("its `config` is not an object".into()))?;
    if !env.is_empty() {
        let mut vars: Vec<String> = match inner.get("Env") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| bad_config("its `config.Env` holds a non-string".into()))?,
            Some(_) => return Err(bad_config("its `config.Env` is not a list".into())),
        };
        for (name, value) in env {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(OciError::Invalid {
                    what: format!("environment variable name `{name}`"),
                    reason: "it must be non-empty, without `=` or NUL".into(),
                });
            }
            let entry = format!("{name}={value}");
            let prefix = format!("{name}=");
            match vars
                .iter_mut()
                .find(|v| v.starts_with(&prefix) || *v == name)
            {
                Some(slot) => *slot = entry,
                None => vars.push(entry),
            }
        }
        inner.insert("Env".into(), json!(vars));
    }
    if !labels.is_empty() {
        let slot = inner.entry("Labels").or_insert_with(|| json!({}));
        if slot.is_null() {
            *slot = json!({});
        }
        let map = slot
            .as_object_mut()
            .ok_or_else(|| bad_config("its `config.Labels` is not an object".into()))?;
        for (k, v) in labels {
            if k.is_empty() {
                return Err(OciError::Invalid {
                    what: "an image label".into(),
                    reason: "its name is empty".into(),
                });
            }
            map.insert(k.clone(), json!(v));
        }
    }

    let rootfs = root
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    let diff_ids = rootfs
        .get_mut("diff_ids")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| bad_config("its `rootfs.diff_ids` is not a list".into()))?;
    if diff_ids.len() != base.layers.len() {
        return Err(bad_config(format!(
            "it lists {} diff ids for the manifest's {} layers",
            diff_ids.len(),
            base.layers.len()
        )));
    }
    diff_ids.push(json!(layer.diff_id));

    let history = root.entry("history").or_insert_with(|| json!([]));
    if history.is_null() {
        *history = json!([]);
    }
    history
        .as_array_mut()
        .ok_or_else(|| bad_config("its `history` is not a list".into()))?
        .push(json!({"created": created, "created_by": CREATED_BY}));

    let config_bytes = serde_json::to_vec(&config)
        .map_err(|e| bad_config(format!("it cannot be written back: {e}")))?;
    let config_digest = sha256(&config_bytes);
    let (manifest_media_type, layer_media_type) = if base.docker() {
        (
            IMAGE_MANIFEST_MEDIA_TYPE,
            IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
        )
    } else {
        (OCI_IMAGE_MEDIA_TYPE, IMAGE_LAYER_GZIP_MEDIA_TYPE)
    };
    let mut layers = base.layers.clone();
    layers.push(OciDescriptor {
        media_type: layer_media_type.into(),
        digest: layer.digest.clone(),
        size: layer.gzip.len() as i64,
        urls: None,
        annotations: None,
        artifact_type: None,
    });
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(manifest_media_type.into()),
        config: OciDescriptor {
            media_type: base.config_media_type.clone(),
            digest: config_digest.clone(),
            size: config_bytes.len() as i64,
            urls: None,
            annotations: None,
            artifact_type: None,
        },
        layers,
        subject: None,
        artifact_type: None,
        annotations: None,
    };
    let manifest = serde_json::to_vec(&manifest).map_err(|e| OciError::Invalid {
        what: "the new manifest".into(),
        reason: e.to_string(),
    })?;
    Ok(Built {
        digest: sha256(&manifest),
        manifest,
        manifest_media_type: manifest_media_type.into(),
        config: config_bytes,
        config_digest,
        layer,
        layer_media_type: layer_media_type.into(),
        base_digest: base.digest.clone(),
        base_layers: base.layers.clone(),
    })
}

/// A registry client: oci-client with bounded requests, plain HTTP for the registries named
/// insecure, and one underlying client per set of credentials (oci-client keeps the first
/// credentials it sees per registry, so different ones never share a client).
pub struct Registry {
    insecure: Vec<String>,
    timeout: Duration,
    clients: Mutex<Vec<(RegistryAuth, Client)>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Registry {
    /// A client speaking HTTPS, except plain HTTP to the registries in `insecure`
    /// (`host[:port]`, as Docker's `--insecure-registry`), each request bounded by
    /// [`REQUEST_TIMEOUT`].
    pub fn new(insecure: &[String]) -> Registry {
        Registry::with_timeout(insecure, REQUEST_TIMEOUT)
    }

    /// [`Registry::new`] with each request bounded by `timeout` (connecting by at most 10 s
    /// of it); blob transfers get `timeout` plus one second per [`MIN_TRANSFER_RATE`] bytes.
    pub fn with_timeout(insecure: &[String], timeout: Duration) -> Registry {
        Registry {
            insecure: insecure.to_vec(),
            timeout,
            clients: Mutex::new(Vec::new()),
        }
    }

    /// Checks, before anything is pushed, that `target`'s registry answers (`GET /v2/`) and
    /// accepts `auth` for a push to its repository: the sign-in handshake, then the start of
    /// an upload (a mount of the empty blob, which leaves nothing behind but, at worst, an
    /// empty upload session the registry expires).
    pub async fn check(&self, target: &str, auth: &RegistryAuth) -> Result<(), OciError> {
        let t = push_target(target)?;
        let client = self.client(auth);
        let ctx = self.ctx(&t, auth, Op::Push, &format!("checking {t} before the push"));
        self.call(
            &ctx,
            self.timeout,
            client.auth(&t.0, &auth.to_oci(), RegistryOperation::Push),
        )
        .await?;
        let empty = sha256(b"");
        let probe = self
            .bounded(&ctx, self.timeout, client.mount_blob(&t.0, &t.0, &empty))
            .await?;
        match probe {
            // Mounted (the repository had it), or the registry started an upload instead (202):
            // either way it let us push.
            Ok(()) | Err(OciDistributionError::SpecViolationError(_)) => Ok(()),
            Err(OciDistributionError::ServerError { code: 404, .. }) => Err(OciError::Registry {
                registry: ctx.registry.clone(),
                action: ctx.action.clone(),
                reason: "it does not serve the registry API (starting an upload gave 404): is it an image registry, and is the repository name right?".into(),
            }),
            Err(e) => Err(ctx.error(e)),
        }
    }

    /// The base image for `platform` (`os/arch[/variant]`, e.g. `linux/amd64`): its manifest
    /// (an index or manifest list resolved to that platform) and config, with their media
    /// types. A single-platform image for another platform is refused.
    pub async fn base(
        &self,
        reference: &str,
        auth: &RegistryAuth,
        platform: &str,
    ) -> Result<BaseImage, OciError> {
        let want = Platform::parse(platform)?;
        let r = ImageRef::parse(reference)?;
        let client = self.client(auth);
        let oci_auth = auth.to_oci();
        let ctx = self.ctx(&r, auth, Op::Pull, &format!("reading base image {r}"));
        let (bytes, digest) = self
            .call(
                &ctx,
                self.timeout,
                client.pull_manifest_raw(&r.0, &oci_auth, ACCEPTED_MANIFESTS),
            )
            .await?;
        let (manifest, digest, index_digest) = match manifest_kind(&bytes, &r)? {
            Kind::Manifest => (bytes.to_vec(), digest, None),
            Kind::Index => {
                let entry = pick_platform(&bytes, &r, &want, platform)?;
                let pinned = r.0.clone_with_digest(entry);
                let (inner, inner_digest) = self
                    .call(
                        &ctx,
                        self.timeout,
                        client.pull_manifest_raw(&pinned, &oci_auth, ACCEPTED_MANIFESTS),
                    )
                    .await?;
                if manifest_kind(&inner, &r)? != Kind::Manifest {
                    return Err(OciError::Invalid {
                        what: format!("base image {r}"),
                        reason: format!("its {platform} entry is another index, not an image"),
                    });
                }
                (inner.to_vec(), inner_digest, Some(digest))
            }
        };
        let parsed: OciImageManifest =
            serde_json::from_slice(&manifest).map_err(|e| OciError::Invalid {
                what: format!("the manifest of base image {r}"),
                reason: e.to_string(),
            })?;
        let config_media_type = parsed.config.media_type.clone();
        if config_media_type != IMAGE_DOCKER_CONFIG_MEDIA_TYPE
            && config_media_type != IMAGE_CONFIG_MEDIA_TYPE
        {
            return Err(OciError::Invalid {
                what: format!("base image {r}"),
                reason: format!(
                    "it is not a container image (its config is `{config_media_type}`)"
                ),
            });
        }
        let docker = match parsed.media_type.as_deref() {
            Some(IMAGE_MANIFEST_MEDIA_TYPE) => true,
            Some(_) => false,
            // OCI lets a manifest omit its media type; Docker's always has one.
            None => config_media_type == IMAGE_DOCKER_CONFIG_MEDIA_TYPE,
        };
        if parsed.config.size > MAX_CONFIG_BYTES {
            return Err(OciError::Invalid {
                what: format!("base image {r}"),
                reason: format!(
                    "its config is {} bytes (more than {MAX_CONFIG_BYTES})",
                    parsed.config.size
                ),
            });
        }
        let source = r.0.clone_with_digest(digest.clone());
        let mut config = Vec::new();
        self.call(
            &ctx,
            self.timeout,
            client.pull_blob(&source, &parsed.config, &mut config),
        )
        .await?;
        let value: Value = serde_json::from_slice(&config).map_err(|e| OciError::Invalid {
            what: format!("the image config of base image {r}"),
            reason: format!("it is not JSON: {e}"),
        })?;
        if index_digest.is_none() {
            let field = |k: &str| value.get(k).and_then(Value::as_str);
            if let (Some(os), Some(arch)) = (field("os"), field("architecture"))
                && !want.matches(os, arch, field("variant"))
            {
                return Err(OciError::Invalid {
                    what: format!("base image {r}"),
                    reason: format!(
                        "it is built for {os}/{arch}, not {platform}: choose a base built for {platform}, or a multi-platform one"
                    ),
                });
            }
        }
        Ok(BaseImage {
            reference: r.to_string(),
            digest,
            index_digest,
            platform: platform.to_string(),
            manifest,
            manifest_media_type: if docker {
                IMAGE_MANIFEST_MEDIA_TYPE.into()
            } else {
                OCI_IMAGE_MEDIA_TYPE.into()
            },
            config,
            config_media_type,
            source,
            auth: auth.clone(),
            layers: parsed.layers,
        })
    }

    /// The digests of `image`'s blobs (see [`Built::blobs`]) that `target`'s repository does
    /// not have yet, in push order (one `HEAD` each).
    pub async fn missing_blobs(
        &self,
        image: &Built,
        target: &str,
        auth: &RegistryAuth,
    ) -> Result<Vec<String>, OciError> {
        let t = push_target(target)?;
        let client = self.client(auth);
        client
            .store_auth_if_needed(t.0.resolve_registry(), &auth.to_oci())
            .await;
        let ctx = self.ctx(&t, auth, Op::Pull, "looking for blobs it already has");
        let mut missing = Vec::new();
        for (_, digest, _) in image.blobs() {
            if !self
                .call(&ctx, self.timeout, client.blob_exists(&t.0, &digest))
                .await?
            {
                missing.push(digest);
            }
        }
        Ok(missing)
    }

    /// Pushes `image` (built on `base`) to `target` (`host[:port]/repo[:tag]`): every blob the
    /// repository lacks (a base layer is mounted from the base's repository when both are on
    /// one registry, else streamed from the base's registry without being held in memory),
    /// then the manifest bytes exactly as built. The digest returned is the hash of those
    /// bytes, and the registry is asked to confirm it holds a manifest under that digest.
    /// `progress` hears about each blob.
    pub async fn push(
        &self,
        image: &Built,
        base: &BaseImage,
        target: &str,
        auth: &RegistryAuth,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Pushed, OciError> {
        if image.base_digest != base.digest {
            return Err(OciError::Invalid {
                what: format!("image {}", image.digest),
                reason: format!(
                    "it was built on base {}, not on {} ({})",
                    image.base_digest, base.reference, base.digest
                ),
            });
        }
        let t = push_target(target)?;
        let client = self.client(auth);
        let ctx = self.ctx(&t, auth, Op::Push, &format!("pushing to {t}"));
        self.call(
            &ctx,
            self.timeout,
            client.auth(&t.0, &auth.to_oci(), RegistryOperation::Push),
        )
        .await?;
        let mut out = Pushed {
            digest: String::new(),
            bytes_uploaded: 0,
            blobs_skipped: 0,
            blobs_mounted: 0,
            blobs_uploaded: 0,
        };
        let mountable = base.source.resolve_registry() == t.0.resolve_registry()
            && base.source.repository() != t.0.repository();
        for (kind, digest, size) in image.blobs() {
            if self
                .call(&ctx, self.timeout, client.blob_exists(&t.0, &digest))
                .await?
            {
                out.blobs_skipped += 1;
                progress(Progress::Skipped { kind, digest, size });
                continue;
            }
            match kind {
                BlobKind::BaseLayer => {
                    if mountable {
                        let mounted = self
                            .bounded(
                                &ctx,
                                self.timeout,
                                client.mount_blob(&t.0, &base.source, &digest),
                            )
                            .await?;
                        // A registry that cannot mount answers by starting an upload (202);
                        // then, or on any refusal, the layer is copied instead.
                        if mounted.is_ok() {
                            out.blobs_mounted += 1;
                            progress(Progress::Mounted {
                                kind,
                                digest,
                                size,
                                from: base.source.repository().to_string(),
                            });
                            continue;
                        }
                    }
                    let descriptor = image
                        .base_layers
                        .iter()
                        .find(|d| d.digest == digest)
                        .cloned()
                        .unwrap_or_default();
                    let from = self.client(&base.auth);
                    let source = base.source.clone();
                    let base_ctx = self.ctx(
                        &ImageRef(base.source.clone()),
                        &base.auth,
                        Op::Pull,
                        &format!("copying layer {digest} of {}", base.reference),
                    );
                    let data = async move {
                        from.pull_blob_stream(&source, &descriptor)
                            .await
                            .map(|s| s.map(|chunk| chunk.map_err(OciDistributionError::from)))
                    };
                    let data = self.call(&base_ctx, self.timeout, data).await?;
                    self.upload(&client, &ctx, &t, kind, &digest, size, data, progress)
                        .await?;
                }
                BlobKind::Layer => {
                    let data = bytes::Bytes::from(image.layer.gzip.clone());
                    let data = futures_util::stream::iter([Ok(data)]);
                    self.upload(&client, &ctx, &t, kind, &digest, size, data, progress)
                        .await?;
                }
                BlobKind::Config => {
                    let data = bytes::Bytes::from(image.config.clone());
                    let data = futures_util::stream::iter([Ok(data)]);
                    self.upload(&client, &ctx, &t, kind, &digest, size, data, progress)
                        .await?;
                }
            }
            out.blobs_uploaded += 1;
            out.bytes_uploaded += size;
        }

        let content_type = image
            .manifest_media_type
            .parse()
            .map_err(|_| OciError::Invalid {
                what: format!("media type `{}`", image.manifest_media_type),
                reason: "it is not a valid header value".into(),
            })?;
        let location = self
            .call(
                &ctx,
                self.timeout,
                client.push_manifest_raw(&t.0, image.manifest.clone(), content_type),
            )
            .await?;
        let mismatch = |theirs: &str| OciError::Registry {
            registry: t.registry().to_string(),
            action: format!("pushing the manifest of {t}"),
            reason: format!(
                "it stored the manifest as {theirs}, not as {} (the sha256 of the bytes sent)",
                image.digest
            ),
        };
        if let Some(theirs) = location
            .rsplit('/')
            .next()
            .filter(|s| s.starts_with("sha256:"))
            && theirs != image.digest
        {
            return Err(mismatch(theirs));
        }
        let pinned = t.0.clone_with_digest(image.digest.clone());
        let confirmed = self
            .bounded(
                &ctx,
                self.timeout,
                client.fetch_manifest_digest(&pinned, &auth.to_oci()),
            )
            .await?;
        out.digest = match confirmed {
            Ok(d) if d == image.digest => d,
            Ok(d) => return Err(mismatch(&d)),
            Err(OciDistributionError::DigestError(e)) => return Err(mismatch(&e.to_string())),
            Err(e) => return Err(ctx.error(e)),
        };
        Ok(out)
    }

    /// Uploads one blob from `data`, reporting progress as chunks go out.
    #[allow(clippy::too_many_arguments)]
    async fn upload<S>(
        &self,
        client: &Client,
        ctx: &Ctx<'_>,
        target: &ImageRef,
        kind: BlobKind,
        digest: &str,
        size: u64,
        data: S,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<(), OciError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, OciDistributionError>> + Send + 'static,
    {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let counted = data.inspect(move |chunk| {
            if let Ok(b) = chunk {
                let _ = tx.send(b.len() as u64);
            }
        });
        progress(Progress::Uploading {
            kind,
            digest: digest.to_string(),
            sent: 0,
            size,
        });
        let push = client.push_blob_stream(&target.0, counted, digest, Some(size));
        let work = async {
            tokio::pin!(push);
            let mut sent = 0u64;
            loop {
                tokio::select! {
                    done = &mut push => break done,
                    Some(n) = rx.recv() => {
                        sent += n;
                        progress(Progress::Uploading {
                            kind,
                            digest: digest.to_string(),
                            sent: sent.min(size),
                            size,
                        });
                    }
                }
            }
        };
        self.call(ctx, self.transfer_limit(size), work).await?;
        progress(Progress::Done {
            kind,
            digest: digest.to_string(),
            size,
        });
        Ok(())
    }

    /// The oci-client for `auth`, made on first use.
    fn client(&self, auth: &RegistryAuth) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = clients.iter().find(|(a, _)| a == auth) {
            return c.clone();
        }
        let protocol = if self.insecure.is_empty() {
            ClientProtocol::Https
        } else {
            ClientProtocol::HttpsExcept(self.insecure.clone())
        };
        let client = Client::new(ClientConfig {
            protocol,
            // One PUT per blob (POST + PUT): every registry takes it, chunked PATCHes are
            // optional in the distribution spec.
            use_monolithic_push: true,
            // The platform is resolved here, from the index itself.
            platform_resolver: None,
            connect_timeout: Some(self.timeout.min(Duration::from_secs(10))),
            read_timeout: Some(self.timeout),
            max_concurrent_upload: 1,
            user_agent: concat!("leoflow/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        });
        clients.push((auth.clone(), client.clone()));
        client
    }

    /// How long moving a blob of `size` bytes may take.
    fn transfer_limit(&self, size: u64) -> Duration {
        self.timeout + Duration::from_secs(size / MIN_TRANSFER_RATE)
    }

    fn ctx<'a>(&self, r: &ImageRef, auth: &'a RegistryAuth, op: Op, action: &str) -> Ctx<'a> {
        Ctx {
            registry: r.registry().to_string(),
            repository: r.repository().to_string(),
            reference: r.to_string(),
            auth,
            op,
            action: action.to_string(),
            insecure: self.insecure.iter().any(|i| i == r.0.resolve_registry()),
        }
    }

    /// `fut` within `limit`, its error explained.
    async fn call<T>(
        &self,
        ctx: &Ctx<'_>,
        limit: Duration,
        fut: impl Future<Output = Result<T, OciDistributionError>>,
    ) -> Result<T, OciError> {
        self.bounded(ctx, limit, fut)
            .await?
            .map_err(|e| ctx.error(e))
    }

    /// `fut` within `limit`; its own error is left to the caller.
    async fn bounded<T>(
        &self,
        ctx: &Ctx<'_>,
        limit: Duration,
        fut: impl Future<Output = Result<T, OciDistributionError>>,
    ) -> Result<Result<T, OciDistributionError>, OciError> {
        tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| OciError::Unreachable {
                registry: ctx.registry.clone(),
                action: ctx.action.clone(),
                reason: format!("no answer within {} s", limit.as_secs_f32()),
                fix: ctx.unreachable_fix(),
            })
    }
}

/// Parses a push target: a repository with an optional tag, no digest (the digest is the
/// push's result).
fn push_target(target: &str) -> Result<ImageRef, OciError> {
    let t = ImageRef::parse(target)?;
    if t.digest().is_some() {
        return Err(OciError::Invalid {
            what: format!("push target `{target}`"),
            reason: "it names a digest: give host[:port]/repository[:tag], the digest is what the push returns".into(),
        });
    }
    Ok(t)
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Pull,
    Push,
}

/// What a request was about, to explain its failure.
struct Ctx<'a> {
    registry: String,
    repository: String,
    reference: String,
    auth: &'a RegistryAuth,
    op: Op,
    action: String,
    insecure: bool,
}

impl Ctx<'_> {
    fn unreachable_fix(&self) -> String {
        let r = &self.registry;
        if self.insecure {
            format!("check that the registry runs and that {r} is its address")
        } else {
            format!(
                "check that the registry runs and that {r} is its address (if it serves plain HTTP, pass --insecure-registry {r})"
            )
        }
    }

    /// Sorts an oci-client error into an [`OciError`] with its fix.
    fn error(&self, e: OciDistributionError) -> OciError {
        use OciDistributionError as E;
        let status = match &e {
            E::RequestError(r) => r.status().map(|s| s.as_u16()),
            E::ServerError { code, .. } => Some(*code),
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => Some(401),
            E::ImageManifestNotFoundError(_) => Some(404),
            E::RegistryError { envelope, .. } => envelope.errors.first().map(|x| match x.code {
                OciErrorCode::Unauthorized => 401,
                OciErrorCode::Denied => 403,
                OciErrorCode::ManifestUnknown
                | OciErrorCode::NameUnknown
                | OciErrorCode::BlobUnknown
                | OciErrorCode::NotFound => 404,
                OciErrorCode::Toomanyrequests => 429,
                _ => 400,
            }),
            _ => None,
        };
        let registry = self.registry.clone();
        let action = self.action.clone();
        let op = match self.op {
            Op::Pull => "pull from",
            Op::Push => "push to",
        };
        // The CLI's credential flags are for the push target; a base is read with what
        // `docker login` stored.
        let or_flags = match self.op {
            Op::Pull => String::new(),
            Op::Push => format!(" or pass {LOGIN_FLAGS}"),
        };
        match status {
            Some(401) => {
                let (reason, fix) = match self.auth {
                    RegistryAuth::Anonymous => (
                        "asks for credentials and none were found (DOCKER_CONFIG or ~/.docker/config.json)".to_string(),
                        format!("run `docker login {registry}`{or_flags}"),
                    ),
                    RegistryAuth::Basic { username, .. } => (
                        format!("refused the credentials of user `{username}`"),
                        format!(
                            "run `docker login {registry}` to store the right ones{or_flags}"
                        ),
                    ),
                };
                OciError::Unauthorized {
                    registry,
                    action,
                    reason,
                    fix,
                }
            }
            Some(403) => {
                let who = match self.auth {
                    RegistryAuth::Anonymous => "anonymous access".to_string(),
                    RegistryAuth::Basic { username, .. } => format!("user `{username}`"),
                };
                OciError::Unauthorized {
                    reason: format!("denied {who} the right to {op} {}", self.repository),
                    fix: format!(
                        "use credentials that may {op} {registry}/{} (`docker login {registry}`{or_flags}), or another repository",
                        self.repository
                    ),
                    registry,
                    action,
                }
            }
            Some(404) => OciError::NotFound {
                what: self.reference.clone(),
                registry,
                fix: "check the repository and tag (and that the image was pushed)".into(),
            },
            _ => match &e {
                E::RequestError(r) if r.is_connect() || r.is_timeout() => OciError::Unreachable {
                    reason: chain(&e),
                    fix: self.unreachable_fix(),
                    registry,
                    action,
                },
                _ => OciError::Registry {
                    registry,
                    action,
                    reason: chain(&e),
                },
            },
        }
    }
}

/// An error with its causes, `a: b: c` (reqwest's own message names only the URL).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        next = s.source();
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Manifest,
    Index,
}

/// Is `bytes` an image manifest or an index? Refuses anything else (schema 1, artifacts).
fn manifest_kind(bytes: &[u8], r: &ImageRef) -> Result<Kind, OciError> {
    let bad = |reason: String| OciError::Invalid {
        what: format!("the manifest of base image {r}"),
        reason,
    };
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("it is not JSON: {e}")))?;
    if v.get("schemaVersion").and_then(Value::as_i64) != Some(2) {
        return Err(bad(
            "it is not schema version 2 (a Docker schema 1 image): push the base again with a current Docker, Podman or skopeo".into(),
        ));
    }
    let media = v.get("mediaType").and_then(Value::as_str);
    match media {
        Some(IMAGE_MANIFEST_LIST_MEDIA_TYPE | OCI_IMAGE_INDEX_MEDIA_TYPE) => Ok(Kind::Index),
        Some(IMAGE_MANIFEST_MEDIA_TYPE | OCI_IMAGE_MEDIA_TYPE) => Ok(Kind::Manifest),
        None if v.get("manifests").is_some() => Ok(Kind::Index),
        None if v.get("config").is_some() && v.get("layers").is_some() => Ok(Kind::Manifest),
        other => Err(bad(format!(
            "its media type `{}` is not an image manifest or index",
            other.unwrap_or("(none)")
        ))),
    }
}

/// The digest of the entry of an index for `want`; a missing platform is an error listing
/// the ones there are.
fn pick_platform(
    bytes: &[u8],
    r: &ImageRef,
    want: &Platform,
    platform: &str,
) -> Result<String, OciError> {
    let index: OciImageIndex = serde_json::from_slice(bytes).map_err(|e| OciError::Invalid {
        what: format!("the index of base image {r}"),
        reason: e.to_string(),
    })?;
    let name = |p: &oci_client::manifest::Platform| {
        let mut s = format!("{}/{}", p.os, p.architecture);
        if let Some(v) = &p.variant {
            s.push('/');
            s.push_str(v);
        }
        s
    };
    if let Some(entry) = index.manifests.iter().find(|m| {
        m.platform.as_ref().is_some_and(|p| {
            want.matches(
                &p.os.to_string(),
                &p.architecture.to_string(),
                p.variant.as_deref(),
            )
        })
    }) {
        return Ok(entry.digest.clone());
    }
    let has: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|m| m.platform.as_ref())
        .map(name)
        .collect();
    Err(OciError::NotFound {
        what: format!("platform {platform} of base image {r}"),
        registry: r.registry().into(),
        fix: if has.is_empty() {
            "its index names no platform: choose another base".into()
        } else {
            format!(
                "it is built for {}: choose one of those, or another base",
                has.join(", ")
            )
        },
    })
}

/// `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Platform {
    os: String,
    arch: String,
    variant: Option<String>,
}

impl Platform {
    fn parse(s: &str) -> Result<Platform, OciError> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(OciError::Invalid {
                what: format!("platform `{s}`"),
                reason: "expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8"
                    .into(),
            }),
        }
    }

    /// Does an image for `os`/`arch`/`variant` run here? A platform without a variant takes
    /// any variant.
    fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        os == self.os
            && arch == self.arch
            && match (&self.variant, variant) {
                (None, _) => true,
                (Some(w), Some(v)) => w == v,
                // arm64 images often leave out their only variant, v8.
                (Some(w), None) => self.arch == "arm64" && w == "v8",
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let p = Platform::parse("linux/amd64").unwrap();
        assert!(p.matches("linux", "amd64", None));
        assert!(p.matches("linux", "amd64", Some("v3")));
        assert!(!p.matches("linux", "arm64", None));
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert!(arm.matches("linux", "arm64", None));
        assert!(!arm.matches("linux", "arm64", Some("v9")));
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", ""] {
            assert!(Platform::parse(bad).is_err(), "{bad} accepted");
        }
    }

    /// `leoflow deploy` may run these on any tokio worker: their futures must be `Send`.
    #[allow(dead_code)]
    fn futures_are_send(
        r: &Registry,
        built: &Built,
        base: &BaseImage,
        auth: &RegistryAuth,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) {
        fn send<T: Send>(_: &T) {}
        send(&r.check("t", auth));
        send(&r.base("b", auth, "linux/amd64"));
        send(&r.missing_blobs(built, "t", auth));
        send(&r.push(built, base, "t", auth, progress));
    }

    #[test]
    fn push_targets_have_no_digest() {
        let t = push_target("127.0.0.1:5000/team/dags:v1").unwrap();
        assert_eq!(
            (t.registry(), t.repository(), t.tag()),
            ("127.0.0.1:5000", "team/dags", Some("v1"))
        );
        assert_eq!(t.pinned("sha256:00"), "127.0.0.1:5000/team/dags@sha256:00");
        let pinned = format!("127.0.0.1:5000/x@sha256:{}", "0".repeat(64));
        assert!(push_target(&pinned).is_err());
        let e = ImageRef::parse("Bad Name").unwrap_err().to_string();
        assert!(e.contains("`Bad Name`"), "{e}");
    }

    #[test]
    fn credentials_come_from_docker_config() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let env = |k: &str| (k == "DOCKER_CONFIG").then(|| d.clone());
        assert_eq!(auth_for_env("r:1", &env).unwrap(), RegistryAuth::Anonymous);
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"r:1":{"auth":"bGVvOnMzY3JldA=="}}}"#,
        )
        .unwrap();
        assert_eq!(
            auth_for_env("r:1", &env).unwrap(),
            RegistryAuth::Basic {
                username: "leo".into(),
                password: "s3cret".into()
            }
        );
        assert_eq!(auth_for_env("r:2", &env).unwrap(), RegistryAuth::Anonymous);
        let shown = format!("{:?}", auth_for_env("r:1", &env).unwrap());
        assert!(!shown.contains("s3cret"), "{shown}");
        std::fs::write(dir.path().join("config.json"), "not json").unwrap();
        let e = auth_for_env("r:1", &env).unwrap_err().to_string();
        assert!(
            e.contains("config.json") && e.contains("not a Docker config"),
            "{e}"
        );
    }
}

//! One reproducible image layer from host files: the tar + gzip half of [`super::oci`].
//!
//! [`layer`] turns a list of (host path, path in the image) into a gzipped tar whose bytes
//! depend only on the paths, the file contents, the exec bits and symlink targets: entries are
//! sorted by image path with every parent directory emitted first, owners are root (0/0) with
//! empty names, modes are normalised (0755 for directories and executables, 0644 for other
//! files, 0777 for symlinks), every mtime is one fixed instant (`SOURCE_DATE_EPOCH` when set,
//! else 1970-01-01T00:00:01Z), no device numbers, xattrs or atimes are stored, and the gzip
//! header is fixed (no name, mtime 0, OS byte 255) with a pinned compression level. The same
//! inputs give byte-identical output on every run and machine (for one build of Leoflow: a
//! different deflate implementation would compress differently).
//!
//! Called by `leoflow deploy` (through [`super::oci`]) to pack a compiled DAG folder.
//! **Invariant:** no registry, engine or network here; the only IO is reading the listed
//! files (and `SOURCE_DATE_EPOCH`, in [`layer`] only).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use super::oci::OciError;

/// The mtime of every entry when `SOURCE_DATE_EPOCH` is not set: 1970-01-01T00:00:01Z (not 0,
/// which some tools read as "no time").
pub const DEFAULT_MTIME: u64 = 1;

/// The gzip level: pinned, because the compressed bytes (and so the digest) depend on it.
const GZIP_LEVEL: u32 = 6;

/// A gzipped tar layer, in memory, with both of its digests.
#[derive(Clone)]
pub struct Layer {
    /// The compressed blob, as pushed.
    pub gzip: Vec<u8>,
    /// `sha256:<hex>` of `gzip`: the blob digest in the manifest.
    pub digest: String,
    /// `sha256:<hex>` of the uncompressed tar: the diff id in the image config.
    pub diff_id: String,
    /// How many regular files and symlinks it holds (directories not counted).
    pub files: usize,
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layer")
            .field("digest", &self.digest)
            .field("diff_id", &self.diff_id)
            .field("files", &self.files)
            .field("bytes", &self.gzip.len())
            .finish()
    }
}

/// One reproducible layer holding `files`: (host path, absolute path in the image). A host
/// directory is taken whole (walked recursively, its symlinks not followed); a host symlink is
/// stored as a symlink; any other special file (FIFO, socket, device) is refused with its path
/// named. Parent directories of every entry are added. Two sources for one image path, or a
/// file where another entry needs a directory, are refused. Entries' mtime is
/// `SOURCE_DATE_EPOCH` when set, else [`DEFAULT_MTIME`].
pub fn layer(files: &[(PathBuf, String)]) -> Result<Layer, OciError> {
    layer_at(files, source_date_epoch()?)
}

/// [`layer`] with every entry's mtime set to `mtime` (seconds since the epoch), without
/// looking at `SOURCE_DATE_EPOCH`.
pub fn layer_at(files: &[(PathBuf, String)], mtime: u64) -> Result<Layer, OciError> {
    let entries = collect(files)?;
    let count = entries
        .values()
        .filter(|e| !matches!(e, Entry::Dir { .. }))
        .count();
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(GZIP_LEVEL));
    let mut tar = tar::Builder::new(Hashing {
        inner: gz,
        hash: Sha256::new(),
    });
    for (path, entry) in &entries {
        append(&mut tar, path, entry, mtime)?;
    }
    let hashing = tar
        .into_inner()
        .map_err(|e| internal("finishing the tar", e))?;
    let diff_id = format!("sha256:{}", hex::encode(hashing.hash.finalize()));
    let gzip = hashing
        .inner
        .finish()
        .map_err(|e| internal("finishing the gzip stream", e))?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&gzip)));
    Ok(Layer {
        gzip,
        digest,
        diff_id,
        files: count,
    })
}

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org) when set, else [`DEFAULT_MTIME`].
fn source_date_epoch() -> Result<u64, OciError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| OciError::Invalid {
            what: format!("SOURCE_DATE_EPOCH={v}"),
            reason: "it must be a whole number of seconds since 1970-01-01 (e.g. `git log -1 --format=%ct`), or unset".into(),
        }),
        _ => Ok(DEFAULT_MTIME),
    }
}

/// What goes at one image path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A directory; `from` is the host directory it came from, `None` when implied by a child.
    Dir {
        from: Option<PathBuf>,
    },
    File {
        from: PathBuf,
        exec: bool,
    },
    Symlink {
        from: PathBuf,
        target: PathBuf,
    },
}

impl Entry {
    fn source(&self) -> String {
        match self {
            Entry::Dir { from: None } => "a parent directory".into(),
            Entry::Dir { from: Some(p) }
            | Entry::File { from: p, .. }
            | Entry::Symlink { from: p, .. } => p.display().to_string(),
        }
    }
}

/// Every entry by its path in the tar (the image path without its leading `/`); a BTreeMap
/// orders parents before their children.
fn collect(files: &[(PathBuf, String)]) -> Result<BTreeMap<String, Entry>, OciError> {
    let mut out = BTreeMap::new();
    for (host, image) in files {
        let path = image_path(image)?;
        add(&mut out, host, path)?;
    }
    let paths: Vec<String> = out.keys().cloned().collect();
    for path in paths {
        let mut parent = path.as_str();
        while let Some((p, _)) = parent.rsplit_once('/') {
            parent = p;
            match out.get(parent) {
                None => {
                    out.insert(parent.to_string(), Entry::Dir { from: None });
                }
                Some(Entry::Dir { .. }) => {}
                Some(other) => {
                    return Err(OciError::Invalid {
                        what: format!("/{path}"),
                        reason: format!(
                            "it would sit inside /{parent}, which is not a directory (from {})",
                            other.source()
                        ),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Checks an absolute image path and returns it without the leading `/`, normalised.
fn image_path(image: &str) -> Result<String, OciError> {
    let bad = |reason: &str| OciError::Invalid {
        what: format!("image path `{image}`"),
        reason: reason.to_string(),
    };
    if !image.starts_with('/') {
        return Err(bad("it must be absolute (start with `/`)"));
    }
    if image.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    let parts: Vec<&str> = image.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(bad("`.` and `..` are not allowed"));
    }
    if parts.is_empty() {
        return Err(bad("it names the image's root, not a file"));
    }
    Ok(parts.join("/"))
}

/// Adds `host` at `path` (a directory with everything below it).
fn add(out: &mut BTreeMap<String, Entry>, host: &Path, path: String) -> Result<(), OciError> {
    let meta = std::fs::symlink_metadata(host).map_err(|err| OciError::Io {
        path: host.to_path_buf(),
        err,
    })?;
    let kind = meta.file_type();
    let entry = if kind.is_dir() {
        Entry::Dir {
            from: Some(host.to_path_buf()),
        }
    } else if kind.is_file() {
        Entry::File {
            from: host.to_path_buf(),
            exec: meta.permissions().mode() & 0o111 != 0,
        }
    } else if kind.is_symlink() {
        let target = std::fs::read_link(host).map_err(|err| OciError::Io {
            path: host.to_path_buf(),
            err,
        })?;
        Entry::Symlink {
            from: host.to_path_buf(),
            target,
        }
    } else {
        return Err(OciError::Invalid {
            what: host.display().to_string(),
            reason: format!(
                "it is a {}: an image layer holds only files, directories and symlinks",
                special_kind(&kind)
            ),
        });
    };
    match out.get(&path) {
        None => {}
        Some(Entry::Dir { .. }) if matches!(entry, Entry::Dir { .. }) => {}
        Some(existing) => {
            return Err(OciError::Invalid {
                what: format!("/{path}"),
                reason: format!(
                    "it has two sources: {} and {}",
                    existing.source(),
                    host.display()
                ),
            });
        }
    }
    let is_dir = matches!(entry, Entry::Dir { .. });
    out.insert(path.clone(), entry);
    if is_dir {
        let children = std::fs::read_dir(host).map_err(|err| OciError::Io {
            path: host.to_path_buf(),
            err,
        })?;
        for child in children {
            let child = child.map_err(|err| OciError::Io {
                path: host.to_path_buf(),
                err,
            })?;
            let name = child
                .file_name()
                .into_string()
                .map_err(|_| OciError::Invalid {
                    what: child.path().display().to_string(),
                    reason: "its name is not UTF-8".into(),
                })?;
            add(out, &child.path(), format!("{path}/{name}"))?;
        }
    }
    Ok(())
}

fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

/// Writes one entry with the fixed metadata.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    entry: &Entry,
    mtime: u64,
) -> Result<(), OciError> {
    let mut h = tar::Header::new_gnu();
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(0);
    let written = match entry {
        Entry::Dir { .. } => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            tar.append_data(&mut h, path, std::io::empty())
        }
        Entry::File { from, exec } => {
            let data = std::fs::read(from).map_err(|err| OciError::Io {
                path: from.clone(),
                err,
            })?;
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(if *exec { 0o755 } else { 0o644 });
            h.set_size(data.len() as u64);
            tar.append_data(&mut h, path, data.as_slice())
        }
        Entry::Symlink { target, .. } => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            tar.append_link(&mut h, path, target)
        }
    };
    written.map_err(|e| OciError::Invalid {
        what: format!("/{path} (from {})", entry.source()),
        reason: format!("cannot be written to a tar: {e}"),
    })
}

fn internal(what: &str, e: std::io::Error) -> OciError {
    OciError::Invalid {
        what: "the layer".into(),
        reason: format!("{what} failed: {e}"),
    }
}

/// A writer that hashes what passes through it (the tar, on its way to gzip).
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_paths_are_absolute_and_normalised() {
        assert_eq!(image_path("/opt//dags/").unwrap(), "opt/dags");
        for bad in ["opt/dags", "/", "/opt/../etc", "/./x", ""] {
            assert!(image_path(bad).is_err(), "{bad} accepted");
        }
    }
}

//! The embedded Python support code (`python/` in the repository), written out once per
//! content hash to `LEOFLOW_HOME/runtime/<hash>/` so the interpreter can import it.
//!
//! **Invariant:** a runtime directory is complete or absent: files are written into a
//! temporary sibling and renamed into place, so a crash mid-write never leaves a half tree.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "python/"]
#[exclude = "*.pyc"]
#[exclude = "*/__pycache__/*"]
#[exclude = "__pycache__/*"]
#[exclude = ".compiled-*"]
#[exclude = "tests/*"]
#[exclude = "*.md"]
#[exclude = ".gitignore"]
struct PythonFiles;

/// A short hash of every embedded file's path and content.
pub fn content_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut names: Vec<_> = PythonFiles::iter().collect();
        names.sort();
        let mut h = Sha256::new();
        for n in names {
            h.update(n.as_bytes());
            h.update([0]);
            if let Some(f) = PythonFiles::get(&n) {
                h.update(f.data.as_ref());
            }
            h.update([0]);
        }
        hex::encode(&h.finalize()[..8])
    })
}

/// Writes the runtime under `runtime_root` if missing; returns its directory (holding
/// `boot.py`).
pub fn ensure(runtime_root: &Path) -> std::io::Result<PathBuf> {
    let dir = runtime_root.join(content_hash());
    if dir.join("boot.py").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(runtime_root)?;
    // Unique per call: the parser pool and the task runtime may write it at the same time.
    let tmp = runtime_root.join(format!(
        ".tmp-{}-{}-{}",
        content_hash(),
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    for name in PythonFiles::iter() {
        let file = PythonFiles::get(&name).expect("listed file exists");
        let path = tmp.join(name.as_ref());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, file.data.as_ref())?;
    }
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another process won the race: its copy is identical.
        Err(_) if dir.join("boot.py").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_boot_and_shim_once() {
        let dir = tempfile::tempdir().unwrap();
        let rt = ensure(dir.path()).unwrap();
        assert!(rt.join("boot.py").is_file());
        assert!(rt.join("shim/airflow/sdk/__init__.py").is_file());
        assert!(!rt.join("tests").exists());
        assert_eq!(ensure(dir.path()).unwrap(), rt);
    }
}

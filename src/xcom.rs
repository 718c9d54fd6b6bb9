//! XCom values in an embedded sled database (`home/xcom/`).
//!
//! Keys are `(dag_id, run_id, task_id, map_index, key)`, encoded so that a prefix scan finds
//! every value of a run or of a task instance. Values are JSON.
//!
//! **Invariant:** sled is used only here, behind this narrow interface, so it can be swapped.
//! A value is checked against the size limit before it is written, and [`XcomStore::flush`]
//! makes written values durable (the executor calls it before it marks a task success).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Errors from the XCom store.
#[derive(Debug, thiserror::Error)]
pub enum XcomError {
    #[error("XCom store {path}: {err}")]
    Sled { path: PathBuf, err: sled::Error },
    #[error(
        "XCom value for key {key:?} of task {task_id:?} is {size} bytes, over the limit of {limit} bytes; return a smaller value (e.g. a path or an id) or raise xcom_max_bytes"
    )]
    TooLarge {
        task_id: String,
        key: String,
        size: usize,
        limit: u64,
    },
    #[error("XCom value at {0} is not valid JSON")]
    Corrupt(String),
}

/// Identifies one XCom value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct XcomKey {
    pub dag_id: String,
    pub run_id: String,
    pub task_id: String,
    /// `-1` for a task that is not mapped, as in Airflow.
    pub map_index: i64,
    pub key: String,
}

/// The XCom key Airflow uses for a task's return value.
pub const RETURN_VALUE: &str = "return_value";

/// A handle on the sled tree; cheap to clone.
#[derive(Clone)]
pub struct XcomStore {
    db: sled::Db,
    path: PathBuf,
    max_bytes: u64,
}

impl std::fmt::Debug for XcomStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XcomStore")
            .field("path", &self.path)
            .finish()
    }
}

fn encode_prefix(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(p.as_bytes());
        out.push(0);
    }
    out
}

fn encode(k: &XcomKey) -> Vec<u8> {
    let mut out = encode_prefix(&[&k.dag_id, &k.run_id, &k.task_id]);
    // Offset so that -1 sorts first and every index sorts numerically as bytes.
    out.extend_from_slice(&((k.map_index as i128 + (1i128 << 63)) as u64).to_be_bytes());
    out.extend_from_slice(k.key.as_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<XcomKey> {
    let mut parts = bytes.splitn(4, |b| *b == 0);
    let dag_id = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let run_id = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let task_id = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let rest = parts.next()?;
    if rest.len() < 8 {
        return None;
    }
    let idx = u64::from_be_bytes(rest[..8].try_into().ok()?);
    let map_index = (idx as i128 - (1i128 << 63)) as i64;
    let key = String::from_utf8(rest[8..].to_vec()).ok()?;
    Some(XcomKey {
        dag_id,
        run_id,
        task_id,
        map_index,
        key,
    })
}

impl XcomStore {
    /// Opens (creating if missing) the store at `path`.
    pub fn open(path: &Path, max_bytes: u64) -> Result<XcomStore, XcomError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(8 * 1024 * 1024)
            .flush_every_ms(Some(200))
            .open()
            .map_err(|err| XcomError::Sled {
                path: path.to_path_buf(),
                err,
            })?;
        Ok(XcomStore {
            db,
            path: path.to_path_buf(),
            max_bytes,
        })
    }

    fn err(&self, err: sled::Error) -> XcomError {
        XcomError::Sled {
            path: self.path.clone(),
            err,
        }
    }

    /// Stores `value` under `key`, refusing values over the size limit.
    pub fn put(&self, key: &XcomKey, value: &Value) -> Result<(), XcomError> {
        let bytes = serde_json::to_vec(value).expect("a JSON value always serialises");
        if bytes.len() as u64 > self.max_bytes {
            return Err(XcomError::TooLarge {
                task_id: key.task_id.clone(),
                key: key.key.clone(),
                size: bytes.len(),
                limit: self.max_bytes,
            });
        }
        self.db
            .insert(encode(key), bytes)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Reads one value.
    pub fn get(&self, key: &XcomKey) -> Result<Option<Value>, XcomError> {
        match self.db.get(encode(key)).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| XcomError::Corrupt(format!("{key:?}"))),
        }
    }

    /// Every value of a run, or of one task of it when `task_id` is given, in key order.
    pub fn list(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: Option<&str>,
    ) -> Result<Vec<(XcomKey, Value)>, XcomError> {
        let prefix = match task_id {
            Some(t) => encode_prefix(&[dag_id, run_id, t]),
            None => encode_prefix(&[dag_id, run_id]),
        };
        let mut out = Vec::new();
        for item in self.db.scan_prefix(prefix) {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let key = decode(&k).ok_or_else(|| XcomError::Corrupt(format!("{k:?}")))?;
            let value =
                serde_json::from_slice(&v).map_err(|_| XcomError::Corrupt(format!("{key:?}")))?;
            out.push((key, value));
        }
        Ok(out)
    }

    /// Deletes the values of one task instance (all keys), or of every map index when
    /// `map_index` is `None`. Returns how many were removed.
    pub fn delete_task(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<i64>,
    ) -> Result<usize, XcomError> {
        let keys: Vec<XcomKey> = self
            .list(dag_id, run_id, Some(task_id))?
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| map_index.is_none_or(|m| k.map_index == m))
            .collect();
        for k in &keys {
            self.db.remove(encode(k)).map_err(|e| self.err(e))?;
        }
        Ok(keys.len())
    }

    /// Deletes one value; `false` when there was none.
    pub fn delete(&self, key: &XcomKey) -> Result<bool, XcomError> {
        Ok(self
            .db
            .remove(encode(key))
            .map_err(|e| self.err(e))?
            .is_some())
    }

    /// Deletes every value of a run.
    pub fn delete_run(&self, dag_id: &str, run_id: &str) -> Result<usize, XcomError> {
        let mut n = 0;
        for item in self.db.scan_prefix(encode_prefix(&[dag_id, run_id])) {
            let (k, _) = item.map_err(|e| self.err(e))?;
            self.db.remove(k).map_err(|e| self.err(e))?;
            n += 1;
        }
        Ok(n)
    }

    /// Makes every write so far durable on disk.
    pub fn flush(&self) -> Result<(), XcomError> {
        self.db.flush().map(|_| ()).map_err(|e| self.err(e))
    }

    /// [`XcomStore::flush`] without blocking the async runtime.
    pub async fn flush_async(&self) -> Result<(), XcomError> {
        self.db
            .flush_async()
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(task: &str, map_index: i64, k: &str) -> XcomKey {
        XcomKey {
            dag_id: "d".into(),
            run_id: "r1".into(),
            task_id: task.into(),
            map_index,
            key: k.into(),
        }
    }

    #[test]
    fn put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let x = XcomStore::open(&dir.path().join("xcom"), 1024).unwrap();
        x.put(&key("a", -1, RETURN_VALUE), &json!({"n": 1}))
            .unwrap();
        x.put(&key("b", 2, RETURN_VALUE), &json!([1, 2])).unwrap();
        x.put(&key("b", 10, RETURN_VALUE), &json!(10)).unwrap();
        x.put(&key("b", -1, "extra"), &json!("s")).unwrap();
        assert_eq!(
            x.get(&key("a", -1, RETURN_VALUE)).unwrap(),
            Some(json!({"n": 1}))
        );
        let b: Vec<i64> = x
            .list("d", "r1", Some("b"))
            .unwrap()
            .into_iter()
            .map(|(k, _)| k.map_index)
            .collect();
        assert_eq!(b, vec![-1, 2, 10]);
        assert_eq!(x.delete_task("d", "r1", "b", Some(2)).unwrap(), 1);
        assert_eq!(x.list("d", "r1", None).unwrap().len(), 3);
        assert_eq!(x.delete_run("d", "r1").unwrap(), 3);
        assert!(x.list("d", "r1", None).unwrap().is_empty());
    }

    #[test]
    fn too_large_is_refused_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let x = XcomStore::open(&dir.path().join("xcom"), 16).unwrap();
        let err = x
            .put(&key("big", -1, RETURN_VALUE), &json!("x".repeat(100)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("102 bytes") && err.contains("limit of 16"),
            "{err}"
        );
        assert_eq!(x.get(&key("big", -1, RETURN_VALUE)).unwrap(), None);
    }

    #[test]
    fn flushed_values_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("xcom");
        {
            let x = XcomStore::open(&path, 1024).unwrap();
            x.put(&key("a", -1, RETURN_VALUE), &json!(42)).unwrap();
            x.flush().unwrap();
        }
        let x = XcomStore::open(&path, 1024).unwrap();
        assert_eq!(x.get(&key("a", -1, RETURN_VALUE)).unwrap(), Some(json!(42)));
    }
}

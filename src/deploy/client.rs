//! The control plane's API as `leoflow auth` and `leoflow deploy` use it: sign-in
//! (`POST /auth/token`), a token check, a DAG's state, registration
//! (`POST /api/v2/dags/{dag_id}/versions`), unpause and trigger. Pro and Lite answer the same.
//! Every request is bounded; every error names the server and says what to do.

use std::time::Duration;

use serde_json::{Value, json};

/// Why a call to the control plane failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot reach the control plane at {url}: {err} (is it running? check --server or LEOFLOW_SERVER)"
    )]
    Unreachable { url: String, err: String },
    #[error("{url} refused the sign-in: {detail}; {fix}")]
    Unauthorized {
        url: String,
        detail: String,
        fix: String,
    },
    #[error("{url} answered {status}: {detail}")]
    Http {
        url: String,
        status: u16,
        detail: String,
    },
}

/// A control plane at `base` (its URL without a trailing slash), with a token or not.
pub struct ControlPlane {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// What a registration answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub version: Value,
    pub spec_hash: String,
    /// 201 (a new version) rather than 200 (the same content).
    pub created: bool,
}

impl ControlPlane {
    pub fn new(base: &str, token: Option<String>) -> ControlPlane {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a reqwest client builds");
        ControlPlane {
            base: super::credentials::server_key(base),
            token,
            http,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn login_fix(&self) -> String {
        format!("run `leoflow auth login --server {}`", self.base)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            err: root_cause(&e),
        })?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status == 401 || status == 403 {
            return Err(ClientError::Unauthorized {
                url: self.base.clone(),
                detail: detail(&body, status),
                fix: if self.token.is_some() {
                    self.login_fix()
                } else {
                    "sign in first".into()
                },
            });
        }
        Ok((status, body))
    }

    fn fail(&self, status: u16, body: &Value) -> ClientError {
        ClientError::Http {
            url: self.base.clone(),
            status,
            detail: detail(body, status),
        }
    }

    /// Signs in with a username and password: the access token.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, ClientError> {
        let body = json!({"username": username, "password": password});
        let (status, v) = match self
            .send(reqwest::Method::POST, "/auth/token", Some(&body))
            .await
        {
            Err(ClientError::Unauthorized { url, detail, .. }) => {
                return Err(ClientError::Unauthorized {
                    url,
                    detail,
                    fix: "check the username and password".into(),
                });
            }
            other => other?,
        };
        match v["access_token"].as_str() {
            Some(t) if (200..300).contains(&status) => Ok(t.to_string()),
            _ => Err(self.fail(status, &v)),
        }
    }

    /// Checks the token is accepted (one cheap authenticated read).
    pub async fn check(&self) -> Result<(), ClientError> {
        let (status, v) = self
            .send(reqwest::Method::GET, "/api/v2/dags?limit=1", None)
            .await?;
        if status == 200 {
            Ok(())
        } else {
            Err(self.fail(status, &v))
        }
    }

    /// The DAG as the server has it (`None`: unknown there).
    pub async fn dag(&self, dag_id: &str) -> Result<Option<Value>, ClientError> {
        let (status, v) = self
            .send(
                reqwest::Method::GET,
                &format!("/api/v2/dags/{dag_id}"),
                None,
            )
            .await?;
        match status {
            200 => Ok(Some(v)),
            404 => Ok(None),
            _ => Err(self.fail(status, &v)),
        }
    }

    /// Registers a dag.json.
    pub async fn register(&self, dag_id: &str, doc: &Value) -> Result<Registered, ClientError> {
        let path = format!("/api/v2/dags/{dag_id}/versions");
        let (status, v) = self.send(reqwest::Method::POST, &path, Some(doc)).await?;
        if status != 200 && status != 201 {
            return Err(self.fail(status, &v));
        }
        Ok(Registered {
            version: v["version"].clone(),
            spec_hash: v["spec_hash"].as_str().unwrap_or_default().to_string(),
            created: status == 201,
        })
    }

    /// Unpauses the DAG (when paused) and queues a run: its id.
    pub async fn trigger(&self, dag_id: &str) -> Result<String, ClientError> {
        let path = format!("/api/v2/dags/{dag_id}");
        let (status, v) = self
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(&json!({"is_paused": false})),
            )
            .await?;
        if status != 200 {
            return Err(self.fail(status, &v));
        }
        let (status, v) = self
            .send(
                reqwest::Method::POST,
                &format!("{path}/dagRuns"),
                Some(&json!({"logical_date": null})),
            )
            .await?;
        match v["dag_run_id"].as_str() {
            Some(id) if status == 200 => Ok(id.to_string()),
            _ => Err(self.fail(status, &v)),
        }
    }
}

/// Airflow's `{"detail": ...}`, or the status alone.
fn detail(body: &Value, status: u16) -> String {
    match &body["detail"] {
        Value::String(s) => s.clone(),
        Value::Null => format!("HTTP {status}"),
        other => other.to_string(),
    }
}

/// The innermost cause of a request error (e.g. "Connection refused").
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

//! `/api/v2/variables`: list (paging, `order_by`, key patterns), get, create (409 when the key
//! exists), patch (`update_mask`), delete and the bulk `PATCH`. Values are stored encrypted
//! (`is_encrypted` is always true) and answered with Airflow's masking: a sensitive key's value
//! is `***`, and sensitive keys inside a JSON object value are masked.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::{
    self, BulkEntity, Mask, audit_extra, cipher, invalid, no_team, present, write_api,
};
use super::identity::Identity;
use super::params::Params;
use super::{ApiError, AppState, JsonBody};
use crate::audit::{self, Entry, Masking};
use crate::secrets::{Cipher, MASK, is_sensitive, python_json, redact, unmask};
use crate::store::admin::{self as q, VariableRow};
use crate::store::runs::Where;

/// Airflow's `ID_LEN`: the longest key.
const MAX_KEY: usize = 250;

/// `VariableBody`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableBody {
    key: String,
    value: Value,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    team_name: Option<Option<String>>,
}

impl VariableBody {
    fn validate(&self) -> Result<(), ApiError> {
        if self.key.is_empty() || self.key.chars().count() > MAX_KEY {
            return Err(invalid(
                "key",
                "string_too_long",
                format!("The key must be 1 to {MAX_KEY} characters long"),
                json!(self.key),
            ));
        }
        no_team(&self.team_name)
    }

    /// The value as stored: a string as is, anything else as JSON text.
    fn text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A value as the API shows it: `***` for a sensitive key, sensitive keys of a JSON object
/// masked (then printed as Python does), otherwise unchanged.
fn shown(key: &str, plain: &str) -> String {
    if is_sensitive(key) {
        return MASK.into();
    }
    match serde_json::from_str::<Value>(plain) {
        Ok(v) => {
            let r = redact(&v, None);
            if r == v {
                plain.into()
            } else {
                python_json(&r)
            }
        }
        Err(_) => plain.into(),
    }
}

/// `new` with masked parts taken from `old`, so a value read back from the API (masked) and
/// saved unchanged keeps the secret.
fn unmasked(key: &str, new: String, old: &str) -> String {
    if new == MASK && is_sensitive(key) {
        return old.into();
    }
    match (
        serde_json::from_str::<Value>(&new),
        serde_json::from_str::<Value>(old),
    ) {
        (Ok(n @ Value::Object(_)), Ok(o)) if n.to_string().contains(MASK) => {
            unmask(&n, &o).to_string()
        }
        _ => new,
    }
}

/// The `VariableResponse` shape.
fn variable_json(key: &str, plain: &str, description: &Option<String>) -> Value {
    json!({
        "key": key,
        "value": shown(key, plain),
        "description": description,
        "is_encrypted": true,
        "team_name": null,
    })
}

fn row_json(c: &Cipher, row: &VariableRow) -> Result<Value, ApiError> {
    let plain = c.variable(row).map_err(admin::secrets_error)?;
    Ok(variable_json(&row.key, &plain, &row.description))
}

fn not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("The Variable with key: `{key}` was not found"))
}

/// Applies `body` to the stored variable `old` through `mask`; the new row (encrypted).
fn updated(c: &Cipher, old: &VariableRow, body: &VariableBody, mask: &Mask) -> VariableRow {
    let mut row = old.clone();
    if mask.wants("value", true) {
        let before = c.variable(old).unwrap_or_default();
        row.val = c.encrypt(&unmasked(&old.key, body.text(), &before));
        row.is_encrypted = true;
    }
    if mask.wants("description", body.description.is_some()) {
        row.description = body.description.clone().flatten();
    }
    row
}

/// `GET /variables`.
pub async fn list(State(s): State<AppState>, p: Params) -> Result<Json<Value>, ApiError> {
    let page = p.page()?;
    let order = admin::order_by(
        &p,
        &[
            ("key", "key"),
            ("id", "rowid"),
            ("_val", "val"),
            ("description", "description"),
            ("is_encrypted", "is_encrypted"),
        ],
        vec![("rowid", false)],
    )?;
    let mut wh = Where::default();
    p.patterns(&mut wh, &[("variable_key", "key")]);
    let (rows, total) = s
        .store
        .read(move |c| q::list_variables(c, &wh, &order, page))
        .await?;
    let c = cipher(&s)?;
    let vars = rows
        .iter()
        .map(|r| row_json(&c, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"variables": vars, "total_entries": total})))
}

/// `GET /variables/{variable_key}`.
pub async fn get(
    State(s): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let k = key.clone();
    let row = s
        .store
        .read(move |c| q::get_variable(c, &k))
        .await?
        .ok_or_else(|| not_found(&key))?;
    let c = cipher(&s)?;
    Ok(Json(row_json(&c, &row)?))
}

/// `POST /variables`: 201, or 409 when the key exists.
pub async fn create(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let body: VariableBody = admin::typed(&raw)?;
    body.validate()?;
    let c = cipher(&s)?;
    let row = VariableRow {
        key: body.key.clone(),
        val: c.encrypt(&body.text()),
        description: body.description.clone().flatten(),
        is_encrypted: true,
    };
    let stored = row.clone();
    write_api(&s, move |tx| {
        if q::get_variable(tx, &stored.key)?.is_some() {
            return Err(ApiError::conflict(format!(
                "The Variable with key: `{}` already exists",
                stored.key
            )));
        }
        Ok(q::put_variable(tx, &stored)?)
    })
    .await?;
    audit::record(
        &s.store,
        &identity,
        Entry::new("post_variable").extra(audit_extra(
            "POST",
            Some(&raw),
            json!({}),
            Masking::Variable,
        )),
    )
    .await;
    let out = variable_json(&row.key, &body.text(), &row.description);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `PATCH /variables/{variable_key}`: the fields sent, narrowed by `update_mask`.
pub async fn patch(
    State(s): State<AppState>,
    identity: Identity,
    Path(key): Path<String>,
    p: Params,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let body: VariableBody = admin::typed(&raw)?;
    if body.key != key {
        return Err(ApiError::bad_request(format!(
            "Invalid body, key from request body ({:?}) doesn't match uri parameter ({key:?})",
            body.key
        )));
    }
    body.validate()?;
    let mask = Mask::from_params(&p);
    let c = cipher(&s)?;
    let c2 = c.clone();
    let k = key.clone();
    let row = write_api(&s, move |tx| {
        let old = q::get_variable(tx, &k)?.ok_or_else(|| not_found(&k))?;
        let row = updated(&c2, &old, &body, &mask);
        q::put_variable(tx, &row)?;
        Ok(row)
    })
    .await?;
    audit::record(
        &s.store,
        &identity,
        Entry::new("patch_variable").extra(audit_extra(
            "PATCH",
            Some(&raw),
            json!({}),
            Masking::Variable,
        )),
    )
    .await;
    Ok(Json(row_json(&c, &row)?))
}

/// `DELETE /variables/{variable_key}`: 204, or 404.
pub async fn delete(
    State(s): State<AppState>,
    identity: Identity,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let k = key.clone();
    if !s.store.write(move |tx| q::delete_variable(tx, &k)).await? {
        return Err(not_found(&key));
    }
    audit::record(
        &s.store,
        &identity,
        Entry::new("delete_variable").extra(audit_extra(
            "DELETE",
            None,
            json!({ "variable_key": key }),
            Masking::Variable,
        )),
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

impl BulkEntity for VariableBody {
    const WHAT: &'static str = "variables with these keys:";

    fn id(&self) -> &str {
        &self.key
    }

    fn exists(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<bool, ApiError> {
        Ok(q::get_variable(tx, id)?.is_some())
    }

    fn create(&self, tx: &rusqlite::Transaction<'_>, c: &Cipher) -> Result<(), ApiError> {
        self.validate()?;
        let row = VariableRow {
            key: self.key.clone(),
            val: c.encrypt(&self.text()),
            description: self.description.clone().flatten(),
            is_encrypted: true,
        };
        Ok(q::put_variable(tx, &row)?)
    }

    fn update(
        &self,
        tx: &rusqlite::Transaction<'_>,
        c: &Cipher,
        mask: &Mask,
    ) -> Result<(), ApiError> {
        self.validate()?;
        let old = q::get_variable(tx, &self.key)?.ok_or_else(|| not_found(&self.key))?;
        Ok(q::put_variable(tx, &updated(c, &old, self, mask))?)
    }

    fn delete(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<(), ApiError> {
        q::delete_variable(tx, id)?;
        Ok(())
    }
}

/// `PATCH /variables`: bulk create, update and delete.
pub async fn bulk(
    State(s): State<AppState>,
    identity: Identity,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let out = admin::bulk::<VariableBody>(&s, &identity, raw, "bulk_variables", Masking::Variable)
        .await?;
    Ok(out)
}

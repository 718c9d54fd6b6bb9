//! The admin resources — variables, connections, pools — as one generic [`Resource`]:
//! create (409 when the id exists), patch (the fields sent, narrowed by `update_mask`),
//! delete, and Airflow's bulk body (create / update / delete actions with their existence
//! rules), each audited in its transaction. What differs per kind (its body, validation,
//! how a body becomes a stored row, its store functions) is the trait's.
//!
//! Variable values and connection passwords/extras are encrypted here (`secrets`) before they
//! reach the store; a masked value (`***`) sent back unchanged keeps the stored secret.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::{OpError, Ops, audit};
use crate::audit::{Entry, Masking, masked_body};
use crate::auth::Identity;
use crate::secrets::{Cipher, MASK, is_sensitive, unmask};
use crate::store::admin::{self as q, AdminRow, ConnectionRow, DEFAULT_POOL, PoolRow, VariableRow};
use crate::store::filter::{Filter, Order, Page};
use crate::store::{Db, StoreError, Tx};

/// One kind of admin resource.
pub trait Resource: Send + Sync + 'static {
    /// The create / patch / bulk body.
    type Body: DeserializeOwned + Send + 'static;
    /// The stored row.
    type Row: AdminRow + Clone;
    /// Names the audit events: `post_{KIND}`, `patch_{KIND}`, `delete_{KIND}`, `bulk_{KIND}s`.
    const KIND: &'static str;
    /// Airflow's phrase in bulk errors, e.g. "variables with these keys:".
    const WHAT: &'static str;
    /// How the body is masked in the audit row.
    const MASKING: Masking;
    /// The path parameter naming the resource (`variable_key`...), for the audit row.
    const PATH_PARAM: &'static str;
    /// Whether a change may let queued work start (pools).
    const WAKES: bool = false;

    fn body_id(b: &Self::Body) -> &str;
    fn validate(b: &Self::Body, creating: bool) -> Result<(), OpError>;
    /// A new row from a create body.
    fn new_row(b: &Self::Body, c: &Cipher) -> Result<Self::Row, OpError>;
    /// `old` with the fields of `b` that `mask` lets through.
    fn updated(
        old: &Self::Row,
        b: &Self::Body,
        c: &Cipher,
        mask: &Mask,
    ) -> Result<Self::Row, OpError>;
    /// A bulk create that overwrites an existing one.
    fn overwrite(old: &Self::Row, b: &Self::Body, c: &Cipher) -> Result<Self::Row, OpError> {
        let _ = old;
        Self::new_row(b, c)
    }
    /// 400 when `id` may not be deleted.
    fn deletable(id: &str) -> Result<(), OpError> {
        let _ = id;
        Ok(())
    }
    fn not_found(id: &str) -> OpError;
    fn exists(id: &str) -> OpError;
    /// The 400 when a patch body names another resource than its path.
    fn mismatch(body_id: &str, path_id: &str) -> Option<OpError>;

    fn get(db: &Db<'_>, id: &str) -> Result<Option<Self::Row>, StoreError> {
        q::get(db, id)
    }
    fn put(tx: &Tx<'_>, row: &Self::Row) -> Result<(), StoreError> {
        q::put(tx, row)
    }
    fn delete(tx: &Tx<'_>, id: &str) -> Result<bool, StoreError> {
        q::delete::<Self::Row>(tx, id)
    }
    fn list(
        db: &Db<'_>,
        filter: &Filter,
        order: &Order,
        page: Page,
    ) -> Result<(Vec<Self::Row>, i64), StoreError> {
        q::list(db, filter, order, page)
    }
}

/// Which fields a PATCH applies: those sent in the body, narrowed to `update_mask` if given.
#[derive(Debug, Clone, Default)]
pub struct Mask(Option<Vec<String>>);

impl Mask {
    pub fn new(fields: Vec<String>) -> Mask {
        Mask(Some(fields).filter(|m| !m.is_empty()))
    }

    /// Everything the body sends.
    pub fn all() -> Mask {
        Mask(None)
    }

    /// Whether `field` is applied, given whether the body sent it.
    pub fn wants(&self, field: &str, sent: bool) -> bool {
        sent && self.0.as_ref().is_none_or(|m| m.iter().any(|f| f == field))
    }
}

/// The cipher of the home (500 with what is wrong with the key, never the key).
pub fn cipher(ops: &Ops) -> Result<Arc<Cipher>, OpError> {
    crate::secrets::for_home(&ops.home).map_err(|e| {
        tracing::error!(error = %e, "secrets");
        OpError::Secrets(e.to_string())
    })
}

fn audit_extra(method: &str, raw: Option<&Value>, path: Value, how: Masking) -> Value {
    let mut extra = match raw {
        Some(b) => masked_body(b, how),
        None => path,
    };
    if let Value::Object(m) = &mut extra {
        m.insert("method".into(), json!(method));
    }
    extra
}

/// A JSON body as `T`, with the 422 of a body that does not fit.
pub fn typed<T: DeserializeOwned>(v: &Value) -> Result<T, OpError> {
    serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let path = e.path().to_string();
        let loc = std::iter::once("body".to_string())
            .chain(
                path.split('.')
                    .filter(|s| !s.is_empty() && *s != "?")
                    .map(String::from),
            )
            .collect();
        OpError::Invalid {
            loc,
            kind: "value_error",
            msg: e.inner().to_string(),
            input: v.clone(),
        }
    })
}

/// Creates a resource from `raw` (its body as sent); the stored row.
pub async fn create<R: Resource>(ops: &Ops, who: &Identity, raw: Value) -> Result<R::Row, OpError> {
    let body: R::Body = typed(&raw)?;
    R::validate(&body, true)?;
    let c = cipher(ops)?;
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let id = R::body_id(&body).to_string();
        if R::get(tx, &id)?.is_some() {
            return Err(R::exists(&id));
        }
        R::put(tx, &R::new_row(&body, &c)?)?;
        fx.wake = R::WAKES;
        let extra = audit_extra("POST", Some(&raw), json!({}), R::MASKING);
        audit(
            tx,
            &who,
            Entry::new(&format!("post_{}", R::KIND)).extra(extra),
        )?;
        R::get(tx, &id)?.ok_or_else(|| R::not_found(&id))
    })
    .await
}

/// Patches the resource `id` with the fields of `raw` that `mask` lets through.
pub async fn patch<R: Resource>(
    ops: &Ops,
    who: &Identity,
    id: &str,
    raw: Value,
    mask: Mask,
) -> Result<R::Row, OpError> {
    let body: R::Body = typed(&raw)?;
    if let Some(e) = R::mismatch(R::body_id(&body), id) {
        return Err(e);
    }
    R::validate(&body, false)?;
    let c = cipher(ops)?;
    let (who, id) = (who.clone(), id.to_string());
    ops.commit(move |tx, fx| {
        let old = R::get(tx, &id)?.ok_or_else(|| R::not_found(&id))?;
        R::put(tx, &R::updated(&old, &body, &c, &mask)?)?;
        fx.wake = R::WAKES;
        let extra = audit_extra("PATCH", Some(&raw), json!({}), R::MASKING);
        audit(
            tx,
            &who,
            Entry::new(&format!("patch_{}", R::KIND)).extra(extra),
        )?;
        R::get(tx, &id)?.ok_or_else(|| R::not_found(&id))
    })
    .await
}

/// Deletes the resource `id`.
pub async fn delete<R: Resource>(ops: &Ops, who: &Identity, id: &str) -> Result<(), OpError> {
    R::deletable(id)?;
    let (who, id) = (who.clone(), id.to_string());
    ops.commit(move |tx, _| {
        if !R::delete(tx, &id)? {
            return Err(R::not_found(&id));
        }
        let extra = audit_extra("DELETE", None, json!({ R::PATH_PARAM: id }), R::MASKING);
        audit(
            tx,
            &who,
            Entry::new(&format!("delete_{}", R::KIND)).extra(extra),
        )
    })
    .await
}

/// Airflow's `action_on_existence` for bulk creates.
#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum OnExistence {
    #[default]
    Fail,
    Skip,
    Overwrite,
}

/// Airflow's `action_on_non_existence` for bulk updates and deletes.
#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum OnMissing {
    #[default]
    Fail,
    Skip,
}

/// `BulkBody[T]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody<T> {
    pub actions: Vec<BulkAction<T>>,
}

/// One bulk action.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum BulkAction<T> {
    Create {
        entities: Vec<T>,
        #[serde(default)]
        action_on_existence: OnExistence,
    },
    Update {
        entities: Vec<T>,
        #[serde(default)]
        update_mask: Option<Vec<String>>,
        #[serde(default)]
        action_on_non_existence: OnMissing,
    },
    Delete {
        entities: Vec<IdOr<T>>,
        #[serde(default)]
        action_on_non_existence: OnMissing,
    },
}

/// A bulk delete names an entity by id or by the whole body.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum IdOr<T> {
    Id(String),
    Entity(T),
}

/// One action's result: the ids that succeeded and the errors.
#[derive(Debug, Default)]
pub struct BulkResult {
    pub success: Vec<String>,
    pub errors: Vec<OpError>,
}

/// Results by action kind: create, update, delete (`None` for kinds not requested).
pub type BulkResults = [Option<BulkResult>; 3];

/// A set of ids as Python prints one (`{'a', 'b'}`), for Airflow's bulk error messages.
pub fn py_set(ids: &BTreeSet<String>) -> String {
    let items: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    format!("{{{}}}", items.join(", "))
}

/// Runs a bulk body in one transaction: per action, Airflow's existence rules, then each
/// entity; an action's failure is reported in its result and does not stop the others, and
/// the entities that succeeded are kept, as Airflow does.
pub async fn bulk<R: Resource>(
    ops: &Ops,
    who: &Identity,
    raw: Value,
) -> Result<BulkResults, OpError>
where
    R::Body: Send,
{
    let body: BulkBody<R::Body> = typed(&raw)?;
    let c = cipher(ops)?;
    let who = who.clone();
    ops.commit(move |tx, fx| {
        let out = run_bulk::<R>(tx, &c, body)?;
        fx.wake = R::WAKES;
        let extra = audit_extra("PATCH", Some(&raw), json!({}), R::MASKING);
        audit(
            tx,
            &who,
            Entry::new(&format!("bulk_{}s", R::KIND)).extra(extra),
        )?;
        Ok(out)
    })
    .await
}

fn run_bulk<R: Resource>(
    tx: &Tx<'_>,
    c: &Cipher,
    body: BulkBody<R::Body>,
) -> Result<BulkResults, OpError> {
    let mut out: BulkResults = [None, None, None];
    for action in body.actions {
        let (slot, ids): (usize, Vec<String>) = match &action {
            BulkAction::Create { entities, .. } => (
                0,
                entities.iter().map(|e| R::body_id(e).to_string()).collect(),
            ),
            BulkAction::Update { entities, .. } => (
                1,
                entities.iter().map(|e| R::body_id(e).to_string()).collect(),
            ),
            BulkAction::Delete { entities, .. } => (
                2,
                entities
                    .iter()
                    .map(|e| match e {
                        IdOr::Id(s) => s.clone(),
                        IdOr::Entity(e) => R::body_id(e).to_string(),
                    })
                    .collect(),
            ),
        };
        let mut existing = BTreeSet::new();
        let mut missing = BTreeSet::new();
        for id in &ids {
            if R::get(tx, id)?.is_some() {
                existing.insert(id.clone());
            } else {
                missing.insert(id.clone());
            }
        }
        let r = out[slot].get_or_insert_with(BulkResult::default);
        let mut outcome = |id: &str, res: Result<(), OpError>| match res {
            Ok(()) => r.success.push(id.to_string()),
            Err(e) => r.errors.push(e),
        };
        match action {
            BulkAction::Create {
                entities,
                action_on_existence,
            } => {
                if action_on_existence == OnExistence::Fail && !existing.is_empty() {
                    let msg = format!("The {} {} already exist.", R::WHAT, py_set(&existing));
                    r.errors.push(OpError::Conflict(msg));
                    continue;
                }
                for e in entities {
                    let id = R::body_id(&e).to_string();
                    if action_on_existence == OnExistence::Skip && existing.contains(&id) {
                        continue;
                    }
                    let res = R::validate(&e, true).and_then(|()| {
                        let row = match R::get(tx, &id)? {
                            Some(old) => R::overwrite(&old, &e, c)?,
                            None => R::new_row(&e, c)?,
                        };
                        Ok(R::put(tx, &row)?)
                    });
                    outcome(&id, res);
                }
            }
            BulkAction::Update {
                entities,
                update_mask,
                action_on_non_existence,
            } => {
                if action_on_non_existence == OnMissing::Fail && !missing.is_empty() {
                    let msg = format!("The {} {} were not found.", R::WHAT, py_set(&missing));
                    r.errors.push(OpError::NotFound(msg));
                    continue;
                }
                let mask = Mask::new(update_mask.unwrap_or_default());
                for e in entities.iter().filter(|e| existing.contains(R::body_id(e))) {
                    let id = R::body_id(e).to_string();
                    let res = R::validate(e, false).and_then(|()| {
                        let old = R::get(tx, &id)?.ok_or_else(|| R::not_found(&id))?;
                        Ok(R::put(tx, &R::updated(&old, e, c, &mask)?)?)
                    });
                    outcome(&id, res);
                }
            }
            BulkAction::Delete {
                action_on_non_existence,
                ..
            } => {
                if action_on_non_existence == OnMissing::Fail && !missing.is_empty() {
                    let msg = format!("The {} {} were not found.", R::WHAT, py_set(&missing));
                    r.errors.push(OpError::NotFound(msg));
                    continue;
                }
                for id in ids.iter().filter(|i| existing.contains(*i)) {
                    let res = R::deletable(id).and_then(|()| Ok(R::delete(tx, id).map(|_| ())?));
                    outcome(id, res);
                }
            }
        }
    }
    Ok(out)
}

/// A request body: its required fields, then its optional ones as `Option<Option<T>>`, which
/// tell "not sent" (`None`) from `null` (`Some(None)`), as a PATCH needs; unknown fields are
/// refused, as Airflow's pydantic models do.
macro_rules! body {
    ($(#[$m:meta])* $name:ident { $($req:ident: $rt:ty),+; $($opt:ident: $ot:ty),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($req: $rt,)+
            $(#[serde(default, deserialize_with = "present")] $opt: Option<Option<$ot>>,)+
        }
    };
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`, a value →
/// `Some(Some(v))`, so PATCH can tell "not sent" from "set to null".
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Rejects a non-null `team_name`: Lite has no multi-team mode (Airflow's message).
fn no_team(team_name: &Option<Option<String>>) -> Result<(), OpError> {
    match team_name {
        Some(Some(t)) => Err(OpError::invalid(
            "team_name",
            "value_error",
            "Value error, team_name cannot be set when multi_team mode is disabled. Please contact your administrator.",
            json!(t),
        )),
        _ => Ok(()),
    }
}

fn missing(field: &str) -> OpError {
    OpError::invalid(field, "missing", "Field required", Value::Null)
}

// --- variables ---------------------------------------------------------------------------

/// Airflow's `ID_LEN`: the longest variable key.
const MAX_KEY: usize = 250;

/// Variables (`/api/v2/variables`).
pub struct Variables;

body! {
    /// `VariableBody`.
    VariableBody { key: String, value: Value; description: String, team_name: String }
}

impl VariableBody {
    /// The value as stored: a string as is, anything else as JSON text.
    fn text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
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

impl Resource for Variables {
    type Body = VariableBody;
    type Row = VariableRow;
    const KIND: &'static str = "variable";
    const WHAT: &'static str = "variables with these keys:";
    const MASKING: Masking = Masking::Variable;
    const PATH_PARAM: &'static str = "variable_key";

    fn body_id(b: &VariableBody) -> &str {
        &b.key
    }

    fn validate(b: &VariableBody, _: bool) -> Result<(), OpError> {
        if b.key.is_empty() || b.key.chars().count() > MAX_KEY {
            return Err(OpError::invalid(
                "key",
                "string_too_long",
                format!("The key must be 1 to {MAX_KEY} characters long"),
                json!(b.key),
            ));
        }
        no_team(&b.team_name)
    }

    fn new_row(b: &VariableBody, c: &Cipher) -> Result<VariableRow, OpError> {
        Ok(VariableRow {
            key: b.key.clone(),
            val: c.encrypt(&b.text()),
            description: b.description.clone().flatten(),
            is_encrypted: true,
        })
    }

    fn updated(
        old: &VariableRow,
        b: &VariableBody,
        c: &Cipher,
        mask: &Mask,
    ) -> Result<VariableRow, OpError> {
        let mut row = old.clone();
        if mask.wants("value", true) {
            let before = c.variable(old).unwrap_or_default();
            row.val = c.encrypt(&unmasked(&old.key, b.text(), &before));
            row.is_encrypted = true;
        }
        if mask.wants("description", b.description.is_some()) {
            row.description = b.description.clone().flatten();
        }
        Ok(row)
    }

    fn not_found(id: &str) -> OpError {
        OpError::NotFound(format!("The Variable with key: `{id}` was not found"))
    }

    fn exists(id: &str) -> OpError {
        OpError::Conflict(format!("The Variable with key: `{id}` already exists"))
    }

    fn mismatch(body_id: &str, path_id: &str) -> Option<OpError> {
        (body_id != path_id).then(|| {
            OpError::BadRequest(format!(
                "Invalid body, key from request body ({body_id:?}) doesn't match uri parameter ({path_id:?})"
            ))
        })
    }
}

// --- connections -------------------------------------------------------------------------

/// The longest connection id Airflow accepts.
const MAX_CONN_ID: usize = 200;

/// Connections (`/api/v2/connections`).
pub struct Connections;

body! {
    /// `ConnectionBody`.
    ConnectionBody {
        connection_id: String, conn_type: String;
        description: String, host: String, login: String, schema: String, port: i64,
        password: String, extra: String, team_name: String
    }
}

impl ConnectionBody {
    pub fn id(&self) -> &str {
        &self.connection_id
    }

    /// Applies the body to `old` (or a new connection) through `mask`, encrypting the secrets.
    pub fn row(&self, c: &Cipher, old: Option<&ConnectionRow>, mask: &Mask) -> ConnectionRow {
        let mut row = old.cloned().unwrap_or_else(|| ConnectionRow {
            conn_id: self.connection_id.clone(),
            ..Default::default()
        });
        if mask.wants("conn_type", true) {
            row.conn_type = self.conn_type.clone();
        }
        let set = |f: &str, v: &Option<Option<String>>, into: &mut Option<String>| {
            if mask.wants(f, v.is_some()) {
                *into = v.clone().flatten();
            }
        };
        set("description", &self.description, &mut row.description);
        set("host", &self.host, &mut row.host);
        set("login", &self.login, &mut row.login);
        set("schema", &self.schema, &mut row.schema);
        if mask.wants("port", self.port.is_some()) {
            row.port = self.port.flatten();
        }
        let (old_pw, old_extra) = old
            .and_then(|o| c.connection(o).ok())
            .unwrap_or((None, None));
        if mask.wants("password", self.password.is_some()) {
            row.password = match self.password.clone().flatten() {
                Some(p) if p == MASK && old_pw.is_some() => old.and_then(|o| o.password.clone()),
                Some(p) => Some(c.encrypt(&p)),
                None => None,
            };
        }
        if mask.wants("extra", self.extra.is_some()) {
            row.extra = self.extra.clone().flatten().map(|e| {
                let e = if e.is_empty() { "{}".to_string() } else { e };
                let merged = match (
                    serde_json::from_str::<Value>(&e),
                    old_extra.as_deref().map(serde_json::from_str::<Value>),
                ) {
                    (Ok(n), Some(Ok(o))) => unmask(&n, &o).to_string(),
                    _ => e,
                };
                c.encrypt(&merged)
            });
        }
        row
    }
}

/// Checks that `extra` is a JSON object (or empty), Airflow's rule and message.
fn extra_object(e: &str) -> Result<(), OpError> {
    if e.is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<Value>(e) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(OpError::invalid(
            "extra",
            "value_error",
            "Value error, The `extra` field must be a valid JSON object (e.g., {'key': 'value'})",
            json!(e),
        )),
        Err(_) => Err(OpError::invalid(
            "extra",
            "value_error",
            "Value error, The `extra` field must be a valid JSON object (e.g., {'key': 'value'}), but encountered non-JSON in `extra` field",
            json!(e),
        )),
    }
}

impl Resource for Connections {
    type Body = ConnectionBody;
    type Row = ConnectionRow;
    const KIND: &'static str = "connection";
    const WHAT: &'static str = "connections with these connection_ids:";
    const MASKING: Masking = Masking::Connection;
    const PATH_PARAM: &'static str = "connection_id";

    fn body_id(b: &ConnectionBody) -> &str {
        &b.connection_id
    }

    fn validate(b: &ConnectionBody, _: bool) -> Result<(), OpError> {
        let id = &b.connection_id;
        if id.is_empty()
            || id.chars().count() > MAX_CONN_ID
            || !id
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(OpError::invalid(
                "connection_id",
                "string_pattern_mismatch",
                format!(
                    "String should match pattern '^[\\w.-]+$' and be at most {MAX_CONN_ID} characters: letters, digits, '_', '.' and '-'"
                ),
                json!(id),
            ));
        }
        if let Some(Some(e)) = &b.extra {
            extra_object(e)?;
        }
        no_team(&b.team_name)
    }

    fn new_row(b: &ConnectionBody, c: &Cipher) -> Result<ConnectionRow, OpError> {
        Ok(b.row(c, None, &Mask::all()))
    }

    fn updated(
        old: &ConnectionRow,
        b: &ConnectionBody,
        c: &Cipher,
        mask: &Mask,
    ) -> Result<ConnectionRow, OpError> {
        Ok(b.row(c, Some(old), mask))
    }

    fn not_found(id: &str) -> OpError {
        OpError::NotFound(format!(
            "The Connection with connection_id: `{id}` was not found"
        ))
    }

    fn exists(id: &str) -> OpError {
        OpError::Conflict(format!(
            "The Connection with connection_id: `{id}` already exists"
        ))
    }

    fn mismatch(body_id: &str, path_id: &str) -> Option<OpError> {
        (body_id != path_id).then(|| {
            OpError::BadRequest(format!(
                "The connection_id in the request body ({body_id:?}) does not match the URL parameter ({path_id:?})"
            ))
        })
    }
}

/// A connection body checked and merged over the stored connection of the same id (so a
/// saved password is used): what `connections/test` tries to reach.
pub async fn connection_to_test(ops: &Ops, body: ConnectionBody) -> Result<ConnectionRow, OpError> {
    Connections::validate(&body, true)?;
    let id = body.connection_id.clone();
    let old = ops
        .store
        .read(move |db| q::get::<ConnectionRow>(db, &id))
        .await?;
    let c = cipher(ops)?;
    Ok(body.row(&c, old.as_ref(), &Mask::all()))
}

/// `connections/defaults`: Airflow creates its sample connections; Lite has none to create,
/// so this only records the request.
pub async fn create_default_connections(ops: &Ops, who: &Identity) -> Result<(), OpError> {
    let who = who.clone();
    ops.commit(move |tx, _| {
        let entry = Entry::new("create_default_connections").extra(json!({"method": "POST"}));
        audit(tx, &who, entry)
    })
    .await
}

// --- pools -------------------------------------------------------------------------------

/// The longest pool name Airflow accepts.
const MAX_POOL_NAME: usize = 256;

/// Pools (`/api/v2/pools`); `default_pool` cannot be deleted and only its `slots` and
/// `include_deferred` change.
pub struct Pools;

/// `PoolBody` and `PoolPatchBody` in one: the name is `name` (or `pool`, the patch alias).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolBody {
    #[serde(default, alias = "pool")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    slots: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    include_deferred: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    team_name: Option<Option<String>>,
}

fn int_type() -> OpError {
    OpError::invalid(
        "slots",
        "int_type",
        "Input should be a valid integer",
        Value::Null,
    )
}

impl Resource for Pools {
    type Body = PoolBody;
    type Row = PoolRow;
    const KIND: &'static str = "pool";
    const WHAT: &'static str = "pools with these pool names:";
    const MASKING: Masking = Masking::Sensitive;
    const PATH_PARAM: &'static str = "pool_name";
    const WAKES: bool = true;

    fn body_id(b: &PoolBody) -> &str {
        b.name.as_deref().unwrap_or("")
    }

    fn validate(b: &PoolBody, creating: bool) -> Result<(), OpError> {
        match &b.name {
            None if creating => return Err(missing("name")),
            Some(n) if n.is_empty() || n.chars().count() > MAX_POOL_NAME => {
                return Err(OpError::invalid(
                    "name",
                    "string_too_long",
                    format!("The pool name must be 1 to {MAX_POOL_NAME} characters long"),
                    json!(n),
                ));
            }
            _ => {}
        }
        match b.slots {
            None if creating => return Err(missing("slots")),
            Some(None) if creating => return Err(int_type()),
            Some(Some(n)) if n < -1 => {
                return Err(OpError::invalid(
                    "slots",
                    "greater_than_equal",
                    "Input should be greater than or equal to -1 (-1 means unlimited slots)",
                    json!(n),
                ));
            }
            _ => {}
        }
        no_team(&b.team_name)
    }

    fn new_row(b: &PoolBody, _: &Cipher) -> Result<PoolRow, OpError> {
        Ok(PoolRow {
            pool: Self::body_id(b).to_string(),
            slots: b.slots.flatten().unwrap_or(0),
            description: b.description.clone().flatten(),
            include_deferred: b.include_deferred.flatten().unwrap_or(false),
            running: 0,
            queued: 0,
            scheduled: 0,
            deferred: 0,
        })
    }

    fn updated(old: &PoolRow, b: &PoolBody, _: &Cipher, mask: &Mask) -> Result<PoolRow, OpError> {
        let mut row = old.clone();
        if mask.wants("slots", b.slots.is_some()) {
            row.slots = b.slots.flatten().ok_or_else(int_type)?;
        }
        if mask.wants("include_deferred", b.include_deferred.is_some()) {
            row.include_deferred = b.include_deferred.flatten().unwrap_or(false);
        }
        if mask.wants("description", b.description.is_some()) {
            row.description = b.description.clone().flatten();
        }
        if old.pool == DEFAULT_POOL && row.description != old.description {
            return Err(OpError::BadRequest(
                "Only slots and included_deferred can be modified on Default Pool".into(),
            ));
        }
        Ok(row)
    }

    /// An overwrite keeps what the body does not send (the default pool its description).
    fn overwrite(old: &PoolRow, b: &PoolBody, c: &Cipher) -> Result<PoolRow, OpError> {
        Self::updated(old, b, c, &Mask::all())
    }

    fn deletable(id: &str) -> Result<(), OpError> {
        if id == DEFAULT_POOL {
            return Err(OpError::BadRequest("Default Pool can't be deleted".into()));
        }
        Ok(())
    }

    fn not_found(id: &str) -> OpError {
        OpError::NotFound(format!("The Pool with name: `{id}` was not found"))
    }

    fn exists(id: &str) -> OpError {
        OpError::Conflict(format!("The Pool with name: `{id}` already exists"))
    }

    fn mismatch(body_id: &str, path_id: &str) -> Option<OpError> {
        (!body_id.is_empty() && body_id != path_id).then(|| {
            OpError::BadRequest(format!(
                "Invalid body, pool name from request body ({body_id:?}) doesn't match uri parameter ({path_id:?})"
            ))
        })
    }
}

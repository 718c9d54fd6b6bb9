//! Query-string parsing with Airflow's (FastAPI's) rules: repeated keys (`tags=a&tags=b`),
//! `limit` (default 50, capped at 100) and `offset`, `order_by` with `-field`, and 422 answers
//! in FastAPI's shape for values that do not parse.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::Value;

use super::ApiError;
pub use crate::store::filter::{Cmp, Cond, Filter, Order, Val};

/// The raw query pairs of a request.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        Ok(Params(
            form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
        ))
    }
}

/// Airflow's default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Airflow's maximum page size.
pub const MAX_LIMIT: i64 = 100;

impl Params {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// An integer parameter, 422 when it does not parse or is below `min`.
    pub fn int(&self, k: &str, default: i64, min: i64) -> Result<i64, ApiError> {
        match self.get(k) {
            None | Some("") => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= min => Ok(n),
                Ok(_) => Err(ApiError::unprocessable(
                    "greater_than_equal",
                    &["query", k],
                    format!("Input should be greater than or equal to {min}"),
                    Value::String(v.into()),
                )),
                Err(_) => Err(ApiError::unprocessable(
                    "int_parsing",
                    &["query", k],
                    "Input should be a valid integer, unable to parse string as an integer",
                    Value::String(v.into()),
                )),
            },
        }
    }

    /// A boolean parameter as FastAPI reads them.
    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.get(k) {
            None | Some("") => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "t" | "y" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "f" | "n" => Ok(Some(false)),
                _ => Err(ApiError::unprocessable(
                    "bool_parsing",
                    &["query", k],
                    "Input should be a valid boolean, unable to interpret input",
                    Value::String(v.into()),
                )),
            },
        }
    }

    /// `(limit, offset)`: limit defaults to 50 and is capped at 100.
    pub fn page(&self) -> Result<(i64, i64), ApiError> {
        Ok((
            self.int("limit", DEFAULT_LIMIT, 0)?.min(MAX_LIMIT),
            self.int("offset", 0, 0)?,
        ))
    }

    /// `order_by` mapped through `allowed` (API name → the store's field name): the order
    /// (empty when absent).
    pub fn order_by(&self, allowed: &[(&str, &'static str)]) -> Result<Order, ApiError> {
        let Some(v) = self.get("order_by").filter(|v| !v.is_empty()) else {
            return Ok(Vec::new());
        };
        let (name, desc) = match v.strip_prefix('-') {
            Some(n) => (n, true),
            None => (v, false),
        };
        match allowed.iter().find(|(api, _)| *api == name) {
            Some((_, field)) => Ok(vec![(*field, desc)]),
            None => Err(ApiError::bad_request(format!(
                "Ordering with '{name}' is disallowed or the attribute does not exist on the model"
            ))),
        }
    }

    /// Whether `order_by` asks for descending order (for lists ordered in memory).
    pub fn descending(&self, allowed: &[&str]) -> Result<bool, ApiError> {
        let pairs: Vec<(&str, &'static str)> = allowed.iter().map(|a| (*a, "")).collect();
        Ok(self.order_by(&pairs)?.first().is_some_and(|(_, d)| *d))
    }
}

/// Parses an RFC 3339 timestamp (or a plain `YYYY-MM-DD`, midnight UTC) into the form the
/// store keeps (UTC, microseconds, `Z`); `None` when it does not parse.
pub use crate::ops::timestamp as parse_ts;

/// A 422 for a value that is not a timestamp, at `loc` (e.g. `["query", "start_date_gte"]`).
pub fn bad_ts(loc: &[&str], v: &str) -> ApiError {
    ApiError::unprocessable(
        "datetime_from_date_parsing",
        loc,
        "Input should be a valid datetime or date (RFC 3339, e.g. 2026-01-31T00:00:00Z)",
        Value::String(v.into()),
    )
}

impl Params {
    /// Applies Airflow's range filters `{name}_gte`, `_gt`, `_lte`, `_lt` for each
    /// `(name, field)`: timestamps, or numbers when the field is a `duration`.
    pub fn ranges(&self, f: &mut Filter, fields: &[(&str, &'static str)]) -> Result<(), ApiError> {
        for (name, field) in fields {
            for (suffix, op) in [
                ("gte", Cmp::Gte),
                ("gt", Cmp::Gt),
                ("lte", Cmp::Lte),
                ("lt", Cmp::Lt),
            ] {
                let k = format!("{name}_{suffix}");
                let Some(v) = self.get(&k).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let val = if field.ends_with("duration") {
                    let n: f64 = v.trim().parse().map_err(|_| {
                        ApiError::unprocessable(
                            "float_parsing",
                            &["query", &k],
                            "Input should be a valid number, unable to parse string as a number",
                            Value::String(v.into()),
                        )
                    })?;
                    Val::Real(n)
                } else {
                    Val::Text(parse_ts(v).ok_or_else(|| bad_ts(&["query", &k], v))?)
                };
                f.push(Cond::Range(field, op, val));
            }
        }
        Ok(())
    }

    /// Applies Airflow's `{name}_pattern` (a `LIKE '%term%'`, `|` for OR, `~` for all) and
    /// `{name}_prefix_pattern` for each `(name, field)`.
    pub fn patterns(&self, f: &mut Filter, fields: &[(&str, &'static str)]) {
        for (name, field) in fields {
            if let Some(terms) = self.terms(&format!("{name}_pattern")) {
                f.push(Cond::Contains(field, terms));
            }
            if let Some(terms) = self.terms(&format!("{name}_prefix_pattern")) {
                f.push(Cond::StartsWith(field, terms));
            }
        }
    }

    /// The `|`-separated terms of a pattern parameter; `None` when absent, empty or `~`
    /// (everything matches).
    pub fn terms(&self, k: &str) -> Option<Vec<String>> {
        let v = self.get(k).filter(|v| !v.is_empty())?;
        let terms: Vec<String> = v
            .split('|')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        (!terms.is_empty() && !terms.iter().any(|t| t == "~")).then_some(terms)
    }

    /// Applies `field IN (values)` for each repeated `(name, field)` parameter.
    pub fn lists(&self, f: &mut Filter, fields: &[(&str, &'static str)]) {
        for (name, field) in fields {
            let values: Vec<String> = self
                .all(name)
                .into_iter()
                .filter(|v| !v.is_empty())
                .collect();
            f.any_of(field, &values);
        }
    }

    /// Applies `field = n` for each integer `(name, field)` parameter; 422 when not an integer.
    pub fn ints(&self, f: &mut Filter, fields: &[(&str, &'static str)]) -> Result<(), ApiError> {
        for (name, field) in fields {
            if self.get(name).is_some_and(|v| !v.is_empty()) {
                let n = self.int(name, 0, i64::MIN)?;
                f.eq(field, n);
            }
        }
        Ok(())
    }
}

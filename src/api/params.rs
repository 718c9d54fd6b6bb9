//! Query-string parsing with Airflow's (FastAPI's) rules: repeated keys (`tags=a&tags=b`),
//! `limit` (default 50, capped at 100) and `offset`, `order_by` with `-field`, and 422 answers
//! in FastAPI's shape for values that do not parse.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::Value;

use super::ApiError;
pub use crate::store::runs::Where;

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

    /// `order_by` mapped through `allowed` (API name → SQL column); `(column, descending)`.
    pub fn order_by(
        &self,
        allowed: &[(&str, &'static str)],
    ) -> Result<Option<(&'static str, bool)>, ApiError> {
        let Some(v) = self.get("order_by").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let (name, desc) = match v.strip_prefix('-') {
            Some(n) => (n, true),
            None => (v, false),
        };
        match allowed.iter().find(|(api, _)| *api == name) {
            Some((_, col)) => Ok(Some((col, desc))),
            None => Err(ApiError::bad_request(format!(
                "Ordering with '{name}' is disallowed or the attribute does not exist on the model"
            ))),
        }
    }
}

/// Parses an RFC 3339 timestamp (or a plain `YYYY-MM-DD`, midnight UTC) into the form the
/// store keeps (UTC, microseconds, `Z`); `None` when it does not parse.
pub fn parse_ts(v: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })?;
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

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
    /// `(name, column)`: timestamps, or numbers when the column name ends in `duration`.
    pub fn ranges(&self, wh: &mut Where, fields: &[(&str, &str)]) -> Result<(), ApiError> {
        for (name, col) in fields {
            for (suffix, op) in [("gte", ">="), ("gt", ">"), ("lte", "<="), ("lt", "<")] {
                let k = format!("{name}_{suffix}");
                let Some(v) = self.get(&k).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let p = if col.ends_with("duration") {
                    let n: f64 = v.trim().parse().map_err(|_| {
                        ApiError::unprocessable(
                            "float_parsing",
                            &["query", &k],
                            "Input should be a valid number, unable to parse string as a number",
                            Value::String(v.into()),
                        )
                    })?;
                    wh.arg(n)
                } else {
                    wh.arg(parse_ts(v).ok_or_else(|| bad_ts(&["query", &k], v))?)
                };
                wh.raw(format!("{col} {op} {p}"));
            }
        }
        Ok(())
    }

    /// Applies Airflow's `{name}_pattern` (`LIKE '%term%'`, `|` for OR, `~` for all) and
    /// `{name}_prefix_pattern` for each `(name, column)`.
    pub fn patterns(&self, wh: &mut Where, fields: &[(&str, &str)]) {
        for (name, col) in fields {
            if let Some(v) = self
                .get(&format!("{name}_pattern"))
                .filter(|v| !v.is_empty())
            {
                wh.like(col, v);
            }
            if let Some(v) = self
                .get(&format!("{name}_prefix_pattern"))
                .filter(|v| !v.is_empty())
            {
                wh.prefix(col, v);
            }
        }
    }

    /// Applies `column IN (values)` for each repeated `(name, column)` parameter.
    pub fn lists(&self, wh: &mut Where, fields: &[(&str, &str)]) {
        for (name, col) in fields {
            let values: Vec<String> = self
                .all(name)
                .into_iter()
                .filter(|v| !v.is_empty())
                .collect();
            wh.any_of(col, &values);
        }
    }

    /// Applies `column = n` for each integer `(name, column)` parameter; 422 when not an integer.
    pub fn ints(&self, wh: &mut Where, fields: &[(&str, &str)]) -> Result<(), ApiError> {
        for (name, col) in fields {
            if self.get(name).is_some_and(|v| !v.is_empty()) {
                let n = self.int(name, 0, i64::MIN)?;
                wh.eq(col, n);
            }
        }
        Ok(())
    }
}

//! Filters, orders and pages for the store's list queries, named by field, never by SQL.
//!
//! Callers (the API's query parsing) describe what they want as a [`Filter`] of [`Cond`]s over
//! field names (`"run_after"`, `"state"`, ...), an [`Order`] and a page. Each table of the
//! store keeps a [`Fields`] whitelist mapping those names to SQL expressions; [`Where`] turns a
//! filter into a parameterised `WHERE` clause through it. A field name that is not in the
//! whitelist is a programming error ([`StoreError::UnknownField`]), never SQL.
//!
//! **Invariant:** every SQL fragment comes from this module or a table's whitelist; values
//! from requests only ever travel as bound parameters.

use rusqlite::types::Value as Sql;

use super::{Result, StoreError};

/// A value compared against a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    Int(i64),
    Real(f64),
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_string())
    }
}

impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Int(n)
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Int(b as i64)
    }
}

impl From<f64> for Val {
    fn from(n: f64) -> Val {
        Val::Real(n)
    }
}

impl From<Val> for Sql {
    fn from(v: Val) -> Sql {
        match v {
            Val::Text(s) => Sql::Text(s),
            Val::Int(n) => Sql::Integer(n),
            Val::Real(n) => Sql::Real(n),
        }
    }
}

/// A range comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gte,
    Gt,
    Lte,
    Lt,
}

impl Cmp {
    fn sql(self) -> &'static str {
        match self {
            Cmp::Gte => ">=",
            Cmp::Gt => ">",
            Cmp::Lte => "<=",
            Cmp::Lt => "<",
        }
    }
}

/// One condition over a named field.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `field = value`.
    Eq(&'static str, Val),
    /// `field IN (values)`; `or_null` also matches NULL (Airflow's `none` state).
    In {
        field: &'static str,
        values: Vec<Val>,
        or_null: bool,
    },
    /// `field NOT IN (values)` (NULL does not match).
    NotIn(&'static str, Vec<Val>),
    /// Any of the terms occurs in the field: SQL `LIKE '%term%'` (case-insensitive for ASCII,
    /// `%` and `_` inside a term are wildcards), as Airflow's `*_pattern`.
    Contains(&'static str, Vec<String>),
    /// The field starts with any of the prefixes (case-sensitive, no wildcards), as
    /// Airflow's `*_prefix_pattern`.
    StartsWith(&'static str, Vec<String>),
    /// `field <op> value`.
    Range(&'static str, Cmp, Val),
    /// Any of the conditions holds.
    Or(Vec<Cond>),
    /// Nothing matches.
    Never,
}

/// Conditions that must all hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub conds: Vec<Cond>,
}

impl Filter {
    pub fn push(&mut self, c: Cond) {
        self.conds.push(c);
    }

    pub fn eq(&mut self, field: &'static str, v: impl Into<Val>) {
        self.push(Cond::Eq(field, v.into()));
    }

    /// `field IN values`, `none`/`no_status` matching NULL; nothing when `values` is empty.
    pub fn any_of(&mut self, field: &'static str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let or_null = values.iter().any(|v| v == "none" || v == "no_status");
        let values = values
            .iter()
            .filter(|v| *v != "none" && *v != "no_status")
            .map(|v| Val::Text(v.clone()))
            .collect();
        self.push(Cond::In {
            field,
            values,
            or_null,
        });
    }

    /// Matches nothing (an impossible filter value, an unsupported feature...).
    pub fn never(&mut self) {
        self.push(Cond::Never);
    }

    pub fn is_empty(&self) -> bool {
        self.conds.is_empty()
    }
}

/// An order: fields, each descending or not. The table's key always breaks ties.
pub type Order = Vec<(&'static str, bool)>;

/// A page: `(limit, offset)`.
pub type Page = (i64, i64);

/// A table's whitelist: field name → SQL expression over the table's alias.
#[derive(Debug, Clone, Copy)]
pub struct Fields(pub(in crate::store) &'static [(&'static str, &'static str)]);

impl Fields {
    /// The SQL of `field`.
    pub(in crate::store) fn sql(&self, field: &str) -> Result<&'static str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, sql)| *sql)
            .ok_or_else(|| StoreError::UnknownField(field.to_string()))
    }

    /// Whether `field` can be filtered or ordered on.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(name, _)| *name == field)
    }
}

/// A `WHERE` clause: SQL fragments (from whitelists) and their positional arguments.
#[derive(Debug, Clone, Default)]
pub(in crate::store) struct Where {
    pub clauses: Vec<String>,
    pub args: Vec<Sql>,
}

impl Where {
    /// The clause of `filter` over `fields`.
    pub fn of(filter: &Filter, fields: &Fields) -> Result<Where> {
        let mut w = Where::default();
        w.add(filter, fields)?;
        Ok(w)
    }

    /// ANDs the conditions of `filter` (over `fields`) in.
    pub fn add(&mut self, filter: &Filter, fields: &Fields) -> Result<()> {
        for c in &filter.conds {
            let sql = self.cond(c, fields)?;
            self.clauses.push(sql);
        }
        Ok(())
    }

    fn cond(&mut self, c: &Cond, fields: &Fields) -> Result<String> {
        Ok(match c {
            Cond::Eq(f, v) => {
                let col = fields.sql(f)?;
                format!("{col} = {}", self.arg(v.clone()))
            }
            Cond::In {
                field,
                values,
                or_null,
            } => {
                let col = fields.sql(field)?;
                let mut parts = Vec::new();
                if !values.is_empty() {
                    let list: Vec<String> = values.iter().map(|v| self.arg(v.clone())).collect();
                    parts.push(format!("{col} IN ({})", list.join(",")));
                }
                if *or_null {
                    parts.push(format!("{col} IS NULL"));
                }
                if parts.is_empty() {
                    "0 = 1".into()
                } else {
                    format!("({})", parts.join(" OR "))
                }
            }
            Cond::NotIn(f, values) => {
                let col = fields.sql(f)?;
                if values.is_empty() {
                    "1 = 1".into()
                } else {
                    let list: Vec<String> = values.iter().map(|v| self.arg(v.clone())).collect();
                    format!("{col} NOT IN ({})", list.join(","))
                }
            }
            Cond::Contains(f, terms) => {
                let col = fields.sql(f)?;
                let parts: Vec<String> = terms
                    .iter()
                    .map(|t| format!("{col} LIKE {}", self.arg(format!("%{t}%"))))
                    .collect();
                any(parts)
            }
            Cond::StartsWith(f, terms) => {
                let col = fields.sql(f)?;
                let parts: Vec<String> = terms
                    .iter()
                    .map(|t| {
                        let p = self.arg(t.clone());
                        format!("substr({col}, 1, length({p})) = {p}")
                    })
                    .collect();
                any(parts)
            }
            Cond::Range(f, op, v) => {
                let col = fields.sql(f)?;
                format!("{col} {} {}", op.sql(), self.arg(v.clone()))
            }
            Cond::Or(conds) => {
                let parts = conds
                    .iter()
                    .map(|c| self.cond(c, fields))
                    .collect::<Result<Vec<_>>>()?;
                any(parts)
            }
            Cond::Never => "0 = 1".into(),
        })
    }

    /// Adds `arg` and returns its placeholder (`?N`).
    pub fn arg(&mut self, v: impl Into<Sql>) -> String {
        self.args.push(v.into());
        format!("?{}", self.args.len())
    }

    /// A raw condition written in the store (no arguments).
    pub fn raw(&mut self, cond: impl Into<String>) {
        self.clauses.push(cond.into());
    }

    /// The clause (`1 = 1` when empty).
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1 = 1".into()
        } else {
            self.clauses.join(" AND ")
        }
    }
}

/// `(a OR b ...)`; a never-true clause for no alternative.
fn any(parts: Vec<String>) -> String {
    if parts.is_empty() {
        "0 = 1".into()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

/// `ORDER BY` terms of `order` over `fields` (each `SQL ASC|DESC`).
pub(in crate::store) fn order_sql(order: &Order, fields: &Fields) -> Result<Vec<String>> {
    order
        .iter()
        .map(|(f, desc)| {
            Ok(format!(
                "{} {}",
                fields.sql(f)?,
                if *desc { "DESC" } else { "ASC" }
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Fields = Fields(&[("id", "d.dag_id"), ("n", "d.n")]);

    #[test]
    fn fields_become_whitelisted_sql_and_values_parameters() {
        let mut f = Filter::default();
        f.push(Cond::Contains("id", vec!["a".into(), "b".into()]));
        f.push(Cond::StartsWith("id", vec!["x".into()]));
        f.push(Cond::Range("n", Cmp::Gte, Val::Int(3)));
        f.any_of("id", &["none".into(), "q".into()]);
        let w = Where::of(&f, &F).unwrap();
        assert_eq!(
            w.sql(),
            "(d.dag_id LIKE ?1 OR d.dag_id LIKE ?2) AND (substr(d.dag_id, 1, length(?3)) = ?3) AND d.n >= ?4 AND (d.dag_id IN (?5) OR d.dag_id IS NULL)"
        );
        assert_eq!(w.args.len(), 5);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut f = Filter::default();
        f.eq("1=1; DROP TABLE dag", 1);
        assert!(matches!(
            Where::of(&f, &F),
            Err(StoreError::UnknownField(_))
        ));
        assert!(order_sql(&vec![("nope", true)], &F).is_err());
    }
}

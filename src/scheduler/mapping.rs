//! Dynamic task mapping: how many map indexes a mapped task expands to, computed at run time
//! from its `expand`/`expand_kwargs` inputs as Airflow does: literal lists and dicts by their
//! length, an upstream's XCom by the length of the list or dict it pushed (or by its number
//! of map indexes when the upstream is mapped itself), `.map()` keeping the length, `.zip()`
//! the shortest, `.concat()` the sum, several `expand` keywords their cartesian product.
//!
//! Pure: the caller supplies the XCom lookup. What each map index receives is resolved by the
//! Python runtime from the same inputs (`python/PROTOCOL.md`).

use serde_json::Value;

/// Airflow's `[core] max_map_length`.
pub const MAX_MAP_LENGTH: usize = 1024;

/// The values an upstream pushed under `key` in this run: one per map index for a mapped
/// upstream (in map index order), else zero or one value.
pub trait XcomSource {
    fn values(&self, task_id: &str, key: &str) -> Result<Pulled, String>;
    /// The value of a DAG param (for `expand(x=dag.param("name"))`).
    fn param(&self, name: &str) -> Option<Value>;
}

/// What an upstream pushed.
pub enum Pulled {
    /// An unmapped upstream: its value, if it pushed one.
    Single(Option<Value>),
    /// A mapped upstream: how many map indexes it has.
    Mapped(usize),
}

/// The number of map indexes `mapped` (the task's `mapped` spec) expands to.
pub fn expand_len(task_id: &str, mapped: &Value, src: &dyn XcomSource) -> Result<usize, String> {
    let n = if let Some(kwargs) = mapped.get("expand_kwargs").filter(|v| !v.is_null()) {
        input_len(task_id, "expand_kwargs", kwargs, src)?
    } else {
        let Some(expand) = mapped.get("expand").and_then(Value::as_object) else {
            return Err(format!(
                "task {task_id:?} is mapped but names no expand input"
            ));
        };
        let mut n: usize = 1;
        for (k, v) in expand {
            n = n.saturating_mul(input_len(task_id, k, v, src)?);
        }
        if expand.is_empty() { 0 } else { n }
    };
    if n > MAX_MAP_LENGTH {
        return Err(format!(
            "task {task_id:?} would expand to {n} map indexes; the limit (Airflow's max_map_length) is {MAX_MAP_LENGTH}"
        ));
    }
    Ok(n)
}

fn input_len(task_id: &str, field: &str, v: &Value, src: &dyn XcomSource) -> Result<usize, String> {
    if let Some(arg) = v.get("__xcomarg__") {
        return xcomarg_len(task_id, field, arg, src);
    }
    if let Some(p) = v.get("__dagparam__") {
        let name = p["name"].as_str().unwrap_or_default();
        let value = src.param(name).unwrap_or_else(|| p["default"].clone());
        return literal_len(task_id, field, &value);
    }
    literal_len(task_id, field, v)
}

fn literal_len(task_id: &str, field: &str, v: &Value) -> Result<usize, String> {
    match v {
        Value::Array(a) => Ok(a.len()),
        Value::Object(m) => Ok(m.len()),
        other => Err(format!(
            "cannot expand task {task_id:?} over {field}={other}: expand() accepts a list or a dict"
        )),
    }
}

fn xcomarg_len(
    task_id: &str,
    field: &str,
    arg: &Value,
    src: &dyn XcomSource,
) -> Result<usize, String> {
    let upstream = arg["task_id"].as_str().unwrap_or_default();
    let key = arg["key"].as_str().unwrap_or("return_value");
    let mut n = match src.values(upstream, key)? {
        Pulled::Mapped(n) => n,
        Pulled::Single(None) | Pulled::Single(Some(Value::Null)) => {
            return Err(format!(
                "task {upstream:?} did not push XCom for task mapping ({task_id:?} expands {field} over its {key:?})"
            ));
        }
        Pulled::Single(Some(v @ (Value::Array(_) | Value::Object(_)))) => {
            literal_len(task_id, field, &v)?
        }
        Pulled::Single(Some(v)) => {
            return Err(format!(
                "unmappable return type {:?} pushed by task {upstream:?}: {task_id:?} expands {field} over it; push a list or a dict",
                json_type(&v)
            ));
        }
    };
    for other in arg["zip"].as_array().into_iter().flatten() {
        n = n.min(input_len(task_id, field, other, src)?);
    }
    for other in arg["concat"].as_array().into_iter().flatten() {
        n += input_len(task_id, field, other, src)?;
    }
    Ok(n)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    struct Fake(HashMap<&'static str, Pulled>);
    impl XcomSource for Fake {
        fn values(&self, task_id: &str, _key: &str) -> Result<Pulled, String> {
            Ok(match self.0.get(task_id) {
                Some(Pulled::Mapped(n)) => Pulled::Mapped(*n),
                Some(Pulled::Single(v)) => Pulled::Single(v.clone()),
                None => Pulled::Single(None),
            })
        }
        fn param(&self, name: &str) -> Option<Value> {
            (name == "items").then(|| json!(["a", "b", "c", "d"]))
        }
    }

    fn src() -> Fake {
        Fake(HashMap::from([
            ("numbers", Pulled::Single(Some(json!([1, 2, 3])))),
            ("letters", Pulled::Single(Some(json!({"a": 1, "b": 2})))),
            ("scalar", Pulled::Single(Some(json!(7)))),
            ("mapped", Pulled::Mapped(5)),
        ]))
    }

    fn x(task: &str) -> Value {
        json!({"__xcomarg__": {"task_id": task, "key": "return_value"}})
    }

    #[test]
    fn literals_xcom_and_products() {
        let s = src();
        let m = json!({"expand": {"x": [1, 2, 3]}, "partial": {}});
        assert_eq!(expand_len("t", &m, &s), Ok(3));
        let m = json!({"expand": {"x": x("numbers"), "y": x("letters")}});
        assert_eq!(expand_len("t", &m, &s), Ok(6));
        let m = json!({"expand": {"x": x("mapped")}});
        assert_eq!(expand_len("t", &m, &s), Ok(5));
        let m = json!({"expand": {}, "expand_kwargs": [{"a": 1}, {"a": 2}]});
        assert_eq!(expand_len("t", &m, &s), Ok(2));
        let m = json!({"expand": {"x": []}});
        assert_eq!(expand_len("t", &m, &s), Ok(0));
        let m = json!({"expand": {"x": {"__dagparam__": {"name": "items", "default": []}}}});
        assert_eq!(expand_len("t", &m, &s), Ok(4));
    }

    #[test]
    fn zip_concat_and_map() {
        let s = src();
        let zip = json!({"__xcomarg__": {"task_id": "numbers", "key": "return_value", "zip": [x("letters")]}});
        assert_eq!(expand_len("t", &json!({"expand": {"v": zip}}), &s), Ok(2));
        let cat = json!({"__xcomarg__": {"task_id": "numbers", "key": "return_value", "concat": [x("letters")]}});
        assert_eq!(expand_len("t", &json!({"expand": {"v": cat}}), &s), Ok(5));
        let map = json!({"__xcomarg__": {"task_id": "numbers", "key": "return_value", "map": [{"__callable__": {}}]}});
        assert_eq!(expand_len("t", &json!({"expand": {"v": map}}), &s), Ok(3));
    }

    #[test]
    fn bad_inputs_name_the_task_and_the_type() {
        let s = src();
        let e = expand_len("t", &json!({"expand": {"x": x("scalar")}}), &s).unwrap_err();
        assert!(
            e.contains("unmappable return type \"int\"") && e.contains("scalar"),
            "{e}"
        );
        let e = expand_len("t", &json!({"expand": {"x": x("silent")}}), &s).unwrap_err();
        assert!(e.contains("did not push XCom for task mapping"), "{e}");
        let e = expand_len("t", &json!({"expand": {"x": 3}}), &s).unwrap_err();
        assert!(e.contains("list or a dict"), "{e}");
        let big: Vec<i32> = (0..2000).collect();
        let e = expand_len("t", &json!({"expand": {"x": big}}), &s).unwrap_err();
        assert!(e.contains("max_map_length"), "{e}");
    }
}

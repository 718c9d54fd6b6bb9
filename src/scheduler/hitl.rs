//! Human-in-the-loop waits (Airflow's `HITLOperator` and its `HITLTrigger`): a try that asks a
//! person defers, without a process, until an answer (`ops::hitl::respond`) or its response
//! deadline resumes it. The try then runs again, as the same try, and calls the operator's
//! `execute_complete` with the event Airflow's trigger would send.
//!
//! Called by the scheduler (recording a request, deadlines) and by `ops::hitl` (the event of
//! an answer). No HTTP here.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::store::hitl::{self, Answer, HitlRow};
use crate::store::tis::TiRow;
use crate::store::{StoreError, Tx, sched};

/// The method a resumed HITL try calls (the operator's `defer(method_name=...)`).
pub const METHOD: &str = "execute_complete";

/// Airflow's message when no answer came in time and the operator has no defaults.
pub const TIMEOUT_ERROR: &str =
    "The timeout has passed, and the response has not yet been received.";

/// The resume of an answered detail: Airflow's `HITLTriggerEventSuccessPayload` (datetimes as
/// the runtime's `{"__datetime__": ...}` VALUE tags).
pub fn answered(method: &str, h: &HitlRow) -> Value {
    json!({
        "method": method,
        "event": {
            "chosen_options": h.chosen_options.clone().unwrap_or_else(|| json!([])),
            "params_input": h.params_input,
            "responded_at": {"__datetime__": h.responded_at},
            "responded_by_user": h.responded_by,
            "timedout": h.responded_by.is_none(),
        },
    })
}

/// The request a deferred try's result carries (`defer.hitl`) as a row of `ti`'s try.
pub fn request(ti: &TiRow, defer: &Value, now: &str) -> Option<HitlRow> {
    let h = defer.get("hitl")?;
    let list = |v: &Value| v.as_array().map(|_| v.clone());
    Some(HitlRow {
        ti_id: ti.id.clone(),
        try_number: ti.try_number,
        options: list(&h["options"])?,
        subject: h["subject"].as_str()?.to_string(),
        body: h["body"].as_str().map(String::from),
        defaults: list(&h["defaults"]),
        multiple: h["multiple"] == true,
        params: h["params"].as_object().map(|_| h["params"].clone())?,
        assignees: list(&h["assigned_users"]),
        created_at: now.to_string(),
        timeout_at: defer["timeout_at"].as_str().and_then(crate::ops::timestamp),
        responded_at: None,
        responded_by: None,
        chosen_options: None,
        params_input: json!({}),
    })
}

/// The `params` of a detail as plain values (`ParamsDict.dump()`).
pub fn params_dump(params: &Value) -> Value {
    Value::Object(
        params
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, p)| (k.clone(), p.get("value").cloned().unwrap_or(Value::Null)))
            .collect(),
    )
}

/// Resumes the deferred tries whose response deadline passed (Airflow's `_handle_timeout`):
/// with the defaults as the answer (nobody responded, `timedout`), or, without defaults, with
/// the timeout error the operator raises as `HITLTimeoutError`. Returns the resumed task
/// instance ids and the next deadline still ahead.
pub fn time_out(
    tx: &Tx<'_>,
    now: DateTime<Utc>,
) -> Result<(Vec<String>, Option<DateTime<Utc>>), StoreError> {
    let now_s = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut resumed = Vec::new();
    for mut h in hitl::timed_out(tx, &now_s)? {
        let resume = match &h.defaults {
            Some(defaults) => {
                let dump = params_dump(&h.params);
                let answer = Answer {
                    at: &now_s,
                    by: None,
                    chosen_options: defaults,
                    params_input: &dump,
                };
                hitl::respond(tx, &h.ti_id, h.try_number, &answer)?;
                h.responded_at = Some(now_s.clone());
                h.chosen_options = Some(defaults.clone());
                h.params_input = dump;
                answered(METHOD, &h)
            }
            None => json!({
                "method": METHOD,
                "event": {"error": TIMEOUT_ERROR, "error_type": "timeout"},
            }),
        };
        if sched::resume(tx, &h.ti_id, &resume, &now_s)? {
            resumed.push(h.ti_id);
        }
    }
    let next = hitl::next_timeout(tx)?.and_then(|t| crate::scheduler::plan::parse_ts(&t));
    Ok((resumed, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_dump_keeps_the_values() {
        let p = json!({"n": {"value": 3, "description": null, "schema": {}}, "s": {"schema": {}}});
        assert_eq!(params_dump(&p), json!({"n": 3, "s": null}));
    }

    #[test]
    fn an_answer_by_nobody_is_a_timeout_default() {
        let h = HitlRow {
            ti_id: "t".into(),
            try_number: 1,
            options: json!(["a", "b"]),
            subject: "s".into(),
            body: None,
            defaults: Some(json!(["a"])),
            multiple: false,
            params: json!({}),
            assignees: None,
            created_at: "2026-01-01T00:00:00Z".into(),
            timeout_at: None,
            responded_at: Some("2026-01-01T00:01:00.000000Z".into()),
            responded_by: None,
            chosen_options: Some(json!(["a"])),
            params_input: json!({}),
        };
        let r = answered(METHOD, &h);
        assert_eq!(r["event"]["timedout"], true);
        assert_eq!(r["event"]["chosen_options"], json!(["a"]));
        assert_eq!(
            r["event"]["responded_at"]["__datetime__"],
            "2026-01-01T00:01:00.000000Z"
        );
        let by = json!({"id": "ann", "name": "ann"});
        let r = answered(
            METHOD,
            &HitlRow {
                responded_by: Some(by.clone()),
                ..h
            },
        );
        assert_eq!(r["event"]["timedout"], false);
        assert_eq!(r["event"]["responded_by_user"], by);
    }
}

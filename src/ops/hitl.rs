//! Answering a Human-in-the-loop request (`PATCH .../hitlDetails`): the answer is recorded on
//! the task instance's current try, and a try that waits for it (deferred) is scheduled again
//! to resume with it, in the same transaction as the audit row.

use serde_json::{Value, json};

use super::tis::no_ti;
use super::{OpError, Ops, audit};
use crate::audit::Entry;
use crate::auth::Identity;
use crate::scheduler::hitl as waits;
use crate::store::hitl::{self, Answer, HitlRow};
use crate::store::{now, sched, tis};

/// An answer as the API takes it.
pub struct Response {
    pub chosen_options: Vec<String>,
    pub params_input: Value,
    /// Airflow's `simple_auth_manager_all_admins` (Lite's `--no-auth`): anyone may answer.
    pub all_admins: bool,
}

/// The person answering, as Airflow's `HITLUser` (the simple auth manager's id is the name).
pub fn user_of(who: &Identity) -> Value {
    json!({"id": who.username, "name": who.username})
}

/// Airflow's 404 for a task instance without a detail.
pub fn no_detail(ti_id: &str) -> OpError {
    OpError::NotFound(format!(
        "Human-in-the-loop detail does not exist for Task Instance with id {ti_id}"
    ))
}

/// Records `who`'s answer to the current try's request of a task instance; the detail as it
/// is after. 404 without a task instance or detail, 409 when already answered, 403 when the
/// request names its respondents and `who` is not one of them.
pub async fn respond(
    ops: &Ops,
    who: &Identity,
    (dag_id, run_id, task_id): (&str, &str, &str),
    map_index: i64,
    r: Response,
) -> Result<HitlRow, OpError> {
    let who = who.clone();
    let (d, run, t) = (dag_id.to_string(), run_id.to_string(), task_id.to_string());
    ops.commit(move |tx, fx| {
        let ti = tis::get(tx, &d, &run, &t, map_index)?.ok_or_else(|| no_ti(&d, &run, &t, map_index))?;
        let mut h = hitl::get(tx, &ti.id, ti.try_number)?.ok_or_else(|| no_detail(&ti.id))?;
        if h.responded_at.is_some() {
            return Err(OpError::Conflict(format!(
                "Human-in-the-loop detail has already been updated for Task Instance with id {} and is not allowed to write again.",
                ti.id
            )));
        }
        let user = user_of(&who);
        let assigned: Vec<&str> = h
            .assignees
            .iter()
            .flat_map(|a| a.as_array().into_iter().flatten())
            .filter_map(|a| a["id"].as_str())
            .collect();
        if !r.all_admins && !assigned.is_empty() && !assigned.contains(&who.username.as_str()) {
            return Err(OpError::Forbidden(format!(
                "User={0} (id={0}) is not a respondent for the task.",
                who.username
            )));
        }
        let at = now();
        let chosen = json!(r.chosen_options);
        let answer = Answer {
            at: &at,
            by: Some(&user),
            chosen_options: &chosen,
            params_input: &r.params_input,
        };
        hitl::respond(tx, &ti.id, ti.try_number, &answer)?;
        h.responded_at = Some(at.clone());
        h.responded_by = Some(user);
        h.chosen_options = Some(chosen);
        h.params_input = r.params_input;
        if sched::resume(tx, &ti.id, &waits::answered(waits::METHOD, &h), &at)? {
            fx.wake = true;
            fx.event(
                "task_instance",
                json!({"dag_id": d, "run_id": run, "task_id": t, "map_index": map_index, "state": "scheduled"}),
            );
        }
        let entry = Entry::new("update_hitl_detail")
            .dag(&d)
            .run(&run)
            .task(&t)
            .map_index(map_index);
        audit(
            tx,
            &who,
            entry.extra(json!({"chosen_options": h.chosen_options, "method": "PATCH"})),
        )?;
        Ok(h)
    })
    .await
}

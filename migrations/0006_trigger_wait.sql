-- 0006: a TriggerDagRunOperator with wait_for_completion defers its task instance until the
-- run it triggered ends: which run, and the states that end the wait.
ALTER TABLE task_instance ADD COLUMN trigger_wait TEXT;   -- JSON {dag_id, run_id, allowed_states, failed_states}

-- 0007: DAGs registered through the API (a dag.json, as `leoflow deploy` sends it to Pro)
-- beside those parsed from the DAG folder. `bundle_name` says where a DAG and each version
-- came from (Airflow's DAG bundle): 'dags-folder' for files, 'registered' for dag.json
-- registrations, whose `bundle_version` is the dag.json's `dag_version`.
ALTER TABLE dag ADD COLUMN bundle_name TEXT NOT NULL DEFAULT 'dags-folder';
ALTER TABLE dag ADD COLUMN bundle_version TEXT;
ALTER TABLE dag_version ADD COLUMN bundle_name TEXT NOT NULL DEFAULT 'dags-folder';
ALTER TABLE dag_version ADD COLUMN bundle_version TEXT;

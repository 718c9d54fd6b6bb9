"""
### Trigger form with Params

Each `Param` becomes a field of the "Trigger DAG" form: its type, default, constraints and
description drive the form widget and the validation of the submitted run conf.
"""
import pendulum

from airflow.sdk import DAG, Param, task

with DAG(
    dag_id="params_trigger_form",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "params"],
    params={
        "name": Param("world", type="string", minLength=1, maxLength=40,
                      description="Who should be greeted."),
        "repeat": Param(2, type="integer", minimum=1, maximum=5,
                        description="How many times to repeat the greeting (1-5)."),
        "ratio": Param(0.5, type="number", minimum=0, maximum=1,
                       description="A number between 0 and 1."),
        "shout": Param(False, type="boolean", description="Upper-case the greeting."),
        "language": Param("en", enum=["en", "fr", "de"],
                          description="Language of the greeting."),
        "tags": Param(["demo"], type="array", items={"type": "string"},
                      description="Free-form labels for this run."),
        "run_date": Param(pendulum.today("UTC").to_date_string(), type="string", format="date",
                          description="Business date to process (YYYY-MM-DD)."),
        "note": Param(None, type=["null", "string"],
                      description="Optional note (may be left empty)."),
    },
) as dag:

    @task
    def greet(params=None) -> str:
        words = {"en": "Hello", "fr": "Bonjour", "de": "Hallo"}
        text = f"{words[params['language']]}, {params['name']}!"
        if params["shout"]:
            text = text.upper()
        for _ in range(params["repeat"]):
            print(text)
        print(f"ratio={params['ratio']} tags={params['tags']} date={params['run_date']} "
              f"note={params['note']!r}")
        return text

    greet()

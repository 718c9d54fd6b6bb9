"""``airflow.providers.docker.decorators``: holds ``docker`` (``@task.docker``)."""

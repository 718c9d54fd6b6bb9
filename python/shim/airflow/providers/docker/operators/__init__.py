"""``airflow.providers.docker.operators``: holds ``docker`` (``DockerOperator``)."""

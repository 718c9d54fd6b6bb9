"""Airflow version flags, as the compat provider computes them for Airflow 3.2.2."""


def get_base_airflow_version_tuple():
    return (3, 2, 2)


AIRFLOW_V_3_0_PLUS = True
AIRFLOW_V_3_1_PLUS = True
AIRFLOW_V_3_2_PLUS = True
AIRFLOW_V_3_3_PLUS = False
AIRFLOW_V_3_4_PLUS = False

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AIRFLOW_V_3_4_PLUS",
]

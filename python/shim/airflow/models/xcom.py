"""``XCom`` placeholder and ``XCOM_RETURN_KEY``."""
from airflow.sdk.definitions.xcom_arg import XCOM_RETURN_KEY  # noqa: F401
from leoflow_rt.unsupported import module_getattr


class XCom:
    """XComs are read/written by the Leoflow runtime (``ti.xcom_pull`` / ``xcom_push``)."""


BaseXCom = XCom

__getattr__ = module_getattr(__name__)

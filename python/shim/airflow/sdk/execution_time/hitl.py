"""Human-in-the-loop requests from a task (``upsert_hitl_detail``).

Airflow's task process writes the request through its Execution API; Leoflow's runtime keeps
it here and reports it in the try's result (``defer.hitl``), and the server records it.
"""

try:
    from typing import TypedDict
except ImportError:  # pragma: no cover - Python < 3.8
    TypedDict = dict


class HITLUser(TypedDict):
    id: str
    name: str


# The request of the running try, read by the runtime when the task defers.
pending = {}


def upsert_hitl_detail(ti_id, options, subject, body=None, defaults=None, multiple=False,
                       params=None, assigned_users=None):
    pending.clear()
    pending.update({
        "ti_id": None if ti_id is None else str(ti_id),
        "options": list(options),
        "subject": subject,
        "body": body,
        "defaults": None if defaults is None else list(defaults),
        "multiple": bool(multiple),
        "params": dict(params or {}),
        "assigned_users": None if assigned_users is None else [
            {"id": str(u["id"]), "name": str(u["name"])} for u in assigned_users],
    })

"""``HITLTrigger``: the trigger a Human-in-the-loop task defers to. Leoflow's server plays it
(an answer through the API, or the response deadline, resumes the task)."""

try:
    from typing import TypedDict
except ImportError:  # pragma: no cover
    TypedDict = dict


class HITLTriggerEventSuccessPayload(TypedDict, total=False):
    chosen_options: list
    params_input: dict
    responded_by_user: dict
    responded_at: object
    timedout: bool


class HITLTriggerEventFailurePayload(TypedDict):
    error: str
    error_type: str


class HITLTrigger:
    _lf_hitl = True

    def __init__(self, *, ti_id, options, params, defaults=None, multiple=False,
                 timeout_datetime=None, poke_interval=5.0, **kwargs):
        self.ti_id = ti_id
        self.options = options
        self.params = params
        self.defaults = defaults
        self.multiple = multiple
        self.timeout_datetime = timeout_datetime
        self.poke_interval = poke_interval

    def serialize(self):
        return ("airflow.providers.standard.triggers.hitl.HITLTrigger", {
            "ti_id": self.ti_id, "options": self.options, "defaults": self.defaults,
            "params": self.params, "multiple": self.multiple,
            "timeout_datetime": self.timeout_datetime, "poke_interval": self.poke_interval})

"""Human-in-the-loop operators (``airflow.providers.standard.operators.hitl``, standard provider
1.21.0, the path Airflow < 3.3 takes): the task records a request (subject, body, options,
defaults, params, assignees), defers to ``HITLTrigger``, and resumes in ``execute_complete``
with the answer given through the API (or the defaults when ``response_timeout`` passes)."""
import logging
import warnings
from datetime import timedelta  # noqa: F401 - DAG files import it from here sometimes
from urllib.parse import urlencode, urlparse, urlunparse

from airflow.providers.standard.exceptions import (
    HITLRejectException,
    HITLTimeoutError,
    HITLTriggerEventError,
)
from airflow.providers.standard.operators.python import BranchMixIn, SkipMixin
from airflow.providers.standard.triggers.hitl import HITLTrigger, HITLTriggerEventSuccessPayload
from airflow.sdk.bases.notifier import BaseNotifier
from airflow.sdk.bases.operator import BaseOperator
from airflow.sdk.definitions.param import ParamsDict
from airflow.sdk.execution_time.hitl import upsert_hitl_detail


def _utcnow():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


class HITLOperator(BaseOperator):
    """Base class for all Human-in-the-loop Operators to inherit from."""

    template_fields = ("subject", "body")
    _lf_kind = "other"
    _lf_args = ("subject", "options", "body", "defaults", "multiple", "response_timeout")

    def __init__(self, *, subject, options, body=None, defaults=None, multiple=False,
                 params=None, notifiers=None, assigned_users=None, response_timeout=None,
                 **kwargs):
        super().__init__(**kwargs)
        if self.execution_timeout and not response_timeout:
            warnings.warn(
                "Passing `execution_timeout` to HITLOperator to control the human response "
                "wait is deprecated. Use `response_timeout` instead. `execution_timeout` will "
                "be cleared to prevent it from killing the task before defer() is reached.",
                DeprecationWarning, stacklevel=2)
            response_timeout = self.execution_timeout
            self.execution_timeout = None
        self.response_timeout = response_timeout
        self.subject = subject
        self.body = body
        self.options = options
        self.defaults = [defaults] if isinstance(defaults, str) else defaults
        self.multiple = multiple
        self.params = params if isinstance(params, ParamsDict) else ParamsDict(params or {})
        self.notifiers = [notifiers] if isinstance(notifiers, BaseNotifier) else notifiers or []
        self.assigned_users = [assigned_users] if isinstance(assigned_users, dict) \
            else assigned_users
        self.validate_options()
        self.validate_params()
        self.validate_defaults()
        self.hitl_summary_extra = {}

    @property
    def hitl_summary(self):
        return dict({
            "subject": self.subject, "body": self.body, "options": self.options,
            "defaults": self.defaults, "multiple": self.multiple,
            "assigned_users": self.assigned_users,
            "serialized_params": self.serialized_params or None,
        }, **self.hitl_summary_extra)

    def validate_options(self):
        if not self.options:
            raise ValueError('"options" cannot be empty.')

    def validate_params(self):
        if "_options" in self.params:
            raise ValueError('"_options" is not allowed in params')

    def validate_defaults(self):
        if self.defaults is not None:
            if not set(self.defaults).issubset(self.options):
                raise ValueError('defaults "%s" should be a subset of options "%s"'
                                 % (self.defaults, self.options))
            if self.multiple is False and len(self.defaults) > 1:
                raise ValueError('More than one defaults given when "multiple" is set to False.')

    def execute(self, context):
        ti_id = context["task_instance"].id
        upsert_hitl_detail(
            ti_id=ti_id, options=self.options, subject=self.subject, body=self.body,
            defaults=self.defaults, multiple=self.multiple, params=self.serialized_params,
            assigned_users=self.assigned_users)
        timeout_datetime = _utcnow() + self.response_timeout if self.response_timeout else None
        self.hitl_summary_extra["timeout_datetime"] = (
            timeout_datetime.isoformat() if timeout_datetime else None)
        self.log.info("Waiting for response")
        for notifier in self.notifiers:
            notifier(context)
        self.defer(
            trigger=HITLTrigger(ti_id=ti_id, options=self.options, defaults=self.defaults,
                                params=self.serialized_params, multiple=self.multiple,
                                timeout_datetime=timeout_datetime),
            method_name="execute_complete")

    @property
    def serialized_params(self):
        return {k: self.params.get_param(k).serialize() for k in self.params}

    def execute_complete(self, context, event):
        if "error" in event:
            self.hitl_summary_extra["error_type"] = event["error_type"]
            self.process_trigger_event_error(event)
        chosen_options = event["chosen_options"]
        params_input = event["params_input"] or {}
        self.validate_chosen_options(chosen_options)
        self.validate_params_input(params_input)
        self.hitl_summary_extra.update({
            "chosen_options": chosen_options, "params_input": params_input,
            "responded_at": event["responded_at"].isoformat(),
            "responded_by_user": event["responded_by_user"]})
        # Lite's XCom values are JSON: the answer's time travels as its ISO-8601 text
        # (Airflow's XCom serialiser would keep the datetime).
        return HITLTriggerEventSuccessPayload(
            chosen_options=chosen_options, params_input=params_input,
            responded_at=event["responded_at"].isoformat(),
            responded_by_user=event["responded_by_user"])

    def process_trigger_event_error(self, event):
        if event["error_type"] == "timeout":
            raise HITLTimeoutError(event)
        raise HITLTriggerEventError(event)

    def validate_chosen_options(self, chosen_options):
        diff = set(chosen_options) - set(self.options)
        if diff:
            raise ValueError("Responses %s not in %s" % (diff, self.options))

    def validate_params_input(self, params_input):
        if self.params and params_input and set(self.serialized_params.keys()) ^ set(
                params_input):
            raise ValueError("params_input %s does not match params %s"
                             % (params_input, self.params))
        for key, value in params_input.items():
            self.params[key] = value

    def generate_link_to_ui(self, *, task_instance, base_url=None, options=None,
                            params_input=None):
        query_param = {}
        options = [options] if isinstance(options, str) else options
        if options:
            diff = set(options) - set(self.options)
            if diff:
                raise ValueError("options %s are not valid options" % (diff,))
            query_param["_options"] = options
        if params_input:
            diff = set(params_input.keys()) - set(self.params.keys())
            if diff:
                raise ValueError("params %s are not valid params" % (diff,))
            query_param.update(params_input)
        if not base_url:
            raise ValueError("Not able to retrieve base_url")
        query_param["map_index"] = task_instance.map_index
        parsed = urlparse(base_url)
        return urlunparse((
            parsed.scheme, parsed.netloc,
            "/dags/%s/runs/%s/tasks/%s/required_actions"
            % (task_instance.dag_id, task_instance.run_id, task_instance.task_id),
            "", urlencode(query_param) if query_param else "", ""))

    @staticmethod
    def generate_link_to_ui_from_context(*, context, base_url=None, options=None,
                                         params_input=None):
        hitl_op = context["task"]
        if not isinstance(hitl_op, HITLOperator):
            raise ValueError("This method only supports HITLOperator")
        return hitl_op.generate_link_to_ui(task_instance=context["task_instance"],
                                           base_url=base_url, options=options,
                                           params_input=params_input)


class ApprovalOperator(HITLOperator, SkipMixin):
    """Human-in-the-loop Operator that has only 'Approval' and 'Reject' options."""

    inherits_from_skipmixin = True
    FIXED_ARGS = ["options", "multiple"]
    APPROVE = "Approve"
    REJECT = "Reject"

    def __init__(self, *, ignore_downstream_trigger_rules=False, fail_on_reject=False,
                 **kwargs):
        for arg in self.FIXED_ARGS:
            if arg in kwargs:
                raise ValueError("Passing %s to ApprovalOperator is not allowed." % arg)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        self.fail_on_reject = fail_on_reject
        super().__init__(options=[self.APPROVE, self.REJECT], multiple=False, **kwargs)
        self.hitl_summary_extra["ignore_downstream_trigger_rules"] = \
            self.ignore_downstream_trigger_rules
        self.hitl_summary_extra["fail_on_reject"] = self.fail_on_reject

    def execute_complete(self, context, event):
        ret = super().execute_complete(context=context, event=event)
        chosen_option = ret["chosen_options"][0]
        self.hitl_summary_extra["approved"] = chosen_option == self.APPROVE
        if chosen_option == self.APPROVE:
            self.log.info("Approved. Proceeding with downstream tasks...")
            return ret
        if self.fail_on_reject and chosen_option == self.REJECT:
            raise HITLRejectException('Receive "Reject"')
        if not self.downstream_task_ids:
            self.log.info("No downstream tasks; nothing to do.")
            return ret
        if self.ignore_downstream_trigger_rules is True:
            tasks = context["task"].get_flat_relatives(upstream=False)
        else:
            tasks = context["task"].get_direct_relatives(upstream=False)
        tasks_to_skip = [t for t in tasks if not t.is_teardown]
        if self.log.getEffectiveLevel() <= logging.DEBUG:
            self.log.debug("Downstream task IDs %s", tasks_to_skip)
        self.log.info("Skipping downstream tasks")
        self.skip(ti=context["ti"], tasks=tasks_to_skip)
        return ret


class HITLBranchOperator(HITLOperator, BranchMixIn):
    """BranchOperator based on Human-in-the-loop Response."""

    inherits_from_skipmixin = True

    def __init__(self, *, options_mapping=None, **kwargs):
        super().__init__(**kwargs)
        self.options_mapping = options_mapping or {}
        self.validate_options_mapping()
        self.hitl_summary_extra["options_mapping"] = self.options_mapping

    def validate_options_mapping(self):
        if not self.options_mapping:
            return
        invalid_keys = set(self.options_mapping.keys()) - set(self.options)
        if invalid_keys:
            raise ValueError("`options_mapping` contains keys that are not in `options`: %s"
                             % sorted(invalid_keys))
        invalid = {k: (v, type(v).__name__) for k, v in self.options_mapping.items()
                   if not isinstance(v, str)}
        if invalid:
            raise ValueError("`options_mapping` values must be strings (task_ids).\n"
                             "Invalid entries: %s" % (invalid,))

    def execute_complete(self, context, event):
        ret = super().execute_complete(context=context, event=event)
        chosen_options = [self.options_mapping.get(o, o) for o in ret["chosen_options"]]
        self.hitl_summary_extra["branches_to_execute"] = chosen_options
        return self.do_branch(context=context, branches_to_execute=chosen_options)


class HITLEntryOperator(HITLOperator):
    """Human-in-the-loop Operator that is used to accept user input through TriggerForm."""

    OK = "OK"

    def __init__(self, **kwargs):
        if "options" not in kwargs:
            kwargs["options"] = [self.OK]
            if "defaults" not in kwargs:
                kwargs["defaults"] = [self.OK]
        super().__init__(**kwargs)

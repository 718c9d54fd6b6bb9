"""``airflow.sdk.types``: ``TaskInstanceKey``."""
from collections import namedtuple

_Key = namedtuple("TaskInstanceKey", "dag_id task_id run_id try_number map_index")


class TaskInstanceKey(_Key):
    def __new__(cls, dag_id, task_id, run_id, try_number=1, map_index=-1):
        return super().__new__(cls, dag_id, task_id, run_id, try_number, map_index)

    @property
    def primary(self):
        return self.dag_id, self.task_id, self.run_id, self.map_index

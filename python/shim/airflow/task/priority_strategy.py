"""``PriorityWeightStrategy``: a custom ``weight_rule`` (plugins' ``priority_weight_strategies``).

Leoflow Lite evaluates a custom strategy once per task at parse time, with the task's first try
(``ti.try_number == 1``, ``ti.map_index == -1``), and uses that as the task's priority weight.
"""


class PriorityWeightStrategy:
    """Subclass and implement ``get_weight(ti)``."""

    def get_weight(self, ti):
        raise NotImplementedError

    def serialize(self):
        return {}

    @classmethod
    def deserialize(cls, data):
        return cls(**data)

    def __eq__(self, other):
        return type(self) is type(other) and self.serialize() == other.serialize()

    def __hash__(self):
        return hash(type(self))


class _ParseTimeTI:
    """The TI a strategy sees at parse time."""

    def __init__(self, task):
        self.task = task
        self.task_id = task.task_id
        self.dag_id = task.dag_id
        self.try_number = 1
        self.map_index = -1
        self.priority_weight = task.priority_weight


def parse_time_weight(strategy, task):
    return int(strategy.get_weight(_ParseTimeTI(task)))

"""``WeightRule``."""
from enum import Enum


class WeightRule(str, Enum):
    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"

    @classmethod
    def is_valid(cls, weight_rule):
        return weight_rule in cls.all_weight_rules()

    @classmethod
    def all_weight_rules(cls):
        return {r.value for r in cls}

    def __str__(self):
        return self.value

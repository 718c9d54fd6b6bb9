"""Legacy ``airflow.utils.helpers``: the chain helpers and Airflow's small utilities that
providers import (same behaviour as Airflow's)."""
import itertools
import re

from airflow.sdk.bases.operator import (  # noqa: F401
    chain,
    chain_linear,
    cross_downstream,
)
from leoflow_rt.unsupported import module_getattr

KEY_REGEX = re.compile(r"^[\w.-]+$")
GROUP_KEY_REGEX = re.compile(r"^[\w-]+$")
CAMELCASE_TO_SNAKE_CASE_REGEX = re.compile(r"(?!^)([A-Z]+)")


def validate_key(k, max_length=250):
    from airflow.sdk.exceptions import AirflowException

    if not isinstance(k, str):
        raise TypeError("The key has to be a string and is %s:%s" % (type(k), k))
    if len(k) > max_length:
        raise AirflowException("The key: %s has to be less than %s characters" % (k, max_length))
    if not KEY_REGEX.match(k):
        raise AirflowException("The key %r has to be made of alphanumeric characters, dashes, "
                               "dots and underscores exclusively" % (k,))


def is_container(obj):
    """An iterable that is not a string."""
    return hasattr(obj, "__iter__") and not isinstance(obj, str)


def chunks(items, chunk_size):
    if chunk_size <= 0:
        raise ValueError("Chunk size must be a positive integer")
    for i in range(0, len(items), chunk_size):
        yield items[i:i + chunk_size]


def as_flattened_list(iterable):
    return [e for i in iterable for e in i]


def parse_template_string(template_string):
    import jinja2

    if "{{" in template_string:
        return None, jinja2.Template(template_string)
    return template_string, None


def convert_camel_to_snake(camel_str):
    return CAMELCASE_TO_SNAKE_CASE_REGEX.sub(r"_\1", camel_str).lower()


def merge_dicts(dict1, dict2):
    """Merge two dicts recursively into a new one; dict2 wins, lists are not concatenated."""
    merged = dict1.copy()
    for k, v in dict2.items():
        if k in merged and isinstance(v, dict):
            merged[k] = merge_dicts(merged.get(k, {}), v)
        else:
            merged[k] = v
    return merged


def partition(pred, iterable):
    iter_1, iter_2 = itertools.tee(iterable)
    return itertools.filterfalse(pred, iter_1), filter(pred, iter_2)


def exactly_one(*args):
    if is_container(args[0]):
        raise ValueError("Not supported for iterable args. Use `*` to unpack your iterable in "
                         "the function call.")
    return sum(map(bool, args)) == 1


def at_most_one(*args):
    from airflow.utils.types import NOTSET

    return sum(a is not NOTSET and bool(a) for a in args) in (0, 1)


def prune_dict(val, mode="strict"):
    def is_empty(x):
        if mode == "strict":
            return x is None
        if mode == "truthy":
            return bool(x) is False
        raise ValueError("allowable values for `mode` include 'truthy' and 'strict'")

    if isinstance(val, dict):
        out = {}
        for k, v in val.items():
            if is_empty(v):
                continue
            if isinstance(v, (list, dict)):
                new = prune_dict(v, mode=mode)
                if not is_empty(new):
                    out[k] = new
            else:
                out[k] = v
        return out
    if isinstance(val, list):
        out = []
        for v in val:
            if is_empty(v):
                continue
            if isinstance(v, (list, dict)):
                new = prune_dict(v, mode=mode)
                if not is_empty(new):
                    out.append(new)
            else:
                out.append(v)
        return out
    return val


__getattr__ = module_getattr(__name__)

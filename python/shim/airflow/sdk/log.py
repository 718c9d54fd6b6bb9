"""``mask_secret`` / ``redact``: values masked as ``***`` in the running task's log."""


def _sink():
    from leoflow_rt import registry

    if not registry.context_stack:
        return None
    ti = registry.context_stack[-1].get("ti")
    return getattr(ti, "_sink", None)


def mask_secret(secret, name=None):
    """Mask ``secret`` (a string, or every string in a dict/list) from now on."""
    sink = _sink()
    if sink is None or secret is None:
        return
    if isinstance(secret, dict):
        for v in secret.values():
            mask_secret(v)
    elif isinstance(secret, (list, tuple, set)):
        for v in secret:
            mask_secret(v)
    else:
        sink.add_secret(str(secret))


def redact(value, name=None, max_depth=None):
    """``value`` with the masked secrets replaced by ``***``."""
    sink = _sink()
    secrets = getattr(sink, "secrets", None) or []
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, "***")
        return value
    if isinstance(value, dict):
        return {k: redact(v, name) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, name) for v in value)
    return value

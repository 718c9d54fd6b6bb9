"""Cheap signature helpers (no ``inspect`` import on the fast path).

``bind`` mirrors ``inspect.signature(f).bind(*args, **kwargs)`` (+ ``apply_defaults``) for plain
Python functions, with inspect's error messages; anything exotic falls back to ``inspect``.
"""

_VARARGS = 0x04
_VARKEYWORDS = 0x08


def _plain(func):
    return (
        hasattr(func, "__code__")
        and hasattr(func, "__defaults__")
        and not hasattr(func, "__wrapped__")
        and not hasattr(func, "__signature__")
    )


def init_params(func):
    """(names, required) of an ``__init__``'s named parameters, ``self`` excluded."""
    if _plain(func):
        code = func.__code__
        nargs, nkw = code.co_argcount, code.co_kwonlyargcount
        names = code.co_varnames
        pos = names[:nargs]
        kwonly = names[nargs:nargs + nkw]
        ndef = len(func.__defaults__ or ())
        kwdef = func.__kwdefaults__ or {}
        required = {n for i, n in enumerate(pos) if i > 0 and i < nargs - ndef}
        required.update(n for n in kwonly if n not in kwdef)
        return frozenset(pos[1:] + kwonly), frozenset(required)
    import inspect

    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return frozenset(), frozenset()
    names, required = [], set()
    for i, p in enumerate(sig.parameters.values()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (i == 0 and p.name == "self"):
            continue
        names.append(p.name)
        if p.default is p.empty:
            required.add(p.name)
    return frozenset(names), frozenset(required)


def param_names(func):
    """Ordered parameter info: (positional names, kw-only names, has *args, has **kwargs)."""
    if _plain(func):
        code = func.__code__
        nargs, nkw = code.co_argcount, code.co_kwonlyargcount
        names = code.co_varnames
        return (names[:nargs], names[nargs:nargs + nkw], bool(code.co_flags & _VARARGS),
                bool(code.co_flags & _VARKEYWORDS))
    import inspect

    sig = inspect.signature(func)
    pos, kwonly, va, vk = [], [], False, False
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            pos.append(p.name)
        elif p.kind == p.KEYWORD_ONLY:
            kwonly.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            va = True
        else:
            vk = True
    return tuple(pos), tuple(kwonly), va, vk


def defaults_of(func):
    """{name: default} for a function's parameters that have one."""
    if _plain(func):
        code = func.__code__
        pos = code.co_varnames[:code.co_argcount]
        d = func.__defaults__ or ()
        out = dict(zip(pos[len(pos) - len(d):], d))
        out.update(func.__kwdefaults__ or {})
        return out
    import inspect

    return {p.name: p.default for p in inspect.signature(func).parameters.values()
            if p.default is not p.empty}


def bind(func, args, kwargs, apply_defaults=False, optional=()):
    """Bind like ``inspect.Signature.bind``; ``optional`` names default to None when missing."""
    if not _plain(func):
        import inspect

        sig = inspect.signature(func)
        if optional:
            params = [p.replace(default=None) if p.name in optional and p.default is p.empty
                      else p for p in sig.parameters.values()]
            sig = sig.replace(parameters=params)
        ba = sig.bind(*args, **kwargs)
        if apply_defaults:
            ba.apply_defaults()
        return dict(ba.arguments)
    code = func.__code__
    nargs, nkw, nposonly = code.co_argcount, code.co_kwonlyargcount, code.co_posonlyargcount
    names = code.co_varnames
    pos_names = names[:nargs]
    kwonly = names[nargs:nargs + nkw]
    i = nargs + nkw
    varargs = varkw = None
    if code.co_flags & _VARARGS:
        varargs = names[i]
        i += 1
    if code.co_flags & _VARKEYWORDS:
        varkw = names[i]
    defaults = func.__defaults__ or ()
    pos_defaults = dict(zip(pos_names[nargs - len(defaults):], defaults))
    kwdefaults = func.__kwdefaults__ or {}
    kwargs = dict(kwargs)
    bound = {}
    if len(args) > nargs and varargs is None:
        raise TypeError("too many positional arguments")
    for idx, (name, val) in enumerate(zip(pos_names, args)):
        if name in kwargs and idx >= nposonly:
            raise TypeError("multiple values for argument %r" % (name,))
        bound[name] = val
    for idx in range(len(args), nargs):
        name = pos_names[idx]
        if name in kwargs and idx >= nposonly:
            bound[name] = kwargs.pop(name)
        elif name in kwargs and varkw is None:
            raise TypeError("%r parameter is positional only, but was passed as a keyword" % (name,))
        elif name in pos_defaults:
            if apply_defaults:
                bound[name] = pos_defaults[name]
        elif name in optional:
            bound[name] = None
        else:
            raise TypeError("missing a required argument: %r" % (name,))
    if varargs is not None and (len(args) > nargs or apply_defaults):
        bound[varargs] = tuple(args[nargs:])
    for name in kwonly:
        if name in kwargs:
            bound[name] = kwargs.pop(name)
        elif name in kwdefaults:
            if apply_defaults:
                bound[name] = kwdefaults[name]
        elif name in optional:
            bound[name] = None
        else:
            raise TypeError("missing a required argument: %r" % (name,))
    if kwargs:
        if varkw is None:
            raise TypeError("got an unexpected keyword argument %r" % (next(iter(kwargs)),))
        bound[varkw] = kwargs
    elif varkw is not None and apply_defaults:
        bound[varkw] = {}
    return bound

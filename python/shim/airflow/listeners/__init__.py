"""Listeners (pluggy hooks): accepted so plugins import; Leoflow Lite never calls them."""


def hookimpl(function=None, **kwargs):
    if function is None:
        return lambda f: f
    return function

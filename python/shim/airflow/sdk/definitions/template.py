"""``literal``: a value that must not be rendered as a Jinja template."""


class LiteralValue:
    template_fields = ()

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return "literal(%r)" % (self.value,)


def literal(value):
    return LiteralValue(value)

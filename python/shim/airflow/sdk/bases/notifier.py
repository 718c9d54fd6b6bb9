"""``BaseNotifier``: callbacks that notify (call ``notify(context)``)."""


class BaseNotifier:
    template_fields = ()

    def notify(self, context):
        raise NotImplementedError

    def __call__(self, *args):
        context = args[0] if args else {}
        return self.notify(context)

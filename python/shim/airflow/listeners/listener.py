"""``get_listener_manager``: a manager that accepts listeners and never calls them."""


class ListenerManager:
    def __init__(self):
        self.listeners = []

    @property
    def has_listeners(self):
        return bool(self.listeners)

    def add_listener(self, listener):
        self.listeners.append(listener)

    def clear(self):
        del self.listeners[:]


_MANAGER = ListenerManager()


def get_listener_manager():
    return _MANAGER

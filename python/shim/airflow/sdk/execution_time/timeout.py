"""``timeout``: raise ``AirflowTaskTimeout`` after N seconds (SIGALRM, main thread only)."""
import os
import signal

from airflow.sdk.exceptions import AirflowTaskTimeout


class timeout:  # noqa: N801 - Airflow's name
    def __init__(self, seconds=1, error_message="Timeout"):
        self.seconds = int(seconds)
        self.error_message = "%s, PID: %d" % (error_message, os.getpid())

    def handle_timeout(self, signum, frame):
        raise AirflowTaskTimeout(self.error_message)

    def __enter__(self):
        if self.seconds > 0:
            self._old = signal.signal(signal.SIGALRM, self.handle_timeout)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)

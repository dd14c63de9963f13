"""Stop signals: SIGTERM and SIGINT (Ctrl-C) noted as a flag that the main loop polls.

Thread: main (Python runs signal handlers there).
"""
from __future__ import annotations

import signal
import time


class StopRequest:
    """A stop asked for by SIGTERM or SIGINT (Ctrl-C), polled by perform's main loop. Thread: main.

    The handler only sets an attribute: Python runs a signal handler on the main thread between
    two bytecodes, where that thread may hold a lock (``threading.Event.set`` there can wait forever
    for the lock of the ``Event.wait`` it interrupted: a perform that never ends), and a
    KeyboardInterrupt raised mid-step or mid-teardown would leave a take half saved. The handlers
    stay installed until the process exits (perform is the whole process): a second signal during
    the teardown, or after it, is only noted and cannot cut the saving short.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signum = None  # the first stop signal received

    def handler(self, signum, frame) -> None:  # main thread, between two bytecodes: no lock, no I/O
        if self.signum is None:
            self.signum = signum

    def is_set(self) -> bool:
        return self.signum is not None

    def wait(self, seconds: float) -> bool:
        """Sleep (a signal runs its handler and the sleep goes on: at most ``seconds``); whether a stop was asked."""
        time.sleep(seconds)
        return self.is_set()

    def install(self) -> None:
        for s in self.SIGNALS:
            signal.signal(s, self.handler)

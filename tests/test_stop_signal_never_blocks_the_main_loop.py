"""A stop signal ends ``livegan perform``'s main loop wherever it lands, never blocking it.

Python runs a signal handler on the main thread between two lines of whatever that thread is
running, so the handler must not wait for anything the interrupted code may hold. Here the
handler of perform's ``StopRequest`` is called at each line event of a pass of the main
loop's wait in turn (a trace function stands in for the signal), as if SIGTERM or Ctrl-C had
landed there; each time the loop must end at its next check. A ``threading.Event`` in its place
(the handler calling ``set``) blocks forever once the call lands inside ``Event.wait``'s lock.
"""
from __future__ import annotations

import signal
import sys
import threading

import pytest

from livegan.io.signals import StopRequest

WAIT_S = 0.001


def _run_main_loop(passes: int, signal_at: int, signum: int) -> tuple[bool, int, int]:
    """Perform's main-loop check and wait for at most ``passes`` passes on a thread, the stop
    handler called at line event ``signal_at`` (0: never).
    -> (whether the thread ended within 2 s, passes begun, line events seen)."""
    stop = StopRequest()
    seen, begun = [0], [0]

    def trace(frame, event, arg):  # tracing is off inside it: the handler's own lines are not counted
        if event == "line":
            seen[0] += 1
            if seen[0] == signal_at:
                stop.handler(signum, frame)
        return trace

    def main_loop():
        sys.settrace(trace)
        try:
            while begun[0] < passes and not stop.is_set():
                begun[0] += 1
                stop.wait(WAIT_S)
        finally:
            sys.settrace(None)
    t = threading.Thread(target=main_loop, daemon=True)  # a blocked one must not hold up the test run
    t.start()
    t.join(2.0)
    return not t.is_alive(), begun[0], seen[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_at_any_line_of_the_main_loops_wait_ends_it(signum):
    ended, _, per_pass = _run_main_loop(1, 0, signum)
    assert ended and per_pass > 0
    for k in range(1, per_pass + 1):  # every line of the first pass, the check included
        ended, begun, _ = _run_main_loop(3, k, signum)
        assert ended, f"the main loop blocked after a stop signal at line {k} of {per_pass} of its wait"
        assert begun <= 1, f"a stop signal at line {k} of {per_pass} was missed by the next check"

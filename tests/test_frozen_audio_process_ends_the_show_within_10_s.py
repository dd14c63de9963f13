"""A frozen audio process (SIGSTOP: it answers nothing, its callbacks stop) ends the show within the
10 s the README promises, by design: the watch's stall rule (``ShowWatch.STALL_S`` without a callback)
plus every wait the audio process's close then asks for stays within 10 s. Counted here on the show's
own clock and the waits the close requests (a frozen child is a pipe that never answers and a process
that ends only when killed), not timed; ``test_audio_process_crash_ends_the_show_cleanly`` freezes a
real one."""
from __future__ import annotations

import numpy as np
import pytest

from livegan.audio.host import AudioProcess
from livegan.audio.state import COUNTS
from livegan.errors import CLIError
from livegan.io.watch import ShowWatch

PROMISED_S = 10.0


class FrozenChild:
    """The pipe to and the process of a SIGSTOPped audio process: every wait asked for runs out."""

    def __init__(self, waits):
        self.waits, self.killed = waits, False

    def send(self, msg):  # a pipe's buffer takes a short message from a stopped reader
        pass

    def poll(self, timeout):
        self.waits.append(timeout)
        return False

    def recv(self):
        raise AssertionError("nothing to receive from a frozen child")

    def close(self):
        pass

    def join(self, timeout=None):
        self.waits.append(0.0 if self.killed else timeout)  # SIGKILL ends even a stopped process at once

    def is_alive(self):
        return not self.killed

    def kill(self):
        self.killed = True


def test_a_frozen_audio_process_ends_the_show_within_10_s_by_design():
    waits = []
    child = FrozenChild(waits)
    out = AudioProcess.__new__(AudioProcess)  # its state, without a real child
    out._conn = out._proc = child
    out.stalled = False
    ost = np.zeros(1, COUNTS)[0]  # the output's counters, one named row
    out.counters = type("Counters", (), {"ost": ost})()
    clock = [0.0]
    watch = ShowWatch(engine=None, out=out, gen=None, say=print, now=lambda: clock[0])
    ost["calls"] = 1000
    watch.check()  # callbacks seen at t = 0, then none: the child froze
    with pytest.raises(CLIError, match="no callback for"):
        while clock[0] < 60.0:
            clock[0] += 0.005  # the show's main loop checks every 5 ms
            watch.check()
    out.close()
    assert child.killed
    took = clock[0] + sum(w for w in waits if w)
    assert took <= PROMISED_S, f"stall noticed at {clock[0]:.2f} s, then the close waits {waits}"

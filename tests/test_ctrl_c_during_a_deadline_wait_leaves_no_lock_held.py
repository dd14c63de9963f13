"""Ctrl-C while ``call_with_deadline`` waits for a call that never returns (``livegan wrap`` on a stuck
decoder, a model's first loop): KeyboardInterrupt comes when the wait ends, never inside the progress
bar's tick. Raised inside the tick, it could leave the bar's lock held, and the command's cleanup (the
bar's close) would then wait for it forever.
"""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from livegan.faults import call_with_deadline


def test_ctrl_c_inside_the_tick_is_raised_after_it_with_the_locks_free():
    locks = [threading.Lock(), threading.Lock()]  # a progress bar's write lock is two (tqdm: process and thread)
    stuck = threading.Event()
    ticks = []

    def tick():  # taken one after the other, as tqdm's lock does: a KeyboardInterrupt between them leaks the first
        locks[0].acquire()
        ticks.append(1)
        if len(ticks) == 2:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the signal is delivered here, on the main thread, with one lock held
        locks[1].acquire()
        locks[1].release()
        locks[0].release()

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        call_with_deadline(lambda: stuck.wait(60), 60, "a stuck call", tick=tick, tick_s=0.05)
    assert time.monotonic() - t0 < 5  # at once, not at the deadline
    assert len(ticks) == 2  # the wait ended at the Ctrl-C
    assert all(lock.acquire(timeout=1) for lock in locks)  # the cleanup (the bar's close) can take them
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own handler is back
    stuck.set()


def test_a_call_that_returns_gives_its_value_and_ctrl_c_still_works_after():
    assert call_with_deadline(lambda: 7, 5, "a quick call", tick=lambda: None, tick_s=0.01) == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)

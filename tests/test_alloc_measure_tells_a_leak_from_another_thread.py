"""``livegan.testing.alloc.steady`` (the allocation tests' measure) fails a step that keeps an object per
call or allocates a transient buffer per call, passes one that only replaces a value, and is not fooled by
another thread of the process keeping memory while it measures (a leftover of an earlier test: what made
the set engine's test fail once in a full run)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from livegan.testing.alloc import steady


def test_a_kept_object_per_call_fails():
    keep: list = []
    with pytest.raises(AssertionError, match="kept more than"):
        steady(lambda i: keep.append(float(i) + 0.5), 2000)


def test_a_transient_buffer_per_call_fails_on_the_peak():
    with pytest.raises(AssertionError, match="peak above start"):
        steady(lambda i: np.zeros(1000), 2000)


def test_a_replaced_value_passes():
    d = {"x": 0.5}
    got = steady(lambda i: d.__setitem__("x", float(i) + 0.5), 2000)
    assert max(s.net for s in got) <= 256


def test_another_threads_memory_is_not_the_steps():
    hold: list = []
    go, done = threading.Event(), threading.Event()

    def other():  # keeps 256 KiB once, while the first measured span runs (after steady's warm-up span)
        go.wait()
        hold.append(bytearray(1 << 18))
        hold.extend(str(k) * 8 for k in range(2000))
        done.set()

    t = threading.Thread(target=other)
    t.start()

    calls = [0]

    def step(i):
        calls[0] += 1
        if calls[0] == 2000 + 10:
            go.set()
            done.wait()

    got = steady(step, 2000)
    t.join()
    assert len(hold) == 2001
    assert got[0].peak > 1 << 18 and all(s.net <= 256 for s in got)  # seen by the peak of one span, not kept

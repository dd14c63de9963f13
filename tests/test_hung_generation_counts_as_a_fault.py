"""A generation that runs past its deadline (``LIVEGAN_GEN_TIMEOUT_S``) counts as a generation fault
while it still runs, once, and is said with why the knobs stopped acting: ``gen_faults`` and the panel
no longer read 0 while the model hangs. (``test_hung_model_times_out`` shows it in a real show.)"""
from __future__ import annotations

import threading
import time

from livegan.faults import GenFaults
from livegan.generate.scheduler import GeneratorThread
from livegan.io.panel import status_line
from livegan.io.watch import ShowWatch


class Engine:
    def __init__(self):
        self.faults = GenFaults()


class Out:
    calls, alive = 0, True


def _watch(gen, clock, said):
    return ShowWatch(Engine(), Out(), gen, said.append, now=lambda: clock[0])


def test_a_generation_past_its_deadline_is_one_fault_said_once(monkeypatch):
    monkeypatch.setenv("LIVEGAN_GEN_TIMEOUT_S", "5")
    gen = type("Gen", (), {"busy_since": None, "error": None})()
    clock, said = [100.0], []
    watch = _watch(gen, clock, said)
    gen.busy_since = 100.0
    for t in (101.0, 104.9):
        clock[0] = t
        watch.tick()
    assert watch.engine.faults.count == 0 and not said  # slow, not yet past the deadline
    for t in (105.1, 106.0, 300.0):  # still running: counted once
        clock[0] = t
        watch.tick()
    assert watch.engine.faults.count == 1, watch.engine.faults.texts
    assert len(said) == 1 and "has not returned for 5 s" in said[0] and "knobs" in said[0], said
    assert "faults 1" in status_line({"faults": watch.engine.faults.count})
    gen.busy_since = 400.0  # the next generation hangs as well: a second fault
    clock[0] = 406.0
    watch.tick()
    assert watch.engine.faults.count == 2


def test_the_generator_thread_says_when_its_generation_began():
    """``busy_since`` is set while a generation runs and cleared when it returns."""
    inside, release = threading.Event(), threading.Event()

    class Model:
        generate_seconds = [0.01]

    gen = GeneratorThread.__new__(GeneratorThread)
    threading.Thread.__init__(gen, daemon=True)
    gen.busy_since = None

    def blocked(snap, g):
        inside.set()
        release.wait(10)
    gen._generate = blocked
    gen.stop_event, gen.error = threading.Event(), None
    gen.rt_priority = None
    gen.engine = type("E", (), {"transport": type("T", (), {"frame": 0})(), "sample_rate": 48000,
                                "faults": GenFaults(),
                                "controls": type("C", (), {"snapshot": staticmethod(lambda: (1,))})()})()
    gen.sched = type("S", (), {"poll": lambda self, now: -1, "next_frame": None, "done_seq": 0})()
    t0 = time.monotonic()
    gen.start()
    assert inside.wait(10)
    assert gen.busy_since is not None and gen.busy_since >= t0
    gen.stop()
    release.set()
    gen.join(10)
    assert gen.busy_since is None and gen.error is None

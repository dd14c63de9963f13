"""Record presses from any source (the keyboard's space, a record button, ``/livegan/record``) start a
take at most once per ``Takes.MIN_TAKE_S`` (1 s) of the show, however fast they come: 100 presses in
2 s make 2 takes, not 50 (100 files in 2 s before). No press loses audio: a take's start is never
delayed; a stop asked before the take is 1 s long happens when it is (a start asked meanwhile
cancels it), so every frame between the first press and the last stop is in a take, and a press
spaced a second or more from the last change acts at once."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch
from livegan.io.perflog import PerfLog
from livegan.io.takes import Takes
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_meta

SR, BLOCK = 48000, 256


def _show(tmp_path, monkeypatch):
    meta = validate_meta(tiny_meta(format=1))
    parts = build(meta, load_patch(default_patch_path()), SR, 2, fx=False, record_ring_frames=8192,
                  take_ring_frames=4 * SR)
    engine = parts.engine
    engine.publish_loop(np.zeros((1, meta.loop_samples), np.float32), 0)
    out = np.zeros((BLOCK, 2), np.float32)
    # the audio callback, here in the test's thread: a take waits for one block to take its ring
    monkeypatch.setattr(Takes, "_wait_attached", lambda self: engine.process(out))
    said = []
    takes = Takes(engine, SR, 2, PerfLog(SR), str(tmp_path / "take.wav"), said.append)

    def play(seconds):
        for _ in range(int(seconds * SR) // BLOCK):
            engine.process(out)
            takes.drain_meter()
            takes.poll()
    return engine, takes, play


def _lengths(tmp_path):
    return sorted(sf.info(str(p)).frames for p in tmp_path.glob("take*.wav"))


def test_a_hundred_toggles_in_two_seconds_make_two_takes(tmp_path, monkeypatch):
    engine, takes, play = _show(tmp_path, monkeypatch)
    play(0.5)
    first = engine.transport.frame
    for _ in range(100):  # a press every 20 ms
        takes.toggle()
        play(0.02)
    last = engine.transport.frame - int(0.02 * SR) // BLOCK * BLOCK  # the 100th press: a stop
    play(1.5)
    assert not takes.active and takes.n == 2, takes.n
    lengths = _lengths(tmp_path)
    assert len(lengths) == 2 and all(n >= takes.MIN_TAKE_S * SR for n in lengths), lengths
    assert sum(lengths) >= last - first - int(0.03 * SR)  # nothing between the first press and the last stop lost


def test_record_on_and_off_are_held_to_the_same_rule(tmp_path, monkeypatch):
    engine, takes, play = _show(tmp_path, monkeypatch)
    for i in range(100):
        takes.ask(i % 2 == 0)
        play(0.02)
    play(1.5)
    assert not takes.active and takes.n == 2


def test_presses_a_second_apart_act_at_once(tmp_path, monkeypatch):
    engine, takes, play = _show(tmp_path, monkeypatch)
    for i in range(4):
        takes.toggle()
        assert takes.active == (i % 2 == 0)  # a start or a stop: at once
        play(1.1)
    assert takes.n == 2 and not takes.active
    lengths = _lengths(tmp_path)
    assert len(lengths) == 2 and all(abs(n - 1.1 * SR) <= 2 * BLOCK for n in lengths), lengths

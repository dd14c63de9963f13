"""The engine follows an external transport: locate and stop/run, click-free and sample-exact.

``Engine.locate(beat, frame)`` moves the beat grid (the loops duck out over
``dsp.DUCK_MS``, the grid jumps at gain 0, they duck back in);
``set_running(False)`` ducks out and freezes the beat, ``True`` resumes from
where it stood. A loop waiting for a boundary is moved to the next boundary
of the new grid.
"""
from __future__ import annotations

import numpy as np

from livegan.audio import dsp
from livegan.audio.engine import Engine
from livegan.model import validate_meta
from livegan.testing.wiring import identity_controls

SR = 48000
FPB = SR * 60 / 120  # 24000 frames per beat at the model's 120 BPM


def _engine(quantize="bar"):
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))
    e = Engine(meta, identity_controls(meta), sample_rate=SR, channels=2, quantize=quantize)
    t = np.arange(32768) / 16384
    e.publish_loop((0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None], 0)
    return e


def _run(e, frames, block=256):
    out = np.zeros((frames, 2), np.float32)
    for a in range(0, frames, block):
        e.process(out[a:a + block])
    return out


def test_locate_moves_the_grid_after_a_click_free_duck():
    e = _engine()
    _run(e, 30000)
    steady = np.abs(np.diff(_run(e, 4096)[:, 0])).max()
    duck = int(round(dsp.DUCK_MS * 1e-3 * SR))
    f_req = e.transport.frame
    e.locate(0.0, f_req)  # "beat 0 is at this frame": the grid jumps back about 1.4 beats
    y = _run(e, 8192)
    loc = [int(f) for f, k, _, _ in e.events() if k == dsp.EV_LOCATE]
    assert loc == [f_req + duck]  # gain reaches 0 after exactly one duck
    for f in (f_req + duck, f_req + 5000, f_req + 8000):
        assert abs(e.transport.beat_at(f) - (f - f_req) / FPB) < 1e-9
    assert np.all(y[duck] == 0.0) and np.abs(y[duck - 1]).max() < 1e-6  # silent at the jump
    assert np.abs(np.diff(y[:, 0])).max() <= steady * 1.01  # no step larger than the sine's own
    assert np.abs(y[3 * duck:, 0]).max() > 0.45  # and back to full level


def test_stop_freezes_the_beat_and_run_resumes_from_it():
    e = _engine()
    _run(e, 10000)
    e.set_running(False)
    y = _run(e, 20000)
    duck = int(round(dsp.DUCK_MS * 1e-3 * SR))
    assert np.all(y[duck + 256:] == 0.0)
    b = e.transport.beat_at(e.transport.frame)
    _run(e, 5000)
    assert abs(e.transport.beat_at(e.transport.frame) - b) < 1e-12  # stood still
    e.set_running(True)
    y = _run(e, 12000)
    assert abs(e.transport.beat_at(e.transport.frame) - (b + 12000 / FPB)) < 1e-9
    assert np.abs(np.diff(y[:, 0])).max() < 0.05 and np.abs(y[-4000:, 0]).max() > 0.45


def test_a_waiting_loop_moves_to_the_next_boundary_of_the_new_grid():
    e = _engine()
    _run(e, 3 * 24000)  # beat 3
    e.publish_loop(np.zeros((1, 32768), np.float32), 4)  # waits for beat 4 (the next bar)
    _run(e, 256)
    f_req = e.transport.frame
    e.locate(1.0, f_req)  # back to beat 1: the bar line is now 3 beats ahead
    _run(e, 4 * 24000)
    sw = [int(f) for f, k, _, _ in e.events() if k == dsp.EV_SWITCH][-1]
    assert abs(e.transport.beat_at(sw) - 4.0) < 1e-4 and sw > f_req + 2.9 * FPB

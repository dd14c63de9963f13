"""A loop that arrives after its boundary is counted late; the current one keeps playing until the next boundary."""
from __future__ import annotations

import numpy as np

from livegan.audio import dsp
from livegan.audio.engine import Engine
from livegan.model import validate_meta
from livegan.testing.synth import sine_loop
from livegan.testing.wiring import identity_controls


def test_late_loop_is_counted_and_starts_on_the_next_boundary():
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=[], sigmas=[],
                              training={}))
    e = Engine(meta, identity_controls(meta), sample_rate=48000, channels=1, quantize="beat", crossfade_ms=10.0)
    a = sine_loop(500.0, 16384, 32768)[None]
    b = sine_loop(1500.0, 16384, 32768)[None]
    out = np.zeros((1000, 1), np.float32)
    e.publish_loop(a, 0)
    for _ in range(30):  # 30 000 frames: past beat 1 (24 000)
        e.process(out)
    e.publish_loop(b, 1)  # meant for frame 24 000, which has passed
    before = e.stats()
    e.process(out)  # frames 30 000 .. 31 000: still loop a
    assert e.stats()["late_loops"] == before["late_loops"] + 1
    assert e.stats()["playing_loop"] == 0
    for _ in range(20):
        e.process(out)
    ev = e.events()
    sw = ev[ev[:, 1] == dsp.EV_SWITCH]
    assert list(sw[:, 0]) == [0, 48000]  # the next beat boundary after it arrived
    assert e.stats()["playing_loop"] == 1

"""``set_tempo`` at run time keeps the loop phase continuous: no click, only the rate changes."""
from __future__ import annotations

import numpy as np

from livegan.audio.engine import Engine
from livegan.model import validate_meta
from livegan.testing.synth import sine_loop
from livegan.testing.wiring import identity_controls


def test_tempo_change_keeps_phase_and_moves_the_beat_grid():
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=[], sigmas=[],
                              training={}))
    e = Engine(meta, identity_controls(meta), sample_rate=48000, channels=1, quantize="bar")
    e.publish_loop(sine_loop(1000.0, 16384, 32768)[None], 0)
    blocks = []
    out = np.zeros((100, 1), np.float32)
    for i in range(300):
        if i == 150:
            e.set_tempo(132.0)
        e.process(out)
        blocks.append(out.copy())
    y = np.concatenate(blocks)[:, 0].astype(np.float64)
    # a 1 kHz (then 1.1 kHz) sine of amplitude 0.5 moves at most 2*pi*f*A/sr per frame
    dmax = np.max(np.abs(np.diff(y[5000:])))
    assert dmax < 2 * np.pi * 1100 * 0.5 / 48000 * 1.02, f"step of {dmax} at the tempo change"
    assert e.transport.tempo == 132.0
    # beat grid: 15 000 frames at 120 BPM = 0.625 beat, then 15 000 at 132 = 0.6875 beat
    assert abs(e.transport.beat_at(30000) - (0.625 + 0.6875)) < 1e-9

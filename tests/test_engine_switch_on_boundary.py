"""Every loop switch starts exactly on its scheduled boundary frame; identical loops crossfade flat.

The engine's event log records the frame where each switch starts; the
boundary is computed independently here from tempo and quantize.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from livegan.audio import dsp
from livegan.io.automation import Msg
from livegan.model import validate_meta
from livegan.offline import render
from livegan.testing.synth import sine_loop
from livegan.testing.wiring import identity_parts

SR = 48000


def _meta():
    k, d = 4, 8
    return validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=d,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=np.eye(k, d).tolist(), sigmas=[0.5] * k, training={}))


class ZSine:
    """Pitch follows z[0]: every loop differs (a stand-in for a generator, no torch)."""

    def __init__(self, same=False):
        self.meta, self.same = _meta(), same

    def generate(self, z):
        f = 1000.0 if self.same else 600.0 + 400.0 * float(z[0, 0])
        return sine_loop(f, 16384, 32768)[None, None, :]


def _cc_every(seconds, step_s, offset_s=0.013):
    t, ev, v = offset_s, [], 0
    while t < seconds:
        ev.append((int(t * SR), Msg("control_change", control=0, value=v % 128)))
        v += 37
        t += step_s
    return ev


@pytest.mark.parametrize("quantize,q_beats,tempo", [("beat", 1, 120.0), ("bar", 4, 97.0), ("2 bars", 8, 133.0),
                                                   ("beat", 1, 61.3)])
def test_every_switch_starts_on_its_boundary_frame(quantize, q_beats, tempo):
    seconds = 9.0
    engine, _ = render(ZSine(), identity_parts(_meta(), SR, quantize=quantize, tempo=tempo),
                       _cc_every(seconds, 0.37), int(seconds * SR), blocksize=333)
    ev = engine.events()
    switches = ev[ev[:, 1] == dsp.EV_SWITCH]
    assert len(switches) >= 3
    fpb = SR * 60.0 / tempo
    grid = {int(math.ceil(g * q_beats * fpb - 1e-9)) for g in range(0, 200)}
    for frame in switches[:, 0]:
        assert int(frame) in grid, f"switch at frame {frame} is not on a {quantize} boundary at {tempo} BPM"
    assert engine.stats()["late_loops"] == 0
    # and the loop ids only move forward: each switch plays the newest loop
    assert np.all(np.diff(switches[:, 3]) > 0)


def test_quantize_none_switches_on_the_frame_the_loop_is_ready():
    ev = [(12345, Msg("control_change", control=0, value=100))]
    engine, _ = render(ZSine(), identity_parts(_meta(), SR, quantize="none"), ev, 2 * SR, blocksize=256)
    sw = engine.events()
    sw = sw[sw[:, 1] == dsp.EV_SWITCH]
    assert list(sw[:, 0]) == [0, 12345]


def _level_db(x, win):
    n = x.shape[0] // win
    r = np.sqrt(np.mean(x[:n * win].reshape(n, win).astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(r)


def test_crossfade_between_identical_loops_keeps_level_within_0p1_db():
    # 1 kHz at 48 kHz: 48 frames per period; 480-frame windows hold whole periods
    engine, audio = render(ZSine(same=True), identity_parts(_meta(), SR, quantize="beat", crossfade_ms=200.0),
                           _cc_every(4.0, 0.5), 4 * SR, blocksize=256)
    ev = engine.events()
    assert (ev[:, 1] == dsp.EV_SWITCH).sum() >= 6  # several crossfades inside the measured span
    lv = _level_db(audio[SR // 2:, 0], 480)
    assert lv.max() - lv.min() < 0.1, f"level moved {lv.max() - lv.min():.3f} dB across crossfades"


def test_crossfade_between_uncorrelated_loops_keeps_power():
    rng = np.random.default_rng(3)
    loops = [rng.standard_normal(32768).astype(np.float32) * 0.1 for _ in range(8)]

    class Noise:
        meta = _meta()
        i = 0

        def generate(self, z):
            self.i += 1
            return loops[self.i % 8][None, None, :]

    engine, audio = render(Noise(), identity_parts(_meta(), SR, quantize="beat", crossfade_ms=200.0),
                           _cc_every(4.0, 0.5), 4 * SR, blocksize=256)
    lv = _level_db(audio[SR // 2:, 0], 2400)  # 50 ms windows of noise: statistical spread ~0.3 dB
    assert lv.max() - lv.min() < 1.5, "equal-power law should keep uncorrelated loops' power"

"""A live set's one generator thread (``SetGenerator``) serves the track whose boundary comes first: with
both tracks' controls changed, a track on a beat grid (its next boundary one beat away) is generated
before a track on a bar grid, whatever their order in the set; the track passed over keeps its plan and
is served next. And a track whose model fails is counted on that track alone: the other track's loop
is still made and published.
"""
from __future__ import annotations

import numpy as np

from livegan.audio.engine import Engine
from livegan.generate.set_scheduler import SetGenerator
from livegan.model import validate_meta
from livegan.testing.wiring import identity_controls

META = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                          latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                          directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))


class Model:
    def __init__(self, fail=False):
        self.meta, self.fail, self.calls = META, fail, 0
        self.generate_seconds = [0.01]

    def generate(self, z):
        self.calls += 1
        if self.fail:
            raise RuntimeError("boom")
        return np.full((z.shape[0], 1, 32768), 0.1, np.float32)


def _set(quantizes, fails=(False, False)):
    engines = [Engine(META, identity_controls(META), sample_rate=48000, quantize=q) for q in quantizes]
    out = np.zeros((64, 2), np.float32)
    for e in engines:
        e.publish_loop(np.zeros((1, 32768), np.float32), 0)
        e.process(out)
    models = [Model(f) for f in fails]
    gen = SetGenerator(engines, models, block_frames=64)
    for g, e in zip(gen.tracks, engines):
        g.sched.done_seq = e.controls.seq
        g.sched.lead = 6000  # an eighth of a second
        e.controls.cc(0, 100)  # a knob moved on every track
    gen._set_leads = lambda: None  # keep the test's lead
    assert gen._due()[0] is None  # at frame 64 nothing is due yet: each track plans its next boundary
    big = np.zeros((91000 - 64, 2), np.float32)
    for e in engines:
        e.process(big)  # frame 91000: both decisions (beat 1's at 18000, beat 4's at 90000) are past
    return gen, engines, models, out


def test_the_track_whose_boundary_comes_first_is_generated_first():
    for order in (("bar", "beat"), ("beat", "bar")):
        gen, engines, _, _ = _set(order)
        k, beat = gen._due()
        assert order[k] == "beat" and beat == 1, (order, k, beat)  # late already: first in line
        gen.tracks[k].sched.done_seq = engines[k].controls.seq  # served
        k2, beat2 = gen._due()
        assert order[k2] == "bar" and beat2 == 4  # the one passed over kept its plan


def test_a_failing_track_does_not_keep_the_other_from_its_loop():
    gen, engines, models, out = _set(("beat", "bar"), fails=(True, False))
    gen.stop_event.set()  # no callback runs here: a publish is not waited for (the show's end does the same)
    for _ in range(2):
        k, beat = gen._due()
        gen._one(gen.tracks[k], int(beat))
        for e in engines:
            e.process(out)  # the callback takes what was published
    assert models[0].calls == 1 and engines[0].faults.count == 1
    assert models[1].calls == 1 and engines[1].faults.count == 0 and engines[1].loops_generated == 1

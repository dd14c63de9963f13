"""The effects chain in FIFO mode, inside ``Engine.process``, allocates nothing per call in steady state.

Measured by ``livegan.testing.alloc.steady`` (spans of 5000 calls, odd block sizes so the FIFO wraps at
every position): nothing grows in livegan's files, the calls keep nothing, the peak stays put.
"""
from __future__ import annotations

import numpy as np

from livegan.audio.engine import Engine
from livegan.audio.fx import FxChain
from livegan.control.patch import default_patch_path, load_patch
from livegan.model import validate_meta
from livegan.testing.alloc import steady
from livegan.testing.wiring import identity_controls


def test_fx_fifo_in_engine_process_allocates_nothing():
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))
    fx = FxChain(load_patch(default_patch_path()).effects, 48000, 2, bpm=120.0)
    try:
        e = Engine(meta, identity_controls(meta), sample_rate=48000, channels=2, quantize="none", fx=fx)
        e.publish_loop(np.random.default_rng(0).uniform(-0.5, 0.5, (1, 32768)).astype(np.float32), 0)
        bufs = [np.zeros((n, 2), np.float32) for n in (64, 65, 127, 256, 1)]
        for i in range(2000):
            e.process(bufs[i % len(bufs)])
        steady(lambda i: e.process(bufs[i % len(bufs)]), 5000)
        assert np.max(np.abs(bufs[3])) > 0.01  # the chain passed the loop through
    finally:
        fx.close()

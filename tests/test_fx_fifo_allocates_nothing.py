"""The effects chain in FIFO mode, inside ``Engine.process``, allocates nothing per call in steady state.

Same measure as the engine's own test (tracemalloc over many calls, odd block
sizes so the FIFO wraps at every position): traced memory does not grow and
nothing is attributed to livegan's files.
"""
from __future__ import annotations

import os
import tracemalloc

import numpy as np

import livegan
from livegan.audio.engine import Engine
from livegan.audio.fx import FxChain
from livegan.control.patch import default_patch_path, load_patch
from livegan.model import validate_meta
from livegan.testing.wiring import identity_controls

PKG = os.path.dirname(os.path.abspath(livegan.__file__)) + os.sep


def _in_package(stat) -> bool:
    """An allocation made by the package's own files (not by this test file, whatever the checkout is called)."""
    return any(os.path.abspath(f.filename).startswith(PKG) for f in stat.traceback)


def _span(e, bufs) -> tuple[list, int, list]:
    """5000 calls under tracemalloc: (growth in the package's files, net traced growth in B, largest growths)."""
    tracemalloc.start(8)
    try:
        before = tracemalloc.take_snapshot()
        base, _ = tracemalloc.get_traced_memory()
        for i in range(5000):
            e.process(bufs[i % len(bufs)])
        after_mem, _ = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    diff = [s for s in after.compare_to(before, "filename") if s.size_diff > 0]
    return [s for s in diff if _in_package(s)], after_mem - base, [str(s) for s in diff[:3]]


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
        # A leak per call grows by 5000 x its size in every span; memory that another thread of this test
        # process allocates meanwhile (a leftover of an earlier test) lands in one span, not in three.
        spans = [_span(e, bufs) for _ in range(3)]
        for grown, _, _ in spans:
            assert not grown, grown
        assert min(net for _, net, _ in spans) <= 256, \
            "traced memory grew in every one of 3 spans of 5000 calls: " + "; ".join(
                f"{net} B, most in {top}" for _, net, top in spans)
        assert np.max(np.abs(bufs[3])) > 0.01  # the chain passed the loop through
    finally:
        fx.close()

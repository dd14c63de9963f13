"""``Engine.process`` allocates nothing per call in steady state (tracemalloc over 10 000 calls).

Steady state includes what a performance does: crossfades in progress,
loops arriving, the record ring filling. Python's own bookkeeping of a call
(argument tuples from free lists) is transient: the test checks that traced
memory does not grow, that no allocation is attributed to livegan's files,
and that the peak during the 10 000 calls stays within 2 KiB of the start.
"""
from __future__ import annotations

import tracemalloc

import numpy as np

from livegan.audio.engine import Engine
from livegan.model import validate_meta
from livegan.testing.alloc import in_package
from livegan.testing.wiring import identity_controls


class _Fx:
    def __init__(self):
        self.calls = 0

    def process(self, block):  # the FX hook contract: in place
        block *= 0.5
        self.calls += 1


def test_process_allocates_nothing_in_steady_state():
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))
    fx = _Fx()
    e = Engine(meta, identity_controls(meta), sample_rate=48000, channels=2, quantize="none", crossfade_ms=100.0,
               fx=fx, record_ring_frames=4096)
    rng = np.random.default_rng(0)
    loops = [rng.uniform(-0.5, 0.5, (1, 32768)).astype(np.float32) for _ in range(3)]
    out = np.zeros((64, 2), np.float32)
    e.publish_loop(loops[0], 0)
    for i in range(3000):  # warm: every code path (switch, fade, fade end, ring wrap) has run
        e.process(out)
        e.rst["read"] = e.rst["written"]  # a reader drains the ring
        if i % 400 == 7:
            e.publish_loop(loops[i % 3], -1, wait=lambda: e.process(out[:0]))
    switches0 = e.stats()["switches"]
    e.publish_loop(loops[1], -1, wait=lambda: e.process(out[:0]))  # a switch + fade inside the measured span

    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(10_000):
            e.process(out)
        after_mem, peak = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    print(f"tracemalloc over 10 000 calls: net {after_mem - base} B, peak {peak - base} B above start")
    grown = [s for s in after.compare_to(before, "filename") if s.size_diff > 0 and in_package(s)]
    assert not grown, grown
    assert after_mem - base <= 256, f"traced memory grew by {after_mem - base} B over 10 000 calls"
    assert peak - base <= 2048, f"peak {peak - base} B above start during 10 000 calls"
    assert e.stats()["switches"] == switches0 + 1 and fx.calls > 10_000
    assert e.stats()["ring_drops"] > 0  # nobody drained during the measured span: counted, not silent


def test_process_with_patch_controls_and_effects_allocates_nothing_between_changes():
    """The block-start admission check (EngineControls) and the pyo chain add no allocation
    while no control batch is waiting."""
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.performance import build

    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))
    parts = build(meta, load_patch(default_patch_path()), 48000, 2)
    e, ec, fx = parts.engine, parts.controls, parts.fx
    assert fx is not None
    try:
        e.publish_loop(np.random.default_rng(0).uniform(-0.5, 0.5, (1, 32768)).astype(np.float32), 0)
        out = np.zeros((64, 2), np.float32)
        ec.cc(74, 30)  # an effect knob: staged, admitted by the next block
        for _ in range(200):
            e.process(out)
        assert ec.admitted == ec.batch
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in range(10_000):
                e.process(out)
            after_mem, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        fx.close()
    print(f"with controls + effects: net {after_mem - base} B, peak {peak - base} B above start")
    assert after_mem - base <= 256 and peak - base <= 2048  # as above: no growth beyond bookkeeping

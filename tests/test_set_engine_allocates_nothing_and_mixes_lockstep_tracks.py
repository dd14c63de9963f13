"""``SetEngine.process`` (a live set's callback body) is the tracks' engines, each exactly as it plays alone,
mixed by the set mixer: with a tempo change asked of track 0 only, every track follows it at the same
frame, and the output equals each engine run by itself (given the same tempo) through ``Mixer`` - bit for
bit. The mix (not a track's pre-fader block) goes into track 0's record ring. And in steady state
``process`` allocates nothing per block (``livegan.testing.alloc.steady``: spans of 5 000 blocks, as for one
engine). With the tracks' effects chains on one shared pyo server (``FxGroup``, as live), each track sounds
as its engine with a chain of its own (as ``render --set`` renders it), and that allocates nothing either.
"""
from __future__ import annotations

import numpy as np

from livegan.audio.engine import Engine
from livegan.audio.mixer import Mixer
from livegan.audio.set_engine import SetEngine
from livegan.model import validate_meta
from livegan.testing.alloc import steady
from livegan.testing.wiring import identity_controls

META = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                          latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                          directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))
LOOPS = [np.random.default_rng(k).uniform(-0.6, 0.6, (1, 32768)).astype(np.float32) for k in range(3)]


def _engines(rings: bool):
    es = []
    for k in range(3):
        kw = dict(record_ring_frames=1 << 17) if (rings and k == 0) else {}
        e = Engine(META, identity_controls(META), sample_rate=48000, channels=2, quantize="bar", **kw)
        e.publish_loop(LOOPS[k], 0)
        es.append(e)
    return es


def _mixer():
    m = Mixer(3, 8192, 48000, limiter=True, master_db=3.0)
    for k, (g, p) in enumerate(((0.0, -0.5), (-3.0, 0.7), (2.0, 0.0))):
        m.set_track(k, g, p)
    return m


def test_lockstep_set_equals_each_engine_alone_then_mixed():
    blocks, n = 600, 128
    se = SetEngine(_engines(rings=True), _mixer(), n)
    got = np.zeros((blocks * n, 2), np.float32)
    for b in range(blocks):
        if b == 200:
            se.engines[0].set_tempo(150.0)  # asked of track 0 only: the set's transport
        se.process(got[b * n:(b + 1) * n])
    alone = _engines(rings=False)
    tracks = np.zeros((3, blocks * n, 2), np.float32)
    for k, e in enumerate(alone):
        for b in range(blocks):
            if b == 200:
                e.set_tempo(150.0)
            e.process(tracks[k, b * n:(b + 1) * n])
    ref = _mixer()
    want = np.zeros_like(got)
    for a in range(0, blocks * n, 8192):
        ref.tracks[:, :min(8192, blocks * n - a)] = tracks[:, a:a + 8192]
        ref.process(want[a:a + 8192])
    assert np.abs(want).max() > 0.1
    assert np.array_equal(got, want), np.abs(got - want).max()
    assert all(e.transport.tempo == 150.0 for e in se.engines)
    ring, rst = se.engines[0].rings[0]
    assert int(rst[0]["written"]) == blocks * n and np.array_equal(ring[:blocks * n], got)  # the mix recorded


def test_set_process_allocates_nothing_in_steady_state():
    n = 64
    se = SetEngine(_engines(rings=True), _mixer(), n)
    out = np.zeros((n, 2), np.float32)
    rst = se.engines[0].rings[0][1]
    for i in range(3000):
        se.process(out)
        rst["read"] = rst["written"]
        if i % 500 == 7:
            for k, e in enumerate(se.engines):
                e.publish_loop(LOOPS[(i + k) % 3], -1, wait=lambda: se.process(out[:0]))
    got = steady(lambda i: se.process(out), 5000)
    print("SetEngine, 3 tracks, spans of 5 000 blocks: " + ", ".join(f"net {g.net} B, peak {g.peak} B" for g in got))


def _effects(k):
    from livegan.control.patch import default_patch_path, load_patch

    if k == 1:
        return None  # track 1: a patch without effects
    effects = load_patch(default_patch_path()).effects
    for e in effects:
        if e.type == "delay":
            e.params["mix"] = 0.5  # (the generic patch's delay starts silent, at mix 0)
    return effects


def _with_chains(blocks, n, tempo_at, chain_tempo=True):
    """Each engine alone with a chain of its own (as ``render --set``), then mixed; ``chain_tempo``: the
    tempo change reaches the chains too (their delay's beats)."""
    from livegan.audio.fx import FxChain

    tracks = np.zeros((3, blocks * n, 2), np.float32)
    for k, e in enumerate(_engines(rings=False)):
        fx = None if _effects(k) is None else FxChain(_effects(k), 48000, 2, bpm=120.0)
        e.fx = fx
        for b in range(blocks):
            if b == tempo_at:
                e.set_tempo(150.0)
                if fx is not None and chain_tempo:
                    fx.set_tempo(150.0)
            e.process(tracks[k, b * n:(b + 1) * n])
        if fx is not None:
            fx.close()
    ref = _mixer()
    want = np.zeros((blocks * n, 2), np.float32)
    for a in range(0, blocks * n, 8192):
        ref.tracks[:, :min(8192, blocks * n - a)] = tracks[:, a:a + 8192]
        ref.process(want[a:a + 8192])
    return want


def test_lockstep_set_with_effects_equals_each_engine_with_its_own_chain():
    """Live, every track's chain runs on one shared server (``FxGroup``); rendered, each track has its own
    chain on a server of its own, one track after another: the same samples, tempo change included."""
    from livegan.audio.fx import FxGroup

    blocks, n, tempo_at = 1500, 96, 150  # 96: the 128-frame pyo buffer falls inside blocks
    se = SetEngine(_engines(rings=True), _mixer(), n, fx=FxGroup([None if _effects(k) is None else
                                                                  (_effects(k), 120.0) for k in range(3)], 48000, 2))
    got = np.zeros((blocks * n, 2), np.float32)
    try:
        for b in range(blocks):
            if b == tempo_at:
                se.engines[0].set_tempo(150.0)
                se.fx.set_tempo(150.0)  # (live, track 0's admission does both)
            se.process(got[b * n:(b + 1) * n])
    finally:
        se.fx.close()
    assert np.array_equal(got, _with_chains(blocks, n, tempo_at))
    assert not np.array_equal(got, _with_chains(blocks, n, tempo_at, chain_tempo=False))  # the delay follows it
    dry = np.zeros_like(got)
    se = SetEngine(_engines(rings=False), _mixer(), n)
    for b in range(blocks):
        if b == tempo_at:
            se.engines[0].set_tempo(150.0)
        se.process(dry[b * n:(b + 1) * n])
    assert np.abs(dry - got).max() > 0.05  # the effects are heard


def test_set_process_with_effects_does_not_grow():
    from livegan.audio.fx import FxGroup

    n = 64
    se = SetEngine(_engines(rings=False), _mixer(), n, fx=FxGroup([(_effects(0), 120.0), None, (_effects(2), 120.0)],
                                                                  48000, 2))
    out = np.zeros((n, 2), np.float32)
    try:
        for _ in range(2000):
            se.process(out)
        steady(lambda i: se.process(out), 5000)  # the pyo server's own buffers are preallocated too
    finally:
        se.fx.close()

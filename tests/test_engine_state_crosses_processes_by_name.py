"""The engine's named state (``livegan.audio.state``: transport, track, limiter, publish record, ring
counts) lives in a shared arena that another process maps by name and plays on: blocks computed
half in a spawned process, half here, on one shared state, are the samples one engine in one
process computes (a crossfade and a tempo change straddle the hand-over)."""
from __future__ import annotations

import multiprocessing as mp
from types import SimpleNamespace

import numpy as np

from livegan.audio.arena import Arena
from livegan.audio.engine import Engine
from livegan.audio.host import META_FIELDS
from livegan.model import validate_meta
from livegan.testing.tiny import tiny_meta

BS, K = 256, 12
KW = dict(sample_rate=48000, channels=2, quantize="none", crossfade_ms=100.0, record_ring_frames=4096)


class _Still:
    """Controls that never change: the engine's ``admit`` hook only."""

    def admit(self, state) -> None:
        pass


def _child(specs, meta: dict, conn) -> None:
    """Spawned process: attach, play K blocks on the shared state, send them back."""
    e = Engine(SimpleNamespace(**meta), _Still(), arena=Arena.attach(specs), **KW)
    out = np.zeros((BS, 2), np.float32)
    blocks = []
    for _ in range(K):
        e.process(out)
        blocks.append(out.copy())
    conn.send(np.concatenate(blocks))
    conn.close()


def _start(e: Engine, meta) -> np.ndarray:
    """Loop A from frame 0, 8 blocks, then loop B asap and a tempo change: both land in the next block."""
    rng = np.random.default_rng(3)
    a, b = (rng.uniform(-0.5, 0.5, (1, meta.loop_samples)).astype(np.float32) for _ in range(2))
    out = np.zeros((BS, 2), np.float32)
    e.publish_loop(a, 0)
    blocks = []
    for _ in range(8):
        e.process(out)
        blocks.append(out.copy())
    e.publish_loop(b, -1)
    e.set_tempo(133.0)
    return np.concatenate(blocks)


def _play(e: Engine, n: int) -> np.ndarray:
    out = np.zeros((BS, 2), np.float32)
    blocks = []
    for _ in range(n):
        e.process(out)
        blocks.append(out.copy())
    return np.concatenate(blocks)


def test_blocks_played_by_another_process_on_the_shared_state_match_one_process():
    meta = validate_meta({**tiny_meta(), "format": 1})
    ref = Engine(meta, _Still(), **KW)
    want = np.concatenate([_start(ref, meta), _play(ref, 2 * K)])

    arena = Arena(shared=True)
    try:
        e = Engine(meta, _Still(), arena=arena, **KW)
        first = _start(e, meta)
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe()
        p = ctx.Process(target=_child, args=(arena.specs(), {k: getattr(meta, k) for k in META_FIELDS}, there))
        p.start()
        there.close()
        assert here.poll(120.0), "the child process sent nothing"
        middle = here.recv()
        p.join(30.0)
        assert p.exitcode == 0
        # the child's kernel wrote these, by name, into the memory this process reads
        assert int(e.state["frame"]) == (8 + K) * BS and float(e.state["tempo"]) == 133.0
        ring = e.rst[0]  # nobody drains it: what does not fit is counted as dropped
        assert int(e.track["switches"]) == 2 and int(ring["written"] + ring["dropped"]) == (8 + K) * BS
        got = np.concatenate([first, middle, _play(e, K)])
        assert e.stats()["switches"] == ref.stats()["switches"] == 2
    finally:
        arena.close()  # (the engine's arrays are unmapped from here on)
    assert np.array_equal(got, want)

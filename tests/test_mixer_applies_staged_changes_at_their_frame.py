"""A live fader / mute / solo change staged in the set's mixer (``Mixer.stage``) takes effect at exactly its
frame, whatever the block size: every frame before it is the unchanged mix bit for bit, and the output for
any split of the same frames into blocks is the same bytes (so a live take and ``render --set`` agree). The
change ramps linearly over ``RAMP_MS`` (no step larger than a ramp's share: no click) and ends exactly on
the new coefficients; a change staged "as soon as possible" (-1) applies at the next block's first frame and
says so. Mixing with changes staged and applied allocates nothing that grows."""
from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest

import livegan
from livegan.audio.mix_stage import APPLIED, FREE, ramp_frames
from livegan.audio.mixer import Mixer, db_gain

RATE = 48000
N = 6000
CHANGES = [(1000, 0, db_gain(-6.0), False, False), (1000, 1, 1.0, True, False), (2345, 2, db_gain(3.0), False, True),
           (4001, 2, 1.0, False, False), (4001, 1, db_gain(-12.0), False, False)]


def _signal(seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (3, N, 2)).astype(np.float32)


def _run(blocks, changes=CHANGES, limiter=True):
    m = Mixer(3, 8192, RATE, limiter=limiter)
    for k in range(3):
        m.set_track(k, 0.0, (-0.5, 0.0, 0.5)[k])
    for f, k, g, mu, so in changes:
        m.stage(k, g, mu, so, f)
    x = _signal()
    out = np.zeros((N, 2), np.float32)
    a = 0
    for n in blocks:
        n = min(n, N - a)
        m.tracks[:, :n] = x[:, a:a + n]
        m.process(out[a:a + n], a)
        a += n
        if a >= N:
            break
    return out, m


@pytest.mark.parametrize("block", [1, 7, 64, 128, 1000, 8192])
def test_any_block_size_gives_the_same_bytes(block):
    ref, _ = _run([N])
    got, m = _run([block] * (N // block + 1))
    assert got.tobytes() == ref.tobytes()
    assert sorted(int(r["applied"]) for r in m.q if r["state"] == APPLIED) == sorted(c[0] for c in CHANGES)
    rng = np.random.default_rng(5)
    odd, _ = _run(rng.integers(1, 700, 200).tolist())  # uneven blocks, as a callback may see
    assert odd.tobytes() == ref.tobytes()


def test_frames_before_the_change_are_the_unchanged_mix():
    ref, _ = _run([N], changes=[])
    got, _ = _run([256] * 30)
    assert got[:1000].tobytes() == ref[:1000].tobytes()
    assert not np.array_equal(got[1000], ref[1000])  # it moves from the change's own frame


def test_the_ramp_has_no_step_and_lands_on_the_new_gain():
    m = Mixer(1, 8192, RATE, limiter=False)
    m.tracks[0, :4000] = 0.5  # DC: any step in the gain is a step in the output
    m.stage(0, 1.0, True, False, 1000)  # mute
    out = np.zeros((4000, 2), np.float32)
    m.process(out, 0)
    ramp = ramp_frames(RATE)
    assert 100 < ramp < 1000  # a few ms
    d = np.abs(np.diff(out[:, 0].astype(np.float64)))
    assert d.max() <= 0.5 / ramp + 1e-6  # each frame moves a ramp's share at most: no click
    assert np.all(out[:1000] == 0.5) and out[1000, 0] < 0.5
    assert np.all(out[999 + ramp:] == 0.0)  # silent from the ramp's end, exactly


def test_as_soon_as_possible_applies_at_the_next_block_and_says_where():
    m = Mixer(2, 8192, RATE, limiter=False)
    out = np.zeros((128, 2), np.float32)
    m.process(out, 0)
    slot = m.stage(1, db_gain(-20.0), False, False)
    assert m.q[slot]["state"] != APPLIED
    m.process(out, 128)
    assert m.q[slot]["state"] == APPLIED and m.q[slot]["applied"] == 128
    m.q[slot]["state"] = FREE  # the control thread logged it
    assert m.gain[1] == db_gain(-20.0)


def test_staged_mixing_allocates_nothing():
    pkg = os.path.dirname(os.path.abspath(livegan.__file__)) + os.sep
    m = Mixer(4, 512, RATE, limiter=True)
    m.tracks[:] = np.random.default_rng(3).uniform(-1, 1, m.tracks.shape).astype(np.float32)
    outs = [np.zeros((n, 2), np.float32) for n in (512, 1, 65, 300)]
    m.stage(0, 0.5, False, False, 10)
    frame = 0
    for i in range(200):  # warm: every path compiled
        m.process(outs[i % 4], frame)
        frame += outs[i % 4].shape[0]
    m.q["state"] = FREE
    for j in range(60):  # changes due inside the measured span
        m.stage(j % 4, db_gain(-j / 10), j % 3 == 0, j % 7 == 0, frame + 500 * j)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        base, _ = tracemalloc.get_traced_memory()
        for i in range(3000):
            m.process(outs[i % 4], frame)
            frame += outs[i % 4].shape[0]
        after_mem, _ = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert np.count_nonzero(m.q["state"] == APPLIED) == 60  # every change happened while measured
    grown = [s for s in after.compare_to(before, "filename") if s.size_diff > 0
             and any(os.path.abspath(f.filename).startswith(pkg) for f in s.traceback)]
    assert not grown, grown
    assert after_mem - base <= 256

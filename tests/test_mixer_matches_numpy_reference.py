"""The set's mixer (``livegan.audio.mixer``): its kernel equals a plain numpy mix for random gains, pans,
mute/solo and block sizes; a track at the centre at 0 dB passes bit for bit (the pan law's unity);
the master limiter is an exact identity while the mix stays under its ceiling, and over it the output
stays bounded with no step (click); ``process`` allocates nothing."""
from __future__ import annotations

import math
import os
import tracemalloc

import numpy as np
import pytest

import livegan
from livegan.audio.mixer import CEILING_DB, Mixer, db_gain, pan_gains

RATE = 48000


def _reference(tracks, gains_db, pans, mute, solo, master_db):
    """The mix as the docs define it, in float64 numpy."""
    audible = ~mute & (solo | ~solo.any())
    g = np.array([10 ** (d / 20) for d in gains_db]) * 10 ** (master_db / 20) * audible
    lr = np.array([[math.sqrt(2) * math.cos((p + 1) * math.pi / 4), math.sqrt(2) * math.sin((p + 1) * math.pi / 4)]
                   for p in pans])
    stems = tracks.astype(np.float64) * (g[:, None] * lr)[:, None, :]
    return stems.sum(axis=0), stems


@pytest.mark.parametrize("seed", range(6))
def test_mix_kernel_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    n_tracks = int(rng.integers(1, 9))
    gains = rng.uniform(-30, 12, n_tracks)
    pans = rng.uniform(-1, 1, n_tracks)
    mute = rng.random(n_tracks) < 0.2
    solo = rng.random(n_tracks) < (0.3 if seed % 2 else 0.0)
    master = float(rng.uniform(-12, 6))
    m = Mixer(n_tracks, 1024, RATE, limiter=False, master_db=master)
    for k in range(n_tracks):
        m.set_track(k, gains[k], pans[k], bool(mute[k]), bool(solo[k]))
    for n in (1, 7, 64, 1000, 1024):
        tracks = rng.uniform(-1, 1, (n_tracks, n, 2)).astype(np.float32)
        m.tracks[:, :n] = tracks
        out = np.zeros((n, 2), np.float32)
        m.process(out)
        want, stems = _reference(tracks, gains, pans, mute, solo, master)
        assert np.allclose(out, want, rtol=1e-5, atol=1e-6)
        assert np.allclose(m.tracks[:, :n], stems, rtol=1e-5, atol=1e-6)  # the post-fader stems
        assert np.allclose(m.tracks[:, :n].astype(np.float64).sum(axis=0), out, atol=1e-6)


def test_centre_pan_at_0_db_passes_bit_for_bit():
    assert pan_gains(0.0) == (1.0, 1.0) and db_gain(0.0) == 1.0
    left, right = pan_gains(-1.0)
    assert left == pytest.approx(math.sqrt(2)) and abs(right) < 1e-12  # equal power: L^2 + R^2 = 2 everywhere
    for p in np.linspace(-1, 1, 9):
        gl, gr = pan_gains(float(p))
        assert gl * gl + gr * gr == pytest.approx(2.0)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (4096, 2)).astype(np.float32)
    x[::7] = -0.0  # signed zeros too: the mix must not turn -0.0 into +0.0
    m = Mixer(1, 4096, RATE, limiter=True)
    m.tracks[0] = x * np.float32(0.9)
    want = m.tracks[0].copy()
    out = np.zeros((4096, 2), np.float32)
    m.process(out)
    assert out.tobytes() == want.tobytes()


def test_limiter_is_identity_under_the_ceiling():
    ceiling = db_gain(CEILING_DB)
    rng = np.random.default_rng(2)
    m = Mixer(3, 512, RATE, limiter=True)
    for k in range(3):
        m.set_track(k, 0.0, 0.0)
    for _ in range(50):
        tracks = rng.uniform(-ceiling / 3, ceiling / 3, (3, 512, 2)).astype(np.float32)
        m.tracks[:] = tracks
        out = np.zeros((512, 2), np.float32)
        m.process(out)
        plain = Mixer(3, 512, RATE, limiter=False)
        plain.tracks[:] = tracks
        ref = np.zeros((512, 2), np.float32)
        plain.process(ref)
        assert out.tobytes() == ref.tobytes()
    assert m.lst[0] == 1.0


def test_limiter_over_the_ceiling_is_bounded_without_steps():
    ceiling = db_gain(CEILING_DB)
    n = 3 * RATE
    t = np.arange(n) / RATE
    amp = np.where(t < 0.5, 0.5, 3.0)  # +10 dB over the ceiling at once (at a zero crossing), then back
    amp[int(0.75 * RATE):] = 0.5
    x = (amp * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    m = Mixer(1, 256, RATE, limiter=True)
    y = np.zeros((n, 2), np.float32)
    gain = np.zeros(n)
    for i in range(n):  # a frame at a time, to read the gain at every frame
        m.tracks[0, 0] = x[i]
        m.process(y[i:i + 1])
        gain[i] = m.lst[0]
    assert np.max(np.abs(y)) <= ceiling + 1e-7  # bounded
    assert np.max(np.abs(y[int(0.6 * RATE):int(0.74 * RATE), 0])) > 0.9 * ceiling  # limited, not silenced
    assert gain.min() < 0.4  # it did reduce the gain (about 1/3 is needed)
    # no step: the gain moves by at most the attack's share of the way per frame (an instant limiter's
    # gain drops from 1 to 1/3 in one frame: a click)
    assert np.max(np.abs(np.diff(gain))) < 0.02
    # and well after the loud part the gain is exactly unity again (the release ends)
    assert np.array_equal(y[-1000:, 0], x[-1000:])


def test_mixer_process_allocates_nothing():
    pkg = os.path.dirname(os.path.abspath(livegan.__file__)) + os.sep
    m = Mixer(8, 512, RATE, limiter=True)
    m.tracks[:] = np.random.default_rng(3).uniform(-1, 1, m.tracks.shape).astype(np.float32)
    outs = [np.zeros((n, 2), np.float32) for n in (512, 1, 65, 300)]
    for i in range(200):
        m.process(outs[i % 4])
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        base, _ = tracemalloc.get_traced_memory()
        for i in range(3000):
            m.process(outs[i % 4])
        after_mem, _ = tracemalloc.get_traced_memory()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = [s for s in after.compare_to(before, "filename") if s.size_diff > 0
             and any(os.path.abspath(f.filename).startswith(pkg) for f in s.traceback)]
    assert not grown, grown
    assert after_mem - base <= 256

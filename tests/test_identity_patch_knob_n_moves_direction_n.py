"""The identity patch that tests and benchmarks play through: CC n moves direction n by +-2 sigmas at
full travel (z = seed_z + offset * sigma_n * direction_n), note n picks ``seed_z(n)``, and a CC with no
direction changes nothing (no new loop)."""
from __future__ import annotations

import numpy as np

from livegan.model import seed_z, validate_meta
from livegan.testing.wiring import identity_controls


def _meta():
    rng = np.random.default_rng(0)
    dirs = rng.standard_normal((3, 6))
    return validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=6,
                              latent_dist="normal", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=(dirs / np.linalg.norm(dirs, axis=1, keepdims=True)).tolist(),
                              sigmas=[0.5, 1.0, 2.0], training={}))


def _z(ec, meta):
    return ec.z(meta, ec.snapshot())


def test_cc_n_moves_direction_n_by_its_range_in_sigmas():
    meta = _meta()
    ec = identity_controls(meta)
    base = seed_z(0, 6, "normal")
    np.testing.assert_array_equal(_z(ec, meta), base)  # knobs start neutral
    ec.cc(2, 127)  # full travel: +2 sigmas along direction 2
    ec.cc(0, 0)  # no travel: -2 sigmas along direction 0
    want = base + 2.0 * meta.sigmas[2] * meta.directions[2] - 2.0 * meta.sigmas[0] * meta.directions[0]
    np.testing.assert_allclose(_z(ec, meta), want, rtol=1e-5, atol=1e-5)


def test_a_cc_without_a_direction_makes_no_new_loop():
    ec = identity_controls(_meta())
    seq = ec.seq
    ec.cc(9, 127)  # the model has 3 directions
    assert ec.seq == seq
    ec.cc(1, 127)
    assert ec.seq != seq


def test_note_n_picks_seed_n_every_time():
    meta = _meta()
    ec = identity_controls(meta)
    ec.note(60, 100)
    np.testing.assert_array_equal(_z(ec, meta), seed_z(60, 6, "normal"))
    seq = ec.seq
    ec.note(60, 100)  # the same note again: a new loop from the same seed
    assert ec.seq != seq
    np.testing.assert_array_equal(_z(ec, meta), seed_z(60, 6, "normal"))

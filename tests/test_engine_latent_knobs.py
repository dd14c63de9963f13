"""knobs -> z is the pure function z = base + sum_k knob_k * range_k * sigma_k * direction_k."""
from __future__ import annotations

import numpy as np

from livegan.control.latent import Controls, cc_to_knob, knobs_to_z


def test_knobs_to_z_is_the_documented_sum():
    rng = np.random.default_rng(0)
    base = rng.standard_normal(6).astype(np.float32)
    dirs = rng.standard_normal((3, 6)).astype(np.float32)
    sig = np.array([0.5, 1.0, 2.0], np.float32)
    knobs = np.array([1.0, -0.5, 0.25], np.float32)
    ranges = np.array([2.0, 2.0, 1.0], np.float32)
    want = base + sum(knobs[k] * ranges[k] * sig[k] * dirs[k] for k in range(3))
    np.testing.assert_allclose(knobs_to_z(base, knobs, ranges, dirs, sig), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(knobs_to_z(base, np.zeros(3), ranges, dirs, sig), base)


def test_more_knobs_than_directions_ignores_the_extra_knobs():
    base = np.zeros(4, np.float32)
    z = knobs_to_z(base, np.ones(8, np.float32), np.ones(8), np.eye(2, 4), np.ones(2))
    np.testing.assert_array_equal(z, [1, 1, 0, 0])


def test_cc_maps_to_knob_ends_and_controls_bump_seq():
    assert cc_to_knob(0) == -1.0 and cc_to_knob(127) == 1.0
    c = Controls(4)
    s = c.seq
    c.set_cc(2, 127)
    c.set_cc(9, 127)  # no direction 9: ignored
    assert c.knobs[2] == 1.0 and c.seq == s + 1
    c.note_on(60)
    assert c.seed == 60 and c.seq == s + 2

"""The Rayleigh knob fit (train/knob_fit.py): where another property's change along a direction is zero on
average but not seed by seed, the projected regression gradient leaves that per-seed cross-talk in and the
Rayleigh direction takes it out; its per-draw gradients are the descriptors' true gradients; and the range it
measures sits inside both the reach and the cross-talk bounds."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from livegan.testing.tiny import TINY
from train.descriptors import NAMES, describe
from train.knob_fit import calibrated_sigma, descriptor_gradients, rayleigh_directions
from train.knobs import MAX_CROSSTALK, MIN_REACH, fit_directions

SR, N = TINY["sample_rate"], TINY["loop_samples"]


def known_descriptors(z: np.ndarray):
    """Five descriptors of z (n, 7) with their exact gradients (n, 5, 7). brightness = z0 + z3 moves along
    e0 and e3; weight = 3 z0 z2 + z1 has mean gradient e1 (orthogonal to brightness's) but moves by 3 z2 per
    unit of e0, so only e3 moves brightness and holds weight still on every seed."""
    n = len(z)
    d = dict(brightness=z[:, 0] + z[:, 3], weight=3 * z[:, 0] * z[:, 2] + z[:, 1], loudness=z[:, 4],
             noisiness=z[:, 5], density=z[:, 6])
    g = np.zeros((n, 5, 7))
    g[:, 0, [0, 3]] = 1.0
    g[:, 1, 0], g[:, 1, 1], g[:, 1, 2] = 3 * z[:, 2], 1.0, 3 * z[:, 0]
    g[:, 2, 4] = g[:, 3, 5] = g[:, 4, 6] = 1.0
    return d, g


def per_seed_crosstalk(g: np.ndarray, spread: np.ndarray, direction: np.ndarray, k: int) -> float:
    """The median draw's largest other-descriptor change over its own, per unit along direction."""
    moves = np.abs(g / spread[None, :, None] @ direction)  # (n, M)
    return float(np.max(np.delete(np.median(moves, 0), k)) / np.median(moves[:, k]))


def test_rayleigh_direction_removes_the_per_seed_crosstalk_the_projection_leaves():
    z = np.random.default_rng(0).standard_normal((4000, 7))
    d, g = known_descriptors(z)
    spread = {k: float(np.std(v)) for k, v in d.items()}
    s = np.array([spread[k] for k in NAMES])
    projected, _, _ = fit_directions(z, d)
    rayleigh, slopes = rayleigh_directions(g[:1000], spread)
    # the projection keeps brightness's regression gradient (e0 + e3): weight's mean change is zero there...
    assert abs(projected[0, 0]) > 0.6 and abs(projected[0, 3]) > 0.6
    # ... but each seed's weight moves by z2 along it: the median seed's cross-talk is large
    before = per_seed_crosstalk(g, s, projected[0].astype(np.float64), 0)
    assert before > 0.4
    # the Rayleigh direction is mostly e3, where weight does not move on any seed (the ridge keeps some e0)
    assert rayleigh[0, 3] > 0.95
    assert per_seed_crosstalk(g, s, rayleigh[0].astype(np.float64), 0) < 0.5 * before
    assert slopes[0] > 0  # it raises its own descriptor


class LevelLowNoise(torch.nn.Module):
    """z0: level of an 880 Hz sine, z1: level of a 64 Hz one (weight), z2: level of fixed noise (noisiness,
    brightness); smooth everywhere, whole cycles per loop."""

    def __init__(self):
        super().__init__()
        t = torch.arange(N, dtype=torch.float32) / SR
        self.register_buffer("hi", torch.sin(2 * torch.pi * 880 * t))
        self.register_buffer("lo", torch.sin(2 * torch.pi * 64 * t))
        self.register_buffer("noise", torch.from_numpy(np.random.default_rng(1).standard_normal(N).astype(np.float32)))

    def forward(self, z):
        a = 0.3 * torch.sigmoid(z[:, :3, None])
        return (a[:, 0] * self.hi + a[:, 1] * self.lo + 0.2 * a[:, 2] * self.noise)[:, None, :]


@pytest.mark.parametrize("row", [0, 1])
def test_descriptor_gradients_match_finite_differences(row):
    gen = LevelLowNoise()
    z = np.random.default_rng(row).standard_normal((2, 3)).astype(np.float32)
    g = descriptor_gradients(gen, z, SR)[row]  # (M, D)
    h = 1e-2
    for i in range(3):
        up, down = z[row:row + 1].copy(), z[row:row + 1].copy()
        up[0, i] += h
        down[0, i] -= h
        with torch.no_grad():
            du, dd = describe(gen(torch.from_numpy(up)), SR), describe(gen(torch.from_numpy(down)), SR)
        for m, k in enumerate(NAMES):
            fd = (du[k][0] - dd[k][0]) / (2 * h)
            assert abs(g[m, i] - fd) <= 0.05 * max(abs(fd), 1e-3 * np.abs(g[m]).max()) + 1e-6, (k, i, g[m, i], fd)


def test_measured_range_sits_inside_both_bounds():
    # reach 0.3 and cross-talk 0.1 per unit of range: the window is [MIN_REACH / 0.3, MAX_CROSSTALK / 0.1]
    sigma = calibrated_sigma(1.0, 0.3, 0.1, prior_sigma=100.0, min_reach=MIN_REACH, max_cross=MAX_CROSSTALK)
    assert 0.3 * sigma > MIN_REACH and 0.1 * sigma < MAX_CROSSTALK
    assert np.isclose(0.3 * sigma / MIN_REACH, MAX_CROSSTALK / (0.1 * sigma))
    # never past the prior's own spread along the direction
    assert calibrated_sigma(1.0, 0.3, 0.1, prior_sigma=2.0, min_reach=MIN_REACH, max_cross=MAX_CROSSTALK) == 2.0

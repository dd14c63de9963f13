"""GANSpace finds the direction the generator varies most along first, with the prior's spread along it."""
from __future__ import annotations

import numpy as np
import torch

from train.directions import ganspace


class _LinearHead(torch.nn.Module):
    """head(z) = z scaled per axis: axis 3 moves the activations 10x more than any other."""

    def __init__(self, d):
        super().__init__()
        scale = torch.ones(d)
        scale[3], scale[5] = 10.0, 4.0
        self.register_buffer("scale", scale)

    def head(self, z):
        return (z * self.scale)[:, :, None]  # (B, D, 1)


def test_ganspace_finds_the_strongest_direction_first_with_prior_sigmas():
    dirs, sigmas = ganspace(_LinearHead(8), 8, "uniform", k=4, n=4000)
    assert dirs.shape == (4, 8) and np.allclose(np.linalg.norm(dirs, axis=1), 1, atol=1e-5)
    assert abs(dirs[0, 3]) > 0.99 and abs(dirs[1, 5]) > 0.99
    assert np.allclose(sigmas, 1 / np.sqrt(3), atol=0.03)  # std of U(-1, 1) along a unit axis

"""GANSpace finds the direction the generator varies most along; seam-aware pieces roll as promised."""
from __future__ import annotations

import numpy as np
import torch

from train.directions import ganspace
from train.models import Discriminator, Generator, phase_shuffle
from train.presets import apply_overrides, paper, wavegan
from train.trainer import shift_augment


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


def test_every_layer_changes_length_by_exactly_the_stride():
    for p in (paper(), apply_overrides(wavegan(), ["model_dim=2"])):
        g, d = Generator(p), Discriminator(p)
        z = torch.rand(3, p.latent_dim) * 2 - 1
        y = g(z)
        assert y.shape == (3, p.channels, p.loop_samples) and float(y.detach().abs().max()) < 1
        assert d(y).shape == (3,)


def test_shift_augment_rolls_real_loops_by_whole_16th_notes():
    p = apply_overrides(paper(), ["shift_augment=true"])
    x = torch.zeros(32, 1, p.loop_samples)
    x[:, 0, 0] = 1.0  # an impulse on the one
    y = shift_augment(p, x, torch.Generator().manual_seed(0))
    pos = y[:, 0].argmax(1)
    step = p.loop_samples // 16  # 16 sixteenths in one bar of 4/4
    assert torch.all(pos % step == 0) and len(set(pos.tolist())) > 4
    assert torch.allclose(y.sum(-1), x.sum(-1))  # circular: nothing falls off the end


def test_phase_shuffle_moves_each_example_by_at_most_n():
    x = torch.arange(100, dtype=torch.float32).repeat(16, 2, 1)  # (16, 2, 100)
    y = phase_shuffle(x, 2)
    shift = (y[:, :, 50] - x[:, :, 50])  # interior: pure shift
    assert shift.abs().max() <= 2 and torch.all(shift[:, 0] == shift[:, 1])

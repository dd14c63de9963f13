"""G and D change the loop length by exactly the stride per layer: G makes (channels, loop_samples) loops."""
from __future__ import annotations

import torch

from train.config import apply_overrides
from train.models import Discriminator, Generator
from train.presets import paper, wavegan


def test_every_layer_changes_length_by_exactly_the_stride():
    for p in (paper(), apply_overrides(wavegan(), ["model_dim=2"])):
        g, d = Generator(p), Discriminator(p)
        z = torch.rand(3, p.latent_dim) * 2 - 1
        y = g(z)
        assert y.shape == (3, p.channels, p.loop_samples) and float(y.detach().abs().max()) < 1
        assert d(y).shape == (3,)

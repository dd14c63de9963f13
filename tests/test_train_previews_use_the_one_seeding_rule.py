"""A run's fixed validation z i is seed i under the one seeding rule (livegan.model.seed_z), so seed i in
perform and render plays the loop of preview i."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from livegan.model import seed_z
from train.config import apply_overrides
from train.presets import paper
from train.state import make_state


@pytest.mark.parametrize("dist", ["uniform", "normal"])
def test_preview_i_is_seed_i(dist):
    p = apply_overrides(paper(), [f"latent_dist={dist}", "n_val=5", "latent_dim=7", "seed=3"])
    s = make_state(p, torch.device("cpu"))
    assert s.z_val.shape == (5, 7) and s.z_val.dtype == torch.float32
    for i in range(5):
        assert np.array_equal(s.z_val[i].numpy(), seed_z(i, 7, dist))

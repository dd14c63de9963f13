"""PacGAN: D judges packs of loops, a pack never mixes real and fake, and the gradient penalty takes its
norm per pack; paper-plus trains with pairs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from train_probes import L

from train.config import apply_overrides, check
from train.models import Discriminator
from train.presets import paper, paper_plus, wavegan
from train.state import Batches, TrainState, make_state
from train.waveform import waveform_step


def test_pacgan_d_scores_each_pack_of_loops_from_all_of_its_loops():
    p = apply_overrides(paper(), ["pack=2"])
    d = Discriminator(p).eval()
    x = torch.randn(4, 1, 4096) * 0.3
    base = d(x)
    assert base.shape == (2,)  # loops 0-1 are one pack, loops 2-3 the other
    for i in range(4):
        y = x.clone()
        y[i] = torch.randn(1, 4096) * 0.3
        changed = (d(y) - base).abs() > 1e-6
        assert changed.tolist() == [i < 2, i >= 2]  # each loop counts in its own pack's score only
    with pytest.raises(ValueError, match="pack"):
        check(apply_overrides(paper(), ["pack=3"]))  # 3 does not divide the batch of 4


class _ConstG(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.w = torch.nn.Parameter(torch.full((1,), float(value)))

    def forward(self, z):
        return torch.ones(z.shape[0], 1, L) * self.w


class _PackMeanD(torch.nn.Module):
    """A packing D whose score is the mean of its pack: real packs (all 1) score 1, fake (all -1) -1,
    a pack mixing the two 0."""

    def __init__(self, pack):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.pack = pack

    def forward(self, x, return_features=False):
        return x.reshape(x.shape[0] // self.pack, -1).mean(1) * self.w


@pytest.mark.parametrize("joint", [False, True])
def test_pacgan_packs_real_with_real_and_fake_with_fake(joint):
    from train import losses

    p = apply_overrides(wavegan(), ["seam_roll=false", "shift_augment=false", "loss=bce", "n_critic=1",
                                    "batch_size=4", "pack=2", f"loop_samples={L}", "latent_dim=4",
                                    f"joint_batch={joint}"])
    g, d = _ConstG(-1.0), _PackMeanD(2)
    s = TrainState(p, g, d, torch.optim.SGD(g.parameters(), 0.0), torch.optim.SGD(d.parameters(), 0.0),
                   torch.zeros(1, 4), torch.device("cpu"), torch.Generator().manual_seed(0))
    out = waveform_step(s, lambda: torch.ones(4, 1, L))
    one = torch.ones(2)
    assert out["loss_d"] == pytest.approx(losses.bce_d(one, -one).item(), rel=1e-6)
    assert out["loss_g"] == pytest.approx(losses.bce_g(-one).item(), rel=1e-6)


def test_gradient_penalty_takes_the_norm_over_each_pack():
    """A packing critic with a unit-norm weight over the whole pack has gradient norm 1 per pack:
    no penalty (per loop the norm would be 1 / sqrt(2), and the penalty would not be 0)."""
    from train import losses

    w = torch.randn(2 * L)
    w = w / w.norm()

    def critic(x):  # (B, 1, L) -> (B / 2,)
        return x.reshape(x.shape[0] // 2, 2 * L) @ w

    real, fake = torch.randn(4, 1, L), torch.randn(4, 1, L)
    assert losses.gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_paper_plus_trains_and_its_d_takes_pairs():
    p = apply_overrides(paper_plus(), ["n_val=2"])
    loops = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 1, 4096)).astype(np.float32)
    s = make_state(p, torch.device("cpu"))
    assert s.d_plain.blocks[0][0].in_channels == 2
    for _ in range(2):
        out = waveform_step(s, Batches(loops, 4, torch.Generator().manual_seed(0)))
    assert np.isfinite(out["loss_d"]) and np.isfinite(out["loss_g"])

"""Seam-aware training rolls real and fake by the same amount before D; the anti-collapse options act."""
from __future__ import annotations

import numpy as np
import torch

from train.models import Discriminator
from train.presets import apply_overrides, wavegan
from train.trainer import Batches, TrainState, make_state, train_step

L = 1024


class _ImpulseG(torch.nn.Module):
    """Always an impulse on sample 0: where D sees it tells how far the loop was rolled."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, z):
        y = torch.zeros(z.shape[0], 1, L)
        y[:, 0, 0] = 1.0
        return y * self.w


class _RecordingD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.seen = []

    def forward(self, x, return_features=False):
        self.seen.append(x.detach().clone())
        return (x.flatten(1) * self.w).sum(1)


def _state(seam_roll: bool) -> TrainState:
    p = apply_overrides(wavegan(), [f"seam_roll={seam_roll}", "shift_augment=false", "loss=bce",
                                    "n_critic=1", "batch_size=2", f"loop_samples={L}", "latent_dim=4"])
    g, d = _ImpulseG(), _RecordingD()
    return TrainState(p, g, d, torch.optim.SGD(g.parameters(), 0.0), torch.optim.SGD(d.parameters(), 0.0),
                      torch.zeros(1, 4), torch.device("cpu"), torch.Generator().manual_seed(0))


def _real_impulses(n=2):
    x = np.zeros((n, 1, L), np.float32)
    x[:, 0, 0] = 1.0
    return Batches(x, 2, torch.Generator().manual_seed(1))


def test_real_and_fake_get_the_same_random_roll_before_d():
    s = _state(seam_roll=True)
    shifts = []
    for _ in range(5):
        s.d.seen.clear()
        train_step(s, _real_impulses())
        real, fake = s.d.seen[0], s.d.seen[1]  # D step: real, then fake
        pr, pf = real[:, 0].argmax(1), fake[:, 0].argmax(1)
        assert torch.equal(pr, pf)
        shifts.append(int(pr[0]))
    assert len(set(shifts)) > 1 and any(shifts)


def test_without_seam_roll_d_sees_loops_unrolled():
    s = _state(seam_roll=False)
    train_step(s, _real_impulses())
    assert all(int(x[:, 0].argmax(1).max()) == 0 for x in s.d.seen)


def test_minibatch_stddev_makes_d_see_the_batch_spread():
    p = apply_overrides(wavegan(), ["minibatch_std=true", "model_dim=2", "loop_samples=4096", "phase_shuffle=0"])
    d = Discriminator(p).eval()
    x = torch.randn(1, 1, 4096) * 0.3
    same = d(torch.cat([x, x]))[0]
    varied = d(torch.cat([x, torch.randn(1, 1, 4096) * 0.3]))[0]
    assert not torch.allclose(same, varied)  # the same loop scores differently in a varied batch


def test_feature_matching_adds_to_g_loss_and_trains():
    base = ["model_dim=2", "loop_samples=4096", "sample_rate=2048", "batch_size=2", "n_critic=1", "n_val=2"]
    loops = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 1, 4096)).astype(np.float32)
    out = {}
    for fm in (0.0, 100.0):
        p = apply_overrides(wavegan(), base + [f"feature_matching={fm}"])
        s = make_state(p, torch.device("cpu"))
        out[fm] = train_step(s, Batches(loops, 2, torch.Generator().manual_seed(0)))["loss_g"]
    assert np.isfinite(out[100.0]) and out[100.0] > out[0.0]


def test_joint_batch_shows_d_real_and_fake_in_one_batch_rolled_alike():
    s = _state(seam_roll=True)
    s.p = apply_overrides(s.p, ["joint_batch=true"])
    train_step(s, _real_impulses())
    d_step, g_step = s.d.seen
    assert d_step.shape[0] == g_step.shape[0] == 4  # 2 real + 2 fake, one batch-norm batch
    pos = d_step[:, 0].argmax(1)
    assert len(set(pos.tolist())) == 1

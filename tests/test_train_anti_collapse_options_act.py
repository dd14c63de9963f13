"""The anti-collapse options act: minibatch stddev and minibatch discrimination let D see a collapsed
batch, feature matching adds to G's loss, one-sided label smoothing keeps D's real logits finite."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from train.config import apply_overrides, check
from train.models import Discriminator, MinibatchDiscrimination
from train.presets import paper, wavegan
from train.state import Batches, make_state
from train.waveform import waveform_step


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
        out[fm] = waveform_step(s, Batches(loops, 2, torch.Generator().manual_seed(0)))["loss_g"]
    assert np.isfinite(out[100.0]) and out[100.0] > out[0.0]


def test_minibatch_discrimination_scores_a_collapsed_batch_apart_from_a_varied_one():
    mb = MinibatchDiscrimination(64, 8, 5)
    torch.manual_seed(0)
    one = torch.randn(1, 64)
    collapsed = mb(one.expand(4, 64))  # (4, 8): each loop is close to the other three
    varied = mb(torch.randn(4, 64))
    assert torch.allclose(collapsed, torch.full_like(collapsed, 3.0))
    assert varied.max() < 0.5


def test_paper_preset_with_minibatch_discrimination_and_diffaugment_trains():
    p = apply_overrides(paper(), ["minibatch_disc=16", "translate=0.125", "cutout=0.5", "n_val=2"])
    loops = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 1, 4096)).astype(np.float32)
    s = make_state(p, torch.device("cpu"))
    before = [t.detach().clone() for t in s.d_plain.mbdisc.parameters()]
    for _ in range(2):
        out = waveform_step(s, Batches(loops, 4, torch.Generator().manual_seed(0)))
    assert np.isfinite(out["loss_d"]) and np.isfinite(out["loss_g"])
    assert not torch.equal(before[0], s.d_plain.mbdisc.t)  # D learns the minibatch kernels


def test_one_sided_label_smoothing_keeps_d_from_certainty_on_real_loops():
    """With real_label 0.9, D's loss on a real loop is lowest at sigmoid(logit) = 0.9, not at an
    infinite logit; fakes keep their 0 target."""
    from train import losses

    logit = torch.tensor([np.log(9.0), 8.0], requires_grad=True)  # sigmoid 0.9, ~0.9997
    losses.bce_d(logit, torch.full((2,), -30.0), real_label=0.9).backward()
    assert abs(logit.grad[0]) < 1e-6 and logit.grad[1] > 0.04  # pushed back down from certainty
    plain = torch.tensor([8.0], requires_grad=True)
    losses.bce_d(plain, torch.full((1,), -30.0)).backward()
    assert plain.grad[0] < 0  # without smoothing D still pushes real logits up
    fake = torch.tensor([-8.0], requires_grad=True)
    losses.bce_d(torch.full((1,), np.log(9.0)), fake, real_label=0.9).backward()
    assert 0 < fake.grad[0] < 1e-3  # one-sided: the fake target stays 0
    with pytest.raises(ValueError, match="real_label"):
        check(apply_overrides(paper(), ["real_label=0.4"]))

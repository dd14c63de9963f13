"""Seam-aware training rolls real and fake by the same amount before D; the anti-collapse options act;
DiffAugment transforms what D sees of real and fake alike."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from train.models import Discriminator, MinibatchDiscrimination
from train.presets import apply_overrides, check, paper, paper_plus, wavegan
from train.trainer import Batches, TrainState, diff_augment, make_state, train_step

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


def _offset(pos: torch.Tensor) -> torch.Tensor:
    """Impulse positions on the circle -> signed offsets from sample 0."""
    return torch.where(pos > L // 2, pos - L, pos)


def test_diffaugment_translates_each_real_and_fake_loop_by_its_own_bounded_amount():
    s = _state(seam_roll=False)
    s.p = apply_overrides(s.p, ["translate=0.125"])
    offsets = {"real": [], "fake": []}
    for _ in range(20):
        s.d.seen.clear()
        train_step(s, _real_impulses())
        real, fake, g_fake = s.d.seen  # D step: real, fake; G step: fake
        offsets["real"] += _offset(real[:, 0].argmax(1)).tolist()
        offsets["fake"] += _offset(fake[:, 0].argmax(1)).tolist() + _offset(g_fake[:, 0].argmax(1)).tolist()
    for name, off in offsets.items():
        assert max(abs(o) for o in off) <= L // 8, name
        assert len(set(off)) > 10, name  # drawn per loop and per step, fakes included (also in G's step)


def test_diffaugment_cutout_silences_one_stretch_and_passes_gradients():
    p = apply_overrides(paper(), ["cutout=0.25", "translate=0.125"])
    x = torch.ones(6, 1, 4096, requires_grad=True)
    y = diff_augment(p, x, torch.Generator().manual_seed(0))
    zeros = (y == 0).sum(2).squeeze(1)
    assert torch.all(zeros == 1024)  # exactly a quarter of each loop
    y.sum().backward()
    # differentiable: G learns through it; the cut stretch passes no gradient, the rest passes it whole
    assert torch.all(x.grad.sum(2) == 3072) and torch.all((x.grad == 0) | (x.grad == 1))
    off = apply_overrides(paper(), [])
    g = torch.Generator().manual_seed(0)
    assert diff_augment(off, x, g) is x and torch.equal(g.get_state(), torch.Generator().manual_seed(0).get_state())


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
        out = train_step(s, Batches(loops, 4, torch.Generator().manual_seed(0)))
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
    out = train_step(s, lambda: torch.ones(4, 1, L))
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
        out = train_step(s, Batches(loops, 4, torch.Generator().manual_seed(0)))
    assert np.isfinite(out["loss_d"]) and np.isfinite(out["loss_g"])

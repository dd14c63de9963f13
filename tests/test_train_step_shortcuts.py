"""The training step's shortcuts (cheaper steps for the small paper presets) change nothing they
should not: D gets no gradient from G's step and G the same one; `reuse_fake` runs G once per step
on the batch D just saw; pooled minibatch discrimination learns a smaller tensor; the resize
upsampler's wrapped margin is the wrapped loop."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from train_probes import RecordingD  # records what D sees

import train.waveform
from train.config import apply_overrides, check
from train.models import CircularUpsample
from train.presets import paper, paper_plus, wavegan
from train.state import Batches, TrainState, make_state
from train.waveform import waveform_step

LOOPS = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 1, 4096)).astype(np.float32)


def _steps(p, n: int) -> TrainState:
    s = make_state(p, torch.device("cpu"))
    batches = Batches(LOOPS, p.batch_size, s.gen)
    for _ in range(n):
        waveform_step(s, batches)
    return s


def test_g_step_computes_no_d_gradient_and_trains_exactly_as_with_d_trainable(monkeypatch):
    p = apply_overrides(paper_plus(), ["n_val=2"])
    s = make_state(p, torch.device("cpu"))
    grads_computed = []
    for q in s.d.parameters():
        q.register_hook(lambda g: grads_computed.append(1))
    batches = Batches(LOOPS, p.batch_size, s.gen)
    for _ in range(3):
        waveform_step(s, batches)
    n_params = len(list(s.d.parameters()))
    assert len(grads_computed) == 3 * n_params  # the D steps' only, none in G's steps
    assert all(q.requires_grad for q in s.d.parameters())  # unfrozen again for the next D step

    monkeypatch.setattr(train.waveform, "frozen", contextlib.nullcontext)  # D trainable in G's step, as before
    ref = _steps(p, 3)
    for a, b in zip(list(s.g.parameters()) + list(s.d.parameters()),
                    list(ref.g.parameters()) + list(ref.d.parameters())):
        assert torch.equal(a, b)


class _ZG(torch.nn.Module):
    """A loop that is z[0] everywhere, so each batch of z gives a different fake batch."""

    def __init__(self, length: int):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.length, self.calls = length, 0

    def forward(self, z):
        self.calls += 1
        return z[:, :1, None].expand(-1, 1, self.length) * self.w / self.length  # D's sum over it: z[0] * w


@pytest.mark.parametrize("n_critic", [1, 3])
@pytest.mark.parametrize("reuse", [False, True])
def test_reuse_fake_runs_g_once_less_per_step_on_the_batch_d_last_saw(reuse, n_critic):
    p = apply_overrides(paper(), [f"reuse_fake={reuse}", f"n_critic={n_critic}", "loop_samples=64", "latent_dim=3"])
    g, d = _ZG(64), RecordingD()
    s = TrainState(p, g, d, torch.optim.SGD(g.parameters(), 0.1), torch.optim.SGD(d.parameters(), 0.1),
                   torch.zeros(1, 3), torch.device("cpu"), torch.Generator().manual_seed(0))
    real = Batches(np.zeros((4, 1, 64), np.float32), 4, torch.Generator().manual_seed(1))
    w_before = g.w.item()
    waveform_step(s, real)
    assert g.calls == n_critic + (0 if reuse else 1)
    last_d_fake, g_step_fake = d.seen[-2], d.seen[-1]  # D step: real, fake; then G step: fake
    assert torch.equal(last_d_fake, g_step_fake) == reuse
    assert g.w.item() != w_before  # G learned through the kept graph


def test_pooled_minibatch_discrimination_learns_a_smaller_tensor_and_trains():
    full = _steps(apply_overrides(paper(), ["minibatch_disc=16", "n_val=2"]), 0).d_plain.mbdisc.t
    s = _steps(apply_overrides(paper(), ["minibatch_disc=16", "minibatch_disc_pool=8", "n_val=2"]), 0)
    assert full.shape == (32 * 128, 80) and s.d_plain.mbdisc.t.shape == (32 * 16, 80)
    before = s.d_plain.mbdisc.t.detach().clone()
    batches = Batches(LOOPS, 4, s.gen)
    out = [waveform_step(s, batches) for _ in range(2)][-1]
    assert np.isfinite(out["loss_d"]) and not torch.equal(before, s.d_plain.mbdisc.t)
    for bad in ("3", "0"):  # 128 positions: the pool must divide them
        with pytest.raises(ValueError, match="minibatch_disc_pool"):
            check(apply_overrides(paper(), [f"minibatch_disc_pool={bad}"]))


@pytest.mark.parametrize("scale,extra,mode", [(2, 2, "linear"), (4, 12, "linear"), (2, 2, "nearest"),
                                              (4, 12, "nearest")])
def test_upsampler_margin_is_the_wrapped_upsampled_loop(scale, extra, mode):
    """One circular pad for resize and conv gives what upsampling, then wrapping, gives."""
    x = torch.randn(2, 3, 32)
    y = CircularUpsample(scale, mode, extra)(x)
    ref = F.pad(CircularUpsample(scale, mode, 0)(x), (extra, extra), mode="circular")
    assert y.shape == (2, 3, 32 * scale + 2 * extra)
    assert torch.allclose(y, ref, atol=1e-6)


def test_wavegan_with_reuse_fake_and_pooled_minibatch_disc_trains():
    p = apply_overrides(wavegan(), ["reuse_fake=true", "minibatch_disc=8", "minibatch_disc_pool=4", "model_dim=2",
                                    "batch_size=2", "n_critic=2", "n_val=2"])
    s = make_state(p, torch.device("cpu"))
    loops = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 1, p.loop_samples)).astype(np.float32)
    out = waveform_step(s, Batches(loops, 2, s.gen))
    assert np.isfinite(out["loss_d"]) and np.isfinite(out["loss_g"])

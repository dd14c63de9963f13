"""DiffAugment: each loop D sees, real or fake, is translated by its own bounded amount and has one stretch
silenced, differentiably, so G learns through it."""
from __future__ import annotations

import torch
from train_probes import L, impulse_state, real_impulses

from train.augment import diff_augment
from train.config import apply_overrides
from train.presets import paper
from train.waveform import waveform_step


def _offset(pos: torch.Tensor) -> torch.Tensor:
    """Impulse positions on the circle -> signed offsets from sample 0."""
    return torch.where(pos > L // 2, pos - L, pos)


def test_diffaugment_translates_each_real_and_fake_loop_by_its_own_bounded_amount():
    s = impulse_state(seam_roll=False)
    s.p = apply_overrides(s.p, ["translate=0.125"])
    offsets = {"real": [], "fake": []}
    for _ in range(20):
        s.d.seen.clear()
        waveform_step(s, real_impulses())
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

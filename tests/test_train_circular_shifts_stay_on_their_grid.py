"""Circular shifts stay bounded: shift augment rolls real loops by whole 16th notes, phase shuffle moves
each example by at most n samples."""
from __future__ import annotations

import torch

from train.augment import shift_augment
from train.config import apply_overrides
from train.models import phase_shuffle
from train.presets import paper


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

"""Augmentations of loop batches, all circular (loops wrap): beat-quantised shifts of the real loops,
DiffAugment on real and fake alike, and the shared seam roll. Each takes and returns (B, C, L)."""
from __future__ import annotations

import torch

from train.config import Preset


def shift_augment(p: Preset, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Roll each loop of (B, C, L) by a random whole number of 1/shift_quantum beats."""
    positions = p.bars * p.beats_per_bar * p.shift_quantum
    q = p.loop_samples / positions
    k = torch.randint(0, positions, (x.shape[0],), generator=gen)
    return roll_each(x, torch.round(k * q).long())


def roll_each(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Roll loop i of (B, C, L) circularly by shifts[i] samples (as torch.roll would); differentiable."""
    b, c, length = x.shape
    idx = torch.arange(length).view(1, length) - (shifts % length).view(b, 1)  # (B, L) in (-L, L)
    idx = torch.where(idx < 0, idx + length, idx)  # cheaper than a remainder over B x L int64s
    return torch.gather(x, 2, idx.to(x.device).unsqueeze(1).expand(b, c, length))


def diff_augment(p: Preset, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """DiffAugment for loops, differentiable, drawn per loop: (B, C, L) -> (B, C, L).

    Applied to real and fake alike each time D sees them (Zhao et al. 2020), so D cannot memorise a
    handful of training loops sample for sample, and G is not taught the transforms (they happen
    to its output too). ``translate``: circular roll by up to +-translate * L samples; ``cutout``:
    one stretch of cutout * L samples set to silence.
    """
    if p.translate <= 0 and p.cutout <= 0:
        return x
    b, _, length = x.shape
    if p.translate > 0:
        m = int(p.translate * length)
        x = roll_each(x, torch.randint(-m, m + 1, (b,), generator=gen))
    if p.cutout > 0:
        w = int(p.cutout * length)
        start = torch.randint(0, length, (b, 1), generator=gen)  # (B, 1)
        d = torch.arange(length).view(1, length) - start  # (B, L) in (-L, L): (d mod L) < w is cut
        keep = ((d >= w) | ((d < 0) & (d >= w - length))).to(x.device, x.dtype)  # (B, L)
        x = x * keep.unsqueeze(1)
    return x


def roll_all(x: torch.Tensor, shift: int) -> torch.Tensor:
    """Every loop of (B, C, L) rolled by the same ``shift`` samples (0: unchanged)."""
    return torch.roll(x, shift, dims=-1) if shift else x

"""Seam-aware training: D sees real and fake rolled by the same random amount (a click at the wrap moves
inside the loop where D can hear it), in separate batches or in one joint batch."""
from __future__ import annotations

import torch
from train_probes import impulse_state, real_impulses

from train.config import apply_overrides
from train.waveform import waveform_step


def test_real_and_fake_get_the_same_random_roll_before_d():
    s = impulse_state(seam_roll=True)
    shifts = []
    for _ in range(5):
        s.d.seen.clear()
        waveform_step(s, real_impulses())
        real, fake = s.d.seen[0], s.d.seen[1]  # D step: real, then fake
        pr, pf = real[:, 0].argmax(1), fake[:, 0].argmax(1)
        assert torch.equal(pr, pf)
        shifts.append(int(pr[0]))
    assert len(set(shifts)) > 1 and any(shifts)


def test_without_seam_roll_d_sees_loops_unrolled():
    s = impulse_state(seam_roll=False)
    waveform_step(s, real_impulses())
    assert all(int(x[:, 0].argmax(1).max()) == 0 for x in s.d.seen)


def test_joint_batch_shows_d_real_and_fake_in_one_batch_rolled_alike():
    s = impulse_state(seam_roll=True)
    s.p = apply_overrides(s.p, ["joint_batch=true"])
    waveform_step(s, real_impulses())
    d_step, g_step = s.d.seen
    assert d_step.shape[0] == g_step.shape[0] == 4  # 2 real + 2 fake, one batch-norm batch
    pos = d_step[:, 0].argmax(1)
    assert len(set(pos.tolist())) == 1

"""The waveform architectures: DCGAN (the paper's) and WaveGAN, on raw samples (``train.models``' networks).

Their step: D (``n_critic`` times) then G, with the loops' circular augmentations (``train.augment``),
BCE or WGAN-GP, PacGAN packs, feature matching and the joint-batch option.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from train import archs, losses
from train.augment import diff_augment, roll_all, shift_augment
from train.config import Preset
from train.models import Discriminator, Generator
from train.state import TrainState, frozen, sample_z


def waveform_step(s: TrainState, batches) -> dict:
    """One G update after ``n_critic`` D updates. ``batches()`` returns a real (B, C, L) batch."""
    p, gen = s.p, s.gen
    for i in range(p.n_critic):
        real = batches()
        if p.shift_augment:
            real = shift_augment(p, real, gen)
        real = real.to(s.device)
        z = sample_z(p, real.shape[0], gen).to(s.device)
        if p.reuse_fake and i == p.n_critic - 1:
            fake_for_g = s.g(z)  # (B, C, L), kept with its graph for G's step
            fake = fake_for_g.detach()
        else:
            with torch.no_grad():
                fake = s.g(z)  # (B, C, L)
        shift = int(torch.randint(0, p.loop_samples, (1,), generator=gen)) if p.seam_roll else 0
        real, fake = roll_all(real, shift), roll_all(fake, shift)  # same roll: a click at the wrap shows
        real, fake = diff_augment(p, real, gen), diff_augment(p, fake, gen)
        if p.loss == "bce" and p.joint_batch:  # batch norm cannot tell real from fake by batch statistics
            logit = s.d(torch.cat([real, fake]))  # (2B / pack,): no pack mixes real and fake
            n = real.shape[0] // p.pack
            loss_d = losses.bce_d(logit[:n], logit[n:], p.real_label)
        elif p.loss == "bce":
            loss_d = losses.bce_d(s.d(real), s.d(fake), p.real_label)
        else:
            loss_d = losses.wgan_d(s.d(real), s.d(fake))
            loss_d = loss_d + p.gp_weight * losses.gradient_penalty(s.d, real, fake)
        s.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        s.opt_d.step()

    if p.reuse_fake:
        fake = fake_for_g
    else:
        fake = s.g(sample_z(p, p.batch_size, gen).to(s.device))
    shift = int(torch.randint(0, p.loop_samples, (1,), generator=gen)) if p.seam_roll else 0
    fake = diff_augment(p, roll_all(fake, shift), gen)
    with frozen(s.d_plain) as d:  # G's step: gradients flow through D to G, none into D (nor DDP's sync)
        if p.feature_matching > 0:
            real = diff_augment(p, batches().to(s.device), gen)
            score, f_fake = d(fake, return_features=True)
            with torch.no_grad():
                _, f_real = d(roll_all(real, shift), return_features=True)
        elif p.joint_batch:
            real = diff_augment(p, batches().to(s.device), gen)
            score = d(torch.cat([roll_all(real, shift), fake]))[real.shape[0] // p.pack:]  # (B / pack,) of the fakes
        else:
            score = d(fake)
    loss_g = losses.bce_g(score) if p.loss == "bce" else losses.wgan_g(score)
    if p.feature_matching > 0:
        loss_g = loss_g + p.feature_matching * losses.feature_matching(f_real, f_fake)
    s.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    s.opt_g.step()
    s.step += 1
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}  # a CPU-GPU sync point


class WaveformArch(archs.Arch):
    """A waveform architecture: ``Preset``'s fields, ``Generator`` and ``Discriminator`` with this
    architecture's activations (``g_act`` in G, ``d_act`` in D)."""

    preset_class = Preset

    def __init__(self, name: str, g_act, d_act):
        self.name, self.g_act, self.d_act = name, g_act, d_act

    def check(self, p: Preset) -> None:
        if p.loss == "hinge":
            raise ValueError(f"loss 'hinge' is for arch 'spectral'; arch {p.arch!r} trains with 'bce' or 'wgan-gp'")
        total = p.stride ** p.n_layers
        if p.loop_samples % total:
            raise ValueError(f"loop_samples={p.loop_samples} is not divisible by stride**n_layers={total}")
        if p.kernel < p.stride - 1:
            raise ValueError(f"kernel={p.kernel} must be at least stride - 1 = {p.stride - 1} (the convs' padding "
                             f"(kernel - stride + 1) // 2 cannot be negative)")
        shortest = p.loop_samples // p.stride ** max(1, p.n_layers - 1)  # D's shortest phase-shuffled length
        if p.phase_shuffle and p.n_layers > 1 and p.phase_shuffle >= shortest:
            raise ValueError(f"phase_shuffle={p.phase_shuffle} must be below {shortest}, the length of D's "
                             f"shortest shuffled layer")
        if p.upsample != "transposed" and p.kernel % 2 == 0:
            raise ValueError(f"upsample={p.upsample!r} needs an odd kernel (same-length convs), got {p.kernel}")
        if (p.loop_samples // total) % p.minibatch_disc_pool:
            raise ValueError(f"minibatch_disc_pool={p.minibatch_disc_pool} must divide D's last length "
                             f"{p.loop_samples // total}")
        if p.batch_size % p.pack:
            raise ValueError(f"pack={p.pack} must divide batch_size={p.batch_size}")

    def build_generator(self, p: Preset) -> nn.Module:
        return Generator(p, act=self.g_act)

    def build_discriminator(self, p: Preset) -> nn.Module:
        return Discriminator(p, act=self.d_act)

    def step(self, s: TrainState, batches) -> dict:
        return waveform_step(s, batches)


def _leaky():
    return nn.LeakyReLU(0.2)


DCGAN = archs.register(WaveformArch("dcgan", g_act=_leaky, d_act=nn.ReLU))
WAVEGAN = archs.register(WaveformArch("wavegan", g_act=nn.ReLU, d_act=_leaky))

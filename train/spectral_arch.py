"""The spectral architecture (``train.spectral``'s networks): its preset fields, their checks, and its step.

One training step: the hinge D step on randomly rolled loops, then one G step that learns each training
loop at its latent anchor (multi-resolution STFT loss) and fools D from random z.

For its first ``rec_only_steps`` G learns the anchors alone (RAVE's two stages in miniature: a
reconstruction that already sounds clean, then adversarial fine-tuning that makes the space between
anchors sound like loops too). The exported generator is the moving average of G (``ema``).
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import torch
import torch.nn as nn

from train import archs, losses
from train.config import Preset, field
from train.spectral import (
    REC_FFTS,
    MultiResolutionD,
    MultiResolutionSTFTLoss,
    SpectralGenerator,
    SpectralPlayer,
    anchors,
    init_from_data,
    resolutions,
)
from train.state import TrainState, frozen, sample_z


@dataclass
class SpectralPreset(Preset):
    """``Preset`` and what only arch "spectral" reads: G at frame rate with a circular iSTFT head, D on spectra."""
    hop: int = field("model", 441, (1, 1 << 16))  # samples per G frame (loop_samples and n_fft are multiples of it)
    n_fft: int = field("model", 882, (4, 1 << 16))  # G's inverse-STFT frame (Hann window)
    d_ffts: str = field("model", "256,1024,2048")  # FFT sizes of the spectral discriminators (hop = n_fft / 4)
    d_width: int = field("model", 32, (1, 4096))  # channels of each spectral discriminator
    anchors: int = field("model", 0, (0, 1 << 16))  # latent anchors in G, one per training loop (set from the data)
    anchor_temp: float = field("model", 0.2, (0, None))  # softness of z's pull towards its nearest anchors' loops
    #                                                      (0 = no anchor layer)
    rec_weight: float = field("objective", 0.0, (0, None))  # weight of the multi-resolution STFT loss at the anchors
    rec_only_steps: int = field("objective", 0, (0, None))  # G learns the anchors alone (no D) this many steps first
    anchor_sigma: float = field("objective", 0.5, (0, None))  # std of the noise around each loop's latent anchor
    ema: float = field("objective", 0.0, (0, 1), open_high=True)  # decay of the exported generator's moving
    #                                                              average of G's weights (0 = off)
    r1_weight: float = field("objective", 0.0, (0, None))  # R1 penalty (Mescheder et al. 2018) on real loops, lazy
    r1_every: int = field("objective", 8, (1, None))  # apply R1 every this many D steps, scaled by it (lazy)


def roll_each(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(B, C, L) -> each loop rolled by its own random number of samples: D judges the seam wherever it lands."""
    b, _, length = x.shape
    shift = torch.randint(0, length, (b, 1, 1), generator=gen).to(x.device)
    idx = (torch.arange(length, device=x.device).view(1, 1, length) - shift) % length
    return torch.gather(x, 2, idx.expand_as(x))


@torch.no_grad()
def update_ema(s: TrainState) -> None:
    """The moving average after this step; its decay ramps up to ``ema`` over the first steps, so the
    average of a short run is not mostly G's random start."""
    if s.g_ema is None:
        return
    decay = min(s.p.ema, (1.0 + s.step) / (10.0 + s.step))
    torch._foreach_lerp_(list(s.g_ema.parameters()), list(s.g_plain.parameters()), 1.0 - decay)


def spectral_step(s: TrainState, batches) -> dict:
    """One D update (once adversarial) and one G update. ``batches.indexed()`` gives (real (B, C, L), loop indices)."""
    p, gen = s.p, s.gen
    real, idx = batches.indexed()
    real = real.to(s.device)
    b = real.shape[0]
    adversarial = s.step >= p.rec_only_steps
    loss_d = torch.zeros(())
    if adversarial:
        with torch.no_grad():
            fake = s.g(sample_z(p, b, gen).to(s.device))
        shown = roll_each(real, gen)
        if p.r1_weight > 0 and s.step % p.r1_every == 0:  # lazy R1: every r1_every steps, scaled by it
            real_logit, r1 = s.d(shown, r1=True)
            loss_d = losses.hinge_d(real_logit, s.d(roll_each(fake, gen))) + 0.5 * p.r1_weight * p.r1_every * r1
        else:
            loss_d = losses.hinge_d(s.d(shown), s.d(roll_each(fake, gen)))
        s.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        s.opt_d.step()

    z_anchor = s.extra["anchors"][idx] + p.anchor_sigma * torch.randn(b, p.latent_dim, generator=gen)
    z = torch.cat([z_anchor, sample_z(p, b, gen)]) if adversarial else z_anchor
    out = s.g(z.to(s.device))
    rec = s.extra["rec_loss"](out[:b], real)
    loss_g = p.rec_weight * rec
    if adversarial:
        with frozen(s.d_plain) as d:
            loss_g = loss_g + losses.hinge_g(d(roll_each(out[b:], gen)))
    s.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    s.opt_g.step()
    update_ema(s)
    s.step += 1
    return {"loss_d": float(loss_d.item()), "loss_g": float(loss_g.item()), "rec": float(rec.item())}


class SpectralArch(archs.Arch):
    """``SpectralPreset``; ``SpectralGenerator`` and ``MultiResolutionD``; G's log-magnitudes start at the
    training loops' mean spectrum, each loop has a latent anchor; exports as ``SpectralPlayer``."""

    name = "spectral"
    preset_class = SpectralPreset

    def check(self, p: SpectralPreset) -> None:
        if p.loop_samples % p.hop:
            raise ValueError(f"hop={p.hop} must divide loop_samples={p.loop_samples} (G makes whole frames)")
        if p.n_fft % p.hop or p.n_fft < 2 * p.hop:
            raise ValueError(f"n_fft={p.n_fft} must be a multiple of hop={p.hop}, at least twice it (frames overlap)")
        if p.n_fft > p.loop_samples:
            raise ValueError(f"n_fft={p.n_fft} is longer than the loop ({p.loop_samples} samples)")
        if p.kernel % 2 == 0:
            raise ValueError(f"arch 'spectral' needs an odd kernel (same-length circular convs), got {p.kernel}")
        for n in resolutions(p.d_ffts):
            if n > p.loop_samples:
                raise ValueError(f"d_ffts: {n} is longer than the loop ({p.loop_samples} samples)")
        if p.loss != "hinge" or p.pack != 1:
            raise ValueError("arch 'spectral' trains with loss 'hinge' and pack 1")
        if p.anchor_temp > 0 and p.latent_dist != "normal":
            raise ValueError(f"latent_dist {p.latent_dist!r}: the spectral anchors sit where normal z lie (radius "
                             f"sqrt(latent_dim)); use 'normal', or anchor_temp=0 for no anchors")
        if p.rec_weight > 0 and REC_FFTS[0] > p.loop_samples:
            raise ValueError(f"rec_weight: the reconstruction loss's {REC_FFTS[0]}-point STFT is longer than the loop "
                             f"({p.loop_samples} samples); use rec_weight=0")

    def build_generator(self, p: SpectralPreset) -> nn.Module:
        return SpectralGenerator(p)

    def build_discriminator(self, p: SpectralPreset) -> nn.Module:
        return MultiResolutionD(p)

    def new_state(self, s: TrainState) -> None:
        if s.p.ema > 0:
            s.g_ema = copy.deepcopy(s.g_plain).requires_grad_(False)

    def fitted(self, p: SpectralPreset, loops, resume: bool) -> SpectralPreset:
        """One anchor per training loop."""
        if p.anchors == len(loops):
            return p
        if resume:
            raise ValueError(f"this run learned {p.anchors} training loops, but the data folder now gives "
                             f"{len(loops)}: resume it on the same files, or start a new run")
        return dataclasses.replace(p, anchors=len(loops))

    def start(self, s: TrainState, loops, fresh: bool) -> None:
        s.extra["anchors"] = anchors(len(loops), s.p.latent_dim, s.p.seed)
        s.extra["rec_loss"] = MultiResolutionSTFTLoss().to(s.device)
        if fresh:
            init_from_data(s.g_plain, loops)
            if s.g_ema is not None:
                s.g_ema.load_state_dict(s.g_plain.state_dict())

    def step(self, s: TrainState, batches) -> dict:
        return spectral_step(s, batches)

    def playing_form(self, g: SpectralGenerator) -> nn.Module:
        return SpectralPlayer(g).eval()


SPECTRAL = archs.register(SpectralArch())

"""One training step: D (``n_critic`` times) then G, on one ``TrainState`` that holds everything a run needs.

Multi-GPU / multi-process: under ``torchrun`` the networks are wrapped in DistributedDataParallel (gloo on
CPU, nccl on CUDA); ``make_state`` builds the same networks on every rank.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from livegan.model import seed_z
from train import losses
from train.augment import diff_augment, roll_all, shift_augment
from train.config import Preset
from train.models import Discriminator, build


@dataclass
class TrainState:
    p: Preset
    g: torch.nn.Module  # Generator, or DDP(Generator)
    d: torch.nn.Module  # Discriminator, or DDP(Discriminator)
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    z_val: torch.Tensor  # (n_val, latent_dim) fixed validation z, drawn at start
    device: torch.device
    gen: torch.Generator  # this process's RNG for z, shifts and batches (CPU)
    step: int = 0
    seconds: float = 0.0  # training wall time so far (over resumes)
    history: dict = field(default_factory=lambda: {"step": [], "loss_d": [], "loss_g": []})
    rank: int = 0
    world: int = 1
    best: dict | None = None  # {"step", "fd", "counts", "g": state dict}: the best-scored generator (select_every)
    g_ema: torch.nn.Module | None = None  # moving average of G's weights (preset ``ema``): what is previewed and exported
    anchors: torch.Tensor | None = None  # (N, latent_dim) latent anchor of each training loop (arch "spectral")
    rec_loss: torch.nn.Module | None = None  # the anchors' reconstruction loss (arch "spectral")

    @property
    def g_plain(self) -> torch.nn.Module:  # a Generator or a SpectralGenerator
        return getattr(self.g, "module", self.g)

    @property
    def g_export(self) -> torch.nn.Module:
        """The generator previews, selection and export use: the moving average where there is one."""
        return self.g_ema if self.g_ema is not None else self.g_plain

    @property
    def d_plain(self) -> Discriminator:
        return getattr(self.d, "module", self.d)


def sample_z(p: Preset, n: int, gen: torch.Generator) -> torch.Tensor:
    if p.latent_dist == "uniform":
        return torch.rand(n, p.latent_dim, generator=gen) * 2.0 - 1.0  # U[-1, 1)
    return torch.randn(n, p.latent_dim, generator=gen)


def fixed_z(p: Preset) -> torch.Tensor:
    """The run's fixed validation z, (n_val, latent_dim): z i is seed i under the one seeding rule
    (``livegan.model.seed_z``), so seed i in perform and render plays the loop of preview i."""
    return torch.from_numpy(np.stack([seed_z(i, p.latent_dim, p.latent_dist) for i in range(p.n_val)]))


@contextmanager
def frozen(m: torch.nn.Module):
    """No gradient for ``m``'s parameters inside the block (G learns through D: D's gradients would be
    computed for nothing; exact, since the D step clears them before its own backward anyway)."""
    params = [q for q in m.parameters() if q.requires_grad]
    for q in params:
        q.requires_grad_(False)
    try:
        yield m
    finally:
        for q in params:
            q.requires_grad_(True)


def train_step(s: TrainState, batches) -> dict:
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


class Batches:
    """Epoch-style batches: a fresh permutation per epoch; with replacement if N < batch size."""

    def __init__(self, loops: np.ndarray, batch: int, gen: torch.Generator):
        self.x = torch.from_numpy(loops)  # (N, C, L)
        self.batch, self.gen = batch, gen
        self.order, self.pos = torch.empty(0, dtype=torch.long), 0

    def __call__(self) -> torch.Tensor:
        return self.indexed()[0]

    def indexed(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next batch (B, C, L) and which training loops it holds (B,)."""
        n = self.x.shape[0]
        if n < self.batch:
            idx = torch.randint(0, n, (self.batch,), generator=self.gen)
            return self.x[idx], idx
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = torch.randperm(n, generator=self.gen), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return self.x[idx], idx


def make_state(p: Preset, device: torch.device, rank: int = 0, world: int = 1) -> TrainState:
    torch.manual_seed(p.seed)  # same init on every rank (DDP also broadcasts it)
    g, d = build(p)
    g, d = g.to(device), d.to(device)
    gen = torch.Generator().manual_seed(p.seed * 7919 + 1 + rank)  # each rank its own z, shifts and batches
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        g, d = DDP(g, device_ids=ids), DDP(d, device_ids=ids)
    s = TrainState(p, g, d, _adam(g.parameters(), p), _adam(d.parameters(), p), fixed_z(p), device, gen,
                   rank=rank, world=world)
    if p.ema > 0:
        s.g_ema = copy.deepcopy(s.g_plain).requires_grad_(False)
    return s


def _adam(params, p: Preset) -> torch.optim.Adam:
    """Adam with the fused kernel where this torch has one for the device (the paper preset's
    tiny steps are dominated by the optimiser's per-tensor overhead; speed-up in
    benchmarks/results/train.md); otherwise the multi-tensor (foreach) one. Same algorithm either way."""
    params = list(params)
    kw = dict(lr=p.lr, betas=(p.beta1, p.beta2), eps=p.eps)
    try:
        return torch.optim.Adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 on CPU, or a device without the kernel
        return torch.optim.Adam(params, foreach=True, **kw)

"""The training state: one ``TrainState`` that holds everything a run needs, built by ``make_state`` from
the preset's architecture (``train.archs``, whose ``step`` advances it), and the batches of training loops.

Multi-GPU / multi-process: under ``torchrun`` the networks are wrapped in DistributedDataParallel (gloo on
CPU, nccl on CUDA); ``make_state`` builds the same networks on every rank.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from livegan.model import seed_z
from train import archs
from train.config import Preset


@dataclass
class TrainState:
    p: Preset
    g: torch.nn.Module  # the architecture's generator, or DDP of it
    d: torch.nn.Module  # the architecture's discriminator, or DDP of it
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
    g_ema: torch.nn.Module | None = None  # moving average of G's weights (the architecture's): previewed and exported
    extra: dict = field(default_factory=dict)  # what the architecture's step keeps beside (the spectral anchors)

    @property
    def g_plain(self) -> torch.nn.Module:
        return getattr(self.g, "module", self.g)

    @property
    def g_export(self) -> torch.nn.Module:
        """The generator previews, selection and export use: the moving average where there is one."""
        return self.g_ema if self.g_ema is not None else self.g_plain

    @property
    def d_plain(self) -> torch.nn.Module:
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
    arch = archs.get(p.arch)
    torch.manual_seed(p.seed)  # same init on every rank (DDP also broadcasts it)
    g = arch.build_generator(p).to(device)
    d = arch.build_discriminator(p).to(device)
    gen = torch.Generator().manual_seed(p.seed * 7919 + 1 + rank)  # each rank its own z, shifts and batches
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        g, d = DDP(g, device_ids=ids), DDP(d, device_ids=ids)
    s = TrainState(p, g, d, _adam(g.parameters(), p), _adam(d.parameters(), p), fixed_z(p), device, gen,
                   rank=rank, world=world)
    arch.new_state(s)
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

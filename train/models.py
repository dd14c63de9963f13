"""Generator and discriminator for raw-waveform loops (DCGAN and WaveGAN shapes, ``train.waveform``), and
what every architecture's networks share: building them from a preset, checking them, rendering, export's wrapper.

Both are built from a ``Preset``: ``n_layers`` convolutions of kernel
``kernel`` and stride ``stride``, channel count doubling per layer from
``model_dim``. Paddings are chosen so that every layer changes the length by
exactly ``stride``: conv ``padding = (kernel - stride + 1) // 2``, transposed
conv the same padding plus ``output_padding`` to make up the rest.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from livegan.errors import first_line
from train import archs
from train.config import Preset


def _pads(kernel: int, stride: int) -> tuple[int, int]:
    """(padding, output_padding) with conv: L -> L/stride and conv-transpose: L -> L*stride."""
    pad = (kernel - stride + 1) // 2
    out_pad = stride - kernel + 2 * pad  # (L-1)s - 2p + k + op = Ls
    assert 0 <= out_pad < stride, (kernel, stride)
    return pad, out_pad


def _widths(p: Preset) -> list[int]:
    """Channel counts from the waveform side inwards: [d, 2d, 4d, ...] (n_layers entries)."""
    return [p.model_dim * 2 ** i for i in range(p.n_layers)]


class CircularUpsample(nn.Module):
    """(B, C, L) -> (B, C, L * scale + 2 * extra), nearest or linear, wrapping at the ends: a loop has
    no edges, so its first sample is interpolated with its last. ``extra`` more wrapped samples on
    each side are what the same-length conv after it needs (kernel // 2): one circular pad for both,
    not one per op."""

    def __init__(self, scale: int, mode: str, extra: int = 0):
        super().__init__()
        self.scale, self.mode, self.extra = scale, mode, extra

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = 1 + (self.extra + self.scale - 1) // self.scale  # input samples of each neighbour needed
        x = torch.cat([x[:, :, -n:], x, x[:, :, :n]], dim=2)  # (B, C, L + 2n); needs L >= n
        if self.mode == "linear":
            y = F.interpolate(x, scale_factor=float(self.scale), mode="linear", align_corners=False)
        else:
            y = F.interpolate(x, scale_factor=float(self.scale), mode="nearest")
        cut = self.scale * n - self.extra
        return y[:, :, cut:y.shape[2] - cut]


class Generator(nn.Module):
    """z (B, latent_dim) -> loop (B, channels, loop_samples) in (-1, 1); ``act`` makes its activations
    (default: those of the preset's architecture, ``train.waveform``)."""

    def __init__(self, p: Preset, act=None):
        super().__init__()
        act = act or archs.get(p.arch).g_act
        widths = _widths(p)
        self.top = widths[-1]  # channels after the dense layer
        self.l0 = p.loop_samples // p.stride ** p.n_layers  # length after the dense layer
        pad, out_pad = _pads(p.kernel, p.stride)
        self.dense = nn.Linear(p.latent_dim, self.top * self.l0)
        head = [nn.BatchNorm1d(self.top)] if p.batchnorm else []
        self.head_act = nn.Sequential(*head, act())
        layers: list[nn.Module] = []
        chans = widths[::-1] + [p.channels]  # e.g. [16d, 8d, 4d, 2d, d, C]
        for i in range(p.n_layers):
            last = i == p.n_layers - 1
            if p.upsample == "transposed":
                layers.append(nn.ConvTranspose1d(chans[i], chans[i + 1], p.kernel, p.stride, pad, out_pad))
            else:  # resize, then a same-length conv: no checkerboard of uneven kernel overlap (Odena et al. 2016)
                # with a wrapped margin for the conv
                layers.append(CircularUpsample(p.stride, p.upsample, extra=p.kernel // 2))
                layers.append(nn.Conv1d(chans[i], chans[i + 1], p.kernel, 1, 0))
            if not last:
                if p.batchnorm:
                    layers.append(nn.BatchNorm1d(chans[i + 1]))
                layers.append(act())
        layers.append(nn.Tanh())
        self.body = nn.Sequential(*layers)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        """Early activations used by GANSpace: (B, latent_dim) -> (B, top, l0)."""
        h = self.dense(z).view(z.shape[0], self.top, self.l0)  # (B, 16d, L0)
        return self.head_act(h)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.head(z))  # (B, C, L0 * stride**n_layers)


def phase_shuffle(x: torch.Tensor, n: int) -> torch.Tensor:
    """WaveGAN phase shuffle: shift each example by a random k in [-n, n], reflect-padded. (B, C, L)."""
    if n <= 0:
        return x
    b, c, length = x.shape
    k = torch.randint(-n, n + 1, (b, 1, 1), device=x.device)  # (B, 1, 1)
    padded = F.pad(x, (n, n), mode="reflect")  # (B, C, L + 2n)
    idx = torch.arange(length, device=x.device).view(1, 1, length) + n - k  # (B, 1, L)
    return torch.gather(padded, 2, idx.expand(b, c, length))


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016, section 3.2: features (B, A) -> (B, n_kernels) closeness to the rest of the batch.

    Each loop's features are projected to ``n_kernels`` vectors of ``dim`` numbers; kernel b's output
    for loop i is sum over the other loops j of exp(-||M_ib - M_jb||_1). A batch of near-identical
    loops (a collapsed G) scores high on every kernel, a batch of distinct loops low, so D can tell a
    collapsed fake batch from a real one and G is pushed to spread out.
    """

    def __init__(self, in_features: int, n_kernels: int, dim: int):
        super().__init__()
        self.t = nn.Parameter(torch.randn(in_features, n_kernels * dim) / in_features ** 0.5)
        self.n, self.dim = n_kernels, dim

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        m = (f @ self.t).view(f.shape[0], self.n, self.dim)  # (B, n, dim)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(3)  # (B, B, n)
        return torch.exp(-l1).sum(1) - 1.0  # (B, n): exp(0) = 1 of each loop with itself taken off


class Discriminator(nn.Module):
    """loop (B, channels, loop_samples) -> one logit / critic score per loop (B,), or per pack of
    ``pack`` consecutive loops (B / pack,): PacGAN, Lin et al. 2018. A pack of real loops holds
    different loops; a collapsed G's pack holds the same loop twice, which D sees at once. ``act`` makes
    its activations (default: those of the preset's architecture, ``train.waveform``)."""

    def __init__(self, p: Preset, act=None):
        super().__init__()
        act = act or archs.get(p.arch).d_act
        widths = _widths(p)
        pad, _ = _pads(p.kernel, p.stride)
        self.shuffle = p.phase_shuffle
        self.mbstd = p.minibatch_std
        self.pack = p.pack
        chans = [p.channels * p.pack] + widths  # [C * pack, d, 2d, ..., 16d]
        self.blocks = nn.ModuleList()
        for i in range(p.n_layers):
            block = [nn.Conv1d(chans[i], chans[i + 1], p.kernel, p.stride, pad)]
            if p.batchnorm and i > 0:  # DCGAN: no batch norm on the first D layer
                block.append(nn.BatchNorm1d(chans[i + 1]))
            block.append(act())
            self.blocks.append(nn.Sequential(*block))
        l_last = p.loop_samples // p.stride ** p.n_layers
        flat = (chans[-1] + int(self.mbstd)) * l_last
        self.pool = p.minibatch_disc_pool
        md_in = (chans[-1] + int(self.mbstd)) * (l_last // self.pool)
        self.mbdisc = (MinibatchDiscrimination(md_in, p.minibatch_disc, p.minibatch_disc_dim)
                       if p.minibatch_disc else None)
        self.out = nn.Linear(flat + p.minibatch_disc, 1)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        if self.pack > 1:
            x = x.reshape(x.shape[0] // self.pack, self.pack * x.shape[1], x.shape[2])  # (B / pack, pack * C, L)
        for i, block in enumerate(self.blocks):
            x = block(x)  # (B, C_i, L / stride**(i+1))
            if i < len(self.blocks) - 1:
                x = phase_shuffle(x, self.shuffle) if self.training else x
        feats = x  # (B, 16d, L0): used by feature matching
        if self.mbstd:
            s = x.std(dim=0, unbiased=False).mean()  # scalar: how different the batch's loops are
            x = torch.cat([x, s.expand(x.shape[0], 1, x.shape[2])], dim=1)  # (B, 16d + 1, L0)
        if self.mbdisc is not None:
            f = F.avg_pool1d(x, self.pool) if self.pool > 1 else x  # (B, C, L0 / pool): a smaller T to learn
            x = torch.cat([x.flatten(1), self.mbdisc(f.flatten(1))], dim=1)  # (B, flat + n_kernels)
        else:
            x = x.flatten(1)  # (B, flat)
        logit = self.out(x).squeeze(1)  # (B,)
        if return_features:
            return logit, feats.mean(dim=2)  # (B,), (B, 16d)
        return logit


class ExportedGenerator(nn.Module):
    """What goes into the .ts file: the generator in eval mode, clamped to the contract's [-1, 1]."""

    def __init__(self, g: Generator):
        super().__init__()
        self.g = g

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.g(z), -1.0, 1.0)  # (B, C, loop_samples)


def build_generator(p: Preset, weights: dict | None = None) -> nn.Module:
    """The generator ``p`` describes (its architecture's); with ``weights`` (a state dict, e.g. a
    checkpoint's snapshot) loaded and in eval mode, as exported."""
    g = archs.get(p.arch).build_generator(p)
    if weights is not None:
        g.load_state_dict(weights)
        g.eval()
    return g


def build(p: Preset) -> tuple[nn.Module, nn.Module]:
    arch = archs.get(p.arch)
    return arch.build_generator(p), arch.build_discriminator(p)


def check_networks(p: Preset) -> None:
    """Raise ValueError if G and D cannot be built from ``p`` or G's loops are not (C, loop_samples):
    both are built at model_dim 1 (the layout is the same at any width) and run once on a CPU batch."""
    try:
        with torch.random.fork_rng(devices=[]):  # the run's seeds stay as they were
            g, d = build(dataclasses.replace(p, model_dim=1))
            y = g(torch.zeros(2 * p.pack, p.latent_dim))  # (2 * pack, C, L)
            d(y)
    except (RuntimeError, ValueError, IndexError) as e:
        raise ValueError(f"preset {p.name!r}: these settings build no working networks "
                         f"({first_line(e, None)})") from None
    if tuple(y.shape[1:]) != (p.channels, p.loop_samples):
        raise ValueError(f"preset {p.name!r}: G makes loops of shape {tuple(y.shape[1:])}, "
                         f"not (channels, loop_samples) = ({p.channels}, {p.loop_samples})")


@torch.no_grad()
def render(g: Generator, z: torch.Tensor, device, chunk: int = 25) -> np.ndarray:
    """Generator in eval mode (as exported): (N, latent) -> (N, C, L) numpy."""
    was = g.training
    g.eval()
    out = [g(z[i:i + chunk].to(device)).float().cpu() for i in range(0, z.shape[0], chunk)]
    g.train(was)
    return torch.cat(out).numpy()

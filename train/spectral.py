"""The spectral preset's networks: a frame-rate generator with a circular iSTFT head, discriminators that
see log-magnitude spectra at several resolutions, and the multi-resolution STFT reconstruction loss.

A loop has no edges, so nothing here has any: the generator's convolutions pad by wrapping, its
inverse STFT overlap-adds the last frame's tail onto the first samples, and every STFT the
discriminators and the loss take wraps around the loop's end. The design and its measured choices:
benchmarks/results/sound.md.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from train.config import Preset

REC_FFTS = (2048, 512, 128)  # the reconstruction loss's STFT sizes, longest first
LOG_MAG_MAX = 12.0  # exp(12) ~ 1.6e5: far above any bin of a full-scale loop, keeps exp() finite early on
FLOOR_DB = -90.0  # the loss and D's log spectra floor magnitudes here, re a full-scale sine's peak bin


def floor(n_fft: int) -> float:
    """Magnitude ``FLOOR_DB`` below a full-scale sine's peak bin (Hann window: n_fft / 4): quieter counts as silence."""
    return n_fft / 4.0 * 10.0 ** (FLOOR_DB / 20.0)


def wrap_pad(x: torch.Tensor, n: int) -> torch.Tensor:
    """(..., L) -> (..., L + 2n): the loop's last n samples before it and its first n after it."""
    if n == 0:
        return x
    return torch.cat([x[..., -n:], x, x[..., :n]], dim=-1)


class Block(nn.Module):
    """ConvNeXt block as Vocos uses it: circular depthwise conv, LayerNorm, pointwise MLP, layer scale."""

    def __init__(self, c: int, kernel: int, mult: int = 2):
        super().__init__()
        self.pad = kernel // 2
        self.dw = nn.Conv1d(c, c, kernel, groups=c)
        self.norm = nn.LayerNorm(c)
        self.pw1, self.pw2 = nn.Linear(c, mult * c), nn.Linear(mult * c, c)
        self.layer_scale = nn.Parameter(torch.full((c,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        y = self.dw(wrap_pad(x, self.pad)).transpose(1, 2)  # (B, T, C)
        y = self.pw2(F.gelu(self.pw1(self.norm(y))))
        return x + (self.layer_scale * y).transpose(1, 2)


class SpectralGenerator(nn.Module):
    """z (B, latent_dim) -> loop (B, channels, loop_samples).

    A dense layer gives every z a (model_dim, frames) timeline at one frame per ``hop`` samples, so each
    latent direction moves a pattern pinned to the bar. With ``anchors`` (one per training loop) each
    loop also has a timeline of its own, and z adds a blend of them, weighted by a softmax of z's
    closeness to each loop's anchor (``anchor_temp``): z at an anchor plays that loop's timeline alone,
    a random z mostly its nearest loops' (about 1 / anchors of the prior is nearest each);
    ``n_layers`` circular ConvNeXt blocks shape it; a linear head gives each channel's log-magnitude and
    phase for ``n_fft // 2 + 1`` bins per frame, and a circular inverse STFT (Hann window, overlap
    ``n_fft / hop``) makes the samples.
    """

    def __init__(self, p: Preset):
        super().__init__()
        self.c, self.frames, self.hop, self.n_fft = p.model_dim, p.loop_samples // p.hop, p.hop, p.n_fft
        self.ch, self.bins, self.overlap = p.channels, p.n_fft // 2 + 1, p.n_fft // p.hop
        self.log_mag_max = LOG_MAG_MAX
        self.dense = nn.Linear(p.latent_dim, self.c * self.frames)
        n = p.anchors if p.anchor_temp > 0 else 0
        self.register_buffer("keys", anchors(n, p.latent_dim, p.seed) if n else torch.zeros(0, p.latent_dim))
        self.timelines = nn.Parameter(torch.zeros(n, self.c * self.frames))
        self.scale = 1.0 / (p.anchor_temp * p.latent_dim ** 0.5) if n else 0.0
        self.blocks = nn.Sequential(*[Block(self.c, p.kernel) for _ in range(p.n_layers)])
        self.norm = nn.LayerNorm(self.c)
        self.out = nn.Linear(self.c, self.ch * 3 * self.bins)  # per channel: log-magnitudes, then phase u, then v
        with torch.no_grad():  # start quiet (every bin ~ -60 dB), not as loud white noise
            self.out.bias.view(self.ch, 3 * self.bins)[:, :self.bins].fill_(-2.0)
        # Hann overlap-adds to overlap / 2: dividing by it makes the frames' sum a plain sum
        self.register_buffer("window", torch.hann_window(p.n_fft, periodic=True) * (2.0 / self.overlap))

    def head(self, z: torch.Tensor) -> torch.Tensor:
        """Early activations used by GANSpace: (B, latent_dim) -> (B, model_dim, frames)."""
        h = anchored(z, self.dense(z), self.keys, self.timelines, self.scale)
        return h.view(z.shape[0], self.c, self.frames)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.synth(self.head(z))

    def synth(self, h: torch.Tensor) -> torch.Tensor:
        """A timeline (B, model_dim, frames) -> loops (B, channels, loop_samples)."""
        b = h.shape[0]
        h = self.blocks(h)  # (B, C, T)
        y = self.out(self.norm(h.transpose(1, 2)))  # (B, T, ch * 3 * bins)
        y = y.view(b, self.frames, self.ch, 3 * self.bins)
        mag = torch.exp(torch.clamp(y[:, :, :, :self.bins], max=self.log_mag_max))  # (B, T, ch, bins)
        # the phase as a 2-d vector (u, v) per bin, normalised: no sin / cos per bin, and every op on whole
        # contiguous slices (the choice against polar(): benchmarks/results/sound.md)
        u, v = y[:, :, :, self.bins:2 * self.bins], y[:, :, :, 2 * self.bins:]
        r = mag * torch.rsqrt(u * u + v * v + 1e-8)
        spec = torch.view_as_complex(torch.stack([u * r, v * r], dim=4))  # (B, T, ch, bins)
        frames = torch.fft.irfft(spec, n=self.n_fft)
        return circular_overlap_add(frames * self.window, self.hop)


def anchored(z: torch.Tensor, h: torch.Tensor, keys: torch.Tensor, timelines: torch.Tensor,
             scale: float) -> torch.Tensor:
    """The dense layer's timelines ``h`` (B, model_dim * frames) plus z's blend of the anchors' own: a
    softmax of z's closeness to each anchor ``keys`` (n, latent_dim) weighs ``timelines`` (n, ...)."""
    if keys.shape[0] > 0:
        h = h + torch.softmax(z @ keys.t() * scale, dim=1) @ timelines
    return h


@torch.no_grad()
def init_from_data(g: SpectralGenerator, loops: np.ndarray) -> None:
    """Start G's log-magnitudes at the training loops' mean log-magnitude spectrum (per channel and bin,
    over every frame): its first loops already have the data's spectral balance, not -60 dB noise, and
    the reconstruction works on the loops' shape from step one. ``loops`` (N, C, L) at G's rate."""
    total = torch.zeros(g.ch, g.bins, dtype=torch.float64)
    for i in range(0, len(loops), 16):  # a few loops at a time: a folder of thousands fits in memory
        x = torch.from_numpy(np.ascontiguousarray(loops[i:i + 16, :g.ch], dtype=np.float32))
        xp = torch.cat([x, x[..., :g.n_fft - g.hop]], dim=-1)
        segs = xp.unfold(-1, g.n_fft, g.hop)  # (n, C, frames, n_fft): what each of G's frames overlap-adds
        total += torch.log(torch.fft.rfft(segs, dim=-1).abs() + floor(g.n_fft)).sum(dim=(0, 2)).double()
    logmag = (total / (len(loops) * g.frames)).float()  # (C, bins)
    g.out.bias.view(g.ch, 3 * g.bins)[:, :g.bins].copy_(logmag)


def circular_overlap_add(frames: torch.Tensor, hop: int) -> torch.Tensor:
    """(B, T, ch, n_fft) windowed frames, frame t starting at sample t * hop -> (B, ch, T * hop), the
    part of each frame that runs past the loop's end added onto its start. n_fft is a multiple of hop."""
    b, t, ch, n = frames.shape
    parts = frames.view(b, t, ch, n // hop, hop)
    out = parts[:, :, :, 0]
    for j in range(1, n // hop):  # part j of frame t lands in block t + j
        out = out + torch.roll(parts[:, :, :, j], shifts=j, dims=1)
    return out.permute(0, 2, 1, 3).reshape(b, ch, t * hop)


def circular_stft(x: torch.Tensor, n_fft: int, window: torch.Tensor) -> torch.Tensor:
    """(B, ch, L) -> magnitudes (B, ch, n_fft // 2 + 1, ceil(L / hop)), hop = n_fft // 4, frames wrapping.

    Frames by ``unfold`` and one ``rfft``: its backward is a plain overlap-add (the choice against
    ``torch.stft``: benchmarks/results/sound.md). Where hop does not divide L, the last frame overlaps the
    first by the remainder, so a roll by one hop rolls the frames only nearly; D judges every loop at a
    random roll, so no moment of the loop, the seam included, has a place of its own."""
    hop = n_fft // 4
    frames = -(-x.shape[-1] // hop)
    xp = torch.cat([x, x[..., :(frames - 1) * hop + n_fft - x.shape[-1]]], dim=-1)
    s = torch.fft.rfft(xp.unfold(-1, n_fft, hop) * window, dim=-1)  # (B, ch, frames, F)
    return s.abs().transpose(2, 3)


class ResolutionD(nn.Module):
    """One resolution of the discriminator: log-magnitudes at ``n_fft`` (hop n_fft / 4), every bin of every
    channel a feature, convolved along time (circularly) -> a map of logits (B, frames')."""

    def __init__(self, n_fft: int, channels: int, width: int):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True))
        feats = channels * (n_fft // 2 + 1)
        self.convs = nn.ModuleList([nn.Conv1d(feats, width, 1), nn.Conv1d(width, width, 5, 2),
                                    nn.Conv1d(width, width, 5, 2), nn.Conv1d(width, width, 5, 1)])
        self.post = nn.Conv1d(width, 1, 3)

    def spectrum(self, x: torch.Tensor) -> torch.Tensor:
        """(B, ch, L) -> what this resolution judges: log-magnitudes (B, ch * F, T)."""
        return torch.log(circular_stft(x, self.n_fft, self.window) + floor(self.n_fft)).flatten(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.judge(self.spectrum(x))

    def judge(self, h: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            h = F.leaky_relu(conv(wrap_pad(h, conv.kernel_size[0] // 2)), 0.2)
        return self.post(wrap_pad(h, 1)).flatten(1)


class MultiResolutionD(nn.Module):
    """(B, ch, L) -> one logit per loop and resolution position, concatenated (B, sum of frames')."""

    def __init__(self, p: Preset):
        super().__init__()
        self.ds = nn.ModuleList([ResolutionD(n, p.channels, p.d_width) for n in resolutions(p.d_ffts)])

    def forward(self, x: torch.Tensor, r1: bool = False):
        """Logits (B, positions); with ``r1``, (logits, R1 penalty): the mean over loops of the squared
        gradient of each loop's summed logits with respect to the log-spectra D sees. Taken there, not on
        the samples: through the log, the gradient on samples is ruled by the quietest bins."""
        if not r1:
            return torch.cat([d(x) for d in self.ds], dim=1)
        specs = [d.spectrum(x).detach().requires_grad_(True) for d in self.ds]
        logits = torch.cat([d.judge(s) for d, s in zip(self.ds, specs)], dim=1)
        grads = torch.autograd.grad(logits.sum(), specs, create_graph=True)
        return logits, sum(g.pow(2).flatten(1).sum(1) for g in grads).mean()


class MultiResolutionSTFTLoss(nn.Module):
    """Spectral convergence + mean |log magnitude difference| over several circular STFT resolutions
    (Parallel WaveGAN, Yamamoto et al. 2020): blind to phase except as the resolutions together pin it."""

    def __init__(self, ffts=REC_FFTS):
        super().__init__()
        self.ffts = tuple(ffts)
        for n in self.ffts:
            self.register_buffer(f"w{n}", torch.hann_window(n, periodic=True))

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        total = fake.new_zeros(())
        for n in self.ffts:
            w = getattr(self, f"w{n}")
            sf = circular_stft(fake, n, w)
            with torch.no_grad():
                sr = circular_stft(real, n, w)
            sc = torch.linalg.vector_norm(sr - sf) / (torch.linalg.vector_norm(sr) + 1e-9)
            total = total + sc + F.l1_loss(torch.log(sf + floor(n)), torch.log(sr + floor(n)))
        return total / len(self.ffts)


class _PlayBlock(nn.Module):
    """A trained ``Block`` with its layer scale folded into the last pointwise layer."""

    def __init__(self, b: Block):
        super().__init__()
        self.pad, self.dw, self.norm, self.pw1 = b.pad, b.dw, b.norm, b.pw1
        self.pw2 = nn.Linear(b.pw2.in_features, b.pw2.out_features)
        with torch.no_grad():
            self.pw2.weight.copy_(b.pw2.weight * b.layer_scale[:, None])
            self.pw2.bias.copy_(b.pw2.bias * b.layer_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(wrap_pad(x, self.pad)).transpose(1, 2)
        return x + self.pw2(F.gelu(self.pw1(self.norm(y)))).transpose(1, 2)


class SpectralPlayer(nn.Module):
    """What a trained ``SpectralGenerator`` exports as: the same function, laid out for one fast CPU call.

    The head's phase rows are reordered so each bin's (u, v) pair sits side by side: scaled in place, they
    are the complex spectrum as they stand, where the training form scales u and v apart and stacks them. The
    blocks' layer scales are folded into their weights. Loops equal the generator's to float rounding.
    """

    def __init__(self, g: SpectralGenerator):
        super().__init__()
        self.c, self.frames, self.hop, self.n_fft = g.c, g.frames, g.hop, g.n_fft
        self.ch, self.bins, self.log_mag_max, self.scale = g.ch, g.bins, g.log_mag_max, g.scale
        self.dense = g.dense
        self.register_buffer("keys", g.keys.detach().clone())
        self.register_buffer("timelines", g.timelines.detach().clone())
        self.blocks = nn.Sequential(*[_PlayBlock(b) for b in g.blocks])
        self.norm = g.norm
        b = self.bins  # per channel: the bins' log-magnitudes, then u0 v0 u1 v1 ... in place of u0 u1 ... v0 v1 ...
        uv = torch.stack([torch.arange(b, 2 * b), torch.arange(2 * b, 3 * b)], 1).flatten()
        rows = (torch.cat([torch.arange(b), uv])[None] + 3 * b * torch.arange(self.ch)[:, None]).flatten()
        self.out = nn.Linear(g.out.in_features, g.out.out_features)
        with torch.no_grad():
            self.out.weight.copy_(g.out.weight[rows])
            self.out.bias.copy_(g.out.bias[rows])
        self.register_buffer("window", g.window.detach().clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = anchored(z, self.dense(z), self.keys, self.timelines, self.scale)
        n = z.shape[0]
        h = self.blocks(h.view(n, self.c, self.frames))
        y = self.out(self.norm(h.transpose(1, 2))).view(n, self.frames, self.ch, 3 * self.bins)
        mag = torch.exp(torch.clamp(y[:, :, :, :self.bins], max=self.log_mag_max))
        uv = y[:, :, :, self.bins:].unflatten(3, (self.bins, 2))  # (B, T, ch, bins, 2): a view, no copy
        sq = uv * uv
        r = mag * torch.rsqrt(sq[:, :, :, :, 0] + sq[:, :, :, :, 1] + 1e-8)
        spec = torch.view_as_complex(uv * r.unsqueeze(4))  # (B, T, ch, bins)
        frames = torch.fft.irfft(spec, n=self.n_fft)
        return circular_overlap_add(frames * self.window, self.hop)


def anchors(n: int, latent_dim: int, seed: int, draws: int = 8192, iters: int = 20) -> torch.Tensor:
    """(n, latent_dim) latent anchors for n training loops: k-means centres of prior draws (so each anchor's
    share of the prior is about 1 / n), pushed out to the prior's typical radius sqrt(latent_dim), where
    random z lie. Deterministic in (n, latent_dim, seed)."""
    rng = np.random.default_rng(seed + 104729)
    x = rng.standard_normal((max(draws, 16 * n), latent_dim))
    c = x[rng.choice(len(x), n, replace=False)]
    for _ in range(iters):
        lab = ((c ** 2).sum(1)[None] - 2.0 * x @ c.T).argmin(1)  # nearest centre (|x|^2 is the same for all)
        for j in range(n):
            if np.any(lab == j):
                c[j] = x[lab == j].mean(0)
    c = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-9) * np.sqrt(latent_dim)
    return torch.from_numpy(c.astype(np.float32))


def resolutions(text: str) -> list[int]:
    """``d_ffts`` text ``"256,1024,2048"`` -> [256, 1024, 2048]; ValueError names a bad entry."""
    out = []
    for part in text.split(","):
        try:
            n = int(part)
        except ValueError:
            raise ValueError(f"d_ffts must be comma-separated FFT sizes, got {text!r}") from None
        if n < 16 or n % 4:
            raise ValueError(f"d_ffts: {n} is not an FFT size (a multiple of 4, at least 16)")
        out.append(n)
    return out

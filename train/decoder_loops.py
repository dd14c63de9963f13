"""Third-party decoders as loop models: the modules ``livegan wrap`` scripts around a decoder. Each
is a loop model (``forward(z[B, latent_dim]) -> [B, channels, loop_samples]`` in [-1, 1]) whose body
calls the decoder once (``render``: what it rendered, unclipped) and folds that into one seamless bar.

Seamless: the decoder renders ``loop + fade`` samples or more; the ``fade`` samples that follow the
bar are crossfaded (equal power) over the bar's first ``fade`` samples. The loop's first sample is
then the one the decoder would have played right after its last, so the wrap is a step like any
inside the loop, not a click.

Thread: built and scripted on the main thread by ``train.wrap``; the saved file runs wherever a loop
model runs (the generator thread or process).
"""
from __future__ import annotations

import math

import torch


def fade_curves(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(fade_in (n,), fade_out (n,)): equal-power quarter sine and cosine; fade_in[0] = 0, fade_out[0] = 1."""
    a = 0.5 * math.pi * torch.arange(n, dtype=torch.float64) / max(n, 1)
    return torch.sin(a).float(), torch.cos(a).float()


def fold(y: torch.Tensor, loop: int, fade_in: torch.Tensor, fade_out: torch.Tensor) -> torch.Tensor:
    """(B, C, N >= loop + X) -> (B, C, loop) clamped to [-1, 1]: the X samples after the bar fade out
    over the bar's first X, which fade in."""
    x = fade_in.shape[0]
    head = y[:, :, :x] * fade_in + y[:, :, loop:loop + x] * fade_out  # (B, C, X)
    return torch.clamp(torch.cat([head, y[:, :, x:loop]], dim=2), -1.0, 1.0)


def swing_path(latent: int, frames: int, ratio: int, loop: int, swing: float) -> torch.Tensor:
    """(latent_dim, latent, frames): the linear map from a livegan z to a decoder's latent trajectory.

    z = [centre (latent), swing (latent)]; frame t gets centre + swing x ``swing`` x sin(2 pi s / loop),
    s the frame's middle sample, so the path goes out and back once per bar and frame ``loop / ratio``
    is frame 0 again. ``swing`` = 0: z is the centre alone, a constant path.
    """
    s = (torch.arange(frames, dtype=torch.float64) + 0.5) * ratio  # (T,) the sample each frame is centred on
    eye = torch.eye(latent, dtype=torch.float64)[:, :, None]  # (D, D, 1)
    centre = eye.expand(latent, latent, frames)  # (D, D, T)
    if swing <= 0:
        return centre.float().contiguous()
    wave = swing * torch.sin(2.0 * math.pi * s / loop)  # (T,)
    return torch.cat([centre, eye * wave], dim=0).float().contiguous()  # (2D, D, T)


class DecodeLoop(torch.nn.Module):
    """A RAVE / nn~ style decoder (``decode(z[B, latent, T]) -> [B, ch, T * ratio]``) as a loop model."""

    def __init__(self, decoder, path: torch.Tensor, loop: int, fade: int):
        super().__init__()
        self.decoder = decoder
        self.loop = loop
        self.latent, self.frames = int(path.shape[1]), int(path.shape[2])
        self.register_buffer("path", path.flatten(1))  # (latent_dim, latent * T)
        fi, fo = fade_curves(fade)
        self.register_buffer("fade_in", fi)  # (X,)
        self.register_buffer("fade_out", fo)  # (X,)

    def render(self, z: torch.Tensor) -> torch.Tensor:  # (B, latent_dim) -> (B, C, T * ratio), unclipped
        traj = torch.matmul(z, self.path).reshape(-1, self.latent, self.frames)  # (B, latent, T)
        return self.decoder.decode(traj)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, latent_dim) -> (B, C, loop)
        return fold(self.render(z), self.loop, self.fade_in, self.fade_out)


class ForwardLoop(torch.nn.Module):
    """A plain decoder (``forward(z[B, latent]) -> [B, ch, N]`` or ``[B, N]``, N >= loop + fade) as a loop
    model: the bar is the first ``loop`` samples of what it renders."""

    def __init__(self, decoder, loop: int, fade: int):
        super().__init__()
        self.decoder = decoder
        self.loop = loop
        fi, fo = fade_curves(fade)
        self.register_buffer("fade_in", fi)  # (X,)
        self.register_buffer("fade_out", fo)  # (X,)

    def render(self, z: torch.Tensor) -> torch.Tensor:  # (B, latent) -> (B, C, N), unclipped
        y = self.decoder(z)
        if y.dim() == 2:
            y = y.unsqueeze(1)  # (B, 1, N)
        return y

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, latent) -> (B, C, loop)
        return fold(self.render(z), self.loop, self.fade_in, self.fade_out)

"""Find: place any audio loop in a model's latent space (issue 27), for ``livegan find``.

The file is read (only its first few loops' worth: a 10-minute file costs what a short one does), mixed to
mono, resampled to the model's rate (soxr where installed, else ``livegan.audio.resample``), fitted to one
loop and peak-normalised as training data is. The search starts from the best of the seeds 0..``N_SEEDS``-1
(``seed_z``: seeds a performer can play) and runs Adam on z through the model's TorchScript against a
multi-resolution log-magnitude STFT distance, keeping z in the prior's typical region (a normal prior's
|z| within its 99.9 % radius, a uniform prior's box) so the loop stays one the model was trained to make.

Thread: main.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from livegan.errors import CLIError, first_line

N_SEEDS = 100
PEAK = 0.9  # training data is peak-normalised here (train/data.py)
SILENT = 1e-4  # peak under -80 dBFS
MIN_FRACTION = 0.5  # a file shorter than half a loop is a sound, not a loop
STRETCH_UP_TO = 2.0  # a file up to twice the loop is a loop at another tempo: stretched to one loop
READ_LOOPS = 3  # of a longer file, at most this many loops' worth is read; the first loop is used
FFT_SIZES = (2048, 512, 128)  # at 44.1 kHz; scaled with the rate
LR = 0.05


@dataclass
class Found:
    z: np.ndarray  # (D,)
    distance: float
    start_seed: int  # the seed the search started from
    start_distance: float
    seed_distances: np.ndarray  # (N_SEEDS,) each seed's loop's distance to the target
    steps: int


def read_loop(path, sample_rate: int, loop_samples: int) -> tuple[np.ndarray, str]:
    """Audio file -> ((loop_samples,) float32 mono at ``sample_rate``, peak PEAK; how it was fitted).
    Raises CLIError (one line naming the file) for a missing, unreadable, silent or too short file."""
    import soundfile as sf

    path = os.fspath(path)
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise CLIError(f"{path}: not a regular file")
    try:
        with sf.SoundFile(path) as f:
            sr_in, frames = f.samplerate, f.frames
            want = int(math.ceil(READ_LOOPS * loop_samples * sr_in / sample_rate))
            x = f.read(min(frames, want) if frames > 0 else want, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as e:
        raise CLIError(f"{path}: not an audio file livegan can read ({first_line(e, 120)})") from None
    x = x.mean(axis=1)
    seconds, loop_s = len(x) / sr_in, loop_samples / sample_rate
    if len(x) == 0 or seconds < MIN_FRACTION * loop_s:
        raise CLIError(f"{path}: {seconds * 1e3:.0f} ms long; a loop of this model is {loop_s:.3f} s, "
                       f"find needs at least {MIN_FRACTION * loop_s:.3f} s")
    if not np.all(np.isfinite(x)) or float(np.max(np.abs(x))) < SILENT:
        raise CLIError(f"{path}: silent (peak under -80 dBFS), nothing to find")
    if seconds <= STRETCH_UP_TO * loop_s and frames <= want:
        how = (f"{seconds:.3f} s, the model's loop length" if abs(seconds - loop_s) < 1e-3 else
               f"{seconds:.3f} s stretched to the model's {loop_s:.3f} s loop")
        y = _resample(x, len(x), loop_samples)
    else:
        how = f"its first {loop_s:.3f} s (of {frames / sr_in:.1f} s)" if frames > 0 else f"its first {loop_s:.3f} s"
        y = _resample(x[: int(math.ceil(loop_samples * sr_in / sample_rate)) + 64], sr_in, sample_rate)[:loop_samples]
    y = np.resize(y, loop_samples).astype(np.float32)  # rounding may leave a sample short: wrap it
    peak = float(np.max(np.abs(y)))
    if peak < SILENT:
        raise CLIError(f"{path}: silent in the part used ({how}), nothing to find")
    return y * (PEAK / peak), how


def _resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return x
    try:
        import soxr
    except ImportError:  # a play-only install has no soxr: the project's own sinc resampler
        from livegan.audio.resample import resample
        return resample(x, int(sr_in), int(sr_out))
    return soxr.resample(x, int(sr_in), int(sr_out), quality="HQ")


class Distance:
    """Multi-resolution log-magnitude STFT distance to one target loop: the mean over ``FFT_SIZES`` of
    the mean |log(|X| + eps) - log(|T| + eps)|, eps 60 dB under the target's peak bin."""

    def __init__(self, target: np.ndarray, sample_rate: int):
        import torch

        self.torch = torch
        scale = sample_rate / 44100.0
        self.sizes = [max(32, 2 ** int(round(math.log2(n * scale)))) for n in FFT_SIZES]
        t = torch.from_numpy(np.asarray(target, np.float32))[None]
        self.windows = {n: torch.hann_window(n) for n in self.sizes}
        mags = [self._mag(t, n) for n in self.sizes]
        self.eps = {n: float(m.max()) * 1e-3 + 1e-9 for n, m in zip(self.sizes, mags)}
        self.logs = {n: torch.log(m + self.eps[n]) for n, m in zip(self.sizes, mags)}

    def _mag(self, x, n: int):
        return self.torch.stft(x, n, n // 4, window=self.windows[n], return_complex=True).abs()

    def __call__(self, y):
        """(B, C, N) or (B, N) torch loops -> (B,) distances (differentiable)."""
        x = y.mean(1) if y.dim() == 3 else y
        total = 0.0
        for n in self.sizes:
            d = (self.torch.log(self._mag(x, n) + self.eps[n]) - self.logs[n]).abs()
            total = total + d.mean((1, 2))
        return total / len(self.sizes)


def prior_bound(z, dist: str, latent_dim: int):
    """z (torch, (D,)) pulled back into the prior's typical region, in place."""
    torch = __import__("torch")
    with torch.no_grad():
        if dist == "uniform":
            z.clamp_(-1.0, 1.0)
        else:
            radius = math.sqrt(latent_dim) + 3.1 / math.sqrt(2.0)  # chi's 99.9 % point, near enough
            norm = float(z.norm())
            if norm > radius:
                z.mul_(radius / norm)


def seed_distances(module, meta, dist: Distance, seeds=range(N_SEEDS), batch: int = 10):
    """-> ((S, D) the seeds' z, (S,) each seed's loop's distance to the target)."""
    import torch

    from livegan.model import seed_z

    z = np.stack([seed_z(s, meta.latent_dim, meta.latent_dist) for s in seeds])
    with torch.inference_mode():
        d = torch.cat([dist(module(torch.from_numpy(z[i:i + batch]))) for i in range(0, len(z), batch)])
    return z, d.numpy().astype(np.float64)


def find(module, meta, target: np.ndarray, steps: int = 150) -> Found:
    """Search z for ``target`` ((loop_samples,) mono at the model's rate) through ``module`` (the loaded
    TorchScript); deterministic for a given file and model."""
    import torch

    dist = Distance(target, meta.sample_rate)
    zs, ds = seed_distances(module, meta, dist)
    best = int(np.argmin(ds))
    z = torch.tensor(zs[best], requires_grad=True)
    opt = torch.optim.Adam([z], lr=LR)
    best_z, best_d = zs[best].copy(), float(ds[best])
    for _ in range(steps):
        opt.zero_grad()
        loss = dist(module(z[None]))[0]
        if float(loss.detach()) < best_d:  # the loss of the z before this step's move
            best_z, best_d = z.detach().numpy().copy(), float(loss.detach())
        loss.backward()
        opt.step()
        prior_bound(z, meta.latent_dist, meta.latent_dim)
    with torch.inference_mode():
        last = float(dist(module(z.detach()[None]))[0])
    if last < best_d:
        best_z, best_d = z.detach().numpy().copy(), last
    return Found(best_z.astype(np.float32), best_d, best, float(ds[best]), ds, steps)

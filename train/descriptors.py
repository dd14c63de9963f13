"""Audio descriptors of a loop, the measured properties the named knobs move (issue 27).

Each is the standard definition (as librosa defines it) on a circular STFT of the mono mix: the loop
wraps, so frame t reads samples (t * hop - n_fft / 2 ..) modulo the loop's length and every sample is
seen by the same number of frames (a click at sample 0 counts once, not twice or half).

- ``brightness``: log of the spectral centroid in Hz. librosa's centroid is per frame on the magnitude
  spectrum; the loop's value is the frames' centroids weighted by each frame's magnitude (the centroid of
  the loop's summed magnitude spectrum), so silent frames, whose centroid is noise, count for nothing.
- ``weight``: the share of the loop's power below ``LOW_HZ`` (kick and bass against everything else).
- ``loudness``: RMS level in dB full scale (a full-scale sine is -3 dB).
- ``noisiness``: spectral flatness (geometric over arithmetic mean of the power spectrum, librosa's
  ``power=2``), averaged over frames weighted by power. A sine's is near 0; white noise's is
  exp(-Euler's gamma) = 0.561, the ratio for a periodogram's exponentially distributed bins, not 1.
- ``density``: onsets per second, counted softly. Onset strength is librosa's: the positive frame-to-frame
  rise of the log power (dB, floor 80 dB under the loop's peak), averaged over bins. A peak is a local
  maximum over +-``PEAK_S``; it counts clip((strength - mean over +-``AVG_S`` - ``DELTA_DB``) / ``FULL_DB``,
  0, 1): a clear
  onset counts 1, as librosa's ``onset_detect`` would, and a rise near the threshold a fraction. The
  strength stays in dB rather than librosa's fraction of the loop's largest rise, so a steady tone's
  rounding-level wobble is no onset; ``DELTA_DB`` (librosa's ``delta``) keeps
  the random rises of steady noise out. An integer count is constant over
  most of a knob's sweep and then jumps, so its rank correlation with the knob says nothing;
  the soft count moves smoothly and still reads N for a train of N clicks per second.

Thread: main (export, ``livegan knobs``, benchmarks).
"""
from __future__ import annotations

import math

import numpy as np
import torch

NAMES = ("brightness", "weight", "loudness", "noisiness", "density")
LOW_HZ = 150.0  # below it: kick drum fundamentals and bass
PEAK_S = 0.03  # librosa onset_detect's pre_max / post_max
AVG_S = 0.10  # librosa onset_detect's pre_avg / post_avg
DELTA_DB = 1.0  # a rise (dB, averaged over bins) must pass its local mean by this much to count at all
FULL_DB = 3.0  # ... and by DELTA_DB + this to count as one whole onset
EPS = 1e-10  # librosa's amin
# The smallest change of each that means anything (below it: rounding, spectral leakage): a descriptor whose
# spread over a model's prior is under it is constant for that model, and no knob can move it.
RESOLUTION = dict(brightness=1e-3, weight=1e-4, loudness=0.01, noisiness=1e-4, density=0.01)


def stft_size(sample_rate: int) -> tuple[int, int]:
    """(n_fft, hop): the power of two nearest 46 ms (2048 at 44.1 kHz), a quarter of it."""
    n_fft = 2 ** int(round(math.log2(0.046 * sample_rate)))
    return n_fft, n_fft // 4


def circular_power(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """(B, N) mono loops -> (B, F, T) Hann-windowed power spectra, T = ceil(N / hop), frames wrapping."""
    n, half = x.shape[-1], n_fft // 2
    reps = -(-half // n)  # a loop shorter than half a frame wraps more than once
    ring = x.repeat(1, 2 * reps + 1)
    ext = ring[:, reps * n - half: reps * n + n + half]  # the loop with half a frame of wrap each side
    s = torch.stft(ext, n_fft, hop, window=torch.hann_window(n_fft, dtype=x.dtype), center=False,
                   return_complex=True)  # (B, F, >= T)
    return s[:, :, :-(-n // hop)].abs() ** 2


def _as_mono(y) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).float()
    if y.dim() == 1:
        y = y[None, None]
    elif y.dim() == 2:
        y = y[:, None]
    return y.mean(1)  # (B, N)


def _density(p: torch.Tensor, sample_rate: int, hop: int, n: int) -> torch.Tensor:
    """(B, F, T) power -> (B,) soft onsets per second (module docstring)."""
    db = 10 * torch.log10(p + EPS)
    db = torch.maximum(db, db.amax((1, 2), keepdim=True) - 80.0)
    rise = torch.relu(db - db.roll(1, dims=2)).mean(1)  # (B, T): frame t against t-1, wrapping
    env = rise
    w_max = max(1, int(round(PEAK_S * sample_rate / hop)))
    w_avg = max(1, int(round(AVG_S * sample_rate / hop)))
    near = lambda w: torch.stack([env.roll(k, dims=1) for k in range(-w, w + 1)])  # circular neighbours
    local_max, local_mean = near(w_max).amax(0), near(w_avg).mean(0)
    is_peak = (env >= local_max) & (env > 0)
    # a flat top (two equal frames) is one onset: keep its first frame only
    is_peak &= ~(is_peak & (env == env.roll(1, dims=1)))
    counts = (torch.clamp((env - local_mean - DELTA_DB) / FULL_DB, 0, 1) * is_peak).sum(1)
    return counts / (n / sample_rate)


@torch.no_grad()
def describe(y, sample_rate: int) -> dict[str, np.ndarray]:
    """Loops (B, C, N), (B, N) or (N,) (numpy or torch) -> {name: (B,) float64} for each of ``NAMES``."""
    out = describe_tensors(_as_mono(y), sample_rate)
    return {k: out[k].double().numpy() for k in NAMES}


def describe_tensors(x: torch.Tensor, sample_rate: int) -> dict[str, torch.Tensor]:
    """(B, N) mono float tensor -> {name: (B,) tensor}, differentiable in x (the onset peaks' choice aside)."""
    n = x.shape[-1]
    n_fft, hop = stft_size(sample_rate)
    p = circular_power(x, n_fft, hop)  # (B, F, T)
    f = torch.fft.rfftfreq(n_fft, 1.0 / sample_rate, dtype=p.dtype)  # (F,)
    mag = (p + EPS).sqrt().sum(2)  # (B, F); EPS: sqrt has no gradient at 0
    centroid = (mag * f).sum(1) / mag.sum(1).clamp_min(EPS)
    power = p.sum(2)  # (B, F)
    low = power[:, f < LOW_HZ].sum(1) / power.sum(1).clamp_min(EPS)
    rms_db = 10 * torch.log10((x ** 2).mean(1) + EPS)
    pc = p.clamp_min(EPS)
    flat = torch.exp(torch.log(pc).mean(1)) / pc.mean(1)  # (B, T)
    frame_w = p.sum(1)
    flatness = (flat * frame_w).sum(1) / frame_w.sum(1).clamp_min(EPS)
    return dict(brightness=torch.log(centroid.clamp_min(1.0)), weight=low, loudness=rms_db,
                noisiness=flatness, density=_density(p, sample_rate, hop, n))

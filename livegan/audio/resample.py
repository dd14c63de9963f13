"""Offline high-quality resampler (numba): a long Kaiser sinc read from the engine's table maker.

Not real-time: it allocates its output and runs on whatever thread does offline work, never on the
audio callback. The engine's own band-limited read is ``livegan.audio.dsp.interp``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from livegan.audio.dsp import _tap, make_table

HQ_TABLE = make_table(half_taps=64, res=1024, beta=12.0, cutoff=0.95)


@njit(cache=True, nogil=True)
def _resample_kernel(x, y, ratio, scale, table, half, res, circular):
    n_in = x.shape[1]
    taps = int(math.ceil(half / scale))
    for c in range(x.shape[0]):
        for j in range(y.shape[1]):
            pos = j * ratio
            ip = int(math.floor(pos))
            fr = pos - ip
            acc = 0.0
            for k in range(-taps + 1, taps + 1):
                idx = ip + k
                if circular:
                    idx = idx % n_in
                elif idx < 0 or idx >= n_in:
                    continue
                acc += _tap(table, (k - fr) * scale, half, res) * x[c, idx]
            y[c, j] = acc * scale


def resample(x: np.ndarray, sr_in: int, sr_out: int, circular: bool = False) -> np.ndarray:
    """Offline high-quality resampler: (frames,) or (ch, frames) float -> float32 at ``sr_out``.

    128-tap Kaiser sinc (beta 12, about -120 dB stop band), cutoff 0.95 x the
    lower Nyquist. ``circular`` treats the input as a loop (output length is
    round(len * sr_out / sr_in) and wraps seamlessly). Thread: any but the callback.
    """
    x = np.asarray(x, dtype=np.float64)
    mono = x.ndim == 1
    x2 = x[None, :] if mono else x
    n_out = int(round(x2.shape[1] * sr_out / sr_in))
    ratio = x2.shape[1] / n_out if circular else sr_in / sr_out
    scale = min(1.0, 1.0 / ratio)
    y = np.empty((x2.shape[0], n_out), np.float64)
    _resample_kernel(np.ascontiguousarray(x2), y, ratio, scale, HQ_TABLE, 64, 1024, circular)
    y = y.astype(np.float32)
    return y[0] if mono else y

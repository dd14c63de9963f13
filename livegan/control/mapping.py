"""Knob maths: pure functions, tested directly.

Knob value -> offset in sigmas, pick-up / jump takeover, seed -> base z,
morph between two snapshots, and the latent point
``z = base + sum_k offset_k * sigma_k * direction_k``. No state, no threads:
callers own the values.
"""
from __future__ import annotations

import math

import numpy as np

PICKUP_EPS = 1.5 / 127  # a knob "meets" its value within 1.5 MIDI steps


# ---------------------------------------------------------------- pure functions

def knob_to_range(v01: float, lo: float, hi: float) -> float:
    """Knob position in [0, 1] -> value in [lo, hi] (linear)."""
    v = min(1.0, max(0.0, v01))
    return lo + v * (hi - lo)


def range_to_knob(x: float, lo: float, hi: float) -> float:
    """Inverse of knob_to_range, clipped to [0, 1]."""
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def neutral_knob(lo: float, hi: float) -> float:
    """Knob position whose offset is 0 (or the end nearest 0 when 0 is outside the range)."""
    return range_to_knob(0.0, lo, hi)


def fx_knob_to_param(v01: float, lo: float, hi: float, curve: str) -> float:
    """Knob -> effect parameter; 'log' params (cutoff) move exponentially between lo and hi."""
    v = min(1.0, max(0.0, v01))
    if curve == "log" and lo > 0 and hi > 0:
        return lo * (hi / lo) ** v
    return lo + v * (hi - lo)


def takeover(mode: str, value: float, engaged: bool, prev_phys: float, phys: float,
             eps: float = PICKUP_EPS) -> tuple[float, bool]:
    """One knob move under a takeover mode -> (new value, engaged).

    ``jump``: the value follows the knob at once. ``pickup``: a disengaged knob
    changes nothing until its physical position meets or crosses the value,
    so recalling a snapshot never makes the sound leap when a knob is touched.
    ``prev_phys`` is NaN when the knob has not been seen since it disengaged.
    """
    if mode == "jump" or engaged:
        return phys, True
    met = abs(phys - value) <= eps
    if not met and not math.isnan(prev_phys):
        met = (prev_phys - value) * (phys - value) <= 0.0  # crossed it between two messages
    return (phys, True) if met else (value, False)


def latent_point(base: np.ndarray, directions: np.ndarray, sigmas: np.ndarray,
                 offsets_sigma: np.ndarray, dist: str, named=None) -> np.ndarray:
    """z = base + sum_k offset_k * sigma_k * direction_k; uniform latents stay in [-1, 1].

    base (D,), directions (K, D), sigmas (K,), offsets_sigma (K,) -> (D,) float32. ``named``: None, or
    (directions (N, D), sigmas (N,), offsets (N,)) of named knobs, added as a second sum, and only
    when an offset is not 0, so a point moved by numbered directions alone is the same to the bit
    whether or not the model has named knobs.
    """
    z = base.astype(np.float32) + (offsets_sigma * sigmas).astype(np.float32) @ directions.astype(np.float32)
    if named is not None and np.any(named[2]):
        z += (named[2] * named[1]).astype(np.float32) @ named[0].astype(np.float32)
    if dist == "uniform":
        np.clip(z, -1.0, 1.0, out=z)
    return z


def morph(za: np.ndarray, zb: np.ndarray, t: float, dist: str) -> np.ndarray:
    """Point between two snapshots at t in [0, 1]: slerp for a normal latent (keeps the norm
    typical of the prior), lerp for a uniform one. t=0 is za, t=1 is zb exactly."""
    t = min(1.0, max(0.0, float(t)))
    if dist == "normal":
        na, nb = np.linalg.norm(za), np.linalg.norm(zb)
        if na > 1e-8 and nb > 1e-8:
            cos = float(np.clip(np.dot(za / na, zb / nb), -1.0, 1.0))
            omega = math.acos(cos)
            if omega > 1e-4:
                s = math.sin(omega)
                return ((math.sin((1 - t) * omega) / s) * za + (math.sin(t * omega) / s) * zb).astype(np.float32)
    return ((1 - t) * za + t * zb).astype(np.float32)

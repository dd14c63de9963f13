"""Knob directions that hold the other descriptors still seed by seed, not just on average (issue 27).

The projected regression gradient (``train.knobs.fit_directions``) leaves each other descriptor's *mean*
change along a knob at zero, but a seed sees its own local change, and on a GAN that is a trend that rises
on some seeds and falls on others: the judge's cross-talk (the median seed's change) is its spread, not its
mean. So each knob's direction here is chosen from per-draw gradients g_j(z_i) of every standardised
descriptor j (autograd through the generator and ``train.descriptors.describe_tensors``):

    d_k = argmax (m_k . d)^2 / d^T (sum_{j != k} E[g_j g_j^T] + ridge I) d  =  C_k^{-1} m_k  (normalised)

a generalized Rayleigh quotient: its own mean slope m_k against the others' *second moment* along d, which
is the square of their per-seed change (mean and spread together). Gradients are heavy-tailed (a few draws
sit on a cliff of the property), and the judge takes medians over seeds, so each descriptor's per-draw
gradients are clipped to their median norm before the mean and the second moment: a draw on a cliff
weighs like a typical one. ``ridge`` is in units of the others' mean squared gradient per dimension.

The knob's range (its ``sigma``) is then measured, not predicted: every knob is swept over +-SPAN of a
trial sigma on fit-side seeds (``CAL_SEED0`` onwards, never the held-out seeds 0.. the judge and a
performer use), and since both its reach and its cross-talk grow about linearly with the range, sigma is
put where the measured reach over ``MIN_REACH`` equals ``MAX_CROSSTALK`` over the measured cross-talk (the
middle of the window in which both hold, on a log scale), at most the prior's spread along the direction.
Thread: main.
"""
from __future__ import annotations

import numpy as np
import torch

from train.descriptors import NAMES, RESOLUTION, describe_tensors

GRAD_DRAWS = 256  # prior draws whose per-draw gradients are taken (their cost: benchmarks/results/knobs.md)
RIDGE = 0.3
CLIP_Q = 0.5  # per-draw gradients clipped to this quantile of their norms
CAL_SEEDS = 16  # fit-side seeds the range is measured on
CAL_SEED0 = 1_000_000  # the first of them: far from the seeds a performer plays
# below it (prior spreads per unit of z for the median draw) no gradient reaches a descriptor: across a
# knob's travel of a few units of z it would move by hundredths of its spread, far under MIN_REACH
NO_GRADIENT = 1e-3


def descriptor_gradients(module: torch.nn.Module, z: np.ndarray, sample_rate: int, batch: int = 16) -> np.ndarray:
    """z (n, D) -> (n, M, D): the gradient in z of each descriptor (``NAMES`` order) of the loop module(z)
    (module: (B, D) -> (B, C, N)), each draw on its own (a loop's descriptors depend only on its z)."""
    out = np.zeros((len(z), len(NAMES), z.shape[1]))
    for i in range(0, len(z), batch):
        zb = torch.from_numpy(np.ascontiguousarray(z[i:i + batch], np.float32)).requires_grad_(True)
        d = describe_tensors(module(zb).float().mean(1), sample_rate)
        for m, k in enumerate(NAMES):
            if d[k].requires_grad:  # a descriptor the generator's output cannot reach has no graph
                g, = torch.autograd.grad(d[k].sum(), zb, retain_graph=m < len(NAMES) - 1)
                out[i:i + batch, m] = g.double().numpy()
    return out


def clip_norms(g: np.ndarray, q: float = CLIP_Q) -> np.ndarray:
    """(n, M, D) gradients, each descriptor's draws scaled down to at most the q-quantile of its norms."""
    norm = np.linalg.norm(g, axis=2, keepdims=True)  # (n, M, 1)
    tau = np.quantile(norm, q, axis=0, keepdims=True)  # (1, M, 1)
    return g * np.minimum(1.0, tau / np.maximum(norm, 1e-300))


def rayleigh_directions(grads: np.ndarray, spread: dict[str, float], ridge: float = RIDGE,
                        clip_q: float = CLIP_Q) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw gradients (n, M, D) and each descriptor's prior spread -> (directions (M, D) unit rows,
    slopes (M,): the median draw's change of its own descriptor, in prior spreads, per unit of z along it).

    A descriptor constant over the prior (spread under its ``RESOLUTION``) is left out of the others'
    second moment, and its own row is the zero vector (no direction moves it)."""
    scale = np.array([spread[k] if spread[k] >= RESOLUTION[k] else np.inf for k in NAMES])
    g = clip_norms(grads / scale[None, :, None], clip_q)  # standardised: prior spreads per unit z
    mean = g.mean(0)  # (M, D)
    second = np.einsum("nmd,nme->mde", g, g) / len(g)  # (M, D, D)
    dim = g.shape[2]
    dirs = np.zeros(mean.shape)
    for m in range(len(NAMES)):
        c = second.sum(0) - second[m]
        c = c + ridge * max(np.trace(c) / dim, 1e-12) * np.eye(dim)
        v = np.linalg.solve(c, mean[m])
        if np.isfinite(scale[m]) and np.linalg.norm(v) > 0:
            dirs[m] = v / np.linalg.norm(v)
    own = np.einsum("nmd,md->nm", grads / scale[None, :, None], dirs)  # (n, M) unclipped per-draw slopes
    return dirs.astype(np.float32), np.median(own, 0)


def calibrated_sigma(sigma0: float, reach: float, cross: float, prior_sigma: float,
                     min_reach: float, max_cross: float) -> float:
    """The range at which reach (measured ``reach`` at ``sigma0``) and cross-talk (``cross``) are equally far
    inside their bounds on a log scale, both taken as proportional to the range; at most ``prior_sigma``."""
    if reach <= 0:
        return float(min(sigma0, prior_sigma))
    if cross <= 0:
        return float(min(sigma0 * min_reach / reach * 2.0, prior_sigma))
    return float(min(sigma0 * np.sqrt(min_reach / reach * max_cross / cross), prior_sigma))

"""Named knobs: latent directions that move one measured property of the sound (issue 27).

1. Draw ``n_fit`` z from the model's own prior, render them, describe each loop (``train.descriptors``).
2. Regress all descriptors (standardised) on z at once: column m of the fit is descriptor m's gradient in
   z. Raw gradients are nearly parallel (a louder loop is also brighter and denser), so each knob's
   direction is its gradient with the other descriptors' gradients projected out: along it, the linear
   fit of every other descriptor stays put, and its own rises. That holds the others still on average
   only; where the generator has gradients (``module_generator``), each direction is instead the one that
   holds them still seed by seed (``train.knob_fit``: per-draw gradients, a Rayleigh quotient), and its
   range is measured by a sweep on fit-side seeds rather than predicted (the "projected" fit's ``sigma``
   below); a descriptor no gradient reaches keeps the projected direction.
3. Keep a knob only if, on held-out seeds (``seed_z`` 0.., the seeds a performer plays), sweeping it over
   +-``SPAN`` sigmas (the generic patch's knob range) moves its descriptor monotonically (median Spearman
   >= ``MIN_SPEARMAN``), by a useful amount (the change across the sweep is at least ``MIN_REACH`` of the
   descriptor's spread over the prior: a perfectly monotone change nobody hears is no knob), while each
   other descriptor changes by at most ``MAX_CROSSTALK`` of its prior spread (the cross-talk). Rank
   correlation would call any tiny monotone drift of another descriptor 1, so cross-talk is measured in
   units of the prior spread instead: 0.5 is half the typical difference between two seeds, a move the
   ear files as "the same loop, a little different", while the knob's own property moves at least as far.

``sigma`` is in z units along the direction, as GANSpace's sigmas, so a patch's range in sigmas means
the same kind of thing on a named knob as on an unnamed one; it is chosen so that the knob's full travel
moves its own property across about ``TARGET_REACH`` prior spreads (the model's range of that property
from seed to seed), never past the prior's own spread along the direction (``knob_sigma``). Both the
knob's reach and its cross-talk grow with its range; a range sized to the property keeps the strong knobs
(whose raw +-2 prior-sigma sweep overshoots the model's range several times, dragging the others along)
from failing on cross-talk that a performer would never have asked for. Thread: main.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from livegan.model import seed_z
from train.descriptors import NAMES, RESOLUTION, describe
from train.directions import prior_z
from train.knob_fit import (
    CAL_SEED0,
    CAL_SEEDS,
    GRAD_DRAWS,
    NO_GRADIENT,
    calibrated_sigma,
    descriptor_gradients,
    rayleigh_directions,
)

MIN_SPEARMAN = 0.9
MAX_CROSSTALK = 0.5
MIN_REACH = 0.5
TARGET_REACH = 1.5  # prior spreads a knob's full travel is scaled to move its own descriptor (fit's estimate)
SPAN = 2.0  # sigmas each side of the seed, the generic patch's knob range
STEPS = 9  # points along a sweep


@dataclass
class KnobFit:
    name: str
    direction: np.ndarray  # (D,) unit
    sigma: float
    spearman: float  # median over held-out seeds of Spearman(knob position, own descriptor)
    crosstalk: float  # the largest other descriptor's median change over the sweep / its prior spread
    reach: float  # own descriptor's median change over the sweep / its prior spread
    r2: float  # linear fit of the descriptor on z over the prior draws
    kept: bool
    fit: str = "projected"  # which fit gave the direction: "rayleigh" or "projected" (fit_knobs)

    def stored(self) -> dict:
        """The entry of ``livegan.json``'s ``knobs`` list."""
        return dict(name=self.name, direction=[float(v) for v in self.direction], sigma=float(self.sigma),
                    spearman=round(float(self.spearman), 4), crosstalk=round(float(self.crosstalk), 4))

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("direction")
        return d


def render_descriptors(generate, z: np.ndarray, sample_rate: int, batch: int = 16) -> dict[str, np.ndarray]:
    """{name: (n,)} of the loops ``generate`` ((B, D) float32 numpy -> (B, C, N) numpy) makes of z (n, D)."""
    parts = [describe(generate(np.ascontiguousarray(z[i:i + batch], np.float32)), sample_rate)
             for i in range(0, len(z), batch)]
    return {k: np.concatenate([p[k] for p in parts]) for k in NAMES}


class module_generator:  # noqa: N801 (used as a function: module_generator(module)(z))
    """A ``generate`` for ``render_descriptors`` from a torch module (or loaded TorchScript); it keeps the
    module, so the fit can take gradients through it (``train.knob_fit``)."""

    def __init__(self, module: torch.nn.Module):
        self.module = module

    def __call__(self, z: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.module(torch.from_numpy(z)).float().numpy()


def fit_directions(z: np.ndarray, d: dict[str, np.ndarray]):
    """z (n, D), descriptors {name: (n,)} -> (directions (M, D) unit rows in ``NAMES`` order, r2 (M,),
    slopes (M,): the fit's change of each descriptor, in prior spreads, per unit of z along its row).

    Row m is descriptor m's regression gradient with the other descriptors' gradients projected out."""
    y = np.stack([d[k] for k in NAMES], 1).astype(np.float64)  # (n, M)
    y = (y - y.mean(0)) / np.maximum(y.std(0), 1e-12)
    a = np.c_[z.astype(np.float64), np.ones(len(z))]
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    grads = coef[:-1]  # (D, M)
    r2 = 1.0 - ((a @ coef - y) ** 2).mean(0)  # y has unit variance
    constant = [np.std(d[k]) < RESOLUTION[k] for k in NAMES]
    grads[:, constant] = 0.0  # leakage-level wobble would otherwise steer the others' directions
    dirs = []
    for m in range(grads.shape[1]):
        others = np.delete(grads, m, axis=1)  # (D, M-1)
        others = others[:, np.linalg.norm(others, axis=0) > 1e-12]
        q, _ = np.linalg.qr(others)
        v = grads[:, m] - q @ (q.T @ grads[:, m])
        dirs.append(v / max(np.linalg.norm(v), 1e-12))
    slopes = np.einsum("dm,md->m", grads, np.asarray(dirs))  # own standardised change per unit along it
    return np.asarray(dirs, np.float32), r2, slopes


def knob_sigma(prior_sigma: float, slope: float) -> float:
    """The knob's sigma: the one at which its full travel (+-SPAN sigmas) moves its descriptor by
    ``TARGET_REACH`` prior spreads as the linear fit predicts, at most the prior's own spread along the
    direction (past +-SPAN of that, z leaves the region the generator was trained on)."""
    return float(min(prior_sigma, TARGET_REACH / max(2 * SPAN * slope, 1e-12)))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation (no ties expected in x); 0 where y does not vary at all."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y, kind="stable"))
    if np.ptp(y) == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def sweep(generate, seeds: np.ndarray, direction: np.ndarray, sigma: float, sample_rate: int,
          steps: int = STEPS) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each seed (S, D) moved along ``direction`` over +-SPAN sigmas -> (positions (steps,),
    {name: (S, steps) descriptor values})."""
    pos, z = sweep_z(seeds, direction, sigma, steps)
    d = render_descriptors(generate, z, sample_rate)
    return pos, {k: v.reshape(len(seeds), steps) for k, v in d.items()}


def sweep_z(seeds: np.ndarray, direction: np.ndarray, sigma: float, steps: int = STEPS):
    """The z of ``sweep``: (positions (steps,) in sigmas, z (S * steps, D) float32, seed-major)."""
    pos = np.linspace(-SPAN, SPAN, steps)
    z = (seeds[:, None, :] + (pos * sigma)[None, :, None] * direction[None, None, :]).reshape(-1, seeds.shape[1])
    return pos, z.astype(np.float32)


def held_out_seeds(n_seeds: int, latent_dim: int, latent_dist: str) -> np.ndarray:
    """(n_seeds, D): the z of seeds 0.. (``seed_z``, the seeds a performer plays) the knobs are judged on."""
    return np.stack([seed_z(s, latent_dim, latent_dist) for s in range(n_seeds)])


def prior_draws(generate, latent_dim: int, latent_dist: str, sample_rate: int, n_fit: int = 1024, seed: int = 0):
    """The fit's prior draws: (z (n_fit, D), descriptors {name: (n_fit,)}, spread {name: std over the draws})."""
    z = prior_z(n_fit, latent_dim, latent_dist, seed).numpy()
    d = render_descriptors(generate, z, sample_rate)
    return z, d, {k: float(np.std(v)) for k, v in d.items()}


def judge(name: str, pos: np.ndarray, curves: dict[str, np.ndarray], spread: dict[str, float]):
    """-> (median Spearman of own curve, cross-talk, reach) of one knob's sweep (module docstring)."""
    rho = float(np.median([spearman(pos, c) for c in curves[name]]))
    moved = {k: float(np.median(np.ptp(c, axis=1))) / max(spread[k], RESOLUTION[k]) for k, c in curves.items()}
    cross = max(v for k, v in moved.items() if k != name)
    return rho, cross, moved[name]


def fit_knobs(generate, latent_dim: int, latent_dist: str, sample_rate: int, n_fit: int = 1024,
              n_seeds: int = 32, seed: int = 0, method: str = "auto", record: dict | None = None) -> list[KnobFit]:
    """Every descriptor's fitted knob, kept or not, in ``NAMES`` order (module docstring). ``method``:
    "rayleigh" (``train.knob_fit``: per-draw gradients, so ``generate`` must be a ``module_generator``),
    "projected" (the projected regression gradients, ``knob_sigma``'s range), "auto": rayleigh where the
    generator has a module. ``record``, if given, receives ``spread`` ({name: prior spread}) and ``sweeps``
    ({name: ``sweep``'s (pos, curves)}): what the knob report (train/knob_report.py) draws, so its numbers
    are the fit's own."""
    z, d, spread = prior_draws(generate, latent_dim, latent_dist, sample_rate, n_fit, seed)
    dirs, r2, slopes = fit_directions(z, d)
    module = getattr(generate, "module", None)
    grads = None
    if method == "rayleigh" or (method == "auto" and module is not None):
        if module is None:
            raise ValueError("the rayleigh knob fit needs a module_generator (it takes gradients)")
        zg = prior_z(GRAD_DRAWS, latent_dim, latent_dist, seed + 1).numpy()
        try:
            grads = descriptor_gradients(module, zg, sample_rate)
        except RuntimeError:  # autograd cannot go through it (an op without a backward): the projected fit
            if method == "rayleigh":
                raise
    fit = ["projected"] * len(NAMES)
    if grads is not None:
        ray, ray_slopes = rayleigh_directions(grads, spread)
        # a descriptor no gradient reaches (the generator quantises it: a step, zero almost everywhere, or
        # rounding-level wobble) keeps its projected regression direction, which sees steps
        reached = ray_slopes > NO_GRADIENT
        dirs, slopes = np.where(reached[:, None], ray, dirs), np.where(reached, ray_slopes, slopes)
        fit = ["rayleigh" if r else "projected" for r in reached]
        sigmas = measured_sigmas(generate, dirs, slopes, z, spread, latent_dim, latent_dist, sample_rate)
    else:
        sigmas = [knob_sigma(float(np.std(z @ dirs[m])), float(slopes[m])) for m in range(len(NAMES))]
    seeds = held_out_seeds(n_seeds, latent_dim, latent_dist)
    if record is not None:
        record.update(spread=spread, sweeps={})
    out = []
    for m, name in enumerate(NAMES):
        pos, curves = sweep(generate, seeds, dirs[m], sigmas[m], sample_rate)
        if record is not None:
            record["sweeps"][name] = (pos, curves)
        rho, cross, reach = judge(name, pos, curves, spread)
        kept = rho >= MIN_SPEARMAN and cross <= MAX_CROSSTALK and reach >= MIN_REACH
        out.append(KnobFit(name, dirs[m], sigmas[m], rho, cross, reach, float(r2[m]), bool(kept), fit[m]))
    return out


def measured_sigmas(generate, dirs: np.ndarray, slopes: np.ndarray, z: np.ndarray, spread: dict[str, float],
                    latent_dim: int, latent_dist: str, sample_rate: int) -> list[float]:
    """Each knob's range, from a sweep at ``knob_sigma``'s on fit-side seeds (``train.knob_fit``)."""
    seeds = np.stack([seed_z(CAL_SEED0 + s, latent_dim, latent_dist) for s in range(CAL_SEEDS)])
    out = []
    for m, name in enumerate(NAMES):
        prior_sigma = float(np.std(z @ dirs[m]))
        sigma0 = knob_sigma(prior_sigma, float(slopes[m]))
        _, cross, reach = judge(name, *sweep(generate, seeds, dirs[m], sigma0, sample_rate), spread)
        out.append(calibrated_sigma(sigma0, reach, cross, prior_sigma, MIN_REACH, MAX_CROSSTALK))
    return out


def add_knobs(meta: dict, generate, n_fit: int = 1024, n_seeds: int = 32, quiet: bool = False,
              record: dict | None = None) -> list[KnobFit]:
    """Fit knobs for the model ``meta`` describes and put the kept ones in ``meta["knobs"]``; -> all fits.
    ``record``: as ``fit_knobs``."""
    t0 = time.perf_counter()
    fits = fit_knobs(generate, meta["latent_dim"], meta["latent_dist"], meta["sample_rate"], n_fit, n_seeds,
                     record=record)
    meta["knobs"] = [f.stored() for f in fits if f.kept]
    if not quiet:
        for f in fits:
            print(f"knob {f.name:<10s} {'kept' if f.kept else 'dropped':7s} Spearman {f.spearman:+.2f}, "
                  f"reach {f.reach:.2f}, cross-talk {f.crosstalk:.2f}, fit R2 {f.r2:.2f}")
        print(f"named knobs: {len(meta['knobs'])} of {len(fits)} kept, fitted in {time.perf_counter() - t0:.0f} s")
    return fits


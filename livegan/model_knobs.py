"""The optional ``knobs`` field of ``livegan.json``: named directions, each moving one measured property.

Written by ``train.knobs`` (at export, wrap, or ``livegan knobs``); read and checked here, for
``livegan.model.validate_meta``. A file without the field has no named knobs and reads as before.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

KNOB_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")  # fits an OSC address part and a patch's knob = "name"
MAX_KNOBS = 64
FIELDS = ("name", "direction", "sigma", "spearman", "crosstalk")


def _num(v) -> bool:
    try:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    except OverflowError:
        return False


@dataclass(frozen=True)
class NamedKnob:
    name: str  # the descriptor it moves: brightness, weight, loudness, noisiness, density
    direction: np.ndarray = field(repr=False)  # (latent_dim,) float32 unit vector, the property rising along it
    sigma: float = 1.0  # z units per knob sigma, as ``ModelMeta.sigmas``
    spearman: float = 0.0  # measured monotonicity over held-out seeds
    crosstalk: float = 0.0  # the other descriptors' largest change over the sweep, in prior spreads

    def to_json_dict(self) -> dict:
        return dict(name=self.name, direction=self.direction.tolist(), sigma=self.sigma,
                    spearman=self.spearman, crosstalk=self.crosstalk)


def read_knobs(raw, latent_dim: int, bad) -> tuple:
    """The optional ``knobs`` list -> tuple of NamedKnob; ``bad(field, problem)`` raises."""
    if not isinstance(raw, list) or len(raw) > MAX_KNOBS:
        bad("knobs", f"must be a list of at most {MAX_KNOBS} objects")
    out = []
    for i, k in enumerate(raw):
        where = f"knobs[{i}]"
        if not isinstance(k, dict) or any(f not in k for f in FIELDS):
            bad(where, f"must be an object with {', '.join(FIELDS)}")
        if not isinstance(k["name"], str) or not KNOB_NAME.fullmatch(k["name"]):
            bad(f"{where}.name", f"must be lower-case letters, digits and _ (a letter first, at most 32), "
                                 f"got {k['name']!r}")
        if k["name"] in (o.name for o in out):
            bad(f"{where}.name", f"'{k['name']}' names two knobs")
        v = k["direction"]
        if not isinstance(v, list) or len(v) != latent_dim or not all(_num(x) for x in v):
            bad(f"{where}.direction", f"must be a list of latent_dim={latent_dim} finite numbers")
        with np.errstate(over="ignore"):
            direction = np.asarray(v, dtype=np.float32)
        if not np.all(np.isfinite(direction)) or abs(float(np.linalg.norm(direction)) - 1.0) > 1e-3:
            bad(f"{where}.direction", "must be a unit vector")
        if not _num(k["sigma"]) or not 0 < k["sigma"] <= 1e3:
            bad(f"{where}.sigma", f"must be a number in (0, 1000], got {k['sigma']!r}")
        if not _num(k["spearman"]) or not -1 <= k["spearman"] <= 1:
            bad(f"{where}.spearman", f"must be a number in [-1, 1], got {k['spearman']!r}")
        if not _num(k["crosstalk"]) or not 0 <= k["crosstalk"] <= 1e6:
            bad(f"{where}.crosstalk", f"must be a number >= 0, got {k['crosstalk']!r}")
        out.append(NamedKnob(k["name"], direction, float(k["sigma"]), float(k["spearman"]), float(k["crosstalk"])))
    return tuple(out)

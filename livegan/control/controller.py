"""The performer's state: base z, knobs, snapshot pads, morph, effect knobs.

``Controller`` turns MIDI-like events (a CC, a note) into that state with the
knob maths of ``livegan.control.mapping``. Thread: the control thread only
(the main thread of ``perform``, ``render`` and ``learn``); never the audio
callback, which only reads the numbers ``livegan.control.admission`` publishes.
"""
from __future__ import annotations

import math

import numpy as np

from livegan.audio.fx import EFFECTS
from livegan.control.mapping import (
    fx_knob_to_param,
    knob_to_range,
    latent_point,
    morph,
    neutral_knob,
    range_to_knob,
    takeover,
)
from livegan.control.patch import Patch
from livegan.model import seed_z

# ---------------------------------------------------------------- state

class Controller:
    """Performer state driven by MIDI: base z, direction and effect knobs, snapshot pads, morph.

    Thread: the control thread only (see module docstring). ``version`` rises
    on every change of z, so the generator knows when to render a new loop.
    """

    def __init__(self, patch: Patch, directions: np.ndarray, sigmas: np.ndarray, latent_dist: str,
                 seed: int = 0, named: tuple = ()):
        self.patch = patch
        self.directions = np.asarray(directions, np.float32)  # (K, D)
        self.sigmas = np.asarray(sigmas, np.float32)  # (K,)
        self.dist = latent_dist
        self.latent_dim = self.directions.shape[1]
        # the model's named knobs (``livegan.model_knobs.NamedKnob``): a knob's direction K + j is named[j]
        self.named_directions = np.array([k.direction for k in named], np.float32).reshape(-1, self.latent_dim)
        self.named_sigmas = np.array([k.sigma for k in named], np.float32)  # (N,)
        self.base = seed_z(seed, self.latent_dim, latent_dist)
        self.seed = seed
        self.knobs = {k.cc: k for k in patch.knobs}
        self.value = {k.cc: (neutral_knob(*k.range) if k.effect is None else
                             self._fx_default_knob(k)) for k in patch.knobs}
        self.engaged = {cc: (self.knobs[cc].takeover or patch.takeover) == "jump"
                        for cc in self.knobs}
        self.phys = {cc: math.nan for cc in self.knobs}
        self.snapshots: list[np.ndarray | None] = [None] * len(patch.snapshot_notes)
        self.morph_t: float | None = None  # None until the morph control moves
        self.save_held = False
        self.bypass = {e.type: e.bypass for e in patch.effects}
        self.actions: list[str] = []  # "record" etc. for the caller to act on (drained by it)
        self.version = 0

    def _fx_default_knob(self, k) -> float:
        """Knob position that gives the patch's own value for this effect parameter."""
        t, p = k.effect.split(".")
        x = next(e for e in self.patch.effects if e.type == t).params[p]
        lo, hi = k.range
        if EFFECTS[t].params[p].curve == "log" and lo > 0 and hi > 0:
            return min(1.0, max(0.0, math.log(x / lo) / math.log(hi / lo)))
        return range_to_knob(x, lo, hi)

    # -- inputs
    def on_cc(self, cc: int, v01: float) -> bool:
        """A knob or button moved (value in [0, 1]). Returns True if state changed."""
        if cc in self.knobs:
            k = self.knobs[cc]
            mode = k.takeover or self.patch.takeover
            new, eng = takeover(mode, self.value[cc], self.engaged[cc], self.phys[cc], v01)
            self.phys[cc] = v01
            self.engaged[cc] = eng
            if new != self.value[cc]:
                self.value[cc] = new
                if k.direction is not None:
                    self.version += 1
                return True
            return False
        if cc == self.patch.morph_cc:
            self.morph_t = v01
            if self._morph_ends() is not None:
                self.version += 1
                return True
            return False
        for b in self.patch.buttons:
            if b.cc == cc:
                down = v01 >= 0.5
                if b.action == "save":
                    self.save_held = down
                elif down and b.action.startswith("bypass."):
                    t = b.action.split(".")[1]
                    self.bypass[t] = not self.bypass[t]
                elif down and b.action == "random_seed":  # reproducible, so a re-render picks the same seed
                    self.set_seed(int(np.random.default_rng([self.seed, self.version]).integers(1 << 31)))
                elif down:
                    self.actions.append(b.action)
                return True
        return False

    def on_note(self, note: int, velocity: int) -> str | None:
        """Note on: a seed note sets a new base z; a pad saves (empty or save held) or recalls.

        Returns what happened ("seed 3", "save 1", "recall 1") or None.
        """
        if velocity == 0:
            return None
        if note in self.patch.seed_notes:
            self.set_seed(self.patch.seed_notes.index(note))
            return f"seed {self.seed}"
        if note in self.patch.snapshot_notes:
            i = self.patch.snapshot_notes.index(note)
            if self.save_held or self.snapshots[i] is None:
                self.snapshots[i] = self.z()
                return f"save {i + 1}"
            self.recall(i)
            return f"recall {i + 1}"
        return None

    def set_seed(self, seed: int) -> None:
        self.seed = seed
        self.base = seed_z(seed, self.latent_dim, self.dist)
        self.morph_t = None
        self.version += 1

    def set_base(self, z) -> bool:
        """A found point (``livegan find``) becomes the base z; the knobs keep their offsets, as with a
        seed. A z of another size (a log made with another model) or not finite is ignored: -> False."""
        z = np.asarray(z, np.float32)
        if z.shape != (self.latent_dim,) or not np.all(np.isfinite(z)):
            return False
        self.base = z.copy()
        self.morph_t = None
        self.version += 1
        return True

    def recall(self, i: int) -> None:
        """Snapshot i becomes the base; direction knobs go neutral and must be picked up again."""
        z = self.snapshots[i]
        assert z is not None, "recall() of a pad with no snapshot"  # on_note stores one first
        self.base = z.copy()
        self.morph_t = None
        for cc, k in self.knobs.items():
            if k.direction is not None:
                self.value[cc] = neutral_knob(*k.range)
                self.engaged[cc] = (k.takeover or self.patch.takeover) == "jump"
                self.phys[cc] = math.nan
        self.version += 1

    # -- outputs
    def offsets_sigma(self) -> np.ndarray:
        """(K,) offsets in sigmas from the direction knobs (directions without a knob: 0)."""
        off = np.zeros(self.directions.shape[0], np.float32)
        for cc, k in self.knobs.items():
            if k.direction is not None and k.direction < len(off):
                off[k.direction] += knob_to_range(self.value[cc], *k.range)
        return off

    def named_offsets(self) -> np.ndarray:
        """(N,) offsets in sigmas from the knobs on named directions (``Knob.direction`` K + j)."""
        k0 = self.directions.shape[0]
        off = np.zeros(self.named_sigmas.shape[0], np.float32)
        for cc, k in self.knobs.items():
            if k.direction is not None and 0 <= k.direction - k0 < len(off):
                off[k.direction - k0] += knob_to_range(self.value[cc], *k.range)
        return off

    def _morph_ends(self):
        if self.morph_t is None:
            return None
        a, b = self.patch.morph_pads
        za, zb = self.snapshots[a - 1], self.snapshots[b - 1]
        if za is None or zb is None:
            return None
        return za, zb, self.morph_t

    def z(self) -> np.ndarray:
        """The current latent point (D,) float32."""
        base = self.base
        ends = self._morph_ends()
        if ends is not None:
            base = morph(ends[0], ends[1], ends[2], self.dist)
        named = (self.named_directions, self.named_sigmas, self.named_offsets()) if len(self.named_sigmas) else None
        return latent_point(base, self.directions, self.sigmas, self.offsets_sigma(), self.dist, named)

    def fx_params(self) -> dict:
        """{"filter.cutoff": Hz, ...}: effect parameters set by knobs (others keep the patch's)."""
        out = {}
        for cc, k in self.knobs.items():
            if k.effect is not None:
                t, p = k.effect.split(".")
                curve = EFFECTS[t].params[p].curve
                out[k.effect] = fx_knob_to_param(self.value[cc], k.range[0], k.range[1], curve)
        return out

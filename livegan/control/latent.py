"""Knobs -> latent z: a pure function, and the control state it reads.

z = base_z + sum_k knob_k * range_k * sigma_k * direction_k

``knob_k`` in [-1, 1] (a centred MIDI CC), ``range_k`` in sigmas (how far a
knob at full travel moves along direction k), ``sigma_k`` the std of z along
the model's direction k, ``direction_k`` a unit-ish row of ``meta.directions``.
The base z comes from a seed (a note picks a seed), drawn from the model prior.
"""
from __future__ import annotations

import numpy as np

from livegan.model import sample_latent


def base_z(meta, seed: int) -> np.ndarray:
    """(latent_dim,) float32 drawn from the model's prior with ``seed``."""
    return sample_latent(meta, np.random.default_rng([int(seed), 7919]), 1)[0]


def knobs_to_z(base: np.ndarray, knobs: np.ndarray, ranges: np.ndarray, directions: np.ndarray,
               sigmas: np.ndarray) -> np.ndarray:
    """(D,) base, (K,) knobs, (K,) ranges, (K, D) directions, (K,) sigmas -> (D,) float32 z."""
    k = min(len(knobs), directions.shape[0])
    w = np.asarray(knobs[:k], np.float64) * np.asarray(ranges[:k], np.float64) * np.asarray(sigmas[:k], np.float64)
    return (np.asarray(base, np.float64) + w @ np.asarray(directions[:k], np.float64)).astype(np.float32)


def cc_to_knob(value: int) -> float:
    """MIDI CC 0..127 -> knob in [-1, 1] (0 -> -1, 127 -> +1)."""
    return float(np.clip(value, 0, 127)) / 127.0 * 2.0 - 1.0


class Controls:
    """Last-value-wins control state shared by the MIDI thread (writer) and the generator (reader).

    Plain numbers and one float32 array, no locks: a writer stores a value
    then bumps ``seq``; a reader that sees ``seq`` change takes the latest
    values (``snapshot``). A value written during a snapshot is picked up by
    the next one, because ``seq`` is read first.

    - ``set_knob(k, x)``: knob k (latent direction k) to x in [-1, 1]. MIDI/UI thread.
    - ``set_cc(cc, value)``: CC n moves direction n (until a patch maps it). MIDI thread.
    - ``note_on(note)``: note picks a new base z seed. MIDI thread.
    - ``request()``: ask for a new loop with the same state (a new seed offset). Any thread.
    """

    def __init__(self, n_knobs: int, ranges=2.0, seed: int = 0):
        self.knobs = np.zeros(n_knobs, np.float32)
        self.ranges = np.broadcast_to(np.asarray(ranges, np.float32), (n_knobs,)).copy()
        self.seed = int(seed)
        self.variation = 0  # bumped by request(): same knobs, fresh loop
        self.seq = 0

    def set_knob(self, k: int, x: float) -> None:
        if 0 <= k < self.knobs.shape[0]:
            self.knobs[k] = np.float32(min(1.0, max(-1.0, x)))
            self.seq += 1

    def set_cc(self, cc: int, value: int) -> None:
        self.set_knob(cc, cc_to_knob(value))

    def note_on(self, note: int) -> None:
        self.seed = int(note)
        self.variation = 0
        self.seq += 1

    def request(self) -> None:
        self.variation += 1
        self.seq += 1

    def snapshot(self):
        """(seq, seed, variation, knobs copy, ranges copy). Generator thread."""
        seq = self.seq
        return seq, self.seed, self.variation, self.knobs.copy(), self.ranges.copy()


def z_for(meta, snapshot) -> np.ndarray:
    """The z a control snapshot means for ``meta``: (latent_dim,) float32."""
    _, seed, variation, knobs, ranges = snapshot
    base = base_z(meta, seed * 100003 + variation)
    return knobs_to_z(base, knobs, ranges, meta.directions, meta.sigmas)

"""The set's mixer: N tracks' stereo blocks -> one stereo block, with per-track gain, pan, mute and solo,
a master gain and an optional master peak limiter.

Pan is equal power with unity at the centre: a track at pan p sends its left channel at
sqrt(2) cos(theta) and its right at sqrt(2) sin(theta), theta = (p + 1) pi / 4; at p = 0 both are exactly
1.0, so a track at the centre at 0 dB passes bit for bit. Each track's own channels stay its own
(left to left, right to right): pan is a balance, not a mono fold.

Stems are post-fader: ``mix`` overwrites each track's block with what it added to the mix (its gain,
pan, mute/solo and the master gain applied), so the stems sum to the mix before the limiter.

The limiter has no look-ahead: its gain follows ``ceiling / peak`` down over ``ATTACK_MS`` and back up
over ``RELEASE_MS`` (smooth: no step in the gain, so no click), and what still exceeds the ceiling
while the gain comes down is held at the ceiling (the output is bounded). A mix that never exceeds
the ceiling passes unchanged, bit for bit (the gain stays exactly 1.0), and so does a mix once the gain
has released back to 1.

Live changes (``stage``; ``livegan.audio.mix_stage``) take effect at an exact frame with a short ramp.

Threads: ``Mixer.process`` (the kernels) runs on the audio callback or the render loop and
allocates nothing; the setters run on the main thread (between blocks, offline).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from livegan.audio import mix_stage
from livegan.audio.dsp import frame_peak

CEILING_DB = -0.3  # the master limiter's ceiling: the engine's own limiter's threshold
ATTACK_MS = 2.0
RELEASE_MS = 100.0
UNITY_SNAP = 1.0 - 1e-6  # a releasing gain this close to 1 becomes 1


def pan_gains(pan: float) -> tuple[float, float]:
    """(left, right) gains of equal-power pan ``pan`` in [-1, 1], exactly (1.0, 1.0) at the centre."""
    if pan == 0.0:
        return 1.0, 1.0
    theta = (float(pan) + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


def db_gain(db: float) -> float:
    """A gain in dB as a factor, exactly 1.0 at 0 dB."""
    return 1.0 if db == 0.0 else 10.0 ** (float(db) / 20.0)


@njit(cache=True)
def mix(out, tracks, coef):
    """out[i, c] = sum over k of tracks[k, i, c] * coef[k, c], for the out.shape[0] frames; each
    tracks[k, i, c] becomes its own term (the post-fader stem). Audio thread: writes in place only.

    out: (n, 2) float32; tracks: (N, >= n, 2) float32; coef: (N, 2) float64."""
    n, ch = out.shape
    for i in range(n):
        for c in range(ch):
            acc = -0.0  # the exact additive identity: -0.0 + x is x for every x, signed zeros included
            for k in range(tracks.shape[0]):
                tracks[k, i, c] = tracks[k, i, c] * coef[k, c]  # rounded to float32: the stem's sample
                acc += tracks[k, i, c]
            out[i, c] = acc


@njit(cache=True)
def peak_limit(out, lst):
    """Master limiter in place. lst (float64): [gain, ceiling, attack coefficient, release coefficient].
    Non-finite samples become 0. Audio thread."""
    g, ceil, att, rel = lst[0], lst[1], lst[2], lst[3]
    n, ch = out.shape
    for i in range(n):
        peak = frame_peak(out, i)
        target = 1.0 if peak <= ceil else ceil / peak
        if target < g:
            g = target + att * (g - target)
        else:
            g = target + rel * (g - target)
            if target == 1.0 and g > UNITY_SNAP:
                g = 1.0  # released: exact unity again (the step is below -120 dB)
        if g != 1.0 or peak > ceil:
            for c in range(ch):
                y = out[i, c] * g
                out[i, c] = min(ceil, max(-ceil, y))
    lst[0] = g


class Mixer:
    """N stereo tracks into one stereo block. Fill ``tracks[k, :n]`` with track k's block, call
    ``process(out)`` with ``out`` (n, 2): ``out`` gets the mix, ``tracks[k, :n]`` the post-fader stems.
    Everything it touches is allocated here; ``process`` allocates nothing."""

    def __init__(self, n_tracks: int, max_frames: int, sample_rate: int, limiter: bool = True,
                 master_db: float = 0.0):
        self.tracks = np.zeros((n_tracks, max_frames, 2), np.float32)
        self.coef = np.zeros((n_tracks, 2), np.float64)
        self.pan_lr = np.ones((n_tracks, 2), np.float64)
        self.gain = np.ones(n_tracks, np.float64)
        self.mute = np.zeros(n_tracks, np.bool_)
        self.solo = np.zeros(n_tracks, np.bool_)
        self.master = db_gain(master_db)
        self.limiter = bool(limiter)
        self.lst = np.array([1.0, db_gain(CEILING_DB),
                             math.exp(-1.0 / (ATTACK_MS * 1e-3 * sample_rate)),
                             math.exp(-1.0 / (RELEASE_MS * 1e-3 * sample_rate))], np.float64)
        self.q = np.zeros(mix_stage.SLOTS, mix_stage.MIXQ)  # staged changes (a show maps its arena's here)
        self.c_from = np.zeros((n_tracks, 2), np.float64)  # a ramp's start and end coefficients
        self.c_to = np.zeros((n_tracks, 2), np.float64)
        self.rs = np.zeros(2, np.int64)  # the ramp: frames done, frames long
        self.ramp = mix_stage.ramp_frames(sample_rate)
        self._seq = 0
        self._update()

    def set_track(self, k: int, gain_db: float = 0.0, pan: float = 0.0, mute: bool = False,
                  solo: bool = False) -> None:
        self.gain[k] = db_gain(gain_db)
        self.pan_lr[k] = pan_gains(pan)
        self.mute[k], self.solo[k] = mute, solo
        self._update()

    def set_master(self, gain_db: float) -> None:
        self.master = db_gain(gain_db)
        self._update()

    def _update(self) -> None:
        """coef: what each track's channels are multiplied by. A muted track is silent; while any track
        is soloed only soloed tracks play (a muted solo track stays silent)."""
        mix_stage.targets(self.c_to, self.pan_lr, self.gain, self.mute, self.solo, self.master)
        self.coef[:] = self.c_to
        self.rs[:] = 0

    def stage(self, k: int, gain: float, mute: bool, solo: bool, frame: int = -1) -> int | None:
        """Stage track k's new gain (a factor), mute and solo from ``frame`` (-1: the next block's first);
        -> the slot, None when every slot is taken. Control thread (or the render loop)."""
        self._seq += 1
        return mix_stage.stage(self.q, self._seq, k, gain, mute, solo, frame)

    def process(self, out: np.ndarray, frame0: int = -1) -> None:
        """Mix ``tracks[:, :n]`` into ``out`` (n, 2) float32, then the limiter if on; ``frame0``: the block's
        first frame, which the staged changes are timed by (-1: none are). Audio thread or render loop."""
        if frame0 < 0:
            mix(out, self.tracks, self.coef)
        else:
            mix_stage.process_staged(out, self.tracks, self.q, frame0, self.coef, self.c_from, self.c_to, self.rs,
                                     self.ramp, self.pan_lr, self.gain, self.mute, self.solo, self.master)
        if self.limiter:
            peak_limit(out, self.lst)

"""Live fader, mute and solo changes for the set's mixer (``livegan.audio.mixer``), each from an exact frame.

A change is staged by the control thread into a slot of a small shared table (``MIXQ`` rows, in track 0's
arena, ``Mixer.q``): track, frame (-1: as soon as possible, the next block's first frame), gain (a factor,
already rounded to the milli-dB the performance log keeps), mute, solo; ``state`` written last: 1. The audio
process's mixer splits its block at the first staged frame it meets, applies every change due there (in
staging order, ``seq``), notes the frame it applied them at (``applied``, ``state`` 2) and ramps each
track's coefficients linearly from where they are to the new ones over ``RAMP_MS`` (sample-exact, no step:
no click); the control thread logs a ``livegan mix`` marker at that frame and frees the slot (``state`` 0).
``livegan render --set`` stages the log's markers at their frames into the same kernel
(``livegan.mix_replay``), so a take re-renders bit for bit: the kernel is a per-frame recurrence, the same
for any block size.

Threads: ``process_staged`` and ``mix_span`` on the audio callback or the render loop, allocation-free;
``targets`` wherever the mixer's settings change (its kernel, or the main thread before a show).
"""
from __future__ import annotations

import numpy as np
from numba import njit

RAMP_MS = 5.0  # a fader / mute / solo change ramps over this long
SLOTS = 64  # changes staged and not yet logged, at most (a scene of 16 tracks is 16)
FREE, STAGED, APPLIED = 0, 1, 2

MIXQ = np.dtype([("state", np.int64), ("seq", np.int64), ("track", np.int64), ("frame", np.int64),
                 ("gain", np.float64), ("mute", np.int64), ("solo", np.int64), ("applied", np.int64)], align=True)


def stage(q, seq: int, k: int, gain: float, mute: bool, solo: bool, frame: int = -1) -> int | None:
    """Stage track k's gain (a factor), mute and solo from ``frame`` (-1: the next block's first) in a free
    slot of ``q``, ``seq`` its order; -> the slot, None when every slot is taken. Control thread or render loop."""
    free = np.flatnonzero(q["state"] == FREE)
    if not free.size:
        return None
    r = q[int(free[0])]
    r["seq"], r["track"], r["frame"], r["gain"], r["mute"], r["solo"] = seq, k, frame, gain, mute, solo
    r["state"] = STAGED  # last: the audio process takes the slot from here
    return int(free[0])


def ramp_frames(sample_rate: int) -> int:
    return max(1, int(round(RAMP_MS * 1e-3 * sample_rate)))


@njit(cache=True)
def targets(coef_to, pan_lr, gain, mute, solo, master):
    """coef_to[k, c]: track k's channel c factor: a muted track is silent; while any track is soloed only
    soloed tracks play (a muted solo track stays silent). The same arithmetic, in the same order, as the
    mixer has always used (pan x (gain x master x audible))."""
    any_solo = False
    for k in range(gain.shape[0]):
        if solo[k]:
            any_solo = True
    for k in range(gain.shape[0]):
        audible = 1.0 if (not mute[k]) and (solo[k] or not any_solo) else 0.0
        g = gain[k] * master * audible
        for c in range(coef_to.shape[1]):
            coef_to[k, c] = pan_lr[k, c] * g


@njit(cache=True)
def mix_span(out, tracks, a, b, coef, c_from, c_to, rs):
    """Frames a..b of the mix (as ``livegan.audio.mixer.mix``: each track's term is its post-fader stem),
    with the ramp ``rs`` = [frames done, frames long] moving ``coef`` from ``c_from`` to ``c_to``."""
    pos, ln = rs[0], rs[1]
    ch = out.shape[1]
    for i in range(a, b):
        if pos < ln:
            pos += 1
            t = pos / ln
            for k in range(coef.shape[0]):
                for c in range(ch):
                    coef[k, c] = c_to[k, c] if pos == ln else c_from[k, c] + (c_to[k, c] - c_from[k, c]) * t
        for c in range(ch):
            acc = -0.0
            for k in range(tracks.shape[0]):
                tracks[k, i, c] = tracks[k, i, c] * coef[k, c]
                acc += tracks[k, i, c]
            out[i, c] = acc
    rs[0] = pos


@njit(cache=True)
def _due(q, frame0, i, n):
    """The first block offset >= i at which a staged change is due, n when none is in this block."""
    nxt = n
    for s in range(q.shape[0]):
        r = q[s]
        if r.state == 1:
            e = max(r.frame - frame0, i)
            if e < nxt:
                nxt = e
    return nxt


@njit(cache=True)
def _apply(q, frame0, at, gain, mute, solo):
    """Every change due at block offset ``at``, oldest staged first; each notes the frame it took effect."""
    while True:
        best = -1
        for s in range(q.shape[0]):
            r = q[s]
            if r.state == 1 and r.frame - frame0 <= at and (best < 0 or r.seq < q[best].seq):
                best = s
        if best < 0:
            return
        r = q[best]
        gain[r.track], mute[r.track], solo[r.track] = r.gain, r.mute != 0, r.solo != 0
        r.applied = frame0 + at
        r.state = 2


@njit(cache=True)
def process_staged(out, tracks, q, frame0, coef, c_from, c_to, rs, ramp, pan_lr, gain, mute, solo, master):
    """Mix the block ``out`` (n, 2) whose first frame is ``frame0``, applying the staged changes ``q`` at
    their frames (a change staged for an earlier frame, or -1, at this block's first). Audio thread."""
    n = out.shape[0]
    i = 0
    while True:
        nxt = _due(q, frame0, i, n)
        mix_span(out, tracks, i, nxt, coef, c_from, c_to, rs)
        if nxt >= n:
            return
        _apply(q, frame0, nxt, gain, mute, solo)
        c_from[:, :] = coef
        targets(c_to, pan_lr, gain, mute, solo, master)
        rs[0], rs[1] = 0, ramp
        i = nxt


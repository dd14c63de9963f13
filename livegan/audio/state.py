"""The layout of the real-time state: one numpy record type per owner, the only statement of it.

Each record lives in an arena array (``livegan.audio.arena``) of one row, shared between threads or
between the control process and the audio process. The numba kernels (``livegan.audio.dsp``) take
the array and read its row by field name (``s = est[0]; s.frame``); Python code holds the row
(``est[0]``, a numpy structured scalar that writes through to the array) and indexes it by name
(``state["frame"]``). A field added here is a field everywhere: no index constants, no sizes kept
by hand.

The engine's state is split by what a track will own: ``ENGINE`` is the one transport, event log
count and record-ring switch that all of an engine's loops share; ``TRACK`` is the loop playback
(current, fading and scheduled slot, crossfade, counts), one row per track, one track for now.

Every field is 8 bytes (int64 or float64), so each is written and read whole by any thread: a
reader sees the old value or the new one, never a torn one.

Threads: the records are written and read by the threads their owners document (``Engine``,
``LoopBank``, ``Recorder``, ``Counters``); this module only declares them.
"""
from __future__ import annotations

import numpy as np

I, F = np.int64, np.float64


def _record(*fields) -> np.dtype:
    return np.dtype(list(fields), align=True)


ENGINE = _record(
    # transport: beat(frame) = beat0 + (frame - frame0) / fpb (``livegan.audio.transport``)
    ("frame", I),  # the next block's first frame
    ("frame0", I), ("beat0", F),  # the grid's anchor
    ("tempo", F), ("fpb", F),  # BPM and output frames per beat now
    ("tempo_req", F),  # a tempo asked for by another thread, applied at the next block's start
    ("sr", F),  # output sample rate
    # transport follow: a locate asks "beat loc_beat at frame loc_frame" by raising loc_req; the
    # kernel ducks the loops out (gain to 0 by duck_step a frame), re-anchors, notes loc_seen
    ("run_req", I), ("loc_req", I), ("loc_seen", I), ("loc_frame", I), ("loc_beat", F),
    ("gain", F), ("duck_step", F),
    ("log_n", I),  # events logged so far (the log is a ring: row log_n % rows is next)
    # which record ring the callback writes into (0 the meter's, 1 a take's, -1 none): rec_want is
    # asked for by the main thread, rec_seen taken by the callback at a block start, rec_frame
    # that block's first frame (``Engine.attach_ring``)
    ("rec_want", I), ("rec_seen", I), ("rec_frame", I),
)

TRACK = _record(
    ("n", I), ("loop_beats", I), ("spb", F),  # loop length in source samples and beats; samples per beat
    ("cur", I), ("fade", I),  # slot playing, slot fading out (-1: none)
    ("fade_start", I), ("fade_len", I), ("fade_r", F),  # the crossfade: first frame, frames, correlation
    ("sched", I), ("sched_beat", I), ("sched_r", F),  # slot waiting for beat sched_beat (-1: asap), its correlation
    ("seen", I),  # the publish record's seq taken last
    ("quant", I),  # the switch grid in beats (0: none)
    ("late", I), ("switches", I), ("superseded", I),  # counts
)

PUB = _record(  # a loop handed to the callback, written by the generator under a seqlock (odd seq: writing)
    ("seq", I), ("slot", I), ("beat", I), ("r_milli", I),
)

LIMITER = _record(("gain", F), ("threshold", F), ("release", F))  # gain now, linear threshold, release a frame

RING = _record(  # a record ring's counts; they only grow, so the frames waiting are written - read
    ("written", I),  # by the callback
    ("read", I),  # by the writer thread
    ("dropped", I),  # by the callback: frames that found the ring full
)

COUNTS = _record(("calls", I), ("xruns", I), ("faults", I))  # an output's callbacks, xruns, caught faults


def rows(layout: np.dtype, n: int = 1) -> np.ndarray:
    """``n`` zeroed rows of ``layout`` in this process's memory (the kernels' warm-up, tests)."""
    return np.zeros(n, layout)

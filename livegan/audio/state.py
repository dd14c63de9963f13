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

i8, f8 = np.int64, np.float64


def _record(*fields) -> np.dtype:
    return np.dtype(list(fields), align=True)


ENGINE = _record(
    # transport: beat(frame) = beat0 + (frame - frame0) / fpb (``livegan.audio.transport``)
    ("frame", i8),  # the next block's first frame
    ("frame0", i8), ("beat0", f8),  # the grid's anchor
    ("tempo", f8), ("fpb", f8),  # BPM and output frames per beat now
    ("tempo_req", f8),  # a tempo asked for by another thread, applied at the next block's start
    ("sr", f8),  # output sample rate
    # transport follow: a locate asks "beat loc_beat at frame loc_frame" by raising loc_req; the
    # kernel ducks the loops out (gain to 0 by duck_step a frame), re-anchors, notes loc_seen
    ("run_req", i8), ("loc_req", i8), ("loc_seen", i8), ("loc_frame", i8), ("loc_beat", f8),
    ("gain", f8), ("duck_step", f8),
    ("log_n", i8),  # events logged so far (the log is a ring: row log_n % rows is next)
    # which record ring the callback writes into (0 the meter's, 1 a take's, -1 none): rec_want is
    # asked for by the main thread, rec_seen taken by the callback at a block start, rec_frame
    # that block's first frame (``Engine.attach_ring``)
    ("rec_want", i8), ("rec_seen", i8), ("rec_frame", i8),
)

TRACK = _record(
    ("n", i8), ("loop_beats", i8), ("spb", f8),  # loop length in source samples and beats; samples per beat
    ("cur", i8), ("fade", i8),  # slot playing, slot fading out (-1: none)
    ("fade_start", i8), ("fade_len", i8), ("fade_r", f8),  # the crossfade: first frame, frames, correlation
    ("sched", i8), ("sched_beat", i8), ("sched_r", f8),  # slot waiting for beat sched_beat (-1: asap), its correlation
    ("seen", i8), ("seen_frame", i8),  # the publish record's seq taken last, and the block frame it was taken at
    ("quant", i8),  # the switch grid in beats (0: none)
    ("late", i8), ("switches", i8), ("superseded", i8),  # counts
)

PUB = _record(  # a loop handed to the callback, written by the generator under a seqlock (odd seq: writing)
    ("seq", i8), ("slot", i8), ("beat", i8), ("r_milli", i8),
)

LIMITER = _record(("gain", f8), ("threshold", f8), ("release", f8))  # gain now, linear threshold, release a frame

RING = _record(  # a record ring's counts; they only grow, so the frames waiting are written - read
    ("written", i8),  # by the callback
    ("read", i8),  # by the writer thread
    ("dropped", i8),  # by the callback: frames that found the ring full
)

COUNTS = _record(("calls", i8), ("xruns", i8), ("faults", i8))  # an output's callbacks, xruns, caught faults


def rows(layout: np.dtype, n: int = 1) -> np.ndarray:
    """``n`` zeroed rows of ``layout`` in this process's memory (the kernels' warm-up, tests)."""
    return np.zeros(n, layout)

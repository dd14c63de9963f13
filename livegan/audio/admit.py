"""Control changes admitted at a block's first frame, through plain arrays only.

The control side (``livegan.control.admission.EngineControls``) stages each change as one *batch*
and writes it into the staged record with ``stage``; the audio side's ``Admitter.admit`` (the
engine's ``Controls.admit``), at the start of every block, applies a batch it has not seen yet:
tempo, locate and running to the engine, parameters and bypasses to the effects chain. It notes
the block's first frame in ``admit_frame[batch % ADMIT_RING]`` and the batch in ``admitted``, which
the control side reads to log each batch's events at the frame it took effect.

The record, the counter and the frame ring are arena arrays (``livegan.audio.arena``), so the two
sides may be threads of one process (``livegan render``, ``--debug-audio-thread``) or two processes (the
audio process): one code path either way, which keeps a live performance and its re-render
sample-exact.

Record (float64): a version (odd while the control side writes: the audio side then leaves the
batch for the next block), the batch number, the tempo (NaN: none asked), the locate (count, beat,
frame), running (0/1), then one value per effect parameter (NaN: the patch's own value) and one
bypass flag per effect, in the order of ``fx_layout(effects)``.

Threads: ``stage`` on the control thread; ``admit`` on the audio thread (or the render loop):
it allocates no array, takes no lock and never waits.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.audio.engine import Engine

ADMIT_RING = 1024  # admission frames kept per batch number (the control side drains far sooner)
A_VER, A_BATCH, A_TEMPO, A_LOC_N, A_LOC_BEAT, A_LOC_FRAME, A_RUN = range(7)
N_HEAD = 7


def fx_layout(effects) -> tuple[list[str], list[str]]:
    """(parameter names "type.param", effect types) of a patch's effects, in the record's order."""
    from livegan.audio.fx import EFFECTS

    return [f"{e.type}.{p}" for e in effects for p in EFFECTS[e.type].params], [e.type for e in effects]


class Admitter:
    """The audio side of admission; ``bind`` gives it the engine and the effects chain it drives."""

    def __init__(self, arena, effects=()):
        self.names, self.types = fx_layout(effects)
        n = N_HEAD + len(self.names) + len(self.types)
        self.rec = arena.array("admit.staged", n, np.float64, math.nan)
        self.count = arena.array("admit.admitted", 1, np.int64)
        self.admit_frame = arena.array("admit.frames", ADMIT_RING, np.int64)
        if arena.fresh:
            self.rec[A_VER] = self.rec[A_BATCH] = self.rec[A_LOC_N] = 0.0
            self.rec[A_RUN] = 1.0
        self._cur = np.zeros(n, np.float64)  # the batch being applied (audio thread)
        self._set = np.full(n, math.nan)  # what the engine and chain were last given (audio thread)
        self._set[A_LOC_N] = 0.0
        self._set[A_RUN] = 1.0
        self.engine: Engine | None = None
        self.fx = None

    def bind(self, engine: Engine | None, fx) -> None:
        self.engine, self.fx = engine, fx

    def adopt(self) -> None:
        """Take the batches admitted so far as applied, and give the chain the staged effect values and
        tempo: the audio process takes over from the admitter that built the performance. Main
        thread of the audio process, before its stream starts."""
        cur, done = self._cur, self._set
        cur[:] = self.rec
        done[A_LOC_N], done[A_RUN], done[A_TEMPO] = cur[A_LOC_N], cur[A_RUN], cur[A_TEMPO]
        if self.fx is not None:
            if not math.isnan(cur[A_TEMPO]):
                self.fx.set_tempo(cur[A_TEMPO])
            self._apply_fx(self.fx, cur)

    @property
    def admitted(self) -> int:
        return int(self.count[0])

    # -- control side
    def stage(self, batch: int, tempo, loc: tuple, run: bool, fxp: dict, bypass: dict) -> None:
        """Write batch ``batch`` into the record (seqlock: version odd while writing). Control thread."""
        r = self.rec
        v = r[A_VER]
        r[A_VER] = v + 1.0
        r[A_TEMPO] = math.nan if tempo is None else float(tempo)
        r[A_LOC_N], r[A_LOC_BEAT], r[A_LOC_FRAME] = float(loc[0]), float(loc[1]), float(loc[2])
        r[A_RUN] = 1.0 if run else 0.0
        for i, name in enumerate(self.names):
            r[N_HEAD + i] = float(fxp.get(name, math.nan))
        k = N_HEAD + len(self.names)
        for i, t in enumerate(self.types):
            r[k + i] = 1.0 if bypass.get(t, False) else 0.0
        r[A_BATCH] = float(batch)
        r[A_VER] = v + 2.0

    # -- audio side
    def admit(self, state) -> None:
        """Engine block start: apply a newly staged batch at this block's first frame (``state["frame"]``,
        ``state`` the engine's ``state.ENGINE`` row). Audio thread (or the render loop)."""
        if self._take():
            self._apply(self._cur, int(state["frame"]))

    def admit_at(self, frame: int) -> None:
        """The staged batch applied at ``frame`` now: for controls bound to no engine. Control thread."""
        if self._take():
            self._apply(self._cur, int(frame))

    def _take(self) -> bool:
        """Copy a new, complete batch into ``_cur``; False when there is none (or it is being written)."""
        r = self.rec
        v = r[A_VER]
        if v % 2.0 != 0.0 or r[A_BATCH] == self.count[0]:
            return False
        self._cur[:] = r
        return r[A_VER] == v  # rewritten while copied: the next block takes it

    def _apply(self, cur, frame: int) -> None:
        """Note the batches up to a copied record as admitted at ``frame``, then apply it (the effects
        last: if the chain raises, the batch is not tried again on every block)."""
        e, fx, done = self.engine, self.fx, self._set
        b = int(cur[A_BATCH])
        a = int(self.count[0])
        while a < b:  # usually one batch per block
            a += 1
            self.admit_frame[a % ADMIT_RING] = frame
        self.count[0] = b
        if e is not None:
            if cur[A_LOC_N] != done[A_LOC_N]:
                done[A_LOC_N] = cur[A_LOC_N]
                e.locate(cur[A_LOC_BEAT], int(cur[A_LOC_FRAME]))
            if cur[A_RUN] != done[A_RUN]:
                done[A_RUN] = cur[A_RUN]
                e.set_running(cur[A_RUN] != 0.0)
        t = cur[A_TEMPO]
        if not math.isnan(t) and t != done[A_TEMPO]:
            done[A_TEMPO] = t
            if e is not None:
                e.set_tempo(t)  # read by this block's kernel: applies from this frame
            if fx is not None:
                fx.set_tempo(t)
        if fx is not None:
            self._apply_fx(fx, cur)

    def _apply_fx(self, fx, cur) -> None:
        done = self._set
        for i, name in enumerate(self.names):
            v = cur[N_HEAD + i]
            if not math.isnan(v) and v != done[N_HEAD + i]:
                fx.set_param(name, v)
                done[N_HEAD + i] = v
        k = N_HEAD + len(self.names)
        for i, t in enumerate(self.types):
            on = cur[k + i]
            if on != done[k + i]:
                fx.set_bypass(t, on != 0.0)
                done[k + i] = on

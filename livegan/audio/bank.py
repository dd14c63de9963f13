"""Loop bank: preallocated slots that change hands through states and one publish record.

A slot is FREE, FILLING (the generator writes it), READY (written, not yet
published), PENDING (the callback holds it for a boundary), PLAYING or FADING.
Only the generator moves a slot out of FREE; only the callback moves it back.
So the generator never writes a slot that plays, and the callback never reads
a half-written one: it only learns of a slot through the publish record, which
the generator fills under a sequence lock (odd = being written) after the
slot's samples are complete.

Threads: ``acquire``/``fill``/``publish`` run on the generator thread (or the
render loop); the callback reads the arrays inside ``dsp.engine_block``.
"""
from __future__ import annotations

import numpy as np

from livegan.audio import dsp
from livegan.audio.state import PUB


def pad_loop(loop: np.ndarray, dest: np.ndarray) -> None:
    """Write (C, N) ``loop`` into padded slot row ``dest`` (C, N + 2 PAD), wrapping the guards
    (``dsp.interp`` reads up to ``PAD`` samples past either end without a modulo)."""
    n = loop.shape[1]
    dest[:, dsp.PAD:dsp.PAD + n] = loop
    idx = np.arange(-dsp.PAD, 0) % n
    dest[:, :dsp.PAD] = loop[:, idx]
    idx = np.arange(n, n + dsp.PAD) % n
    dest[:, dsp.PAD + n:dsp.PAD + n + dsp.PAD] = loop[:, idx]


class NoFreeSlot(RuntimeError):
    pass


class LoopBank:
    """The slots and their publish record, in ``arena`` (``livegan.audio.arena``; None: this process's
    memory). On an attached arena (the audio process) the generator-side bookkeeping stays unused."""

    def __init__(self, n_slots: int, channels: int, loop_samples: int, arena=None):
        from livegan.audio.arena import Arena

        a = arena or Arena()
        self.n = loop_samples
        self.channels = channels
        self.slots = a.array("bank.slots", (n_slots, channels, loop_samples + 2 * dsp.PAD), np.float32)
        self.state = a.array("bank.state", n_slots, np.int64, dsp.FREE)
        self.loop_id = a.array("bank.loop_id", n_slots, np.int64, -1)
        self.pub = a.array("bank.pub", 1, PUB)
        if a.fresh:
            self.pub["slot"] = -1
        self._last = -1  # last published slot (generator-side bookkeeping)
        self._last_beat: int | None = None
        self._next_id = 0

    def acquire(self) -> int:
        """Claim a FREE slot for writing. Generator thread."""
        free = np.flatnonzero(self.state == dsp.FREE)
        if free.size == 0:
            raise NoFreeSlot("no free loop slot (all are playing, fading or pending)")
        i = int(free[0])
        self.state[i] = dsp.FILLING
        return i

    def fill(self, slot: int, loop: np.ndarray) -> None:
        """Write a (C, N) loop into a slot this thread acquired. Generator thread."""
        assert self.state[slot] == dsp.FILLING
        pad_loop(loop, self.slots[slot])
        self.state[slot] = dsp.READY

    def correlation(self, slot: int, other: int) -> float:
        """Zero-lag normalised correlation of two loops (same phase), clipped to [0, 1]."""
        if other < 0:
            return 0.0
        a = self.slots[slot, :, dsp.PAD:dsp.PAD + self.n].astype(np.float64).ravel()
        b = self.slots[other, :, dsp.PAD:dsp.PAD + self.n].astype(np.float64).ravel()
        den = np.sqrt(np.dot(a, a) * np.dot(b, b))
        return 0.0 if den == 0.0 else float(np.clip(np.dot(a, b) / den, 0.0, 1.0))

    def publish(self, slot: int, target_beat: int, playing_slot: int) -> int:
        """Hand a READY slot to the callback for ``target_beat`` (-1: as soon as possible).

        ``playing_slot`` is what the callback plays now; the crossfade law uses
        the correlation with the loop this one will fade from. Returns the loop
        id. Generator thread.
        """
        assert self.state[slot] == dsp.READY
        replacing = self._last_beat is not None and self._last_beat == target_beat and \
            self.state[self._last] == dsp.PENDING
        prev = playing_slot if (replacing or self._last < 0) else self._last
        r = self.correlation(slot, prev)
        lid = self._next_id
        self._next_id += 1
        self.loop_id[slot] = lid
        p = self.pub[0]
        seq = int(p["seq"])
        p["seq"] = seq + 1  # odd: writing
        p["slot"] = slot
        p["beat"] = target_beat
        p["r_milli"] = int(round(r * 1000.0))
        p["seq"] = seq + 2  # even: complete
        self._last, self._last_beat = slot, target_beat
        return lid

"""Transport: tempo, beats per bar, bar/beat from an integer frame counter; quantize grid.

The transport's state lives in the engine's shared record (``livegan.audio.state.ENGINE``)
so the audio kernel advances it without Python:
beat(frame) = beat0 + (frame - frame0) / frames_per_beat. A tempo change
re-anchors (frame0, beat0) at the block where it lands, so the beat position,
and with it the loop phase, stays continuous: no click, only the rate moves.

Threads: the audio callback writes the state (inside ``engine_block``); any
thread may read it through ``Transport`` (plain numbers, no locks: a reader
racing a tempo change sees one block of stale tempo at worst).
"""
from __future__ import annotations

import math
import re

from livegan.audio import dsp
from livegan.model import MAX_BPM, MIN_BPM  # noqa: F401  (the engine, OSC and the log read them here)


def quantum_beats(quantize: str, beats_per_bar: int) -> int:
    """'none' -> 0, 'beat' -> 1, 'bar' -> beats_per_bar, 'N bars' / 'Nbars' -> N * beats_per_bar."""
    q = str(quantize).strip().lower()
    if q == "none":
        return 0
    if q == "beat":
        return 1
    if q == "bar":
        return beats_per_bar
    m = re.fullmatch(r"(\d+)\s*_?bars?", q)
    if m and int(m.group(1)) >= 1:
        return int(m.group(1)) * beats_per_bar
    raise ValueError(f"quantize must be 'none', 'beat', 'bar' or 'N bars', got {quantize!r}")


class Transport:
    """Read-side view of the transport kept in the engine's state row (``state.ENGINE``)."""

    def __init__(self, state, beats_per_bar: int):
        self.state, self.beats_per_bar = state, beats_per_bar

    @property
    def frame(self) -> int:
        return int(self.state["frame"])

    @property
    def tempo(self) -> float:
        return float(self.state["tempo"])

    @property
    def frames_per_beat(self) -> float:
        return float(self.state["fpb"])

    def beat_at(self, frame: int) -> float:
        s = self.state
        return float(dsp.beat_at(frame, int(s["frame0"]), float(s["beat0"]), float(s["fpb"])))

    def frame_of_beat(self, beat: float) -> int:
        """First frame at or after ``beat`` (what the kernel uses for a switch)."""
        s = self.state
        return int(dsp.boundary_frame(int(s["frame0"]), float(s["beat0"]), float(s["fpb"]), float(beat)))

    def bar_beat(self, frame: int | None = None) -> tuple[int, int]:
        """(bar, beat in bar), both from 0, at ``frame`` (default: now)."""
        b = int(math.floor(self.beat_at(self.frame if frame is None else frame) + 1e-9))
        return b // self.beats_per_bar, b % self.beats_per_bar

    def next_grid_beat(self, beat: float, q: int) -> int:
        """Smallest multiple of ``q`` beats at or after ``beat``."""
        return int(dsp.next_grid(float(beat), int(q)))

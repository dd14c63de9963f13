"""Follow an external MIDI clock: 24 PPQN ticks -> tempo and beat phase; start/stop/continue/SPP.

Tempo is the slope of a least-squares line through the recent tick times (not
the last interval, which carries the full jitter of the transport: JACK MIDI
stamps every event with the start of its process cycle, so single intervals
jump by a whole period). The window grows to ``window`` ticks in steady state
and is cut back to the last few ticks when the residuals show a tempo change
(several ticks in a row off the line by more than ``jump_s`` on the same side).

Times are seconds on one monotonic clock; ``latency_s`` is subtracted from
every tick time (for JACK, half a period is the mean delay between a sender's
event and the cycle that delivers it).

Thread: the MIDI thread calls ``tick``/``start``/``stop``/``cont``/``song_position``;
readers on other threads read ``tempo_bpm``, ``running`` and call
``beats_at`` (plain float attributes, replaced whole: no lock needed).
"""
from __future__ import annotations

import numpy as np

PPQN = 24


class ClockFollower:
    """A MIDI clock as a ``livegan.control.sources.TempoSource`` (the MIDI thread feeds it)."""

    def __init__(self, window: int = 384, min_ticks: int = 12, latency_s: float = 0.0,
                 jump_s: float = 0.006, jump_count: int = 3):
        self.window = window
        self.min_ticks = min_ticks
        self.latency_s = latency_s
        self.jump_s = jump_s
        self.jump_count = jump_count
        self._t = np.zeros(window, np.float64)  # ring of tick times (relative to _t0)
        self._i = np.zeros(window, np.float64)  # ring of tick indices
        self._n = 0  # ticks ever received
        self._start = 0  # index of the first tick in the current window
        self._t0: float | None = None
        self._a = 0.0  # fit: t = a + b * i (relative time)
        self._b = 0.0
        self._off = 0  # consecutive same-side outliers
        self._off_sign = 0
        self.tempo_bpm = 0.0  # 0 until min_ticks ticks arrived
        self.running = False
        self.position_ticks = -1  # song position of the last tick (24 per beat)
        self._pos_index = -1  # tick index at which position_ticks was set
        self.resets = 0  # tempo changes detected

    # -- MIDI thread
    def tick(self, t: float) -> None:
        """One 0xF8 clock at time t (seconds). Thread: MIDI."""
        t = t - self.latency_s
        if self._t0 is None:
            self._t0 = t
        rel = t - self._t0
        n = self._n
        if n - self._start >= self.min_ticks and self._b > 0:
            r = rel - (self._a + self._b * n)
            if abs(r) > self.jump_s:
                s = 1 if r > 0 else -1
                self._off = self._off + 1 if s == self._off_sign else 1
                self._off_sign = s
                if self._off >= self.jump_count:  # tempo changed: keep only the ticks since
                    self._start = max(n - self.jump_count, self._start)
                    self._off = 0
                    self.resets += 1
            else:
                self._off = 0
        k = n % self.window
        self._t[k] = rel
        self._i[k] = n
        self._n = n + 1
        if self.running:
            self.position_ticks += 1
            self._pos_index = n
        self._fit()

    def _fit(self) -> None:
        m = min(self._n - self._start, self.window)
        if m < 2:
            return
        idx = np.arange(self._n - m, self._n) % self.window
        i = self._i[idx]
        t = self._t[idx]
        im, tm = i.mean(), t.mean()
        di = i - im
        b = float(np.dot(di, t - tm) / np.dot(di, di))
        if b <= 0:
            return
        self._b = b
        self._a = float(tm - b * im)
        if m >= self.min_ticks:
            self.tempo_bpm = 60.0 / (PPQN * b)

    @property
    def has_position(self) -> bool:
        """A song position arrived since the last Start (``beats_at`` is meaningful). Any thread."""
        return self.position_ticks >= 0

    def publish(self, bpm: float, beat: float, t: float) -> None:
        """``TempoSource``: a MIDI clock cannot be told the engine's tempo or beat; nothing to do."""

    def start(self) -> None:
        """0xFA: the next tick is song position 0. Thread: MIDI."""
        self.running = True
        self.position_ticks = -1
        self._pos_index = self._n - 1

    def cont(self) -> None:
        """0xFB: carry on from the current song position. Thread: MIDI."""
        self.running = True
        self._pos_index = self._n - 1

    def stop(self) -> None:
        """0xFC. Thread: MIDI."""
        self.running = False

    def song_position(self, sixteenths: int) -> None:
        """0xF2: the next tick (after continue) is at this many 16th notes (6 ticks each). Thread: MIDI."""
        self.position_ticks = sixteenths * 6 - 1
        self._pos_index = self._n - 1

    # -- any thread
    def time_of_tick(self, index: float) -> float:
        """Fitted time (seconds, same clock as the input, latency removed) of tick ``index``."""
        return (self._t0 or 0.0) + self._a + self._b * index

    def beats_at(self, t: float) -> float:
        """Song position in beats at time t (the fitted line, so it moves smoothly between ticks)."""
        if self._b <= 0 or self._t0 is None:
            return self.position_ticks / PPQN
        ticks_since = (t - self.time_of_tick(self._pos_index)) / self._b
        if not self.running:
            ticks_since = 0.0
        return (self.position_ticks + ticks_since) / PPQN

    @property
    def ticks(self) -> int:
        return self._n


class FrameClock:
    """Which engine frame is at the output at a given moment: the audio side of clock following.

    The audio callback notes (monotonic time, first frame) at its start in a
    16-row ring (``AudioOutput.cb_ring``). A callback can start late, never
    early, so the offset ``time - frame / rate`` is tracked as a running
    minimum that may creep up 1 us per callback (a sound card's clock drifts
    against the system's far slower than that). ``latency_s`` (PortAudio's
    output latency) is added: ``time_of(frame)`` is when the frame is heard.

    Thread: control (``update`` reads the ring the callback writes; a row
    being written is at most one of the 16 and is skipped by reading only
    rows older than the newest).
    """

    def __init__(self, ring: np.ndarray, calls_fn, sample_rate: int, latency_s: float = 0.0):
        self.ring, self.calls_fn, self.sr, self.latency_s = ring, calls_fn, float(sample_rate), latency_s
        self._seen = 0
        self.offset: float | None = None  # seconds: time of frame 0 at the callback

    def update(self) -> bool:
        n = int(self.calls_fn()) - 1  # the newest row may be half written: stop before it
        for k in range(max(self._seen, n - 15), n):
            t, f = self.ring[k & 15]
            off = float(t) - float(f) / self.sr
            if self.offset is None or off < self.offset:
                self.offset = off
            else:
                self.offset += 1e-6
        self._seen = max(self._seen, n)
        return self.offset is not None

    def time_of(self, frame: float) -> float:
        assert self.offset is not None, "update() has not yet seen a callback"
        return self.offset + frame / self.sr + self.latency_s

    def frame_at(self, t: float) -> float:
        assert self.offset is not None, "update() has not yet seen a callback"
        return (t - self.latency_s - self.offset) * self.sr

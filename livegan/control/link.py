"""Ableton Link as a tempo source: ``clock = "link"`` in a patch, or ``livegan perform --link``.

Link (Ableton's own library, through the ``LinkPython-extern`` binding, module ``link``; why that one:
``benchmarks/results/link.md``)
shares a tempo, a beat timeline, a bar phase (the quantum: the loop's bar) and, with start/stop sync,
the transport with every Link app on the local network. ``LinkTempo`` is both

- a ``TempoSource`` (``livegan.control.sources``): ``LiveControl`` follows it as it follows a MIDI
  clock (the tempo staged, the grid located once, then a phase-locked loop of small tempo nudges: no
  click, each change a marker in the performance log, so the show re-renders bit for bit); its
  ``publish`` takes livegan's own tempo change (``LiveControl.ask_tempo``) to the session, and livegan
  then follows it back like any peer's;
- a ``ControlSource``: the session's start / stop as "start" / "stop" events (the first poll says
  where the session stands, so the grid locks to it at once).

Time. A Link timeline says which beat is *heard* at a given time. ``LiveControl`` asks ``beats_at``
for the time a frame is heard (its ``FrameClock``: callback times plus the output latency), so the
beat at livegan's output lines up with the timeline. Link's clock on Linux is CLOCK_MONOTONIC_RAW and
livegan's is ``time.monotonic`` (CLOCK_MONOTONIC, which NTP may slew by some ppm): Link's clock is read
between two ``time.monotonic()`` calls (the narrowest of three brackets is kept, a few microseconds),
and ``beats_at(t)`` asks the captured session state for the beat at the Link time that pair maps
``t`` to. The pair and the state are taken afresh at every read of ``tempo_bpm`` (every control
step), so the two clocks' rates never drift apart in it.

Threads: Link's own (network, timers) are the library's and never call into Python here (no
callbacks are set); every method here runs on the control thread. Link finds peers by UDP multicast:
tests and benchmarks run it in a private network namespace (``livegan.testing.netns``).
"""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from livegan.control.sources import Event
from livegan.errors import CLIError

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.audio.engine import Engine


def open_link(bpm: float):
    """A disabled ``link.Link`` at ``bpm``. Control thread."""
    try:
        from link import Link
    except ImportError:
        raise CLIError("Ableton Link needs the LinkPython-extern package: pip install LinkPython-extern") from None
    return Link(float(bpm))


def join_link(engine: Engine) -> LinkTempo:
    """The show's Link session: the engine's tempo to start with (a session already there keeps its
    own), the loop's bar as the quantum. Main thread (``livegan perform``)."""
    return LinkTempo(engine.transport.tempo, engine.transport.beats_per_bar)


class LinkTempo:
    """An Ableton Link session as a ``TempoSource`` and a ``ControlSource``; ``quantum``: beats per
    bar of the loop. Joining the session says "playing" (start/stop sync): livegan starts playing
    when the show starts, and so do the peers that sync start/stop. Control thread."""

    name = "Ableton Link"
    has_position = True  # a Link timeline always knows its beat
    takes_tempo = True  # livegan's own tempo (OSC, ``LiveControl.ask_tempo``) goes to the session

    def __init__(self, bpm: float, quantum: float, link=None):
        self.link = link = open_link(bpm) if link is None else link
        self.quantum = float(quantum)
        link.startStopSyncEnabled = True
        state = link.captureAppSessionState()
        state.setIsPlaying(True, link.clock().micros())
        link.commitAppSessionState(state)
        link.enabled = True
        self._said: bool | None = None  # the transport the last poll gave out (None: nothing yet)
        self._anchor()

    def _anchor(self) -> None:
        clock, best = self.link.clock(), (math.inf, 0, 0.0)
        for _ in range(3):
            a = time.monotonic()
            us = clock.micros()
            b = time.monotonic()
            if b - a < best[0]:
                best = (b - a, us, 0.5 * (a + b))
        self._state = self.link.captureAppSessionState()
        self._us0, self._t0 = best[1], best[2]
        self._bpm = float(self._state.tempo())

    @property
    def tempo_bpm(self) -> float:
        """The session's tempo; reading it captures the session afresh for ``beats_at``."""
        self._anchor()
        return self._bpm

    @property
    def running(self) -> bool:
        return bool(self.link.captureAppSessionState().isPlaying())

    @property
    def peers(self) -> int:
        return int(self.link.numPeers())

    def beats_at(self, t: float) -> float:
        """The session's beat (its phase in the quantum shared with every peer) heard at monotonic
        time ``t`` (near now)."""
        return float(self._state.beatAtTime(int(round(self._us0 + (t - self._t0) * 1e6)), self.quantum))

    def publish(self, bpm: float, beat: float, t: float) -> None:
        """livegan's own tempo change -> the session (Link keeps the timeline's beat continuous across
        it, and livegan stays locked to the timeline, so ``beat`` needs no saying)."""
        state = self.link.captureAppSessionState()
        state.setTempo(float(bpm), self.link.clock().micros())
        self.link.commitAppSessionState(state)
        self._anchor()

    def poll(self) -> list:
        """The session's transport when it changed (start / stop sync) as one event."""
        run = self.running
        if run == self._said:
            return []
        self._said = run
        return [Event("start" if run else "stop")]

    def close(self) -> None:
        """Leave the session. Control thread, at the end of the show."""
        self.link.enabled = False

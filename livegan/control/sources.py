"""The one seam where control and tempo come in: ``LiveControl`` takes one list of sources, polled
in its order every control step (``livegan perform``: the computer keyboard, MIDI, the MIDI clock,
Ableton Link, OSC). An entry is

- a control source (``ControlSource``: ``poll() -> [Event]``): the keyboard (``KeySource``), MIDI
  (``livegan.io.midi.MidiSource``), OSC (``livegan.control.osc``), Link's start / stop;
- a tempo source (``TempoSource``): the MIDI clock (``livegan.control.follow.ClockFollower``), Ableton
  Link (``livegan.control.link``); at most one per list, and the beat grid follows it;
- or both (Link).

Optional, on any entry: ``plug(live)`` (``LiveControl.start``, main thread, before the show: what the
source needs of the control path, e.g. OSC serves the patch played), ``close()`` (``LiveControl.close``,
at the end: None or a warning line) and ``stats()`` (a dict for ``--stats-json`` and the panel). So a
new source is one module and one entry in the show's list (``livegan.show.Show.connect``).

A source may run a thread of its own (the MIDI thread) that only fills last-value stores and
preallocated rings; ``poll`` drains them on the control thread and never blocks. Events are
MIDI-shaped, because the performance log is a MIDI file that ``livegan render`` replays: a source
whose knobs have no MIDI address (OSC) names them by index, and the control thread logs them as the
CC the patch gives that knob.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable


class Event(NamedTuple):
    """One control event. ``kind``: "cc" (``a`` controller, ``b`` 0-127), "knob" (``a`` the patch's knob
    index, ``b`` 0-127), "note_on" / "note_off" (``a`` note, ``b`` velocity), "start" / "stop" /
    "continue" (transport), "tempo" (``b`` BPM x 1000), "record" (``b`` 1 starts a take, 0 stops it),
    "find" (``data`` an audio file's path: the search runs off the control thread, ``livegan.control.finder``),
    "base" (``data`` (z (D,) float32, text): the search's result becomes the base point, logged as a
    ``livegan base`` marker).
    ``applied``: the source already gave it to the Controller (the computer
    keyboard does, so the panel answers at once); the control thread then only logs it.
    ``track``: the track it is for (0, the one track today; a set of tracks will take it from the MIDI
    channel, an OSC ``/livegan/track/N/...`` address or the keyboard's selected track); ``channel``
    is the MIDI channel the performance log writes it on."""
    kind: str
    channel: int = 0
    a: int = 0
    b: int = 0
    applied: bool = False
    track: int = 0
    data: Any = None


@runtime_checkable
class ControlSource(Protocol):
    """An entry of ``LiveControl``'s list that gives events."""

    def poll(self) -> list:
        """Events since the last poll, oldest first ([``Event``]). Control thread; never blocks."""


@runtime_checkable
class TempoSource(Protocol):
    """An external tempo and beat grid. Read by the control thread; two-way: ``publish`` tells the
    source livegan's own tempo change and the engine's beat then (``LiveControl.ask_tempo``: Ableton
    Link shares it with its peers; a MIDI clock cannot be told anything and ignores it).

    - ``tempo_bpm``: the source's tempo, 0 while it does not know one yet;
    - ``running``: its transport plays;
    - ``has_position``: it knows where in the song it is (``beats_at`` is meaningful);
    - ``beats_at(t)``: its beat position heard at monotonic time ``t``."""
    tempo_bpm: float
    running: bool

    @property
    def has_position(self) -> bool: ...

    def beats_at(self, t: float) -> float: ...

    def publish(self, bpm: float, beat: float, t: float) -> None: ...


class KeySource:
    """The computer keyboard as a control source: ``KeyboardControl`` gives each key to the Controller at
    once (the panel answers at the press) and hands its MIDI bytes here (``push``, the UI thread, which
    is also the control thread); ``poll`` returns them as applied events, to be logged with the next
    batch."""

    def __init__(self):
        self._keys: list = []

    def push(self, msg) -> None:
        status = msg[0] & 0xF0
        kind = {0xB0: "cc", 0x90: "note_on", 0x80: "note_off"}[status]
        self._keys.append(Event(kind, msg[0] & 0x0F, int(msg[1]), int(msg[2]), applied=True))

    def poll(self) -> list:
        keys, self._keys = self._keys, []
        return keys


def midi_bytes(ev: Event, knob_cc=None) -> list | None:
    """An event as the MIDI message the performance log keeps; ``knob_cc(index)`` gives a "knob" event's
    CC (the patch's). None for "tempo", "record", "find" and "base": the control thread logs a tempo and
    a base point as markers, a take's own log marks where it starts, and a search is logged by its result."""
    if ev.kind in ("tempo", "record", "find", "base", "model"):
        return None
    if ev.kind in ("cc", "knob"):
        return [0xB0 | ev.channel, ev.a if ev.kind == "cc" else knob_cc(ev.a), ev.b]
    if ev.kind in ("note_on", "note_off"):
        return [(0x90 if ev.kind == "note_on" else 0x80) | ev.channel, ev.a, ev.b]
    return [{"start": 0xFA, "stop": 0xFC, "continue": 0xFB}[ev.kind]]


def close_sources(sources) -> list:
    """Each source's ``close`` (those that have one), in the list's order; -> the warnings they gave.
    Main thread, at the end of the show (or of one that never started)."""
    said = []
    for src in sources:
        if hasattr(src, "close"):
            w = src.close()
            if w:
                said.append(w)
    return said

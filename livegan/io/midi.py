"""MIDI input: last-value knobs, an event ring, reconnects, and ``MidiSource``, the control source
``LiveControl`` polls (ports are found by ``livegan.io.midi_ports``: index, name or 'virtual').

One MIDI thread per input polls rtmidi's own queue (``get_message``), so the
JACK or ALSA process thread that receives the bytes never waits for Python's
GIL; rtmidi still stamps each message where it arrives. The thread:

* stores each CC as a float in [0, 1] in ``KnobState.value[channel, cc]`` and
  bumps ``KnobState.seq[channel, cc]`` (last value wins; readers compare
  sequence numbers to see what moved);
* pushes notes, program changes and transport into ``EventRing``, a
  preallocated single-producer single-consumer ring (no queue, no lock);
* feeds clock, start, stop, continue and song position to a ``ClockFollower``;
* ignores SysEx, truncated, out-of-range and unknown messages (counted in
  ``ignored``), never raising;
* every ``reconnect_s`` checks that the port's source still exists; when a
  controller disappears the audio plays on, and when it returns the port is
  reopened (``reconnects`` counts it).

Nothing here blocks: the loop sleeps ``poll_s`` between empty polls.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from livegan.control.follow import ClockFollower
from livegan.control.sources import Event
from livegan.io.midi_ports import CLIENT, choose_api, load_rtmidi, resolve_port  # noqa: F401  (resolve_port: tests)

# event kinds in the ring
NOTE_ON, NOTE_OFF, PROGRAM, START, STOP, CONTINUE, SONG_POS = 1, 2, 3, 4, 5, 6, 7


class KnobState:
    """Last value of every CC on every channel. Written by the MIDI thread only."""

    def __init__(self):
        self.value = np.full((16, 128), np.nan, np.float32)  # (channel 0-15, cc) in [0, 1]; NaN: never moved
        self.seq = np.zeros((16, 128), np.int64)  # bumped after each write
        self.total = 0  # all CC writes; readers poll this first

    def changed_since(self, seen: np.ndarray):
        """(channel, cc, value) for every CC whose seq differs from ``seen``; updates ``seen``.
        Thread: any reader (the control thread)."""
        ch, cc = np.nonzero(self.seq != seen)
        out = [(int(a), int(b), float(self.value[a, b])) for a, b in zip(ch, cc)]
        seen[ch, cc] = self.seq[ch, cc]
        return out


class EventRing:
    """Preallocated single-producer single-consumer ring of (time, kind, channel, d1, d2).

    The producer writes the slot, then publishes ``w``; the consumer reads up to
    ``w``, then publishes ``r``. A full ring drops the new event and counts it.
    """

    def __init__(self, size: int = 1024):
        self.size = size
        self.t = np.zeros(size, np.float64)
        self.data = np.zeros((size, 4), np.int32)  # kind, channel, d1, d2
        self.w = 0
        self.r = 0
        self.dropped = 0

    def push(self, t: float, kind: int, ch: int, d1: int, d2: int) -> None:
        """Thread: the producer (MIDI) only."""
        w = self.w
        if w - self.r >= self.size:
            self.dropped += 1
            return
        k = w % self.size
        self.t[k] = t
        row = self.data[k]
        row[0], row[1], row[2], row[3] = kind, ch, d1, d2
        self.w = w + 1  # publish after the slot is written

    def pop_all(self):
        """[(t, kind, channel, d1, d2)] since the last call. Thread: the consumer only."""
        out = []
        r, w = self.r, self.w
        while r < w:
            k = r % self.size
            kind, ch, d1, d2 = self.data[k]
            out.append((float(self.t[k]), int(kind), int(ch), int(d1), int(d2)))
            r += 1
        self.r = r
        return out


class MidiHandler:
    """Raw MIDI bytes -> KnobState / EventRing / ClockFollower. Thread: MIDI."""

    def __init__(self, knobs: KnobState | None = None, events: EventRing | None = None,
                 clock: ClockFollower | None = None, channel: int | None = None):
        self.knobs = knobs or KnobState()
        self.events = events or EventRing()
        self.clock = clock or ClockFollower()
        self.channel = None if channel is None else channel - 1  # patch channel 1-16; None: omni
        self.ignored = 0
        self.received = 0

    def handle(self, msg, t: float) -> None:
        """One complete message (list of ints) at time t (seconds). Never raises. Thread: MIDI."""
        self.received += 1
        try:
            n = len(msg)
            if n == 0:
                self.ignored += 1
                return
            s = msg[0]
            if s == 0xF8:
                self.clock.tick(t)
                return
            if s in (0xFA, 0xFB, 0xFC):
                {0xFA: self.clock.start, 0xFB: self.clock.cont, 0xFC: self.clock.stop}[s]()
                self.events.push(t, {0xFA: START, 0xFB: CONTINUE, 0xFC: STOP}[s], 0, 0, 0)
                return
            if s == 0xF2:
                if n < 3 or msg[1] > 127 or msg[2] > 127:
                    self.ignored += 1
                    return
                spp = msg[1] | (msg[2] << 7)
                self.clock.song_position(spp)
                self.events.push(t, SONG_POS, 0, spp & 127, spp >> 7)
                return
            kind = s & 0xF0
            ch = s & 0x0F
            if s < 0x80 or s >= 0xF0 or (self.channel is not None and ch != self.channel):
                self.ignored += 1  # SysEx, other system messages, running-status garbage, other channels
                return
            need = 2 if kind in (0xC0, 0xD0) else 3
            if n < need or any(b > 127 or b < 0 for b in msg[1:need]):
                self.ignored += 1
                return
            if kind == 0xB0:
                self.knobs.value[ch, msg[1]] = msg[2] / 127.0
                self.knobs.seq[ch, msg[1]] += 1
                self.knobs.total += 1
            elif kind == 0x90:
                self.events.push(t, NOTE_ON if msg[2] else NOTE_OFF, ch, msg[1], msg[2])
            elif kind == 0x80:
                self.events.push(t, NOTE_OFF, ch, msg[1], msg[2])
            elif kind == 0xC0:
                self.events.push(t, PROGRAM, ch, msg[1], 0)
            else:
                self.ignored += 1
                return
        except Exception:  # garbage must never stop the MIDI thread
            self.ignored += 1


class MidiInput:
    """One MIDI input and its MIDI thread. ``spec``: index, name substring or 'virtual'."""

    def __init__(self, spec: str, handler: MidiHandler | None = None, api=None,
                 poll_s: float = 0.0005, reconnect_s: float = 0.5, client_name: str = CLIENT):
        rtmidi = load_rtmidi()
        self.spec = str(spec)
        self.handler = handler or MidiHandler()
        self.api = choose_api() if api is None else api
        self.poll_s = poll_s
        self.reconnect_s = reconnect_s
        self.client_name = client_name
        self.virtual = self.spec == "virtual"
        self.connected = False
        self.reconnects = 0
        self.port_name = None
        self._rt = rtmidi.MidiIn(self.api, name=client_name, queue_size_limit=8192)
        self._rt.ignore_types(sysex=True, timing=False, active_sense=True)
        self._probe = rtmidi.MidiIn(self.api, name=client_name + "-probe")
        self._stop = threading.Event()
        self._thread = None
        self._acc = 0.0  # sum of rtmidi deltas
        self._offset = None  # monotonic - acc, the smallest seen (arrival never precedes the event)
        if self.virtual:
            self._rt.open_virtual_port(client_name)
            self.port_name = f"{client_name}:{client_name}"
            self.connected = True
        else:
            ports = self._rt.get_ports()
            i = resolve_port(ports, self.spec)
            self.port_name = ports[i]
            self._rt.open_port(i, client_name)
            self.connected = True

    @property
    def clock(self) -> ClockFollower:
        return self.handler.clock

    def start(self) -> "MidiInput":
        self._thread = threading.Thread(target=self._run, name="livegan-midi", daemon=True)
        self._thread.start()
        return self

    def close(self) -> bool:
        """Stop the MIDI thread and close the port. False if the thread did not stop within 2 s:
        the rtmidi objects are then left open (deleting them under its poll could crash). Main thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            if self._thread.is_alive():
                return False
        for m in (self._rt, self._probe):
            try:
                m.close_port()
                m.delete()
            except Exception:
                pass
        return True

    def _stamp(self, delta: float) -> float:
        self._acc += delta
        off = time.monotonic() - self._acc
        if self._offset is None or off < self._offset:
            self._offset = off
        else:
            self._offset += 1e-6  # let a drifting clock pull the anchor up slowly
        return self._acc + self._offset

    def _run(self) -> None:
        """Poll rtmidi, dispatch, watch the port. Thread: MIDI (this loop is that thread)."""
        get = self._rt.get_message
        handle = self.handler.handle
        next_check = time.monotonic() + self.reconnect_s
        while not self._stop.is_set():
            got = False
            if self.connected:
                while True:
                    try:
                        m = get()
                    except Exception:
                        m = None
                    if m is None:
                        break
                    got = True
                    handle(m[0], self._stamp(m[1]))
            now = time.monotonic()
            if not self.virtual and now >= next_check:
                next_check = now + self.reconnect_s
                self._watch()
            if not got:
                time.sleep(self.poll_s)

    def _watch(self) -> None:
        """Reopen the port when its source comes back. Thread: MIDI."""
        try:
            ports = self._probe.get_ports()
        except Exception:
            return
        present = self.port_name in ports
        if self.connected and not present:
            try:
                self._rt.close_port()
            except Exception:
                pass
            self.connected = False
        elif not self.connected and present:
            try:
                self._rt.open_port(ports.index(self.port_name), self.client_name)
                self.connected = True
                self.reconnects += 1
            except Exception:
                pass


class MidiSource:
    """A ``MidiInput`` (or anything with its ``handler``) as a control source
    (``livegan.control.sources.ControlSource``): the CCs that moved (last value wins), then the notes
    and transport messages its ring holds. Its clock (``MidiInput.clock``) is a tempo source of its
    own, in the show's list when the patch says ``clock = "midi"``. Control thread."""

    KINDS = {NOTE_ON: "note_on", NOTE_OFF: "note_off", START: "start", STOP: "stop", CONTINUE: "continue"}

    def __init__(self, midi_in):
        self.midi_in = midi_in
        self._total = -1
        self._seen = np.zeros((16, 128), np.int64)

    def poll(self) -> list:
        h = self.midi_in.handler
        out = []
        if h.knobs.total != self._total:
            self._total = h.knobs.total
            out += [Event("cc", ch, cc, int(round(v01 * 127))) for ch, cc, v01 in h.knobs.changed_since(self._seen)]
        out += [Event(self.KINDS[kind], ch, d1, d2) for _, kind, ch, d1, d2 in h.events.pop_all() if kind in self.KINDS]
        return out

    def close(self) -> str | None:
        """Stop the MIDI thread: None, or the warning when it did not stop. Main thread, at the end."""
        if not self.midi_in.close():
            return "the MIDI thread did not stop within 2 s; its port is left open"
        return None

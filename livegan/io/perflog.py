"""Performance log: every control event, frame-stamped, as a standard MIDI file beside the recording.

The file's timing is chosen so that one MIDI tick is exactly one output frame:
a constant tempo (``set_tempo`` of 500000 us per beat at 48 kHz) with
``ticks_per_beat`` = frames per beat (24000 at 48 kHz, 22050 at 44.1 kHz).
Any standard reader that applies the tempo map (mido, a DAW, ``livegan
render``) gets each event's time in seconds, and ``round(seconds * rate)``
gives back the frame it was played on, so a re-render reproduces the control
timeline exactly. Tempo changes of the performance are markers
(``livegan tempo 132.000``), not tempo-map changes, so they never move events;
an external clock's effect on the beat grid is kept the same way (``livegan
locate BEAT FRAME``, ``livegan run 0|1``), and so is each loop the live
generator made (``livegan loop BEAT FRAME``: published here for beat BEAT,
made from the control state as of FRAME; ``livegan render`` makes it there);
start / stop / continue (real-time bytes a MIDI file may not hold) are markers
too, and ``read_perflog`` turns them back into messages. A point ``livegan find`` placed
becomes the base z at its frame (``livegan base HEX``: z as big-endian float32, so the
render sets the very same z, not a search run again).

Threads: ``log`` is called from the MIDI thread (and the UI thread for
keyboard control); it appends to preallocated chunks and never touches the
file. ``save`` runs on the main thread at the end (or on an interruption).
"""
from __future__ import annotations

import math
import threading

import numpy as np

from livegan.io.markers import (  # noqa: F401 (their old home)
    MAX_LATENT,
    MIX_ROW,
    marker_base,
    marker_base_z,
    marker_bpm,
    marker_loop,
    marker_take,
    marker_transport,
    mix_problem,
    mix_text,
)
from livegan.io.model_marker import SWAP_ROW, ModelRows, model_marker_problem
from livegan.model_knobs import MAX_KNOBS

CHUNK = 65536
TRACK_SHIFT = 44  # a loop marker's row: d1 = (beat + 1) | track << TRACK_SHIFT


def timing_for(sample_rate: int) -> tuple[int, int]:
    """(tempo in us per beat, ticks per beat) with one tick = one frame, or the closest we can."""
    for tempo in (500000, 250000, 1000000, 125000, 200000, 100000, 50000):
        num = tempo * sample_rate
        if num % 1_000_000 == 0 and 0 < num // 1_000_000 <= 32767:
            return tempo, num // 1_000_000
    return 500000, 960  # rates with no exact fit: events land within a millisecond


class PerfLog:
    """Frame-stamped raw MIDI control events, written as a standard MIDI file by ``save``."""

    def __init__(self, sample_rate: int, named: int = 0):
        """``named``: how many of the model's named knobs the generic patch plays first in this show
        (a ``livegan named N`` marker at frame 0; a log without one played none of them)."""
        self.sample_rate = sample_rate
        self._chunks = [np.zeros((CHUNK, 4), np.int64)]  # frame, status, d1, d2
        self._n = 0
        self._lock = threading.Lock()  # only between two producers (MIDI and keyboard), never the audio thread
        if named:
            self._append(0, 0x106, int(named), 0)

    def log(self, frame: int, msg) -> None:
        """One event (raw bytes, 1-3 of them) at an output frame. Thread: MIDI or UI."""
        with self._lock:
            self._append(frame, msg[0], msg[1] if len(msg) > 1 else 0, msg[2] if len(msg) > 2 else 0)

    def _append(self, frame: int, s: int, d1: int, d2: int) -> None:
        """One row; the caller holds the lock."""
        i = self._n % CHUNK
        if i == 0 and self._n > 0:
            self._chunks.append(np.zeros((CHUNK, 4), np.int64))
        row = self._chunks[-1][i]
        row[0], row[1], row[2], row[3] = frame, s, d1, d2
        self._n += 1

    def tempo(self, frame: int, bpm: float) -> None:
        """A performance tempo change (a marker). Thread: any producer."""
        self.log(frame, [0x100, int(round(bpm * 1000)) >> 14, int(round(bpm * 1000)) & 0x3FFF])

    def locate(self, frame: int, beat: float, at_frame: int) -> None:
        """The beat grid moved: ``beat`` (6 decimals) at engine frame ``at_frame`` (a marker)."""
        self.log(frame, [0x101, int(round(beat * 1e6)), int(at_frame)])

    def running(self, frame: int, on) -> None:
        """The transport stopped (0) or runs again (1) (a marker)."""
        self.log(frame, [0x102, 1 if on else 0])

    def loop(self, frame: int, beat: int, state_frame: int, track: int = 0) -> None:
        """The generator published (or tried) a loop for ``beat`` (-1: at once) made from the control
        state as of ``state_frame`` (a marker: the render makes the same loop here); ``track``: a set's
        track (0: the first, or the one model: written as before). Thread: any producer."""
        self.log(frame, [0x104, (int(beat) + 1) | (int(track) << TRACK_SHIFT), int(state_frame)])

    def effects_off(self) -> None:
        """A live set played its tracks without their patches' effects (``livegan effects 0`` at frame 0):
        what live sets wrote before they played each track's effects; kept to make such a log in tests."""
        self.log(0, [0x107, 0])

    def base(self, frame: int, z, track: int = 0) -> None:
        """A found point became the base z (a marker; its floats are logged as one row each, ``d1`` the
        index | size << 16 | a set's track << 32, ``d2`` the float32's bits, kept together). Thread: any producer."""
        z = np.asarray(z, ">f4").ravel()
        bits = np.frombuffer(z.tobytes(), ">u4")
        with self._lock:
            for i, b in enumerate(bits.tolist()):
                self._append(frame, 0x105, i | (len(bits) << 16) | (int(track) << 32), b)

    def rows_together(self, frame: int, s: int, pairs) -> None:
        """Rows of one marker (``(d1, d2)`` each), kept together. Thread: any producer."""
        with self._lock:
            for d1, d2 in pairs:
                self._append(frame, s, d1, d2)

    def __len__(self):
        return self._n

    def rows_since(self, i: int) -> np.ndarray:
        """Rows ``i`` to the last, in the order they were logged (the journal's appends). Any thread."""
        with self._lock:
            n = self._n
            parts = [self._chunks[c][max(0, i - c * CHUNK):min(CHUNK, n - c * CHUNK)]
                     for c in range(i // CHUNK, (n - 1) // CHUNK + 1)] if n > i else []
            return np.concatenate(parts) if parts else np.zeros((0, 4), np.int64)

    def rows(self) -> np.ndarray:
        with self._lock:
            a = np.concatenate(self._chunks)[: self._n].copy()
        return a[np.argsort(a[:, 0], kind="stable")]

    def save(self, path, take_start: int = 0) -> int:
        """Write the file; returns the number of events. ``take_start`` > 0 (a later take of the
        performance, whose WAV starts there) adds a ``livegan take FRAME`` marker at that frame:
        ``livegan render`` renders from frame 0 and keeps the audio from it on. Thread: main."""
        import mido

        tempo, tpb = timing_for(self.sample_rate)
        frames_per_tick = self.sample_rate * tempo / 1e6 / tpb
        mf = mido.MidiFile(ticks_per_beat=tpb)
        tr = mido.MidiTrack()
        mf.tracks.append(tr)
        tr.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
        tr.append(mido.MetaMessage("track_name", name="livegan performance", time=0))
        now = 0
        base: list = []  # a ``livegan base`` marker's floats, gathered row by row
        swaps = ModelRows()  # a ``livegan model`` marker's bytes, likewise
        rows = self.rows()
        if take_start > 0:
            rows = np.concatenate([rows, [[take_start, 0x103, 0, 0]]])
            rows = rows[np.argsort(rows[:, 0], kind="stable")]
        for frame, s, d1, d2 in rows:
            tick = int(round(frame / frames_per_tick))
            if s in _REALTIME:  # a standard MIDI file may not hold real-time bytes: markers instead
                m = mido.MetaMessage("marker", text=f"livegan {_REALTIME[s]}")
            elif s == 0x100:
                bpm = ((int(d1) << 14) | int(d2)) / 1000.0
                m = mido.MetaMessage("marker", text=f"livegan tempo {bpm:.3f}")
            elif s == 0x101:
                m = mido.MetaMessage("marker", text=f"livegan locate {int(d1) / 1e6:.6f} {int(d2)}")
            elif s == 0x102:
                m = mido.MetaMessage("marker", text=f"livegan run {int(d1)}")
            elif s == 0x103:
                m = mido.MetaMessage("marker", text=f"livegan take {int(frame)}")
            elif s == 0x104:
                tk = int(d1) >> TRACK_SHIFT
                text = f"livegan loop {(int(d1) & ((1 << TRACK_SHIFT) - 1)) - 1} {int(d2)}" + (f" {tk}" if tk else "")
                m = mido.MetaMessage("marker", text=text)
            elif s == 0x107:
                m = mido.MetaMessage("marker", text="livegan effects 0")
            elif s == MIX_ROW:
                m = mido.MetaMessage("marker", text=mix_text(d1, d2))
            elif s == 0x106:
                m = mido.MetaMessage("marker", text=f"livegan named {int(d1)}")
            elif s == SWAP_ROW:
                text = swaps.take(int(d1), int(d2))
                if text is None:
                    continue
                m = mido.MetaMessage("marker", text=text)
            elif s == 0x105:
                i, n, tk = int(d1) & 0xFFFF, (int(d1) >> 16) & 0xFFFF, int(d1) >> 32
                base = base + [int(d2)] if i == len(base) else ([int(d2)] if i == 0 else [])
                if len(base) < n or not base:
                    continue
                m = mido.MetaMessage("marker", text="livegan base " + np.asarray(base, ">u4").tobytes().hex()
                                     + (f" {tk}" if tk else ""))
                base = []
            else:
                try:
                    m = mido.Message.from_bytes([int(s)] + [int(d1), int(d2)][: _data_len(int(s))])
                except ValueError:
                    continue
            tr.append(m.copy(time=max(0, tick - now)))
            now = max(now, tick)
        tr.append(mido.MetaMessage("end_of_track", time=0))
        mf.save(path)
        return self._n


_REALTIME = {0xFA: "start", 0xFB: "continue", 0xFC: "stop"}
_REALTIME_BACK = {v: k for k, v in _REALTIME.items()}


def _data_len(status: int) -> int:
    if status >= 0xF0:
        return {0xF2: 2, 0xF3: 1}.get(status, 0)
    return 1 if (status & 0xF0) in (0xC0, 0xD0) else 2


def read_perflog(path, sample_rate: int) -> list:
    """Standard MIDI file -> [(frame, mido message)] of control events in time order.

    Tempo markers come back as ``mido.MetaMessage('marker', text='livegan tempo X')``.
    Times go through the file's tempo map, as ``livegan render`` reads automation.
    Raises ``livegan.io.smf.MidiFileError`` (one line: what and where) for a malformed file or marker.
    """
    return list(read_log_events(path, sample_rate, automation_only=False))


_AUTOMATION_STATUS = (0x80, 0x90, 0xB0)  # note off / on, control change (any channel)


class LogEvents:
    """A read performance log as a sequence of (frame, mido message), in time order: the events
    are kept as arrays and each message is made when it is asked for, so a file of millions of
    events costs arrays, not objects. ``frames`` is the (n,) int64 array of their frames."""

    def __init__(self, frames, status, data, markers):
        self.frames, self.status, self.data, self.markers = frames, status, data, markers

    def __len__(self):
        return int(self.frames.shape[0])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        import mido

        st, d = int(self.status[i]), int(self.data[i])
        if st == _MARKER:
            return int(self.frames[i]), mido.MetaMessage("marker", text=self.markers[d])
        from livegan.io.smf import _data_len

        return int(self.frames[i]), mido.Message.from_bytes([st, d & 0x7F, d >> 8][:1 + _data_len(st)])

    def __iter__(self):
        return (self[i] for i in range(len(self)))


_MARKER = 0xFF


def _marker_problem(text: str, seconds: float) -> str | None:
    """Why a ``livegan ...`` marker cannot be played, or None. ``seconds``: where it sits."""
    from livegan.audio.transport import MAX_BPM, MIN_BPM
    from livegan.model import SAMPLERATE_RANGE

    p = text.split()
    try:
        if p[1] == "tempo":
            bpm = float(p[2]) if len(p) == 3 else math.nan
            if not MIN_BPM <= bpm <= MAX_BPM:
                return f"must be 'livegan tempo BPM' with BPM in [{MIN_BPM:g}, {MAX_BPM:g}]"
        elif p[1] == "locate":
            if len(p) != 4 or not math.isfinite(float(p[2])) or int(p[3]) < 0:
                return "must be 'livegan locate BEAT FRAME' with a finite BEAT and FRAME >= 0"
        elif p[1] == "run":
            if len(p) != 3 or p[2] not in ("0", "1"):
                return "must be 'livegan run 0' or 'livegan run 1'"
        elif p[1] == "loop":
            if (len(p) not in (4, 5) or not -1 <= int(p[2]) < 1 << 40 or not 0 <= int(p[3]) < 1 << 62
                    or not 0 <= int(p[-1] if len(p) == 5 else 0) < 16):
                return ("must be 'livegan loop BEAT FRAME [TRACK]' with whole numbers BEAT >= -1, FRAME >= 0 "
                        "and TRACK 0-15")
        elif p[1] == "mix":
            return mix_problem(p)
        elif p[1] == "effects":
            if p[2:] != ["0"]:
                return "must be 'livegan effects 0'"
        elif p[1] == "base":
            if len(p) not in (3, 4) or marker_base_z(p[2]) is None or not 0 <= int(p[-1] if len(p) == 4 else 0) < 16:
                return (f"must be 'livegan base HEX [TRACK]' with HEX 1-{MAX_LATENT} finite big-endian float32 "
                        "values in hex and TRACK 0-15")
        elif p[1] == "model":
            return model_marker_problem(text)
        elif p[1] == "named":
            if len(p) != 3 or not 0 <= int(p[2]) <= MAX_KNOBS:
                return f"must be 'livegan named N' with N in [0, {MAX_KNOBS}]"
        elif p[1] == "take":
            # the marker sits on the take's first frame: FRAME / seconds is the log's sample rate
            if len(p) != 3 or not 0 <= int(p[2]) <= SAMPLERATE_RANGE[1] * seconds + 1:
                return (f"must be 'livegan take FRAME' with FRAME the frame the marker sits on "
                        f"(at most {SAMPLERATE_RANGE[1]} x {seconds:.3f} s)")
    except ValueError:
        return "has a value that is not a number"
    return None


def read_log_events(path, sample_rate: int, automation_only: bool = True) -> LogEvents:
    """Read a performance log or any standard MIDI file into a ``LogEvents`` sequence.

    Keeps channel messages (only note on/off and CCs with ``automation_only``), start / stop /
    continue (real-time bytes, or ``livegan start|stop|continue`` markers turned back into
    messages) and the ``livegan tempo|locate|run|take|loop`` markers, each checked; other markers
    and meta events are dropped. Raises ``livegan.io.smf.MidiFileError`` naming the problem.
    """
    from livegan.io.smf import MidiFileError, read_smf

    ev = read_smf(path)
    status = ev.status.copy()
    keep = np.zeros(len(status), bool)
    for k in np.flatnonzero(status == _MARKER):  # markers are few: a loop is fine
        text = ev.markers[int(ev.data[k])]
        if not text.startswith("livegan "):
            continue
        name = text[8:]
        if name in _REALTIME_BACK:
            status[k] = _REALTIME_BACK[name]
            keep[k] = True
        elif name.split(" ")[0] in ("tempo", "locate", "run", "take", "loop", "base", "named", "effects", "model",
                                     "mix"):
            why = _marker_problem(text, float(ev.seconds[k]))
            if why:
                raise MidiFileError(f"marker {text[:60]!r} at {ev.seconds[k]:.3f} s: {why}")
            keep[k] = True
    chan = (status & 0xF0) if automation_only else None
    if automation_only:
        keep |= np.isin(chan, _AUTOMATION_STATUS) & (status < 0xF0)
        keep |= np.isin(status, list(_REALTIME))
    else:
        keep |= status != _MARKER
    frames = np.rint(ev.seconds[keep] * sample_rate).astype(np.int64)
    return LogEvents(frames, status[keep], ev.data[keep], ev.markers)

"""Standard MIDI files read into compact arrays; every malformation is one ``MidiFileError`` line.

``mido.MidiFile`` keeps one Python object per event, and iterating it copies
each one again, so an automation file's memory grew with its event count by
a large factor. ``read_smf`` keeps each channel or real-time event as three
array entries (tick -> seconds, status byte, data bytes packed in one int32)
and each marker as a string, so memory stays a small multiple of the file's
size; ``mido`` messages are made one at a time by whoever walks the events.

Read like mido reads (tracks merged by absolute tick, in track order at equal
ticks; ``set_tempo`` from any track moves the time map; running status), with
what mido leaves to a traceback refused by name: type-2 files (independent
sequences: no one timeline to render), a division of 0 ticks per beat, SMPTE
divisions with an unknown frame rate, truncated chunks, data bytes above 127,
undefined status bytes. SMPTE divisions are supported (time = ticks /
(frames per second x ticks per frame); tempo events do not apply).

Thread: main (read before any stream starts).
"""
from __future__ import annotations

import os
from array import array
from dataclasses import dataclass, field

import numpy as np

MAX_FILE_BYTES = 256 << 20  # a performance log grows about 4 bytes per event: far more than any show
DEFAULT_TEMPO = 500000  # us per beat, until a set_tempo says otherwise
MAX_SECONDS = float(1 << 40)  # times beyond this are clipped (no render gets there; frames stay int64)
MARKER = 0xFF  # status stored for a marker row; its data is the index into SmfEvents.markers
_SMPTE_FPS = {24: 24.0, 25: 25.0, 29: 30000 / 1001, 30: 30.0}
_SYSTEM_LEN = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}


class MidiFileError(ValueError):
    """What is wrong with the file and where (one line, no file name: the caller adds it)."""


@dataclass
class SmfEvents:
    """Events of all tracks in time order: ``seconds`` (n,) float64, ``status`` (n,) uint8,
    ``data`` (n,) int32 (d1 | d2 << 8, or a marker's index into ``markers``)."""

    seconds: np.ndarray
    status: np.ndarray
    data: np.ndarray
    markers: list = field(default_factory=list)
    format: int = 1
    division: str = ""

    def __len__(self):
        return int(self.status.shape[0])


def _varlen(b: bytes, i: int, n: int) -> tuple[int, int]:
    v = 0
    for _ in range(4):
        if i >= n:
            raise MidiFileError(f"truncated at byte {i}")
        c = b[i]
        i += 1
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i
    raise MidiFileError(f"variable-length number longer than 4 bytes before byte {i}")


def _data_len(st: int) -> int | None:
    hi = st & 0xF0
    if hi < 0xF0:
        return 1 if hi in (0xC0, 0xD0) else 2
    return _SYSTEM_LEN.get(st)


def _track(b: bytes, start: int, end: int, out, markers: list, tempos: list) -> None:
    """Parse one MTrk body b[start:end] into ``out`` = (ticks, status, data) arrays."""
    ticks, status, data = out
    i, tick, running = start, 0, 0
    while i < end:
        delta, i = _varlen(b, i, end)
        tick += delta
        if i >= end:
            raise MidiFileError(f"truncated at byte {i}: an event without its status")
        st = b[i]
        if st >= 0x80:
            i += 1
            if st < 0xF0:
                running = st
        elif running:
            st = running
        else:
            raise MidiFileError(f"byte {i}: data byte 0x{st:02x} with no status before it")
        if st == 0xFF or st in (0xF0, 0xF7):
            if st == 0xFF:
                if i >= end:
                    raise MidiFileError(f"truncated at byte {i}: a meta event without its type")
                mtype = b[i]
                i += 1
            length, i = _varlen(b, i, end)
            if i + length > end:
                raise MidiFileError(f"truncated at byte {end}: an event of {length} bytes at byte {i}")
            if st == 0xFF and mtype == 0x51:
                if length != 3:
                    raise MidiFileError(f"byte {i}: a set_tempo event of {length} bytes (must be 3)")
                tempos.append((tick, int.from_bytes(b[i:i + 3], "big")))
            elif st == 0xFF and mtype == 0x06:
                status.append(MARKER)
                ticks.append(tick)
                data.append(len(markers))
                markers.append(b[i:i + length].decode("latin-1"))  # mido's charset for meta text
            elif st == 0xFF and mtype == 0x2F:
                return  # end of track: anything after it is not part of the track
            i += length
            continue
        n = _data_len(st)
        if n is None:
            raise MidiFileError(f"byte {i - 1}: undefined status byte 0x{st:02x}")
        if i + n > end:
            raise MidiFileError(f"truncated at byte {end}: a 0x{st:02x} message without its data")
        d1 = b[i] if n > 0 else 0
        d2 = b[i + 1] if n > 1 else 0
        if d1 > 127 or d2 > 127:
            raise MidiFileError(f"byte {i}: data byte above 127 in a 0x{st:02x} message")
        i += n
        ticks.append(tick)
        status.append(st)
        data.append(d1 | (d2 << 8))


def _header(b: bytes) -> tuple[int, int, int, int]:
    """(format, number of tracks, division, offset of the first chunk after the header)."""
    if b[:4] != b"MThd":
        raise MidiFileError("not a standard MIDI file (it does not start with an MThd header)")
    if len(b) < 14:
        raise MidiFileError(f"truncated: {len(b)} bytes, a header alone is 14")
    hlen = int.from_bytes(b[4:8], "big")
    if hlen < 6 or 8 + hlen > len(b):
        raise MidiFileError(f"header chunk of {hlen} bytes (must be at least 6, within the file)")
    fmt, ntracks, division = (int.from_bytes(b[k:k + 2], "big") for k in (8, 10, 12))
    if fmt == 2:
        raise MidiFileError("type-2 MIDI file (independent sequences, no single timeline): save it as type 0 or 1")
    if fmt > 2:
        raise MidiFileError(f"unknown MIDI file format {fmt} (0 or 1 are read)")
    return fmt, ntracks, division, 8 + hlen


def _tick_seconds(ticks: np.ndarray, division: int, tempos: list) -> tuple[np.ndarray, str]:
    """Absolute ticks -> seconds through the division and the merged tempo map."""
    if division & 0x8000:
        fps_code = 256 - (division >> 8)
        tpf = division & 0xFF
        if fps_code not in _SMPTE_FPS or tpf == 0:
            raise MidiFileError(f"SMPTE division with {fps_code} frames per second and {tpf} ticks per frame "
                                "(24, 25, 29 or 30 fps and at least 1 tick are read)")
        return ticks / (_SMPTE_FPS[fps_code] * tpf), f"SMPTE {fps_code} fps x {tpf}"
    if division == 0:
        raise MidiFileError("ticks per beat is 0 (no tick has a length)")
    tempos.sort(key=lambda t: t[0])  # stable: at one tick, the later track's tempo wins, as in mido
    seg_tick = np.array([0] + [t for t, _ in tempos], np.float64)
    seg_tempo = np.array([DEFAULT_TEMPO] + [v for _, v in tempos], np.float64)
    seg_sec = np.concatenate([[0.0], np.cumsum(np.diff(seg_tick) * seg_tempo[:-1])]) / 1e6 / division
    k = np.searchsorted(seg_tick, ticks, side="right") - 1
    return seg_sec[k] + (ticks - seg_tick[k]) * seg_tempo[k] / 1e6 / division, f"{division} ticks per beat"


def read_smf(path) -> SmfEvents:
    """Read a standard MIDI file; raise MidiFileError (what and where) or OSError (cannot open)."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise MidiFileError(f"{size} bytes, more than the {MAX_FILE_BYTES >> 20} MiB an automation file may have")
    with open(path, "rb") as f:
        b = f.read()
    fmt, ntracks, division, i = _header(b)
    out = (array("q"), array("B"), array("i"))
    markers: list[str] = []
    tempos: list = []
    found = 0
    while i + 8 <= len(b):
        kind, length = b[i:i + 4], int.from_bytes(b[i + 4:i + 8], "big")
        body = i + 8
        if body + length > len(b):
            raise MidiFileError(f"truncated: chunk {kind!r} at byte {i} says {length} bytes, {len(b) - body} follow")
        if kind == b"MTrk":
            _track(b, body, body + length, out, markers, tempos)
            found += 1
        i = body + length
    if found < ntracks:
        raise MidiFileError(f"truncated: the header says {ntracks} tracks, the file holds {found}")
    del b
    ticks = np.frombuffer(out[0], np.int64) if len(out[0]) else np.zeros(0, np.int64)
    order = np.argsort(ticks, kind="stable")
    seconds, div = _tick_seconds(ticks[order].astype(np.float64), division, tempos)
    status = (np.frombuffer(out[1], np.uint8) if len(out[1]) else np.zeros(0, np.uint8))[order]
    data = (np.frombuffer(out[2], np.int32) if len(out[2]) else np.zeros(0, np.int32))[order]
    return SmfEvents(np.minimum(seconds, MAX_SECONDS), status, data, markers, fmt, div)

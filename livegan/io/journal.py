"""Performance-log journal: the take's control events on disk as the show goes, so a crash loses none.

``TAKE.journal`` sits beside ``TAKE.wav`` while the take records: a header
line, then one line per event in the order ``PerfLog`` took them::

    livegan journal 1 rate 48000 take 0
    96000 176 20 64

(output frame, status, data 1, data 2: ``PerfLog``'s rows, markers included).
``Journal.flush`` appends the new rows and hands them to the OS (a SIGKILL
loses nothing written; a power cut may lose what the OS had not yet
stored). At the take's end the ``.mid`` is written and the journal removed;
one left behind is an unfinished take, and ``read_journal`` (what ``livegan
render --automation TAKE.journal`` uses) gives the same events the ``.mid``
would have held. The reader takes numbers only. A journal whose header is
not one is refused with one line naming the file; after a good header every
row that is a valid event is kept, and any other row (garbage, a status or
marker the log never writes, a frame no MIDI file can hold) is skipped with
one warning saying how many and where the first was: a crash's leftovers are
recovered, not refused for one bad line. A last line cut short by the crash
is ignored.

Threads: the writer runs on perform's main (control) thread, never the audio thread.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile

import numpy as np

from livegan.errors import CLIError, shown
from livegan.io.markers import MIX_ROW, mix_row_ok
from livegan.io.model_marker import SWAP_ROW, row_ok
from livegan.io.perflog import MAX_LATENT
from livegan.model import MAX_BPM, MIN_BPM, SAMPLERATE_RANGE
from livegan.model_knobs import MAX_KNOBS

MAGIC = "livegan journal 1"
MAX_LINE = 200  # a valid line is under 80 characters
_INT_MAX = 1 << 62
_MAX_DELTA = 0x0FFFFFF0  # ticks between two events: a MIDI file's 4-byte delta time (0x0FFFFFFF), less rounding
_INT = re.compile(rb"-?[0-9]{1,19}")


def journal_path(take: str) -> str:
    return os.path.splitext(str(take))[0] + ".journal"


class Journal:
    """Append-only event journal of one take. Thread: main (perform's control thread)."""

    def __init__(self, path: str, perflog, take_start: int):
        self.path, self.perflog, self.done = path, perflog, 0
        self.error = None
        self.f = open(path, "x", encoding="ascii")  # never over another take's journal
        self.f.write(f"{MAGIC} rate {int(perflog.sample_rate)} take {int(take_start)}\n")
        self.flush()

    def flush(self) -> int:
        """Append the events logged since the last flush; returns how many. A write error is kept in
        ``error`` and stops the journal (the events stay in memory for the ``.mid``)."""
        if self.error is not None or self.f is None:
            return 0
        rows = self.perflog.rows_since(self.done)
        try:
            if len(rows):
                self.f.write("".join(f"{a} {b} {c} {d}\n" for a, b, c, d in rows.tolist()))
            self.f.flush()
        except OSError as e:
            self.error = e
            return 0
        self.done += len(rows)
        return len(rows)

    def close(self, remove: bool) -> None:
        """Close it; ``remove`` once the ``.mid`` holds the same events."""
        if self.f is not None:
            try:
                self.f.close()
            except OSError as e:
                self.error = self.error or e
            self.f = None
        if remove:
            os.remove(self.path)


def _bad(path, lineno, why):
    return CLIError(f"journal {path}: line {lineno}: {why}")


def _row_ok(f: int, s: int, d1: int, d2: int) -> bool:
    """Whether (frame, status, d1, d2) is an event ``PerfLog`` writes, with values its file can hold."""
    if not 0 <= f < _INT_MAX:
        return False
    if 0x80 <= s < 0xF0 or s in (0xFA, 0xFB, 0xFC):  # channel messages; start, continue, stop
        return 0 <= d1 < 128 and 0 <= d2 < 128
    if s == 0x100:  # tempo: BPM x 1000 in 14-bit halves
        return 0 <= d1 < 1 << 14 and 0 <= d2 < 1 << 14 and MIN_BPM <= ((d1 << 14) | d2) / 1000.0 <= MAX_BPM
    if s == 0x101:  # locate: beat x 1e6, engine frame
        return abs(d1) < _INT_MAX and 0 <= d2 < _INT_MAX
    if s == 0x104:  # loop: target beat + 1 (-1: as soon as ready) | a set's track << 44, the state's frame
        return 0 <= d1 < _INT_MAX and 0 <= d2 < _INT_MAX
    if s == 0x105:  # one float of a found base z: index | size << 16 | track << 32, the float32's bits
        return 0 <= d1 & 0xFFFF < (d1 >> 16) & 0xFFFF <= MAX_LATENT and 0 <= d1 >> 32 < 16 and 0 <= d2 < 1 << 32
    if s == SWAP_ROW:  # a hot swap's bytes (``livegan.swap``)
        return row_ok(d1, d2)
    if s == 0x107:  # a live set's tracks played without their effects
        return d1 == 0 and d2 == 0
    if s == MIX_ROW:  # a live fader / mute / solo change (``livegan.io.markers.mix_row``)
        return mix_row_ok(d1, d2)
    if s == 0x106:  # how many named knobs the generic patch played first (frame 0)
        return 0 <= d1 <= MAX_KNOBS and d2 == 0
    return s == 0x102 and d1 in (0, 1) and d2 == 0  # run 0 | 1


def _reachable(rows: np.ndarray, start: int, rate: int, path) -> np.ndarray:
    """(n,) bool: the rows a MIDI file can hold. Its events, the take marker at ``start`` among them, follow
    each other from tick 0 by delta times of at most ``_MAX_DELTA`` ticks: a row further on than that from
    the one before (a frame a bad write made huge) cannot be written, and is dropped."""
    from livegan.io.perflog import timing_for

    tempo, tpb = timing_for(rate)
    max_gap = int(_MAX_DELTA * rate * tempo / 1e6 / tpb)  # frames one delta time spans
    keep = np.ones(len(rows), bool)
    if np.all(np.diff(np.sort(np.concatenate([[0, start], rows[:, 0]]))) <= max_gap):  # a take's journal
        return keep
    last, placed = 0, False
    for i in np.argsort(rows[:, 0], kind="stable"):
        f = int(rows[i, 0])
        if not placed and start <= f and start - last <= max_gap:
            last, placed = start, True
        if f - last > max_gap:
            keep[i] = False
        else:
            last = f
    if not placed and start - last > max_gap:
        raise _bad(path, 1, f"take start {start} lies further after its events than a MIDI file can hold")
    return keep


def read_journal_rows(path, warn=None) -> tuple[int, int, np.ndarray]:
    """(sample rate, take start frame, rows (n, 4) int64) of a journal. A bad header is a CLIError
    naming the file; bad rows are skipped, and ``warn`` (default: stderr) gets one line saying how
    many and the first one's line number."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CLIError(f"journal {path}: cannot be read ({e.strerror or e})") from None
    lines = data.split(b"\n")
    lines.pop()  # what follows the last newline: a line the crash cut short (or nothing)
    if not lines:
        raise _bad(path, 1, f"not a livegan journal (it does not start with '{MAGIC}')")
    head = lines[0].decode("ascii", "replace").split()
    if " ".join(head[:3]) != MAGIC or len(head) != 7 or head[3] != "rate" or head[5] != "take" \
            or not head[4].isdigit() or not head[6].isdigit() or len(lines[0]) > MAX_LINE:
        raise _bad(path, 1, f"not a livegan journal (it does not start with '{MAGIC} rate R take F')")
    rate, start = int(head[4]), int(head[6])
    if not SAMPLERATE_RANGE[0] <= rate <= SAMPLERATE_RANGE[1] or start >= _INT_MAX:
        raise _bad(path, 1, f"sample rate {rate} or take start {start} out of range")
    rows = np.zeros((len(lines) - 1, 4), np.int64)  # arrays, not row objects: a long show has millions
    where = np.zeros(len(lines) - 1, np.int64)  # the line number of each row
    n, bad = 0, []
    for lineno, line in enumerate(lines[1:], 2):
        p = line.split()
        v = [int(x) for x in p] if len(line) <= MAX_LINE and len(p) == 4 and all(_INT.fullmatch(x) for x in p) \
            else None
        if v is not None and _row_ok(*v):
            rows[n], where[n], n = v, lineno, n + 1
        else:
            bad.append(lineno)
    rows, where = rows[:n], where[:n]
    keep = _reachable(rows, start, rate, path)
    bad += where[~keep].tolist()
    if bad:
        say = warn or (lambda m: print(f"warning: {m}", file=sys.stderr))
        say(f"skipped {len(bad)} bad line{'s' if len(bad) > 1 else ''} of {shown(str(path))} "
            f"(first at line {min(bad)})")
    return rate, start, rows[keep]


def read_journal(path, sample_rate: int, warn=None) -> list:
    """A journal -> [(frame, mido message)], exactly as ``read_perflog`` reads the ``.mid`` its take
    would have written at stop (it is written through the same ``PerfLog.save``). ``warn``: as
    ``read_journal_rows``."""
    from livegan.io.perflog import PerfLog, read_perflog
    from livegan.io.smf import MidiFileError

    rate, start, rows = read_journal_rows(path, warn)
    log = PerfLog(rate)
    for r in rows.tolist():
        log.log(r[0], r[1:])
    with tempfile.TemporaryDirectory(prefix="livegan-journal-") as d:
        mid = os.path.join(d, "take.mid")
        try:
            log.save(mid, take_start=start)
            return read_perflog(mid, sample_rate)
        except (MidiFileError, ValueError, OSError) as e:  # every row was checked: this is a bug, still one line
            raise CLIError(f"journal {path}: its events do not make a MIDI file ({e})") from None


def unfinished_takes(folder: str) -> list:
    """Journals left in ``folder`` by takes that never reached their stop (a crash, SIGKILL)."""
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if n.endswith(".journal")]


def automation_events(path, sample_rate: int) -> list:
    """``livegan render --automation``'s events: a ``.journal`` (an unfinished take) or a MIDI file
    (``livegan.io.automation.read_automation``). A missing ``.mid`` whose journal is there says so."""
    from livegan.io.automation import read_automation

    path = str(path)
    if path.endswith(".journal"):
        keep = ("control_change", "note_on", "note_off", "marker", "start", "stop", "continue")
        say = (lambda m: print(f"livegan render: warning: {m}", file=sys.stderr))  # render reads journals
        return [(f, m) for f, m in read_journal(path, sample_rate, say) if m.type in keep]
    if not os.path.exists(path) and os.path.isfile(journal_path(path)):
        raise CLIError(f"automation file {path}: no such file, but the unfinished take's journal is there: "
                       f"--automation {journal_path(path)}")
    return read_automation(path, sample_rate)

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
would have held. The reader takes numbers only, and refuses anything else
with one line naming the file and line; a last line cut short by the crash
is ignored.

Threads: the writer runs on perform's main (control) thread, never the audio thread.
"""
from __future__ import annotations

import os
import re
import tempfile

import numpy as np

from livegan.errors import CLIError

MAGIC = "livegan journal 1"
MAX_LINE = 200  # a valid line is under 80 characters
_STATUS_OK = set(range(0x80, 0x100)) | {0x100, 0x101, 0x102, 0x104}
_INT_MAX = 1 << 62
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


def read_journal_rows(path) -> tuple[int, int, np.ndarray]:
    """(sample rate, take start frame, rows (n, 4) int64) of a journal; CLIError naming the line if
    it is not one."""
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
            or not head[4].isdigit() or not head[6].isdigit():
        raise _bad(path, 1, f"not a livegan journal (it does not start with '{MAGIC} rate R take F')")
    rate, start = int(head[4]), int(head[6])
    if not 1000 <= rate <= 768000 or start >= _INT_MAX:
        raise _bad(path, 1, f"sample rate {rate} or take start {start} out of range")
    rows = np.zeros((len(lines) - 1, 4), np.int64)
    for i, line in enumerate(lines[1:]):
        p = line.split()
        if len(line) > MAX_LINE or len(p) != 4 or not all(_INT.fullmatch(x) for x in p):
            raise _bad(path, i + 2, "expected four integers: frame status data1 data2")
        v = [int(x) for x in p]
        if not 0 <= v[0] < _INT_MAX or v[1] not in _STATUS_OK or max(abs(v[2]), abs(v[3])) >= _INT_MAX:
            raise _bad(path, i + 2, f"frame, status or data out of range: {line.decode('ascii')!r}")
        if v[1] < 0x100 and not (0 <= v[2] < 128 and 0 <= v[3] < 128):
            raise _bad(path, i + 2, f"MIDI data bytes must be 0-127: {line.decode('ascii')!r}")
        rows[i] = v
    return rate, start, rows


def read_journal(path, sample_rate: int) -> list:
    """A journal -> [(frame, mido message)], exactly as ``read_perflog`` reads the ``.mid`` its take
    would have written at stop (it is written through the same ``PerfLog.save``)."""
    from livegan.io.perflog import PerfLog, read_perflog

    rate, start, rows = read_journal_rows(path)
    log = PerfLog(rate)
    for r in rows.tolist():
        log.log(r[0], r[1:])
    with tempfile.TemporaryDirectory(prefix="livegan-journal-") as d:
        mid = os.path.join(d, "take.mid")
        log.save(mid, take_start=start)
        return read_perflog(mid, sample_rate)


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
        return [(f, m) for f, m in read_journal(path, sample_rate) if m.type in keep]
    if not os.path.exists(path) and os.path.isfile(journal_path(path)):
        raise CLIError(f"automation file {path}: no such file, but the unfinished take's journal is there: "
                       f"--automation {journal_path(path)}")
    return read_automation(path, sample_rate)

"""The ``livegan model TRACK SHA256 PATHHEX`` marker of a live set's hot swap (``livegan.swap``): its
rows in ``PerfLog`` (``SWAP_ROW``: d1 = index | payload bytes << 16 | track << 32, d2 = 6 payload bytes; the
payload is the file's SHA-256, then the logged path's bytes, so a path of any characters survives the
log's integer rows and the MIDI file's marker text), and the marker read back. Pure; any thread."""
from __future__ import annotations

import os

SWAP_ROW = 0x108
ROW_BYTES = 6


def log_model(perflog, frame: int, track: int, logged: str, sha: str) -> None:
    """A ``livegan model TRACK SHA PATHHEX`` marker as ``SWAP_ROW`` rows kept together. Any producer."""
    payload = bytes.fromhex(sha) + os.fsencode(logged)
    n = len(payload)
    rows = [(i | n << 16 | int(track) << 32, int.from_bytes(payload[i * ROW_BYTES:(i + 1) * ROW_BYTES]
                                                            .ljust(ROW_BYTES, b"\0"), "big"))
            for i in range(-(-n // ROW_BYTES))]
    perflog.rows_together(frame, SWAP_ROW, rows)


class ModelRows:
    """``PerfLog.save``'s reader of ``SWAP_ROW`` rows: ``take`` returns the marker's text at its last row."""

    def __init__(self):
        self.got: list = []

    def take(self, d1: int, d2: int) -> str | None:
        i, n, track = d1 & 0xFFFF, (d1 >> 16) & 0xFFFF, d1 >> 32
        self.got = self.got + [d2] if i == len(self.got) else ([d2] if i == 0 else [])
        if not self.got or len(self.got) * ROW_BYTES < n:
            return None
        payload = b"".join(int(v).to_bytes(ROW_BYTES, "big") for v in self.got)[:n]
        self.got = []
        return f"livegan model {track} {payload[:32].hex()} {payload[32:].hex()}"


def row_ok(d1: int, d2: int) -> bool:
    """Whether a journal row could be a ``SWAP_ROW`` row."""
    return 0 <= d1 & 0xFFFF <= (d1 >> 16) & 0xFFFF and 32 < (d1 >> 16) & 0xFFFF and 0 <= d1 >> 32 < 16 \
        and 0 <= d2 < 1 << (8 * ROW_BYTES)


def marker_model(text: str):
    """(track, SHA-256 hex, the logged path) of a ``livegan model`` marker, else None (malformed too)."""
    p = text.split()
    if len(p) != 5 or p[:2] != ["livegan", "model"]:
        return None
    try:
        track, sha, logged = int(p[2]), bytes.fromhex(p[3]), os.fsdecode(bytes.fromhex(p[4]))
    except ValueError:
        return None
    return (track, sha.hex(), logged) if 0 <= track < 16 and len(sha) == 32 and logged else None


def model_marker_problem(text: str) -> str | None:
    if marker_model(text) is None:
        return "must be 'livegan model TRACK SHA256 PATH' with TRACK 0-15, a 64-digit SHA-256 and the path in hex"
    return None

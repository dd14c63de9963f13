"""The ``livegan mix TRACK GAIN_MDB MUTE SOLO`` marker: a live fader / mute / solo change of a set's track,
as a performance log row, its text and back (``livegan.io.perflog`` writes it, ``livegan.control.set_mix``
logs it, ``livegan.mix_replay`` plays it). Pure; any thread."""
from __future__ import annotations

MIX_ROW = 0x10A  # a ``PerfLog`` row: a live fader / mute / solo change (``livegan mix``)
MIX_MDB = (-60000, 12000)  # a fader's range in milli-dB (``livegan.set_file.GAIN_DB``)


def mix_row(track: int, gain_mdb: int, mute: bool, solo: bool) -> list:
    """The ``PerfLog.log`` message of ``livegan mix TRACK GAIN_MDB MUTE SOLO``: d1 = track | mute << 4 |
    solo << 5, d2 = the gain in milli-dB (whole numbers: the render sets the very same gain)."""
    return [MIX_ROW, int(track) | int(bool(mute)) << 4 | int(bool(solo)) << 5, int(gain_mdb)]


def mix_row_ok(d1: int, d2: int) -> bool:
    return 0 <= d1 < 64 and MIX_MDB[0] <= d2 <= MIX_MDB[1]


def mix_text(d1: int, d2: int) -> str:
    return f"livegan mix {int(d1) & 15} {int(d2)} {int(d1) >> 4 & 1} {int(d1) >> 5 & 1}"


def mix_problem(p: list) -> str | None:
    """Why the split text ``p`` of a ``livegan mix`` marker cannot be played, or None (ValueError: not numbers)."""
    if (len(p) != 6 or not 0 <= int(p[2]) < 16 or not MIX_MDB[0] <= int(p[3]) <= MIX_MDB[1]
            or p[4] not in ("0", "1") or p[5] not in ("0", "1")):
        return (f"must be 'livegan mix TRACK GAIN_MDB MUTE SOLO' with TRACK 0-15, GAIN_MDB a whole number of "
                f"milli-dB in [{MIX_MDB[0]}, {MIX_MDB[1]}], MUTE and SOLO 0 or 1")
    return None


def marker_mix(text: str):
    """(track, gain in milli-dB, mute, solo) of a ``livegan mix`` marker's text, else None."""
    p = text.split()
    if len(p) != 6 or p[:2] != ["livegan", "mix"]:
        return None
    return int(p[2]), int(p[3]), p[4] == "1", p[5] == "1"

"""The ``livegan ...`` markers of a performance log, read back one message at a time (``livegan.io.perflog``
writes them; ``livegan.offline`` and ``livegan.set_render`` act on them). Pure; any thread."""
from __future__ import annotations

import numpy as np


def marker_transport(msg):
    """("locate", beat, frame) or ("run", bool) for a ``livegan locate`` / ``livegan run`` marker, else None."""
    if getattr(msg, "type", None) != "marker":
        return None
    p = msg.text.split()
    if len(p) == 4 and p[:2] == ["livegan", "locate"]:
        return "locate", float(p[2]), int(p[3])
    if len(p) == 3 and p[:2] == ["livegan", "run"]:
        return "run", p[2] == "1"
    return None


def marker_take(msg) -> int | None:
    """The frame of a ``livegan take FRAME`` marker (where a take's audio starts), else None."""
    if getattr(msg, "type", None) == "marker" and msg.text.startswith("livegan take "):
        return int(msg.text.split()[-1])
    return None


def marker_loop(msg):
    """(target beat, state frame) of a ``livegan loop BEAT FRAME [TRACK]`` marker, else None."""
    if getattr(msg, "type", None) == "marker" and msg.text.startswith("livegan loop "):
        p = msg.text.split()
        return int(p[2]), int(p[3])
    return None


def marker_track(text: str) -> int:
    """The track a ``livegan loop BEAT FRAME [TRACK]`` marker names (0 without one: a one-model show's)."""
    p = text.split()
    return int(p[4]) if len(p) == 5 else 0


MAX_LATENT = 4096  # the most floats a ``livegan base`` marker holds (a model's latent is far smaller)


def marker_base_z(text: str):
    """The z (D,) float32 of a ``livegan base`` marker's HEX, or None where it is not one."""
    if not 8 <= len(text) <= 8 * MAX_LATENT or len(text) % 8:
        return None
    try:
        z = np.frombuffer(bytes.fromhex(text), ">f4").astype(np.float32)
    except ValueError:
        return None
    return z if np.all(np.isfinite(z)) else None


def marker_base(msg):
    """The z of a ``livegan base HEX [TRACK]`` marker (a found point or a scene's became the base z), else None."""
    if getattr(msg, "type", None) == "marker" and msg.text.startswith("livegan base "):
        return marker_base_z(msg.text.split()[2])
    return None


def marker_base_track(text: str) -> int:
    """The track a ``livegan base HEX [TRACK]`` marker names (0 without one: a one-model show's or track 0's)."""
    p = text.split()
    return int(p[3]) if len(p) == 4 else 0


def marker_bpm(msg) -> float | None:
    """The tempo of a ``livegan tempo`` marker, else None."""
    if getattr(msg, "type", None) == "marker" and msg.text.startswith("livegan tempo "):
        return float(msg.text.split()[-1])
    return None


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

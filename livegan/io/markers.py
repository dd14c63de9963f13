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


from livegan.audio.mix_marks import (  # noqa: E402,F401 (the mix marker: audio/ and control/ write it too)
    MIX_MDB,
    MIX_ROW,
    marker_mix,
    mix_problem,
    mix_row,
    mix_row_ok,
    mix_text,
)

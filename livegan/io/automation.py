"""Automation for an offline render: a MIDI file (or code) -> [(frame, message)] in time order.

Thread: main (the render loop's caller).
"""
from __future__ import annotations

import os

import numpy as np

from livegan.errors import CLIError


class Msg:
    """A minimal MIDI message for automation built in code (mido messages work too)."""

    def __init__(self, type, **kw):
        self.type = type
        self.__dict__.update(kw)


def read_automation(path, sample_rate: int):
    """Standard MIDI file -> [(frame, mido message)] for CCs, notes, tempo markers and
    start/stop/continue, in time order: a ``livegan.io.perflog.LogEvents`` sequence (arrays, each
    message made when asked for, so memory stays bounded for any number of events).
    Every problem with the file is one CLIError line naming it."""
    from livegan.io.perflog import read_log_events
    from livegan.io.smf import MidiFileError

    if os.path.isdir(path):
        raise CLIError(f"automation file {path}: is a folder, not a MIDI file")
    if not os.path.isfile(path):
        raise CLIError(f"automation file {path}: no such file")
    try:
        return read_log_events(path, sample_rate)
    except MidiFileError as e:
        raise CLIError(f"automation file {path}: {e}") from None
    except OSError as e:
        raise CLIError(f"automation file {path}: cannot read it ({e.strerror or e})") from None


def take_start(events) -> int:
    """The frame a take's recording starts at (a ``livegan take FRAME`` marker), else 0."""
    from livegan.io.perflog import marker_take

    if hasattr(events, "status"):  # a LogEvents: look at its markers only
        rows = (events[int(i)] for i in np.flatnonzero(events.status == 0xFF))
    else:
        rows = iter(events)
    return next((f for f in (marker_take(m) for _, m in rows) if f is not None), 0)

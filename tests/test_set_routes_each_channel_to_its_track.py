"""A set routes a performance log's events by channel (``livegan.set_render._routed``): a track hears
the channel messages of its own channel and every marker, except a one-model show's ``livegan loop`` /
``livegan base`` markers, which only the first track hears, and a live set's ``livegan loop BEAT FRAME
TRACK`` markers, which only that track hears; a log read from a file (``LogEvents``,
arrays) is routed exactly as the same events as a list."""
from __future__ import annotations

import mido
import pytest

from livegan.io.automation import read_automation
from livegan.set_render import _routed


def _log(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("marker", text="livegan tempo 130", time=0))
    tr.append(mido.Message("control_change", channel=0, control=20, value=10, time=10))
    tr.append(mido.Message("control_change", channel=1, control=20, value=20, time=10))
    tr.append(mido.MetaMessage("marker", text="livegan loop 4 1000", time=10))
    tr.append(mido.MetaMessage("marker", text="livegan loop 8 2000 1", time=0))
    tr.append(mido.Message("note_on", channel=1, note=37, velocity=90, time=10))
    tr.append(mido.Message("note_on", channel=8, note=38, velocity=90, time=10))
    tr.append(mido.MetaMessage("marker", text="livegan base 3f800000", time=10))
    tr.append(mido.MetaMessage("marker", text="livegan run 0", time=10))
    path = tmp_path / "log.mid"
    mid.save(path)
    return read_automation(str(path), 48000)


def _key(events):
    return [(f, m.type, getattr(m, "channel", None), getattr(m, "text", None)) for f, m in events]


@pytest.mark.parametrize("channel,track", [(1, 0), (2, 1), (9, 2), (2, 0), (16, 3)])
def test_each_track_hears_its_channel_and_the_shared_markers(tmp_path, channel, track):
    log = _log(tmp_path)
    assert hasattr(log, "status")  # read as arrays
    got = _key(_routed(log, channel, track))
    want = _key(_routed(list(log), channel, track))
    assert got == want
    assert all(c in (None, channel - 1) for _, _, c, _ in got)
    texts = [t for _, _, _, t in got if t]
    assert "livegan tempo 130" in texts and "livegan run 0" in texts
    first = track == 0
    assert ("livegan loop 4 1000" in texts) == first and ("livegan base 3f800000" in texts) == first
    assert ("livegan loop 8 2000 1" in texts) == (track == 1)  # a live set's loop marker: its track's only
    n_voice = {1: 1, 2: 2, 9: 1, 16: 0}[channel]
    assert sum(c is not None for _, _, c, _ in got) == n_voice

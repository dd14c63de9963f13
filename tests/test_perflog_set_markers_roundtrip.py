"""A live set's own markers survive the performance log's file and its crash journal: a loop marker names
its track (``livegan loop BEAT FRAME TRACK``, track 0 written as a one-model show writes it), the
``livegan effects 0`` marker (the set played dry) is kept, and both come back from a take's ``.mid`` and
from its ``.journal`` (the re-render of a take a crash left unfinished) alike; a track out of range is
refused by the reader."""
from __future__ import annotations

import mido
import pytest

from livegan.io.journal import Journal, read_journal
from livegan.io.perflog import PerfLog, read_log_events, read_perflog
from livegan.io.smf import MidiFileError


def _texts(events):
    return [m.text for _, m in events if getattr(m, "type", None) == "marker"]


def test_track_loops_and_the_effects_marker_come_back_from_mid_and_journal(tmp_path):
    log = PerfLog(48000)
    log.effects_off()
    j = Journal(str(tmp_path / "take.journal"), log, 0)
    log.loop(1000, 4, 900, track=0)
    log.loop(1200, -1, 1100, track=3)
    log.loop(1300, 8, 1250, track=15)
    j.flush()
    log.save(tmp_path / "take.mid")
    want = ["livegan effects 0", "livegan loop 4 900", "livegan loop -1 1100 3", "livegan loop 8 1250 15"]
    assert _texts(read_perflog(tmp_path / "take.mid", 48000)) == want
    assert _texts(read_journal(str(tmp_path / "take.journal"), 48000)) == want
    ev = read_log_events(tmp_path / "take.mid", 48000)
    assert [ev.markers[int(d)] for d in ev.data[ev.status == 0xFF]] == want


def test_a_loop_marker_naming_track_16_is_refused(tmp_path):
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("marker", text="livegan loop 4 900 16", time=0))
    mid.save(tmp_path / "bad.mid")
    with pytest.raises(MidiFileError, match="TRACK 0-15"):
        read_log_events(tmp_path / "bad.mid", 48000)

"""``render --set`` applies a hand-written log's ``livegan mix TRACK GAIN_MDB MUTE SOLO`` markers at their
frames (``livegan.mix_replay.Replay``): the muted track's stem is the unchanged render up to the
marker's frame, ramps down over ``RAMP_MS`` from it and is exact silence after; a fader marker scales the
other track from its frame on; the other frames are those of a render without the markers, bit for bit.
The markers come back from the log's file and its journal as written."""
from __future__ import annotations

import mido
import numpy as np
import soundfile as sf

from livegan.audio.mix_stage import ramp_frames
from livegan.io.journal import Journal, read_journal
from livegan.io.markers import mix_row
from livegan.io.perflog import PerfLog, read_log_events
from livegan.set_file import load_set
from livegan.set_render import render_set

RATE = 48000
SECONDS = 3.0
MUTE_AT, FADE_AT = 50_000, 70_001


def _read(path):
    return sf.read(str(path), dtype="float32", always_2d=True)[0]


def test_a_mix_marker_silences_its_track_from_its_frame(tmp_path, tiny_model):
    path = tmp_path / "s.toml"
    path.write_text('[master]\nlimiter = false\n'
                    f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\n[[track]]\nname = "b"\nmodel = "{tiny_model}"\n')
    s = load_set(path)
    log = PerfLog(RATE)
    log.log(MUTE_AT, mix_row(0, 0, True, False))
    log.log(FADE_AT, mix_row(1, -6000, False, False))
    log.save(tmp_path / "take.mid")
    events = read_log_events(tmp_path / "take.mid", RATE)
    texts = [events.markers[int(d)] for d in events.data[events.status == 0xFF]]
    assert texts == ["livegan mix 0 0 1 0", "livegan mix 1 -6000 0 0"]
    j = Journal(str(tmp_path / "j.journal"), log, 0)
    j.flush()
    assert [m.text for _, m in read_journal(str(tmp_path / "j.journal"), RATE)
            if m.type == "marker"] == texts
    render_set(s, events, str(tmp_path / "mixed.wav"), SECONDS, RATE, blocksize=256, stems=str(tmp_path / "m"))
    render_set(s, [], str(tmp_path / "plain.wav"), SECONDS, RATE, blocksize=256, stems=str(tmp_path / "p"))
    a, a0 = _read(tmp_path / "m" / "a.wav"), _read(tmp_path / "p" / "a.wav")
    b, b0 = _read(tmp_path / "m" / "b.wav"), _read(tmp_path / "p" / "b.wav")
    ramp = ramp_frames(RATE)
    assert np.max(np.abs(a0[MUTE_AT + ramp:])) > 0.01  # there was sound to silence
    assert a[:MUTE_AT].tobytes() == a0[:MUTE_AT].tobytes()
    assert np.all(np.abs(a[MUTE_AT:MUTE_AT + ramp]) <= np.abs(a0[MUTE_AT:MUTE_AT + ramp]))  # a ramp down
    assert np.all(a[MUTE_AT + ramp - 1:] == 0.0)
    assert b[:FADE_AT].tobytes() == b0[:FADE_AT].tobytes()
    g = np.float32(10 ** (-6 / 20))
    assert np.allclose(b[FADE_AT + ramp:], b0[FADE_AT + ramp:] * g, atol=1e-6)
    mix = _read(tmp_path / "mixed.wav")
    assert np.max(np.abs(mix.astype(np.float64) - a - b)) < 1e-6  # the stems still sum to the mix


def test_a_malformed_mix_marker_is_one_line(tmp_path):
    import pytest

    from livegan.io.smf import MidiFileError

    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("marker", text="livegan mix 0 -90000 1 0", time=0))
    mid.save(tmp_path / "bad.mid")
    with pytest.raises(MidiFileError, match="GAIN_MDB"):
        read_log_events(tmp_path / "bad.mid", RATE)

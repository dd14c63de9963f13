"""Nothing learned is lost when the patch path fails at the end; MIDI files of every division read
on the right frames."""
from __future__ import annotations

import struct

from livegan.commands.learn import save_learned
from livegan.control.patch import Knob, Patch, load_patch
from livegan.io.perflog import read_perflog


def test_learned_patch_goes_to_a_fallback_file_when_its_path_fails_at_the_end(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    p = Patch(name="mine", knobs=[Knob(cc=20, direction=0, name="dir 1")], seed_notes=[36])
    gone = tmp_path / "gone" / "mine.toml"  # a folder that vanished while the performer was learning
    where = save_learned(p, str(gone))
    assert where != str(gone) and where.startswith(str(tmp_path))
    back = load_patch(where)
    assert [(k.cc, k.direction) for k in back.knobs] == [(20, 0)] and back.seed_notes == [36]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(gone) in err[0] and where in err[0]


def test_learned_patch_is_written_where_asked_when_it_can_be(tmp_path):
    p = Patch(name="mine", knobs=[Knob(cc=20, direction=0)])
    assert save_learned(p, str(tmp_path / "p.toml")) == str(tmp_path / "p.toml")
    assert load_patch(tmp_path / "p.toml").knobs[0].cc == 20


def _smf(division, track):
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, division) + b"MTrk" + struct.pack(">I", len(track)) + track)


def test_smpte_division_events_land_on_their_frames(tmp_path):
    # 25 fps x 40 ticks per frame = 1000 ticks per second: 16 ticks = 16 ms = 768 frames at 48 kHz;
    # a set_tempo changes nothing in SMPTE time; 484 ticks later is 0.5 s
    track = b"\x00\xb0\x01\x40" + b"\x00\xff\x51\x03\x0f\x42\x40" + b"\x10\xb0\x02\x41" + b"\x83\x64\x90\x24\x64" \
        + b"\x00\xff\x2f\x00"
    path = tmp_path / "smpte.mid"
    path.write_bytes(_smf(0xE728, track))
    got = read_perflog(path, 48000)
    assert [(f, m.type) for f, m in got] == [(0, "control_change"), (768, "control_change"), (24000, "note_on")]


def test_tempo_map_in_the_first_track_times_events_of_the_second(tmp_path):
    # type 1: track 0 holds the tempo map (120 BPM, then 60 BPM from beat 1), track 1 the events
    t0 = b"\x00\xff\x51\x03\x07\xa1\x20" + b"\x83\x60\xff\x51\x03\x0f\x42\x40" + b"\x00\xff\x2f\x00"
    t1 = b"\x83\x60\xb0\x01\x01" + b"\x83\x60\xb0\x01\x02" + b"\x00\xff\x2f\x00"  # beats 1 and 2 (480 ticks each)
    data = b"MThd" + struct.pack(">IHHH", 6, 1, 2, 480)
    for t in (t0, t1):
        data += b"MTrk" + struct.pack(">I", len(t)) + t
    (tmp_path / "map.mid").write_bytes(data)
    got = read_perflog(tmp_path / "map.mid", 48000)
    assert [f for f, _ in got] == [24000, 72000]  # 0.5 s, then 0.5 s + 1 s

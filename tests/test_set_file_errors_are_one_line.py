"""Every problem in a set file is one ``SetError`` line naming the file, the track and the field
(``livegan.set_file``); a good set loads with its defaults (channel = track number, generic patch)."""
from __future__ import annotations

import pytest

from livegan.errors import CLIError, SetError
from livegan.set_file import MAX_TRACKS, load_set, track_patch

BEATS = 'model = "builtin:beats"'

CASES = {  # id -> (set file text, words the line must hold)
    "missing model": ('[[track]]\nname = "a"\nmodel = "gone.ts"\n', ["track[0] (a).model", "gone.ts", "no such file"]),
    "model is a folder": ('[[track]]\nname = "a"\nmodel = "."\n', ["track[0] (a).model", "folder"]),
    "no model": ('[[track]]\nname = "a"\n', ["track[0] (a).model", "missing"]),
    "unknown builtin": ('[[track]]\nname = "b"\nmodel = "builtin:harp"\n',
                        ["track[0] (b).model", "builtin:beats", "builtin:bass"]),
    "duplicate names": (f'[[track]]\nname = "a"\n{BEATS}\n[[track]]\nname = "a"\n{BEATS}\n',
                        ["track[1] (a).name", "track[0] (a)"]),
    "two tracks on one channel": (f'[[track]]\nname = "a"\n{BEATS}\nchannel = 2\n[[track]]\nname = "b"\n{BEATS}\n',
                                  ["track[1] (b).channel", "channel 2", "track[0] (a)"]),
    "1000 tracks": ("".join(f'[[track]]\nname = "t{i}"\n{BEATS}\n' for i in range(1000)),
                    ["track:", "1000 tracks", f"at most {MAX_TRACKS}"]),
    "bad pan": (f'[[track]]\nname = "a"\n{BEATS}\npan = 2\n', ["track[0] (a).pan", "[-1.0, 1.0]", "2"]),
    "pan is text": (f'[[track]]\nname = "a"\n{BEATS}\npan = "left"\n', ["track[0] (a).pan", "'left'"]),
    "unknown key": (f'[[track]]\nname = "a"\n{BEATS}\nvolume = 3\n', ["track[0] (a).volume", "unknown key"]),
    "unknown top key": (f'tempo = 120\n[[track]]\nname = "a"\n{BEATS}\n', ["tempo", "unknown key"]),
    "unknown master key": (f'[master]\nceiling = 0\n[[track]]\nname = "a"\n{BEATS}\n', ["master.ceiling"]),
    "master limiter not bool": (f'[master]\nlimiter = 1\n[[track]]\nname = "a"\n{BEATS}\n', ["master.limiter"]),
    "gain out of range": (f'[[track]]\nname = "a"\n{BEATS}\ngain = 40\n', ["track[0] (a).gain", "[-60.0, 12.0]"]),
    "channel 17": (f'[[track]]\nname = "a"\n{BEATS}\nchannel = 17\n', ["track[0] (a).channel", "[1, 16]"]),
    "bad name": (f'[[track]]\nname = "Drums!"\n{BEATS}\n', ["track[0].name", "a-z"]),
    "no name": (f'[[track]]\n{BEATS}\n', ["track[0].name"]),
    "no tracks": ("[master]\ngain = -3\n", ["track", "at least one"]),
    "track not a table": ("track = [1, 2]\n", ["track[0]", "table"]),
    "missing patch": (f'[[track]]\nname = "a"\n{BEATS}\npatch = "none.toml"\n', ["track[0] (a).patch", "none.toml"]),
    "bad patch": (f'[[track]]\nname = "a"\n{BEATS}\npatch = "bad.toml"\n',
                  ["track[0] (a).patch", "bad.toml", "knob[0].cc"]),
    "not TOML": ("[[track]\n", ["(syntax)", "not valid TOML"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_set_file_problem_is_one_line_naming_track_and_field(tmp_path, case):
    text, words = CASES[case]
    (tmp_path / "bad.toml").write_text('[[knob]]\ncc = 300\ndirection = 1\n')
    path = tmp_path / "my.set.toml"
    path.write_text(text)
    with pytest.raises(SetError) as e:
        load_set(path)
    msg = str(e.value)
    assert isinstance(e.value, CLIError)  # printed by the CLI as one line, exit code 2
    assert "\n" not in msg, msg
    assert msg.startswith(f"{path}: "), msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_missing_set_file_is_one_line(tmp_path):
    with pytest.raises(SetError, match="no such file"):
        load_set(tmp_path / "nope.toml")


def test_good_set_loads_with_defaults(tmp_path):
    (tmp_path / "p.toml").write_text('[midi]\nchannel = 9\n')
    path = tmp_path / "s.toml"
    path.write_text(f'[master]\nlimiter = false\ngain = -3\n[[track]]\nname = "drums"\n{BEATS}\n'
                    f'[[track]]\nname = "pad"\n{BEATS}\npatch = "p.toml"\npan = -0.5\ngain = -6\nchannel = 5\n'
                    f'[[track]]\nname = "bass_2"\n{BEATS}\nmute = true\n')
    s = load_set(path)
    assert (s.limiter, s.gain_db, s.name) == (False, -3.0, "s")
    assert [t.name for t in s.tracks] == ["drums", "pad", "bass_2"]
    assert [t.channel for t in s.tracks] == [1, 5, 3]  # default: the track's number
    assert s.tracks[0].patch.name == "generic" and s.tracks[0].patch_path is None
    assert (s.tracks[1].pan, s.tracks[1].gain_db, s.tracks[2].mute) == (-0.5, -6.0, True)
    assert s.tracks[1].patch.channel == 9 and track_patch(s.tracks[1]).channel == 5  # the track's channel rules
    assert s.tracks[0].model == s.tracks[1].model

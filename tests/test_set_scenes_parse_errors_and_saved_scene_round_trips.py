"""A set file's ``[[scene]]`` tables (``livegan.set_scenes``): they parse into each named track's part; every
problem is one ``SetError`` line naming the scene, the track and the field (a scene naming no track of the set
included); what needs the model (a z's size, a knob's name) is one line too; and a scene made live, appended
to the file's text, loads again as it was saved with the file's own text and comments kept."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from livegan.errors import CLIError, SetError
from livegan.set_file import load_set
from livegan.set_scenes import check_scenes, replace_scene, scene_text

TRACKS = ('# my set: a comment to keep\n[[track]]\nname = "drums"\nmodel = "builtin:beats"\n'
          '[[track]]\nname = "bass"\nmodel = "builtin:beats"\n')
GOOD = TRACKS + ('[[scene]]\nname = "verse"\n[scene.drums]\nseed = 3\nknobs = { 0 = 1.5, bright = -1 }\ngain = -3\n'
                 '[scene.bass]\nz = [0.1, -0.2, 0.3]\nmute = true\n'
                 '[[scene]]\nname = "drop"\n[scene.bass]\nmute = false\n')

BAD = {  # id -> (scene text, words the line must hold)
    "unknown track": ('[[scene]]\nname = "v"\n[scene.keys]\nseed = 1\n', ["scene[0] (v).keys", "drums, bass"]),
    "bad gain": ('[[scene]]\nname = "v"\n[scene.bass]\ngain = 40\n', ["scene[0] (v).bass.gain", "[-60.0, 12.0]"]),
    "seed not whole": ('[[scene]]\nname = "v"\n[scene.drums]\nseed = 1.5\n', ["scene[0] (v).drums.seed"]),
    "mute not bool": ('[[scene]]\nname = "v"\n[scene.drums]\nmute = 1\n', ["scene[0] (v).drums.mute", "true or false"]),
    "z not numbers": ('[[scene]]\nname = "v"\n[scene.drums]\nz = [1, "a"]\n', ["scene[0] (v).drums.z[1]"]),
    "z and seed": ('[[scene]]\nname = "v"\n[scene.drums]\nseed = 2\nz = [1.0]\n', ["scene[0] (v).drums.z", "not both"]),
    "knob too far": ('[[scene]]\nname = "v"\n[scene.drums]\nknobs = { 1 = 99 }\n', ["scene[0] (v).drums.knobs.1"]),
    "unknown field": ('[[scene]]\nname = "v"\n[scene.drums]\npan = 1\n', ["scene[0] (v).drums.pan", "unknown key"]),
    "second scene": ('[[scene]]\nname = "a"\n[[scene]]\nname = "b"\n[scene.bass]\ngain = "loud"\n',
                     ["scene[1] (b).bass.gain"]),
    "scene not table": ('scene = [1]\n', ["scene[0]", "table"]),
}


def test_scenes_parse(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(GOOD)
    s = load_set(p)
    assert [sc.name for sc in s.scenes] == ["verse", "drop"]
    v = s.scenes[0]
    assert v.parts[0].seed == 3 and v.parts[0].knobs == {0: 1.5, "bright": -1.0} and v.parts[0].gain_db == -3.0
    assert v.parts[0].mute is None and v.parts[1].z == [0.1, -0.2, 0.3] and v.parts[1].mute is True
    assert list(s.scenes[1].parts) == [1] and s.scenes[1].parts[1].mute is False


@pytest.mark.parametrize("case", sorted(BAD))
def test_scene_errors_are_one_line_naming_scene_track_field(tmp_path, case):
    text, words = BAD[case]
    p = tmp_path / "s.toml"
    p.write_text(text + TRACKS if text.startswith("scene =") else TRACKS + text)  # (a key before the tables)
    with pytest.raises(SetError) as e:
        load_set(p)
    line = str(e.value)
    assert "\n" not in line and str(p) in line
    for w in words:
        assert w in line, (w, line)


def test_what_needs_the_model_is_one_line(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(GOOD)
    s = load_set(p)
    meta = SimpleNamespace(latent_dim=3, directions=[[1, 0, 0]], knobs=[SimpleNamespace(name="bright")])
    with pytest.raises(CLIError, match=r"scene\[0\] \(verse\)\.drums\.knobs\.0|directions 0-0") as e:
        check_scenes(s, [SimpleNamespace(latent_dim=3, directions=[], knobs=[]), meta])
    assert "\n" not in str(e.value)
    with pytest.raises(CLIError, match=r"scene\[0\] \(verse\)\.bass\.z: has 3 numbers.* have 4"):
        four = SimpleNamespace(latent_dim=4, directions=[[1, 0, 0, 0]], knobs=[SimpleNamespace(name="bright")])
        check_scenes(s, [four, SimpleNamespace(latent_dim=4, directions=[], knobs=[])])
    check_scenes(s, [meta, meta])  # all known: no error


def test_a_saved_scene_loads_again_as_saved(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(GOOD)
    z = [0.123456789012345, -1.5e-7, 2.0]
    replace_scene(str(p), 2, scene_text('made "live" 3', {"drums": {"z": z, "gain": -4.25, "mute": False},
                                                       "bass": {"z": [0.0, 1.0, -1.0], "mute": True}}))
    text = p.read_text()
    assert text.startswith(GOOD) and "# my set: a comment to keep" in text
    s = load_set(p)
    sc = s.scenes[-1]
    assert len(s.scenes) == 3 and sc.name == 'made "live" 3'
    assert sc.parts[0].z == z and sc.parts[0].gain_db == -4.25 and sc.parts[0].mute is False
    assert sc.parts[1].z == [0.0, 1.0, -1.0] and sc.parts[1].mute is True and sc.parts[1].gain_db is None
    assert [x.name for x in s.scenes[:2]] == ["verse", "drop"]
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]  # no temporary file left


def test_a_scene_saved_over_an_existing_one_replaces_only_its_table(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(GOOD + "# a last comment\n")
    replace_scene(str(p), 0, scene_text("verse", {"bass": {"z": [1.0, 2.0, 3.0], "gain": 1.5, "mute": False}}))
    text = p.read_text()
    assert "# my set: a comment to keep" in text and text.endswith("# a last comment\n")
    s = load_set(p)
    assert [sc.name for sc in s.scenes] == ["verse", "drop"]
    assert list(s.scenes[0].parts) == [1] and s.scenes[0].parts[1].z == [1.0, 2.0, 3.0]
    assert s.scenes[1].parts[1].mute is False and "seed = 3" not in text

"""Every patch error names the file, the key and the problem; shipped patches load and round-trip."""
from __future__ import annotations

import glob
import os

import pytest

from livegan.control.patch import check_against_model, default_patch_path, load_patch, patches_dir
from livegan.control.patch_write import dumps_patch, save_patch
from livegan.errors import CLIError, PatchError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FX = '[[effect]]\ntype = "filter"\n'

# (TOML text, key the error must name, words the problem must contain)
CASES = [
    ("name = 3", "name", "non-empty string"),
    ("bogus = 1", "bogus", "unknown key"),
    ("[midi]\nchanel = 1", "midi.chanel", "unknown key"),
    ("[midi]\nchannel = 17", "midi.channel", "[1, 16]"),
    ("[midi]\nchannel = \"all\"", "midi.channel", "omni"),
    ("[midi]\nport = 1.5", "midi.port", "name substring"),
    ("[midi]\ntakeover = \"soft\"", "midi.takeover", "jump, pickup"),
    ("[transport]\ntempo = 1000", "transport.tempo", "[20, 400]"),
    ("[transport]\ntempo = \"fast\"", "transport.tempo", "model"),
    ("[transport]\nquantize = \"3bars\"", "transport.quantize", "must be one of"),
    ("[transport]\ncrossfade_ms = 1", "transport.crossfade_ms", "[4, 2000]"),
    ("[transport]\nclock = \"osc\"", "transport.clock", "internal, midi, link"),
    ("[[knob]]\ndirection = 1", "knob[0].cc", "is missing"),
    ("[[knob]]\ncc = 300\ndirection = 1", "knob[0].cc", "[0, 127]"),
    ("[[knob]]\ncc = 1", "knob[0]", "exactly one of"),
    ("[[knob]]\ncc = 1\ndirection = 1\neffect = \"filter.q\"\n" + FX, "knob[0]", "exactly one of"),
    ("[[knob]]\ncc = 1\ndirection = 0", "knob[0].direction", "[1, 4096]"),
    ("[[knob]]\ncc = 1\ndirection = 1\nrange = [1, 1]", "knob[0].range", "two different numbers"),
    ("[[knob]]\ncc = 1\ndirection = 1\nrange = [-50, 50]", "knob[0].range", "sigmas"),
    ("[[knob]]\ncc = 1\ndirection = 1\ntakeover = \"x\"", "knob[0].takeover", "jump, pickup"),
    ("[[knob]]\ncc = 1\ndirection = 1\nname = 5", "knob[0].name", "string"),
    ("[[knob]]\ncc = 1\ndirection = 1\ncolour = 5", "knob[0].colour", "unknown key"),
    ("[[knob]]\ncc = 1\neffect = \"filter.warmth\"\n" + FX, "knob[0].effect", "must be one of"),
    ("[[knob]]\ncc = 1\neffect = \"delay.mix\"\n" + FX, "knob[0].effect", "has no delay"),
    ("[[knob]]\ncc = 1\neffect = \"filter.q\"\nrange = [0, 50]\n" + FX, "knob[0].range", "within filter.q"),
    ("[[knob]]\ncc = 1\ndirection = 1\n[[knob]]\ncc = 1\ndirection = 2", "knob[1].cc", "already used"),
    ("knob = 3", "knob", "array of tables"),
    ("[[effect]]\nmix = 0.5", "effect[0].type", "is missing"),
    ("[[effect]]\ntype = \"chorus\"", "effect[0].type", "must be one of"),
    ("[[effect]]\ntype = \"drive\"\ncutoff = 100.0", "effect[0].cutoff", "not a parameter of drive"),
    ("[[effect]]\ntype = \"filter\"\ncutoff = 5.0", "effect[0].cutoff", "[40.0, 18000.0]"),
    ("[[effect]]\ntype = \"filter\"\nbypass = 1", "effect[0].bypass", "true or false"),
    ("[[effect]]\ntype = \"filter\"\nmode = \"notch\"", "effect[0].mode", "lowpass"),
    ("[[effect]]\ntype = \"drive\"\nmode = \"lowpass\"", "effect[0].mode", "only a filter"),
    ("[[effect]]\ntype = \"drive\"\n[[effect]]\ntype = \"drive\"", "effect", "drive twice"),
    ("[[effect]]\ntype = \"drive\"\nspeed = 1", "effect[0].speed", "unknown key"),
    ("effect = 1", "effect", "array of tables"),
    ("[[button]]\naction = \"save\"", "button[0].cc", "is missing"),
    ("[[button]]\ncc = 1", "button[0].action", "is missing"),
    ("[[button]]\ncc = 1\naction = \"explode\"", "button[0].action", "must be one of"),
    ("[[button]]\ncc = 1\naction = \"bypass.reverb\"", "button[0].action", "has none"),
    ("[[knob]]\ncc = 1\ndirection = 1\n[[button]]\ncc = 1\naction = \"save\"", "button[0].cc", "already used"),
    ("button = 2", "button", "array of tables"),
    ("[notes]\nseeds = 36", "notes.seeds", "list of note numbers"),
    ("[notes]\nseeds = [36, 200]", "notes.seeds[1]", "[0, 127]"),
    ("[notes]\nseeds = [36, 36]", "notes.seeds", "twice"),
    ("[notes]\nseeds = [36]\nsnapshots = [36, 37]", "notes.snapshots", "also a seed note"),
    ("[notes]\npads = [1]", "notes.pads", "unknown key"),
    ("[morph]\nfrom = 1", "morph.cc", "is missing"),
    ("[morph]\ncc = 1", "morph", "at least two snapshot pads"),
    ("[notes]\nsnapshots = [1, 2]\n[morph]\ncc = 1\nto = 3", "morph.to", "[1, 2]"),
    ("[notes]\nsnapshots = [1, 2]\n[morph]\ncc = 1\nfrom = 2\nto = 2", "morph.to", "must differ"),
    ("[notes]\nsnapshots = [1, 2]\n[[knob]]\ncc = 7\ndirection = 1\n[morph]\ncc = 7", "morph.cc", "already used"),
    ("[morph]\ncc = 1\nspeed = 2", "morph.speed", "unknown key"),
    ("midi = 3", "midi", "must be a table"),
    ("this is = not toml [", "(syntax)", "not valid TOML"),
]


@pytest.mark.parametrize("text,key,words", CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_each_patch_error_names_file_key_and_problem(tmp_path, text, key, words):
    f = tmp_path / "bad.toml"
    f.write_text(text + "\n")
    with pytest.raises(PatchError) as ei:
        load_patch(f)
    e = ei.value
    assert e.key == key, str(e)
    assert words in e.problem, str(e)
    assert str(e).startswith(f"{f}: {key}: ")
    assert "\n" not in str(e)
    assert isinstance(e, CLIError)  # the CLI prints it as one line, exit 2


def test_missing_patch_file_is_named(tmp_path):
    with pytest.raises(PatchError, match="nope.toml: \\(file\\): no such file"):
        load_patch(tmp_path / "nope.toml")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(patches_dir(), "*.toml"))))
def test_shipped_patches_load_and_round_trip(tmp_path, path):
    p = load_patch(path)
    assert len([k for k in p.knobs if k.direction is not None]) >= 4
    out = tmp_path / "copy.toml"
    save_patch(p, out)
    q = load_patch(out)
    q.path = p.path
    assert q == p


def test_at_least_four_patches_ship_including_generic():
    names = {os.path.basename(f) for f in glob.glob(os.path.join(patches_dir(), "*.toml"))}
    assert len(names) >= 4 and "generic.toml" in names
    assert os.path.basename(default_patch_path()) == "generic.toml" and os.path.isfile(default_patch_path())


def test_knobs_beyond_the_models_directions_are_dropped_with_one_warning_each():
    p = load_patch(default_patch_path())
    n_dir = sum(k.direction is not None for k in p.knobs)
    q, warnings = check_against_model(p, 4)
    assert sum(k.direction is not None for k in q.knobs) == 4
    assert len(warnings) == n_dir - 4 and all("direction" in w and "ignored" in w for w in warnings)
    assert len(p.knobs) == len(q.knobs) + len(warnings)  # the original is untouched


def test_written_toml_escapes_strings(tmp_path):
    p = load_patch(default_patch_path())
    p.name = 'odd "name" \\ here'
    save_patch(p, tmp_path / "x.toml")
    assert load_patch(tmp_path / "x.toml").name == p.name
    assert "odd" in dumps_patch(p)

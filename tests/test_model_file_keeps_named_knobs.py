"""The optional ``knobs`` field of a model file (livegan/model_knobs.py): written by ``livegan knobs``,
export and wrap, read back as it was, shown by ``info``; a broken one is one error naming the field, and a
file without it loads as before with its directions, sigmas and sound unchanged."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import run_cli

from livegan.errors import ModelFileError
from livegan.model import load_model, read_meta, seed_z, validate_meta
from livegan.testing.tiny import make_tiny_generator, tiny_meta
from train.export import save_loop_model


def _knob(name="brightness", d=8, **over):
    k = dict(name=name, direction=np.eye(1, d).ravel().tolist(), sigma=0.5, spearman=0.97, crosstalk=0.2)
    k.update(over)
    return k


def test_knobs_round_trip_through_the_file(tmp_path):
    meta = tiny_meta(knobs=[_knob(), _knob("loudness", direction=np.eye(1, 8, 4).ravel().tolist())])
    save_loop_model(make_tiny_generator(), tmp_path / "k.ts", meta, quiet=True)
    m = read_meta(tmp_path / "k.ts")
    assert [k.name for k in m.knobs] == ["brightness", "loudness"]
    assert m.knobs[1].direction[4] == 1.0 and m.knobs[0].sigma == 0.5 and m.knobs[0].spearman == 0.97


def test_a_file_without_knobs_reads_as_before(tiny_model):
    m = read_meta(tiny_model)
    assert m.knobs == () and "knobs" not in m.to_json_dict()


@pytest.mark.parametrize("knobs, field", [
    ("brightness", "'knobs'"),
    ([_knob()] * 65, "'knobs'"),
    ([{"name": "brightness"}], "'knobs[0]'"),
    ([_knob(name="Bright ness")], "'knobs[0].name'"),
    ([_knob(name="/livegan/x")], "'knobs[0].name'"),
    ([_knob(), _knob()], "'knobs[1].name'"),
    ([_knob(direction=[1.0] * 7)], "'knobs[0].direction'"),
    ([_knob(direction=[1.0] * 8)], "'knobs[0].direction'"),
    ([_knob(direction=[float("nan")] + [0.0] * 7)], "'knobs[0].direction'"),
    ([_knob(direction=["1"] + [0.0] * 7)], "'knobs[0].direction'"),
    ([_knob(sigma=0)], "'knobs[0].sigma'"),
    ([_knob(sigma=True)], "'knobs[0].sigma'"),
    ([_knob(spearman=1.5)], "'knobs[0].spearman'"),
    ([_knob(crosstalk=-1)], "'knobs[0].crosstalk'"),
])
def test_a_broken_knobs_field_is_one_error_naming_it(knobs, field):
    raw = json.loads(json.dumps(dict(tiny_meta(knobs=knobs), format=1)))
    with pytest.raises(ModelFileError) as e:
        validate_meta(raw, "m.ts")
    assert field in str(e.value) and "\n" not in str(e.value)


def test_info_on_a_file_with_a_broken_knob_is_one_line(tmp_path):
    meta = dict(tiny_meta(knobs=[_knob(sigma=-1)]), format=1)
    path = tmp_path / "bad.ts"
    torch.jit.save(torch.jit.script(make_tiny_generator()), str(path), _extra_files={"livegan.json": json.dumps(meta)})
    r = run_cli("info", str(path))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "knobs[0].sigma" in r.stderr


def test_livegan_knobs_adds_names_and_changes_nothing_else(tmp_path, tiny_model):
    out = tmp_path / "named.ts"
    r = run_cli("knobs", str(tiny_model), "-o", str(out), "--draws", "256", "--seeds", "6", timeout=300)
    assert r.returncode == 0, r.stderr
    before, after = load_model(tiny_model, device="cpu"), load_model(out, device="cpu")
    assert after.meta.knobs, r.stdout  # the tiny model's z sets sine pitches and levels: brightness at least
    assert {k.name for k in after.meta.knobs} <= {"brightness", "weight", "loudness", "noisiness", "density"}
    old, new = before.meta.to_json_dict(), after.meta.to_json_dict()
    assert new.pop("knobs") and new == old  # directions, sigmas and the rest unchanged
    z = np.stack([seed_z(s, 8, "uniform") for s in range(4)])
    assert np.array_equal(before.generate(z), after.generate(z))
    info = run_cli("info", str(out), "--runs", "1")
    assert all(k.name in info.stdout for k in after.meta.knobs) and "cross-talk" in info.stdout
    js = json.loads(run_cli("info", str(out), "--runs", "1", "--json").stdout)
    assert [k["name"] for k in js["knobs"]] == [k.name for k in after.meta.knobs]
    assert all(0.9 <= k["spearman"] <= 1 and k["crosstalk"] <= 0.5 for k in js["knobs"])


def test_livegan_knobs_on_a_missing_file_is_one_line(tmp_path):
    r = run_cli("knobs", str(tmp_path / "missing.ts"), "-o", str(tmp_path / "y.ts"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "missing.ts" in r.stderr
    assert not (tmp_path / "y.ts").exists()

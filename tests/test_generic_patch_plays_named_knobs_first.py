"""The generic patch (no ``--patch``) on a model with named knobs: its direction knobs CC 20-27 play the
named knobs first, in the model's order, then the numbered directions 1, 2, ... in the slots left; on a
model without named knobs (the built-in) it maps exactly as its file says. The mapping depends only on
the patch file and the model: ``--patch`` naming the shipped file (by either of its paths) maps the
same, and a copy of it elsewhere is an ordinary patch, played as written."""
from __future__ import annotations

import os
import shutil

import numpy as np

from livegan.control.admission import controller_for
from livegan.control.patch import check_against_model, default_patch_path, load_patch
from livegan.model import default_model_path, read_meta, seed_z, validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_knobs, tiny_meta


def named_meta(names=("weight", "brightness"), **over):
    return validate_meta(dict(tiny_meta(knobs=tiny_knobs(names), latent_dist="normal", **over), format=1))


EIGHT = dict(directions=np.eye(8).tolist(), sigmas=[0.5] * 8)  # eight numbered directions: none dropped


def _map(patch):
    return {k.cc: (k.direction_name or k.direction) for k in patch.knobs if k.effect is None}


def test_cc20_and_21_play_the_two_names_and_cc22_numbered_direction_1():
    meta = named_meta(("brightness", "weight"), **EIGHT)
    parts = build(meta, load_patch(default_patch_path()), 48000, 2, fx=False)
    assert _map(parts.patch) == {20: "brightness", 21: "weight", 22: 0, 23: 1, 24: 2, 25: 3, 26: 4, 27: 5}
    assert parts.warnings == []
    c = parts.controls.c
    base = seed_z(0, 8, "normal")
    c.on_cc(20, 1.0)  # full travel (pick-up from the middle: first meet the knob's value)
    c.on_cc(20, 0.5)
    c.on_cc(20, 1.0)
    np.testing.assert_allclose(c.z() - base, 2.5 * meta.knobs[0].sigma * meta.knobs[0].direction, atol=1e-6)
    c.on_cc(20, 0.5)
    c.on_cc(22, 0.5)
    c.on_cc(22, 1.0)
    np.testing.assert_allclose(c.z() - base, 2.5 * 0.5 * meta.directions[0], atol=1e-6)


def test_on_a_model_without_named_knobs_the_generic_patch_maps_as_its_file_says():
    meta = validate_meta(dict(tiny_meta(**EIGHT), format=1))
    generic = load_patch(default_patch_path())
    _, played, _ = controller_for(generic, meta)
    assert played.knobs == check_against_model(generic, int(meta.directions.shape[0]))[0].knobs
    assert _map(played) == {20 + i: i for i in range(8)} and played.knobs[0].name == "dir 1"


def test_the_builtin_plays_its_names_first_and_a_log_without_them_as_the_file_says():
    meta = read_meta(default_model_path())
    names = [k.name for k in meta.knobs]
    assert len(names) >= 3  # the bar for the built-in model
    generic = load_patch(default_patch_path())
    _, live, _ = controller_for(generic, meta)
    assert _map(live) == {20 + i: (names[i] if i < len(names) else i - len(names)) for i in range(8)}
    _, old, _ = controller_for(generic, meta, named=0)  # the demo's automation, a take from before names
    assert old.knobs == check_against_model(generic, int(meta.directions.shape[0]))[0].knobs
    assert _map(old) == {20 + i: i for i in range(8)}


def test_the_mapping_is_the_patch_files_and_the_models_alone(tmp_path):
    meta = named_meta(("brightness", "weight"), **EIGHT)
    want = _map(controller_for(load_patch(default_patch_path()), meta)[1])
    top = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "patches", "generic.toml")
    assert _map(controller_for(load_patch(top), meta)[1]) == want  # --patch patches/generic.toml
    assert _map(controller_for(load_patch(default_patch_path()), meta)[1]) == want  # again: the same
    copy = tmp_path / "generic.toml"
    shutil.copy(default_patch_path(), copy)
    assert _map(controller_for(load_patch(copy), meta)[1]) == {20 + i: i for i in range(8)}

"""The panel labels a knob on a named direction with its name ("brightness"), not "dir N": a patch's
``direction = "brightness"`` knob, and the generic patch's knobs on a model with named knobs."""
from __future__ import annotations

import numpy as np

from livegan.control.admission import controller_for
from livegan.control.patch import default_patch_path, load_patch, parse_patch
from livegan.io.panel import panel
from livegan.model import validate_meta
from livegan.testing.tiny import tiny_knobs, tiny_meta


def named_meta(names=("weight", "brightness"), **over):
    return validate_meta(dict(tiny_meta(knobs=tiny_knobs(names), latent_dist="normal", **over), format=1))


def patch(*knobs):
    return parse_patch({"knob": [dict(k) for k in knobs]}, "named.toml")


def _rows(controller) -> dict:
    """Panel row text by CC: the knob column as drawn."""
    from rich.console import Console

    console = Console(record=True, width=160, force_terminal=True, color_system=None)
    console.print(panel({}, controller))
    rows = {}
    for line in console.export_text().splitlines():
        parts = line.strip("│ ").split()
        for i, w in enumerate(parts[1:], 1):
            if w.isdigit() and i + 1 < len(parts) and "." in parts[i + 1]:
                rows[int(w)] = " ".join(parts[:i])
                break
    return rows


def test_a_named_knob_is_shown_by_its_name():
    c = controller_for(patch({"cc": 30, "direction": "brightness"}, {"cc": 31, "direction": 2}), named_meta())[0]
    rows = _rows(c)
    assert rows[30] == "brightness" and rows[31] == "dir 2"


def test_the_generic_patch_on_a_named_model_shows_the_names():
    meta = named_meta(("brightness", "weight"), directions=np.eye(8).tolist(), sigmas=[0.5] * 8)
    rows = _rows(controller_for(load_patch(default_patch_path()), meta)[0])
    assert [rows[cc] for cc in range(20, 24)] == ["brightness", "weight", "dir 1", "dir 2"]

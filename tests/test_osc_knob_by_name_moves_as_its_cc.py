"""OSC ``/livegan/knob/NAME`` turns the patch's knob on the model's named knob NAME: it acts and is
logged exactly as that knob's CC (so a take re-renders), on a patch that says ``direction = "brightness"``
and on the generic patch of a model with named knobs; a name the patch has no knob for is rejected and
counted like any bad address, said once per name, and at most ``MAX_SAID_NAMES`` names are ever said."""
from __future__ import annotations

import numpy as np
import pytest

from livegan.control.osc import MAX_SAID_NAMES, OscRejected, OscSource, osc_target
from livegan.control.patch import default_patch_path, load_patch, parse_patch
from livegan.control.sources import Event
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_knobs, tiny_meta
from livegan.testing.wiring import osc_beside_midi

META = validate_meta(dict(tiny_meta(knobs=tiny_knobs(("weight", "brightness")), latent_dist="normal"), format=1))
PATCH = parse_patch({"knob": [{"cc": 31, "direction": 1}, {"cc": 30, "direction": "brightness"}]}, "named.toml")


@pytest.mark.parametrize("patch, cc", [(PATCH, 30), (load_patch(default_patch_path()), 21)])
def test_a_knob_by_name_acts_and_logs_as_its_cc(patch, cc):
    osc = [[], [("/livegan/knob/brightness", [64 / 127])], [("/livegan/knob/brightness", [1.0])]]
    midi = [[], [Event("cc", 0, cc, 64)], [Event("cc", 0, cc, 127)]]
    src, a, log_a, b, log_b = osc_beside_midi(META, patch, osc, midi, 3)
    assert src.rejected == 0 and src.accepted == 2
    assert len(log_a.rows()) == 2 and np.array_equal(log_a.rows(), log_b.rows())  # the same CC at the same frames
    za, zb = a.controls.c.z(), b.controls.c.z()
    assert np.array_equal(za, zb)
    k = META.knobs[1]  # brightness: moved to the top of its range
    hi = next(x for x in a.patch.knobs if x.direction_name == "brightness").range[1]
    np.testing.assert_allclose(za - a.controls.c.base, hi * k.sigma * k.direction, atol=1e-6)


def test_a_name_the_patch_lacks_is_rejected_as_an_address():
    played = build(META, PATCH, 48000, 2, fx=False).patch
    assert osc_target(played, "/livegan/knob/brightness", [1.0]).event == Event("knob", 0, 1, 127)
    for name in ("weight", "noisiness", "x"):  # weight: the model has it, the patch plays no knob on it
        with pytest.raises(OscRejected) as e:
            osc_target(played, f"/livegan/knob/{name}", [1.0])
        assert e.value.kind == "address" and e.value.name == name and "brightness" in str(e.value)


def test_each_unknown_name_is_said_once_and_at_most_max_said_names_are_said():
    src = OscSource().configure(build(META, PATCH, 48000, 2, fx=False).patch)
    said: list = []
    src.warn = said.append
    names = [f"n{i}" for i in range(MAX_SAID_NAMES + 10)]
    for name in names + names[:5]:
        src.take(f"/livegan/knob/{name}", [0.5])
    src.take("/livegan/knob/99", [0.5])  # another kind (range) is still said
    assert src.rejected == len(names) + 5 + 1 and src.accepted == 0
    assert src.poll() == []
    assert len(said) == MAX_SAID_NAMES + 1
    assert all(sum(f"'{n}'" in s for s in said) == 1 for n in names[:MAX_SAID_NAMES])
    assert not any(f"'{n}'" in s for s in said for n in names[MAX_SAID_NAMES:])

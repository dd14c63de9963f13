"""A patch knob may name one of the model's named knobs (``direction = "brightness"``): turned, it moves
z along that named direction by sigma * value, exactly as a numbered knob moves along its direction; a
name the model lacks is one warning line (the patch, ``knob[i].direction``, the name, the names the model
has) and the knob is dropped; a numbered knob moves z to the same bits whether or not the model also has
named knobs."""
from __future__ import annotations

import numpy as np
import pytest

from livegan.control.admission import EngineControls, controller_for
from livegan.control.patch import parse_patch
from livegan.errors import PatchError
from livegan.model import seed_z, validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_knobs, tiny_meta


def named_meta(names=("weight", "brightness"), **over):
    """The tiny shape (4 numbered directions, latent 8) on a normal latent, with named knobs."""
    return validate_meta(dict(tiny_meta(knobs=tiny_knobs(names), latent_dist="normal", **over), format=1))


def patch(*knobs, path="named.toml"):
    raw = {"midi": {"takeover": "jump"}, "knob": [dict(k) for k in knobs]}
    return parse_patch(raw, path)


def _z(ec):
    return ec.z(None, ec.snapshot())


def test_a_knob_by_name_moves_z_by_sigma_times_value_along_that_direction():
    meta = named_meta()
    bright = meta.knobs[1]
    ec = EngineControls(controller_for(patch({"cc": 30, "direction": "brightness", "range": [-2.0, 2.0]}),
                                       meta)[0])
    base = seed_z(0, 8, "normal")
    np.testing.assert_array_equal(_z(ec), base)  # neutral at first
    ec.cc(30, 127)  # full travel: +2 sigmas along brightness
    np.testing.assert_allclose(_z(ec) - base, 2.0 * bright.sigma * bright.direction, atol=1e-6)
    ec.cc(30, 0)
    np.testing.assert_allclose(_z(ec) - base, -2.0 * bright.sigma * bright.direction, atol=1e-6)
    moved = _z(ec) - base  # not weight's direction, nor a numbered one
    assert abs(float(np.dot(moved, meta.knobs[0].direction))) < 0.99 * float(np.linalg.norm(moved))


def test_named_and_numbered_knobs_add():
    meta = named_meta()
    p = patch({"cc": 30, "direction": "weight", "range": [-1.0, 1.0]}, {"cc": 31, "direction": 2})
    ec = EngineControls(controller_for(p, meta)[0])
    ec.cc(30, 127)
    ec.cc(31, 127)
    want = (seed_z(0, 8, "normal") + meta.knobs[0].sigma * meta.knobs[0].direction
            + 2.0 * meta.sigmas[1] * meta.directions[1])
    np.testing.assert_allclose(_z(ec), want, atol=1e-6)


def test_a_numbered_knob_moves_z_to_the_same_bits_with_or_without_named_knobs():
    p = patch({"cc": 31, "direction": 2}, {"cc": 32, "direction": 4, "range": [-2.5, 2.5]})
    plain, named = named_meta(names=()), named_meta()
    a, b = EngineControls(controller_for(p, plain)[0]), EngineControls(controller_for(p, named)[0])
    for cc, v in ((31, 100), (32, 3), (31, 17)):
        a.cc(cc, v)
        b.cc(cc, v)
        assert np.array_equal(_z(a), _z(b))


def test_a_name_the_model_lacks_is_one_warning_and_the_knob_is_dropped():
    meta = named_meta()
    p = patch({"cc": 31, "direction": 1}, {"cc": 30, "direction": "noisiness"}, path="mine.toml")
    c, played, warnings = controller_for(p, meta)
    assert [k.cc for k in played.knobs] == [31]
    assert warnings == ["mine.toml: knob[1].direction: is 'noisiness' but the model has weight, brightness; "
                        "CC 30 is ignored"]
    before = c.version
    assert c.on_cc(30, 1.0) is False and c.version == before  # the CC moves nothing
    parts = build(meta, p, 48000, 2, fx=False)  # what perform and render say
    assert sum("'noisiness'" in w for w in parts.warnings) == 1 and len(parts.warnings) == 1
    _, _, none = controller_for(p, named_meta(names=()))
    assert none == ["mine.toml: knob[1].direction: is 'noisiness' but the model has no named knobs; "
                    "CC 30 is ignored"]


@pytest.mark.parametrize("direction", ["Bright", "2nd", "a b", "", "x" * 33])
def test_a_direction_that_is_neither_a_number_nor_a_knob_name_is_one_error(direction):
    with pytest.raises(PatchError) as e:
        patch({"cc": 30, "direction": direction})
    assert "knob[0].direction" in str(e.value) and "knob name" in str(e.value) and "\n" not in str(e.value)

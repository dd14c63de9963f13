"""Knobs -> latent point: ranges in sigmas, takeover, seeds, snapshots, morph (pure, no MIDI)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from livegan.audio.fx import Effect
from livegan.control.controller import Controller
from livegan.control.mapping import fx_knob_to_param, knob_to_range, latent_point, morph, neutral_knob, takeover
from livegan.control.patch import Button, Knob, Patch
from livegan.model import seed_z

D, K = 8, 4


def _meta(seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    return q[:K].astype(np.float32), np.array([2.0, 1.0, 0.5, 0.25], np.float32)


def _patch(takeover_mode="pickup"):
    return Patch(takeover=takeover_mode,
                 knobs=[Knob(cc=20, direction=0, range=(-2.0, 2.0)), Knob(cc=21, direction=1, range=(0.0, 3.0)),
                        Knob(cc=74, effect="filter.cutoff", range=(40.0, 18000.0))],
                 buttons=[Button(cc=64, action="save"), Button(cc=30, action="bypass.filter"),
                          Button(cc=31, action="record")],
                 effects=[Effect(type="filter", params={"cutoff": 1000.0, "q": 0.7, "mix": 1.0})],
                 seed_notes=[36, 37], snapshot_notes=[48, 49, 50], morph_cc=1, morph_pads=(1, 2))


def test_knob_range_is_linear_and_clipped():
    assert knob_to_range(0.0, -2, 2) == -2 and knob_to_range(1.0, -2, 2) == 2
    assert knob_to_range(0.5, -2, 2) == 0 and knob_to_range(7.0, -2, 2) == 2
    assert neutral_knob(-2, 2) == 0.5 and neutral_knob(0, 3) == 0.0 and neutral_knob(1, 3) == 0.0


def test_log_effect_knob_is_exponential():
    assert fx_knob_to_param(0, 40, 18000, "log") == pytest.approx(40)
    assert fx_knob_to_param(1, 40, 18000, "log") == pytest.approx(18000)
    assert fx_knob_to_param(0.5, 40, 18000, "log") == pytest.approx(math.sqrt(40 * 18000))


def test_offset_moves_z_by_sigma_times_direction():
    dirs, sig = _meta()
    base = np.zeros(D, np.float32)
    z = latent_point(base, dirs, sig, np.array([1.5, 0, 0, 0], np.float32), "normal")
    assert np.allclose(z, 1.5 * 2.0 * dirs[0], atol=1e-6)
    assert np.dot(z, dirs[0]) == pytest.approx(3.0, abs=1e-5)  # 1.5 sigmas of a direction whose sigma is 2
    zu = latent_point(np.full(D, 0.9, np.float32), dirs, sig, np.array([5, 5, 5, 5], np.float32), "uniform")
    assert zu.max() <= 1.0 and zu.min() >= -1.0


def test_pickup_ignores_knob_until_it_crosses_the_value():
    v, eng = 0.5, False
    v, eng = takeover("pickup", v, eng, math.nan, 0.1)
    assert (v, eng) == (0.5, False)
    v, eng = takeover("pickup", v, eng, 0.1, 0.3)
    assert (v, eng) == (0.5, False)
    v, eng = takeover("pickup", v, eng, 0.3, 0.6)  # crossed 0.5 between two messages
    assert (v, eng) == (0.6, True)
    v, eng = takeover("pickup", v, eng, 0.6, 0.2)  # engaged: follows
    assert (v, eng) == (0.2, True)
    assert takeover("pickup", 0.5, False, math.nan, 0.505) == (0.505, True)  # met within eps


def test_jump_follows_at_once():
    assert takeover("jump", 0.5, False, math.nan, 0.1) == (0.1, True)


def test_seed_is_reproducible_and_in_distribution():
    a, b = seed_z(3, 64, "uniform"), seed_z(3, 64, "uniform")
    assert np.array_equal(a, b) and not np.array_equal(a, seed_z(4, 64, "uniform"))
    assert a.min() >= -1 and a.max() < 1 and a.dtype == np.float32
    n = seed_z(3, 4096, "normal")
    assert abs(n.std() - 1) < 0.05


def test_morph_ends_are_exact_and_slerp_keeps_norm():
    za, zb = seed_z(1, 256, "normal"), seed_z(2, 256, "normal")
    assert np.allclose(morph(za, zb, 0, "normal"), za, atol=1e-5)
    assert np.allclose(morph(za, zb, 1, "normal"), zb, atol=1e-5)
    mid = morph(za, zb, 0.5, "normal")
    lerp = 0.5 * (za + zb)
    assert abs(np.linalg.norm(mid) - np.linalg.norm(za)) < 0.05 * np.linalg.norm(za)
    assert np.linalg.norm(lerp) < 0.8 * np.linalg.norm(za)  # what slerp avoids
    ua, ub = seed_z(1, 8, "uniform"), seed_z(2, 8, "uniform")
    assert np.allclose(morph(ua, ub, 0.25, "uniform"), 0.75 * ua + 0.25 * ub)


def test_controller_pickup_after_recall_does_not_jump():
    dirs, sig = _meta()
    c = Controller(_patch("jump"), dirs, sig, "normal")
    c.on_cc(20, 1.0)  # +2 sigmas on direction 0
    z_moved = c.z()
    assert c.on_note(48, 100) == "save 1"  # empty pad: save
    c.on_cc(20, 0.0)
    assert not np.allclose(c.z(), z_moved)
    assert c.on_note(48, 100) == "recall 1"
    assert np.allclose(c.z(), z_moved, atol=1e-5)  # the knob went neutral, the offset lives in the base


def test_controller_pickup_mode_waits_for_the_knob():
    dirs, sig = _meta()
    c = Controller(_patch("pickup"), dirs, sig, "normal")
    z0, v0 = c.z(), c.version
    assert not c.on_cc(20, 0.9)  # knob far from its value 0.5: nothing moves
    assert np.array_equal(c.z(), z0) and c.version == v0
    assert not c.on_cc(20, 0.52)  # closer, not there yet
    c.on_cc(20, 0.3)  # crossed 0.5: picked up
    assert c.version > v0 and not np.array_equal(c.z(), z0)


def test_controller_seed_notes_save_modifier_and_morph():
    dirs, sig = _meta()
    c = Controller(_patch("jump"), dirs, sig, "normal")
    assert c.on_note(37, 90) == "seed 1"
    assert np.allclose(c.z(), seed_z(1, D, "normal"), atol=1e-6)
    c.on_note(48, 100)  # save pad 1 = seed 1
    c.on_note(36, 100)
    c.on_note(49, 100)  # save pad 2 = seed 0
    c.on_cc(64, 1.0)  # save held: a filled pad is overwritten, not recalled
    assert c.on_note(48, 100) == "save 1"
    c.on_cc(64, 0.0)
    assert c.on_note(36, 0) is None  # note-off velocity 0 does nothing
    c.on_note(37, 100)
    c.on_note(48, 100)  # recall pad 1
    c.on_cc(1, 0.0)
    assert np.allclose(c.z(), c.snapshots[0], atol=1e-5)
    c.on_cc(1, 1.0)
    assert np.allclose(c.z(), c.snapshots[1], atol=1e-5)


def test_controller_effect_knob_and_buttons():
    dirs, sig = _meta()
    c = Controller(_patch("jump"), dirs, sig, "normal")
    assert c.fx_params()["filter.cutoff"] == pytest.approx(1000.0, rel=1e-6)  # the patch's value at start
    v0 = c.version
    c.on_cc(74, 0.0)
    assert c.fx_params()["filter.cutoff"] == pytest.approx(40.0) and c.version == v0  # no new loop for fx
    assert c.bypass["filter"] is False
    c.on_cc(30, 1.0)
    c.on_cc(30, 0.0)
    assert c.bypass["filter"] is True
    c.on_cc(31, 1.0)
    assert c.actions == ["record"]
    assert c.on_cc(99, 0.3) is False  # unmapped CC is ignored

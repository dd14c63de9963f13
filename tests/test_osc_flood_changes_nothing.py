"""A flood of 10 000 malformed OSC packets (bytes that are not OSC, unknown addresses, wrong types,
NaN, values and indices out of range) sent from a second process to ``livegan perform --osc`` during
a take changes nothing: every packet is counted in ``osc_rejected`` and none acts (no event in the
performance log, and the take is bit for bit the take of the same show with no OSC traffic), the show
plays to its end, the take has every frame the engine played, and the xruns and late callback
starts are those of the quiet show, within the machine's noise (measured beside it, not assumed zero).
"""
from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from livegan.io.automation import read_automation
from livegan.testing.osc_sender import perform_with_osc

SECONDS, PACKETS = 5.0, 10_000
NOISE = 2  # xruns (and late starts) a show here may have more than another: the box's own jitter


def _show(tiny_model, tmp_path, name, flood=None):
    rc, err, (s_rc, _, s_err) = perform_with_osc(
        tiny_model, tmp_path, ["--record", tmp_path / f"{name}.wav", "--seconds", SECONDS,
                               "--stats-json", tmp_path / f"{name}.json"], flood=flood)
    assert s_rc == 0, s_err
    assert rc == 0, err
    rec, _ = sf.read(str(tmp_path / f"{name}.wav"), dtype="float32")
    return json.loads((tmp_path / f"{name}.json").read_text()), rec, err


def test_ten_thousand_malformed_packets_change_nothing_and_lose_no_audio(tiny_model, jack_server, tmp_path):
    quiet, quiet_rec, _ = _show(tiny_model, tmp_path, "quiet")
    flood, flood_rec, err = _show(tiny_model, tmp_path, "flood", {"n": PACKETS, "at": 1.0, "over": 3.0, "seed": 7})
    keys = ("xruns", "late_starts", "start_delay_ms_max", "osc_rejected")
    print("quiet:", {k: quiet.get(k) for k in keys}, "flood:", {k: flood.get(k) for k in keys})
    assert flood["osc_rejected"] == PACKETS and flood["osc_accepted"] == 0, flood
    assert quiet["osc_rejected"] == quiet["osc_accepted"] == 0
    # one line per kind, and one per knob name the patch lacks (the flood's /livegan/knob/x)
    assert len([ln for ln in err.splitlines() if "warning: OSC:" in ln]) <= 6, err
    assert len(read_automation(str(tmp_path / "flood.mid"), 48000)) == 0
    assert flood["frames_recorded"] == flood_rec.shape[0] == round(SECONDS * 48000) and flood["ring_drops"] == 0
    assert flood_rec.shape == quiet_rec.shape and np.array_equal(flood_rec, quiet_rec)
    assert flood["xruns"] <= quiet["xruns"] + NOISE, (quiet, flood)
    assert flood["late_starts"] <= quiet["late_starts"] + NOISE, (quiet, flood)

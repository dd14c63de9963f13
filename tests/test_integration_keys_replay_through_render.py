"""Computer-keyboard play in ``livegan perform`` is logged as MIDI that replays to the same control state.

Keys drive a Controller (pick-up knobs, seeds, the save button, pads) in
MIDI-grid mode and log raw bytes into a PerfLog at frames; the saved file,
read back the way ``livegan render`` reads automation and applied through a
fresh Controller, ends in the same knob values, seed, snapshots and z.
"""
from __future__ import annotations

import numpy as np

from livegan.control.admission import EngineControls
from livegan.control.controller import Controller
from livegan.control.keyboard import KeyboardControl
from livegan.control.patch import check_against_model, default_patch_path, load_patch
from livegan.io.automation import read_automation
from livegan.io.perflog import PerfLog


def _controller():
    p, _ = check_against_model(load_patch(default_patch_path()), 4)
    rng = np.random.default_rng(3)
    dirs, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    return Controller(p, dirs[:4].astype(np.float32), np.full(4, 0.8, np.float32), "normal")


def test_logged_keys_replay_to_the_same_controller_state(tmp_path):
    live = _controller()
    log = PerfLog(48000)
    frame = {"f": 0}
    kb = KeyboardControl(live, log=lambda m: log.log(frame["f"], m), midi_grid=True)
    # turn, seed, save pad 1, turn, save mode + overwrite pad 1, save pad 2, seed, recall pad 1
    # (knobs go neutral, waiting for pick-up), then turn knobs 1 and 4 again
    keys = "1]]]]}2[[[[x" + "a" + "3{{{" + "S" + "a" + "S" + "s" + "c" + "a" + "1]]" + "4]"
    versions = []
    for i, k in enumerate(keys):
        frame["f"] = 1000 * (i + 1)
        kb.handle(k)
        versions.append(live.version)
    assert live.value[20] > 0.52 and live.value[23] > 0.5 and live.seed == 2  # the keys did act
    assert live.snapshots[0] is not None and live.snapshots[1] is not None
    path = tmp_path / "perf.mid"
    log.save(path)

    replay = EngineControls(_controller())
    for _, msg in read_automation(str(path), 48000):
        replay.message(msg)
    r = replay.c
    assert {cc: r.value[cc] for cc in r.value} == {cc: live.value[cc] for cc in live.value}
    assert r.seed == live.seed and r.version == live.version
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(r.snapshots, live.snapshots))
    assert np.array_equal(r.z(), live.z()) and np.array_equal(replay.snapshot()[1], live.z())

"""End to end, the issue's measure: a live two-track take on JACK with a hot swap AND a scene change in it
(and knob moves, a mute and a fader move around them, all over OSC) re-renders bit for bit with
``livegan render --set SET --automation TAKE.mid``, mix and both stems. The swap (track 2 to another
model) and the scene (new points on both tracks, the new model's included; faders on the next bar line)
are both in the take's log, the scene after the swap."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.markers import marker_mix
from livegan.testing.osc_sender import perform_with_osc
from livegan.testing.tiny import make_quiet_generator, tiny_knobs, tiny_meta

SR, BPM, SECONDS = 48000, 240.0, 8.0
BAR = SR  # 4 beats at 240 BPM


def sweep(at, address, a, b, dur, n=6):
    return [(at + dur * i / (n - 1), address, [a + (b - a) * i / (n - 1)]) for i in range(n)]


PLAN = (sweep(1.10, "/livegan/track/1/knob/1", 0.5, 1.0, 0.3)
        + [(1.80, "/livegan/track/2/mute", [1]), (2.40, "/livegan/track/2/mute", [0]),
           (2.70, "/livegan/track/2/model", ["half.ts"])]
        + sweep(3.30, "/livegan/track/1/gain", -2.0, -8.0, 0.3)
        + [(4.60, "/livegan/scene", [1])]
        + sweep(6.0, "/livegan/track/2/knob/1", 0.5, 0.9, 0.3))


def test_a_live_take_with_a_hot_swap_and_a_scene_change_re_renders_bit_for_bit(tiny_model, jack_server, tmp_path):
    from train.export import save_loop_model

    save_loop_model(make_quiet_generator(0.5), tmp_path / "half.ts", tiny_meta(name="tiny-half", knobs=tiny_knobs()),
                    quiet=True)
    save_patch(replace(load_patch(default_patch_path()), name="fast", tempo=BPM, quantize="bar"),
               tmp_path / "fast.toml")
    set_path = tmp_path / "two.toml"
    set_path.write_text(f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\npatch = "fast.toml"\n\n'
                        f'[[track]]\nname = "b"\nmodel = "{tiny_model}"\npatch = "fast.toml"\npan = 0.5\n\n'
                        '[[scene]]\nname = "drop"\n[scene.a]\nseed = 3\ngain = -1.5\n'
                        '[scene.b]\nseed = 2\ngain = -4\n')
    rc, err, (s_rc, s_out, s_err) = perform_with_osc(
        None, tmp_path, ["--set", set_path, "--record", tmp_path / "take.wav", "--stems", "--seconds", SECONDS],
        plan=PLAN)
    assert s_rc == 0 and int(s_out) == len(PLAN), s_err
    assert rc == 0 and "Traceback" not in err, err

    events = read_automation(str(tmp_path / "take.mid"), SR)
    marks = [(f, m.text) for f, m in events if m.type == "marker"]
    swap = [f for f, t in marks if t.startswith("livegan model 1 ")]
    scene = [(f, marker_mix(t)) for f, t in marks if t.startswith("livegan mix") and marker_mix(t)[1] in (-1500, -4000)]
    bases = [f for f, t in marks if t.startswith("livegan base ")]
    assert len(swap) == 1 and len(scene) == 2 and len(bases) == 2, marks
    assert swap[0] < min(bases) and scene[0][0] == scene[1][0] and scene[0][0] % BAR == 0  # swap, then the scene

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    assert sr == SR and rec.shape[0] == SECONDS * SR and np.abs(rec).max() > 0.01
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--set", str(set_path), "--automation",
                        str(tmp_path / "take.mid"), "--seconds", repr(SECONDS), "-o", str(tmp_path / "again.wav"),
                        "--stems", str(tmp_path / "again.stems")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "again.wav"), dtype="float32")
    assert again.shape == rec.shape and np.array_equal(again, rec), np.abs(again - rec).max()
    for name in ("a", "b"):
        stem, _ = sf.read(str(tmp_path / "take.stems" / f"{name}.wav"), dtype="float32")
        want, _ = sf.read(str(tmp_path / "again.stems" / f"{name}.wav"), dtype="float32")
        assert np.array_equal(stem, want), (name, np.abs(stem - want).max())

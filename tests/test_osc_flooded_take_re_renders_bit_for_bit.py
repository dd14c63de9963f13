"""A take played under a flood of OSC (1200 usable messages in 4 s from a second process: latent
knobs, morph, an effect knob, seeds, tempo) re-renders bit for bit from its own ``.mid``.

The live generator decides when its own measured lead says (0.1 s plus its slowest recent
generation plus two blocks before a boundary) and takes the control state admitted then; the
render used to decide 0.1 s before each boundary, so a change that arrived in between was in the
render's loop and not in the live one (a flooded take differed from its first loop change on).
Now each loop the generator makes is logged (``livegan loop BEAT FRAME`` at the frame it was
published, FRAME the frame of the control state it was made from) and the render makes the same
loop there from that state. The flood is dense enough that changes land between the state a loop
was made from and its publication, which is checked, so this test exercises that case.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.perflog import marker_loop
from livegan.testing.osc_sender import perform_with_osc

SR, SECONDS, N = 48000, 6.0, 1200
LATENT_CCS = (20, 21, 22, 23)  # knobs 1-4 of the generic patch: the tiny model's four directions


def flood(n, seed=5):
    rng = random.Random(seed)
    plan = []
    for i in range(n):
        t = round(0.8 + 4.2 * i / n, 4)
        k = rng.random()
        if k < 0.6:
            plan.append((t, f"/livegan/knob/{rng.randint(1, 4)}", [round(rng.random(), 3)]))
        elif k < 0.75:
            plan.append((t, "/livegan/morph", [round(rng.random(), 3)]))
        elif k < 0.88:
            plan.append((t, "/livegan/fx/filter/cutoff", [round(rng.random(), 3)]))
        elif k < 0.97:
            plan.append((t, "/livegan/seed", [rng.randint(0, 3)]))
        else:
            plan.append((t, "/livegan/tempo", [round(rng.uniform(200.0, 240.0), 2)]))
    return plan


def test_a_take_flooded_with_osc_re_renders_bit_for_bit(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "fast.toml"  # 1 s bars: more loop changes in the take
    save_patch(replace(load_patch(default_patch_path()), name="osc", tempo=240.0, quantize="bar"), patch_path)
    plan = flood(N)
    rc, err, (s_rc, s_out, s_err) = perform_with_osc(
        tiny_model, tmp_path, ["--patch", patch_path, "--record", tmp_path / "take.wav", "--seconds", SECONDS,
                               "--stats-json", tmp_path / "stats.json"], plan=plan)
    assert s_rc == 0 and int(s_out) == N, s_err
    assert rc == 0, err
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["osc_accepted"] == N and stats["osc_rejected"] == 0, stats

    events = read_automation(str(tmp_path / "take.mid"), SR)
    made = [(f, marker_loop(m)) for f, m in events if marker_loop(m) is not None]
    assert len(made) == stats["loops_generated"] - 1 >= 3, (made, stats)  # each but the first loop
    latent = [f for f, m in events if (m.type == "control_change" and m.control in LATENT_CCS) or m.type == "note_on"]
    between = sum(1 for at, (_, state) in made if any(state < f <= at for f in latent))
    assert between >= 1, made  # changes came after a loop's state and before its publication

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--model", str(tiny_model), "--patch",
                        str(patch_path), "--automation", str(tmp_path / "take.mid"), "--seconds",
                        repr(rec.shape[0] / sr), "-o", str(tmp_path / "again.wav")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "again.wav"), dtype="float32")
    diff = np.abs(again - rec).max(axis=1) if again.shape == rec.shape else None
    assert diff is not None and not diff.any(), (
        again.shape, rec.shape, None if diff is None else (diff.max(), int(np.argmax(diff > 0)) / sr))

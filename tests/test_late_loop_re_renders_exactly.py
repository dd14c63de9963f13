"""A loop that comes after its bar line (a busy machine, a slow model) is played from the next bar
line, and ``livegan render`` of the take's log does the same, bit for bit.

``livegan perform`` plays a model whose fourth and later loops each take about 1.3 s to make, at
240 BPM (1 s bars), while seed notes ask for new loops: the first slow loop is scheduled for the bar
after next by the lead the fast loops measured, so it comes late (the engine logs it and moves it to
the next bar line). Perform logs each loop at the block frame where the audio callback took it; the
render publishes it at that frame, so its engine meets the loop late at the same frame and moves it to
the same bar line.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.testing.faulty_models import perform_with_seed_notes, save_faulty

SR, BAR = 48000, 48000  # 240 BPM: a 4-beat bar is one second


def test_a_late_loop_plays_from_the_next_bar_and_re_renders_bit_for_bit(jack_server, tmp_path):
    model = save_faulty(tmp_path / "slow.ts", "slow", after=3, slow_s=1.3)
    patch_path = tmp_path / "fast.toml"
    save_patch(replace(load_patch(default_patch_path()), name="fast", tempo=240.0, quantize="bar"), patch_path)
    args = ["--patch", patch_path, "--record", tmp_path / "take.wav", "--seconds", 9,
            "--stats-json", tmp_path / "stats.json"]
    rc, err = perform_with_seed_notes(model, tmp_path, f"lglate{os.getpid()}", args, every_s=0.45, notes_s=8.0)
    assert rc == 0, err
    stats = json.loads((tmp_path / "stats.json").read_text())
    late = stats["late_log"]
    assert stats["late_loops"] == len(late) >= 1, (stats["late_loops"], err)  # the property needs one
    switches = stats["switch_log"]
    assert all(f % BAR == 0 for f, _ in switches[1:]), switches  # a late loop too: on a bar line
    for f, lid in late:  # each late loop played from a bar line after it came (or the show ended first)
        assert all(g > f for g, k in switches if k == lid), (f, lid, switches)

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    assert rec.shape[0] == 9 * SR
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--model", model, "--patch", str(patch_path),
                        "--automation", str(tmp_path / "take.mid"), "--seconds", "9", "-o", str(tmp_path / "re.wav")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "re.wav"), dtype="float32")
    assert again.shape == rec.shape and np.array_equal(again, rec), np.abs(again - rec).max()

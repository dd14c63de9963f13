"""End to end: ``livegan perform --osc 0`` is sent ``/livegan/find PATH`` for a loop file while it plays
(1 s bars: 240 BPM, quantize bar). The search runs off the control thread; then:

- the take's log holds one ``livegan base`` marker, whose z is the very point ``livegan find`` gives for
  that file and model;
- the loop changes at the first bar line after the marker (or, logged late on a busy machine, at the first
  bar line after the loop came) to a loop made from it;
- ``livegan render --automation TAKE.mid`` gives the take back bit for bit, with no search run again.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.admission import EngineControls, controller_for
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.perflog import marker_base
from livegan.model import load_model
from livegan.testing.osc_sender import perform_with_osc
from livegan.testing.switches import check_switches_follow_changes

SR, BPM, SECONDS = 48000, 240.0, 5.0
BAR = int(SR * 60 / BPM * 4)


def test_osc_find_moves_the_show_to_the_point_found_and_the_take_re_renders(tiny_model, jack_server, tmp_path):
    import torch

    from livegan.find import find, read_loop

    model = load_model(tiny_model, device="cpu", threads=1)
    meta = model.meta
    with torch.inference_mode():
        loop = model.generate(np.full((1, meta.latent_dim), -0.4, np.float32))[0]
    target_path = tmp_path / "my loop.wav"
    sf.write(target_path, loop.T, meta.sample_rate)
    patch_path = tmp_path / "fast.toml"
    save_patch(replace(load_patch(default_patch_path()), name="find", tempo=BPM, quantize="bar"), patch_path)
    patch = load_patch(patch_path)
    rc, err, (s_rc, _, s_err) = perform_with_osc(
        tiny_model, tmp_path, ["--patch", patch_path, "--record", tmp_path / "take.wav", "--seconds", SECONDS,
                               "--stats-json", tmp_path / "stats.json"],
        plan=[(0.8, "/livegan/find", [str(target_path)])])
    assert s_rc == 0, s_err
    assert rc == 0 and "Traceback" not in err, err
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["finds"] == 1 and stats["finds_failed"] == 0 and stats["osc_rejected"] == 0, stats

    events = read_automation(str(tmp_path / "take.mid"), SR)
    bases = [(f, marker_base(m)) for f, m in events if marker_base(m) is not None]
    want = find(model.module, meta, read_loop(target_path, meta.sample_rate, meta.loop_samples)[0])
    assert len(bases) == 1 and bases[0][1].tobytes() == want.z.tobytes(), (bases, want.z)

    # the loop changes at the first bar line after the point came (the base marker's frame)
    ec = EngineControls(controller_for(patch, meta)[0])
    before = ec.seq
    ec.base(bases[0][1])
    changes = [(bases[0][0], ec.seq)] if ec.seq != before else []
    loop_seq = [q for _, q in stats["loop_controls"]]
    checked = check_switches_follow_changes(changes, stats["switch_log"], loop_seq, stats["late_log"], BAR,
                                            played=stats["frames_played"])
    b1 = (bases[0][0] // BAR + 1) * BAR  # closer than 0.3 bar to it, that line or the next (the loop may be made)
    after = [(f, k) for f, k in stats["switch_log"] if f > bases[0][0]]
    near = b1 - bases[0][0] < 0.3 * BAR and after and after[0][0] in (b1, b1 + BAR) and loop_seq[after[0][1]] >= ec.seq
    assert checked == 1 or near or bases[0][0] > SECONDS * SR - 1.1 * BAR, (bases, stats["switch_log"])

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    assert rec.shape[0] == SECONDS * SR
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--model", str(tiny_model), "--patch",
                        str(patch_path), "--automation", str(tmp_path / "take.mid"), "--seconds", repr(SECONDS),
                        "-o", str(tmp_path / "again.wav")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "again.wav"), dtype="float32")
    assert np.array_equal(again, rec), np.abs(again - rec).max()

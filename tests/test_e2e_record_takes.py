"""Recording toggled live: a record button starts and stops takes, each re-renders exactly.

``livegan perform`` runs on JACK without ``--record``; a controller process
presses the generic patch's record button (CC 119) to start a take, turns a
knob, presses it again to stop, and starts a second take that the end of the
performance closes. Each take is a WAV with its ``.mid`` beside it, and
``livegan render --automation TAKE.mid`` gives that WAV back bit for bit
(the log holds every event since the performance began and marks where the
take starts, so the render plays from frame 0 and keeps the take's frames).
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.testing.midi_sender import perform_with_sender

# (1 s bars: knob and seed changes stay 0.3 bar from the bar lines, where live and render decide alike)
PLAN = [(1.2, [0xB0, 119, 127]), (1.3, [0xB0, 119, 0]), (1.45, [0xB0, 20, 64]), (1.5, [0xB0, 20, 120]),
        (3.1, [0xB0, 119, 127]), (3.2, [0xB0, 119, 0]), (4.2, [0xB0, 119, 127]), (4.3, [0xB0, 119, 0]),
        (5.4, [0x90, 37, 100]), (5.5, [0x80, 37, 0])]


def test_record_button_takes_each_re_render_exactly(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "takes.toml"
    save_patch(replace(load_patch(default_patch_path()), name="takes", tempo=240.0), patch_path)
    rc, err, ctl_rc, ctl_err = perform_with_sender(["--model", tiny_model, "--patch", patch_path, "--seconds", "6.5"],
                                                   PLAN, f"lgtakes{os.getpid()}", tmp_path)
    assert ctl_rc == 0, ctl_err
    assert rc == 0, err
    wavs = sorted(glob.glob(str(tmp_path / "livegan-*.wav")), key=os.path.getmtime)
    assert len(wavs) == 2, (wavs, err)
    lengths = [sf.info(w).frames / 48000 for w in wavs]
    assert abs(lengths[0] - 1.9) < 0.35 and abs(lengths[1] - 2.2) < 0.35, lengths
    for w in wavs:
        mid = w[:-4] + ".mid"
        assert os.path.isfile(mid), err
        rec, sr = sf.read(w, dtype="float32")
        out = tmp_path / ("re-" + os.path.basename(w))
        r = subprocess.run([sys.executable, "-m", "livegan", "render", "--model", str(tiny_model), "--patch",
                            str(patch_path), "--automation", mid, "--seconds", repr(rec.shape[0] / sr), "-o", str(out)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        again, _ = sf.read(str(out), dtype="float32")
        assert again.shape == rec.shape and np.array_equal(again, rec), (w, np.abs(again - rec).max())

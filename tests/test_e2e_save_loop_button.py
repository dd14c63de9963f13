"""A ``save_loop`` button during ``livegan perform`` on JACK writes the loop playing as a WAV with its tempo.

A controller process presses the button (CC 118 in the generic patch) while the first loop plays,
picks seed 1, presses it again once seed 1's loop plays, and once more on the same loop. The
``--loops-dir`` then holds two WAVs (the second press on a loop writes nothing new), each the loop
the model makes for that seed bit for bit at the model's rate, named for the model's tempo and bar,
with a ``.json`` that gives the tempo, the z and the tempo the show was playing at.
"""
from __future__ import annotations

import glob
import json
import os
import re

import numpy as np
import soundfile as sf

from livegan.control.admission import controller_for
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.model import load_model
from livegan.testing.midi_sender import perform_with_sender

# 240 BPM: 1 s bars. Seed 1 at 1.3 s plays from the bar at 2 s (3 s if its loop comes late); the presses
# after it come at 3.3 and 3.6 s. The sender's clock starts when the test reads perform's banner, which a
# busy machine delays: every press keeps at least 0.3 s (and a late bar) from where it would change meaning.
PLAN = [(0.7, [0xB0, 118, 127]), (0.8, [0xB0, 118, 0]), (1.3, [0x90, 37, 100]), (1.4, [0x80, 37, 0]),
        (3.3, [0xB0, 118, 127]), (3.4, [0xB0, 118, 0]), (3.6, [0xB0, 118, 127]), (3.7, [0xB0, 118, 0])]


def test_save_loop_button_writes_the_playing_loop(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "loops.toml"
    save_patch(replace(load_patch(default_patch_path()), name="loops", tempo=240.0), patch_path)
    rc, err, ctl_rc, ctl_err = perform_with_sender(
        ["--model", tiny_model, "--patch", patch_path, "--seconds", "4.5", "--loops-dir", tmp_path / "loops"],
        PLAN, f"lgloops{os.getpid()}", tmp_path)
    assert ctl_rc == 0, ctl_err
    assert rc == 0, err
    wavs = sorted(glob.glob(str(tmp_path / "loops" / "livegan-loop-*-120bpm-1bar-16384hz.wav")),
                  key=lambda w: int(os.path.basename(w).split("-")[2]))
    assert len(wavs) == 2, (wavs, err)
    assert len(re.findall(r"loop \d+ saved: ", err)) == 2 and err.count("is already saved") == 1, err
    model = load_model(tiny_model, device="cpu", threads=1)
    c, _, _ = controller_for(load_patch(patch_path), model.meta)
    for seed, w in zip((0, 1), wavs):
        c.set_seed(seed)
        z = c.z()
        got, rate = sf.read(w, dtype="float32", always_2d=True)
        assert rate == 16384 and np.array_equal(got.T, model.generate(z[None])[0]), (seed, w)
        side = json.loads(open(w[:-4] + ".json").read())
        assert side["bpm"] == 120.0 and side["bars"] == 1 and side["performance_bpm"] == 240.0
        assert side["sample_rate"] == 16384 and np.array_equal(np.asarray(side["z"], np.float32), z)

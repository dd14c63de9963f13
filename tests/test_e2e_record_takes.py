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
from livegan.io.automation import read_automation
from livegan.io.perflog import marker_take
from livegan.testing.midi_sender import perform_with_sender

# (1 s bars: knob and seed changes stay 0.3 bar from the bar lines, where live and render decide alike)
PLAN = [(1.2, [0xB0, 119, 127]), (1.3, [0xB0, 119, 0]), (1.45, [0xB0, 20, 64]), (1.5, [0xB0, 20, 120]),
        (3.1, [0xB0, 119, 127]), (3.2, [0xB0, 119, 0]), (4.2, [0xB0, 119, 127]), (4.3, [0xB0, 119, 0]),
        (5.4, [0x90, 37, 100]), (5.5, [0x80, 37, 0])]


SR = 48000
REACT = SR // 2  # a press reaches the take in a control tick and a block; a busy machine may take longer
SLACK = 1024  # the press's log frame is the block that admitted it: the take may switch one block sooner


def _take_start(wav: str) -> int:
    """The frame a take's audio starts at, from its log's ``livegan take FRAME`` marker."""
    marks = [marker_take(m) for _, m in read_automation(wav[:-4] + ".mid", SR) if marker_take(m) is not None]
    assert len(marks) == 1, (wav, marks)
    return marks[0]


def test_record_button_takes_each_re_render_exactly(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "takes.toml"
    save_patch(replace(load_patch(default_patch_path()), name="takes", tempo=240.0), patch_path)
    rc, err, ctl_rc, ctl_err = perform_with_sender(["--model", tiny_model, "--patch", patch_path, "--seconds", "6.5"],
                                                   PLAN, f"lgtakes{os.getpid()}", tmp_path)
    assert ctl_rc == 0, ctl_err
    assert rc == 0, err
    wavs = sorted(glob.glob(str(tmp_path / "livegan-*.wav")), key=os.path.getmtime)
    assert len(wavs) == 2, (wavs, err)
    # where the takes lie, by the show's own frames (the sender's clock and the show's differ by how late
    # the banner was read): each press of the button, as logged, starts or stops a take within REACT;
    # take 2 ends on the show's last frame exactly
    events = read_automation(wavs[1][:-4] + ".mid", SR)
    presses = [f for f, m in events if m.type == "control_change" and m.control == 119 and m.value == 127]
    starts = [_take_start(w) for w in wavs]
    ends = [s + sf.info(w).frames for s, w in zip(starts, wavs)]
    assert len(presses) == 3, presses
    for edge, press in zip((starts[0], ends[0], starts[1]), presses):
        assert press - SLACK <= edge <= press + REACT, (presses, starts, ends)
    assert ends[1] == int(6.5 * SR), ends
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

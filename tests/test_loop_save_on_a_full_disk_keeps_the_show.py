"""Saving a loop on a full disk is one warning and the show goes on; nothing partial is left.

The ``l`` key or a ``save_loop`` button (``LoopSaver.save_playing``, what ``livegan perform`` calls) on a
full ``--loops-dir`` says one warning line naming the folder; no exception leaves it (the show plays on),
nothing is printed from inside soundfile's callbacks, and neither the loop's WAV nor its ``.json`` nor a
temporary file is left. ``livegan render --loops`` on a full disk warns once, still writes the main
``-o`` WAV (complete), and ends with one error line naming ``--loops`` (exit 2, as a take that could not
be written ends ``perform``).

A full disk is simulated without root as in ``test_record_write_error_keeps_show.py``: a file-size limit
(``RLIMIT_FSIZE``) with ``SIGXFSZ`` ignored, so a write past it fails with ``EFBIG`` as it would with
``ENOSPC``. A limit of 0 is a disk with no room at all; 4096 bytes lets the header through and fails
in the samples. (Before the fix: an AssertionError traceback out of ``save_playing``, and at 0 bytes
dozens of "Exception ignored from cffi callback" lines per press.)
"""
from __future__ import annotations

import os
import subprocess
import sys

import mido
import pytest
import soundfile as sf

SAVER = """
import resource, signal, sys
import numpy as np
from livegan.control.patch import default_patch_path, load_patch
from livegan.io.loops import LoopSaver
from livegan.model import load_model
from livegan.performance import build
model = load_model(sys.argv[1], device="cpu", threads=1)
e = build(model.meta, load_patch(default_patch_path()), 48000, 2, fx=False).engine
e.publish_loop(np.full((1, model.meta.loop_samples), 0.25, np.float32), 0)
e.process(np.zeros((256, 2), np.float32))
saver = LoopSaver(e, sys.argv[2], say=lambda m: print("panel:", m, file=sys.stderr))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
for press in range(2):
    saver.save_playing()
print("the show goes on")
"""


@pytest.mark.parametrize("limit", [0, 4096])
def test_save_loop_on_a_full_disk_is_one_warning_and_the_show_goes_on(tiny_model, tmp_path, limit):
    loops = tmp_path / "loops"
    loops.mkdir()
    r = subprocess.run([sys.executable, "-c", SAVER, str(tiny_model), str(loops), str(limit)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "the show goes on", r.stderr[-3000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2, r.stderr[-3000:]  # one line per press, nothing else (no cffi, no traceback)
    for ln in lines:
        assert ln.startswith(f"panel: warning: loop 0: cannot be written to {loops} ("), ln
        assert "File too large" in ln, ln
    assert os.listdir(loops) == []  # neither the WAV, nor its .json, nor a temporary file


def test_save_loop_with_room_still_writes_the_loop(tiny_model, tmp_path):
    loops = tmp_path / "loops"
    loops.mkdir()
    r = subprocess.run([sys.executable, "-c", SAVER, str(tiny_model), str(loops), str(1 << 30)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(os.listdir(loops)) == ["livegan-loop-0-120bpm-1bar-16384hz.json",
                                         "livegan-loop-0-120bpm-1bar-16384hz.wav"]
    assert "is already saved" in r.stderr


RENDER = """
import resource, signal, sys
import livegan.io.loops as L
init = L.LoopSaver.__init__
def limited(self, *a, **k):  # the model is loaded and the parts are built: from here the disk is full
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100000, 100000))
    init(self, *a, **k)
L.LoopSaver.__init__ = limited
from livegan.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_render_loops_on_a_full_disk_still_writes_the_render(tiny_model, tmp_path):
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack())
    mid.save(tmp_path / "a.mid")
    out, loops = tmp_path / "out.wav", tmp_path / "loops"
    # the render (0.5 s of float stereo at 16384 Hz: 66 kB) fits under the limit; a loop (32768 frames: 131 kB) does not
    r = subprocess.run([sys.executable, "-c", RENDER, "render", "--model", str(tiny_model), "--automation",
                        str(tmp_path / "a.mid"), "--seconds", "0.5", "--samplerate", "16384", "-o", str(out),
                        "--loops", str(loops)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "cffi" not in r.stderr, r.stderr[-3000:]
    lines = [ln for ln in r.stderr.strip().splitlines() if "generic.toml" not in ln]  # (the tiny model has 4 knobs)
    assert len(lines) == 2, r.stderr[-3000:]
    assert lines[0].startswith(f"livegan render: warning: --loops {loops}: loop 0 cannot be written"), lines
    assert lines[1].startswith(f"livegan render: error: --loops {loops}: "), lines
    assert "File too large" in lines[1]
    assert sf.info(str(out)).frames == 8192  # the render itself, complete
    assert os.listdir(loops) == []
    assert sorted(os.listdir(tmp_path)) == ["a.mid", "loops", "out.wav"]  # no temporary file left
    assert r.stdout.startswith(f"rendered {out}: ")

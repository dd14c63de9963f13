"""A FLAC take is recorded to ``TAKE.flac.wav`` (a header valid while it grows, so a SIGKILL leaves it
readable) and encoded to ``TAKE.flac`` when it stops; the WAV is then removed. Live takes are WAV
with libsndfile's RF64 auto-downgrade: RIFF/WAVE with a JUNK chunk held for the 64-bit sizes."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

from livegan.io.recorder import Recorder

SR = 48000


def _feed(rec, block):
    """What the callback does: copy a block into the ring and count it."""
    cap, w = rec.ring.shape[0], int(rec.rst["written"])
    for i in range(block.shape[0]):
        rec.ring[(w + i) % cap] = block[i]
    rec.rst["written"] = w + block.shape[0]


def test_flac_take_is_a_wav_while_recording_and_a_flac_after(tmp_path):
    path = tmp_path / "t.flac"
    rec = Recorder(path, SR, 2, ring_seconds=1.0, poll_s=0.005).start()
    audio = (0.5 * np.sin(np.arange(SR)[:, None] * [0.01, 0.02])).astype(np.float32)
    _feed(rec, audio[:24000])
    deadline = time.monotonic() + 10
    while sf.info(str(tmp_path / "t.flac.wav")).frames < 24000:  # the header follows the writes
        assert time.monotonic() < deadline
    _feed(rec, audio[24000:])
    rec.close()
    assert os.listdir(tmp_path) == ["t.flac"]
    got, sr = sf.read(str(path), dtype="float32")
    assert sr == SR and sf.info(str(path)).format == "FLAC"
    assert got.shape == audio.shape and np.max(np.abs(got - audio)) < 2.0 ** -22


KILLED = r"""
import os, sys, time
import numpy as np
from livegan.io.recorder import Recorder
rec = Recorder(sys.argv[1], 48000, 2, ring_seconds=1.0, poll_s=0.005).start()
rec.ring[:30000] = 0.25
rec.rst["written"] = 30000
while rec.frames_written < 30000:
    time.sleep(0.001)
time.sleep(0.05)
os.kill(os.getpid(), 9)
"""


def test_sigkilled_flac_take_leaves_a_readable_wav(tmp_path):
    path = tmp_path / "t.flac"
    r = subprocess.run([sys.executable, "-c", KILLED, str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr
    got, sr = sf.read(str(tmp_path / "t.flac.wav"), dtype="float32")
    assert sr == SR and got.shape == (30000, 2) and np.all(got == 0.25)


def test_live_wav_is_rf64_ready_riff_under_4_gb(tmp_path):
    rec = Recorder(tmp_path / "t.wav", SR, 2, poll_s=0.005).start()
    _feed(rec, np.full((1000, 2), 0.5, np.float32))
    rec.close()
    head = (tmp_path / "t.wav").read_bytes()[:48]
    assert head[:4] == b"RIFF" and head[8:16] == b"WAVEJUNK"  # room for the ds64 chunk past 4 GB
    got, _ = sf.read(str(tmp_path / "t.wav"), dtype="float32")
    assert got.shape == (1000, 2) and np.all(got == 0.5)

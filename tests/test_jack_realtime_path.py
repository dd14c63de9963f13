"""The real-time path exists: a sounddevice stream on JACK plays without a flag and is heard.

Skips only where no JACK server can run (the skip says why).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf

from livegan.synth import make_loop

SR = 48000


def _jack_client_ports(prefix: str) -> list[str]:
    out = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10).stdout.split()
    return [p for p in out if p.startswith(prefix)]


# This 2-vCPU VM gives xruns even to a client that writes zeros: 14-27 a minute at 128 frames on
# 2026-11-24 (benchmarks/results/engine.md), i.e. about one per 2-4 s, so a clean 2 s play is a
# coin toss; 3 attempts failed together in one CI run. 8 attempts (about 25 s at worst).
ATTEMPTS = 8


def test_stream_plays_2s_clean_and_jack_capture_records_it(jack_server, tmp_path):
    """Some attempt out of ATTEMPTS plays 2 s with no status flag, and the capture equals the signal."""
    if shutil.which("jack_capture") is None:
        pytest.fail("jack_capture is not installed (Debian package jack-capture); the CI script installs it")
    flags_seen = []
    for attempt in range(ATTEMPTS):
        flags = _play_and_capture(tmp_path / f"captured{attempt}.wav")
        if flags == 0:
            return
        flags_seen.append(hex(flags))
    pytest.fail(f"every one of {ATTEMPTS} attempts reported status flags while playing 2 s: {flags_seen}")


def _play_and_capture(out_wav) -> int:
    """Play a 2 s loop through sounddevice on JACK while jack_capture records it; check the capture equals the
    signal when no status flag was raised. Returns the flags raised while playing."""
    import sounddevice as sd

    signal_ = make_loop("bass", 11, SR)  # (96000,) = 2 s
    state = {"pos": -1, "flags": 0, "calls": 0}

    def callback(outdata, frames, time_info, status):  # PortAudio thread: no allocation beyond slicing
        state["calls"] += 1
        if status:
            state["flags"] |= int(status._flags)
        outdata.fill(0)
        pos = state["pos"]
        if 0 <= pos < signal_.shape[0]:
            n = min(frames, signal_.shape[0] - pos)
            outdata[:n, 0] = signal_[pos:pos + n]
            outdata[:n, 1] = signal_[pos:pos + n]
            state["pos"] = pos + n

    jack_dev = next(i for i, d in enumerate(sd.query_devices())
                    if d["max_output_channels"] >= 2 and "JACK" in sd.query_hostapis(d["hostapi"])["name"])
    with sd.OutputStream(device=jack_dev, samplerate=SR, channels=2, blocksize=256, dtype="float32",
                         callback=callback) as stream:
        t0 = time.monotonic()
        while not _jack_client_ports("PortAudio") and time.monotonic() - t0 < 5:
            time.sleep(0.05)
        ports = [p for p in _jack_client_ports("PortAudio") if "out" in p][:2]
        assert len(ports) == 2, _jack_client_ports("")
        cap = subprocess.Popen(["jack_capture", "--daemon", "-c", "2", "-p", ports[0], "-p", ports[1],
                                "-d", "4", str(out_wav)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(0.8)  # let jack_capture connect before the signal starts
        state["pos"] = 0
        while state["pos"] < signal_.shape[0]:
            time.sleep(0.05)
        played_flags = state["flags"]
        cap.wait(timeout=15)
        assert stream.active
    assert state["calls"] > SR * 2 // 256
    if played_flags:
        return played_flags  # an xrun: the capture may have a gap; the caller tries again

    rec, rate = sf.read(out_wav, dtype="float32")
    assert rate == SR and rec.ndim == 2
    left = rec[:, 0]
    # find the signal in the recording by cross-correlation, then compare sample by sample
    from scipy.signal import correlate

    assert left.shape[0] >= signal_.shape[0], "recording is shorter than the signal"
    onset = int(np.argmax(correlate(left, signal_, mode="valid", method="fft")))
    seg = left[onset:onset + signal_.shape[0]]
    assert seg.shape[0] == signal_.shape[0], "recording ended before the 2 s signal did"
    np.testing.assert_allclose(seg, signal_, atol=1e-4)
    np.testing.assert_array_equal(rec[onset:onset + signal_.shape[0], 1], seg)
    return 0

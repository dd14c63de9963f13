"""End to end: ``livegan perform --link`` on a JACK server follows a second Link peer (a plain
LinkPython-extern script) from 120 to 133 BPM, and ``livegan render`` of its performance log gives the recording back
bit for bit.

Everything runs inside a private network namespace with loopback only (``livegan.testing.netns``),
made by the test: the JACK dummy server (named, started inside it: its sockets live in /dev/shm, so
it would be reachable from outside too), the peer and perform. No Link packet leaves the machine.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch
from livegan.io.automation import read_automation
from livegan.model import load_model
from livegan.offline import render
from livegan.performance import build
from livegan.testing.netns import netns_argv, netns_problem

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SR, SECONDS = 48000, 6.0

DRIVER = r"""
import json, os, subprocess, sys, time
from livegan.testing.jackd import start_jack, stop_jack
model, out, peer_py = sys.argv[1], sys.argv[2], sys.argv[3]
os.environ["JACK_DEFAULT_SERVER"] = name = f"lglink{os.getpid()}"
jack, _ = start_jack(name, 256)
try:
    peer = subprocess.Popen([sys.executable, peer_py, json.dumps([[1.0, 133.0]]), "7", "60"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    perform = subprocess.Popen([sys.executable, "-m", "livegan", "perform", "--link", "--model", model,
                                "--record", os.path.join(out, "out.wav"), "--seconds", "6",
                                "--stats-json", os.path.join(out, "stats.json")],
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = peer.stdout.readline()
    peer.stdin.write(f"{time.monotonic()!r}\n")
    peer.stdin.flush()
    _, err = perform.communicate(timeout=90)
    notes = json.loads(peer.stdout.readline())
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(dict(rc=perform.returncode, stderr=err, ready=ready, peer_tempo=notes["notes"][-1][2]), f)
finally:
    stop_jack(jack)
"""


@pytest.fixture(scope="module")
def show(tiny_model, tmp_path_factory):
    why = netns_problem()
    if why:
        pytest.skip(f"Link needs a private network namespace (its multicast must not leave the machine): {why}")
    out = tmp_path_factory.mktemp("linkperform")
    env = {**os.environ, "PYTHONPATH": ROOT, "JACK_NO_START_SERVER": "1"}
    peer_py = os.path.join(ROOT, "livegan", "testing", "link_peer.py")
    r = subprocess.run(netns_argv([sys.executable, "-c", DRIVER, str(tiny_model), str(out), peer_py]),
                       capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-4000:]
    run = json.loads((out / "run.json").read_text())
    assert run["rc"] == 0 and run["ready"].split()[:1] == ["ready"], run["stderr"][-4000:]
    assert "Traceback" not in run["stderr"], run["stderr"][-4000:]  # (an exception in the callback stops the stream)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["frames_recorded"] == round(SECONDS * SR) <= stats["frames_played"], stats  # the whole show
    return out, run


def test_perform_link_follows_the_peers_tempo_change(show):
    out, run = show
    events = read_automation(str(out / "out.mid"), SR)
    tempi = [(f / SR, float(m.text.split()[2])) for f, m in events
             if m.type == "marker" and m.text.startswith("livegan tempo")]
    assert any(m.type == "marker" and m.text.startswith("livegan locate") for _, m in events)
    assert tempi and abs(tempi[-1][1] - 133.0) < 133.0 * 0.02, tempi  # 133, and phase-locked-loop nudges of <= 2 %
    assert abs(run["peer_tempo"] - 133.0) < 1e-3


def test_perform_link_recording_re_renders_bit_for_bit(show, tiny_model):
    out, _ = show
    rec, rate = sf.read(str(out / "out.wav"), dtype="float32")
    events = read_automation(str(out / "out.mid"), SR)
    model = load_model(tiny_model, device="cpu", threads=1)
    parts = build(model.meta, load_patch(default_patch_path()), SR, 2)
    try:
        _, audio = render(model, parts, events, rec.shape[0], blocksize=256)
    finally:
        parts.close()
    assert rate == SR and np.abs(rec).max() > 0.05
    assert np.array_equal(audio, rec), np.abs(audio - rec).max()

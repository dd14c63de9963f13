"""The real ``livegan perform`` panel and computer keyboard in a real terminal (tmux, JACK output).

A tiny model plays on the JACK dummy server inside a tmux pane; the test
sends keys (select knob 1, turn it four fine steps, pick seed 1) and reads
the panel with capture-pane: the knob's value, the seed, the transport
moving, the next loop arriving; l saves that loop beside the take. Q quits
with exit code 0, and the performance log beside the recording holds what
the keys did, as MIDI.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import soundfile as sf

from livegan.io.automation import read_automation
from livegan.testing.wait import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_perform_panel_and_keys_under_tmux(tiny_model, jack_server, tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian package tmux): the panel test needs a real terminal")
    s = f"lgperf{os.getpid()}"
    rc_file, wav, st = tmp_path / "rc", tmp_path / "out.wav", tmp_path / "stats.json"
    cmd = (f"cd {ROOT} && JACK_NO_START_SERVER=1 PYTHONPATH={os.environ.get('PYTHONPATH', '')} {sys.executable} "
           f"-m livegan perform --model {tiny_model} --seconds 60 --record {wav} --stats-json {st} "
           f"2> {tmp_path / 'err.txt'}; echo $? > {rc_file}")
    subprocess.run(["tmux", "new-session", "-d", "-s", s, "-x", "140", "-y", "40", cmd], check=True)

    def pane():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", s], capture_output=True, text=True).stdout

    def wait_for(pred, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            p = pane()
            if pred(p):
                return p
            time.sleep(0.1)
        err = (tmp_path / "err.txt").read_text() if (tmp_path / "err.txt").exists() else ""
        raise AssertionError(f"pane:\n{pane()}\nstderr:\n{err}")

    def bar_beat(p):
        m = re.search(r"(\d+):(\d+)\s+\d+\.\d+ BPM", p)
        return (int(m.group(1)), int(m.group(2))) if m else None

    try:
        p = wait_for(lambda p: "dir 1" in p and "BPM" in p and "xruns" in p)
        t1 = bar_beat(p)
        subprocess.run(["tmux", "send-keys", "-t", s, "1", "]", "]", "]", "]", "x"], check=True)
        p = wait_for(lambda p: "seed 1" in p)
        row = p.split("dir 1")[1].splitlines()[0]
        assert "0.57" in row, row  # 0.5 picked up at CC 64, then four steps of 2: CC 72 = 0.567
        assert "REC" in p and "dir 4" in p and "cutoff" not in p.split("dir 1")[0]
        p = wait_for(lambda p: bar_beat(p) is not None and bar_beat(p) != t1)  # the transport runs
        p = wait_for(lambda p: re.search(r"loop [1-9]\d* ->", p) is not None)  # the keys' loop plays
        subprocess.run(["tmux", "send-keys", "-t", s, "l"], check=True)  # save the loop playing
        p = wait_for(lambda p: "saved" in p)
        subprocess.run(["tmux", "send-keys", "-t", s, "Q"], check=True)
        wait_until(lambda: rc_file.exists() and rc_file.read_text().strip(), 20, 0.1)
        assert rc_file.read_text().strip() == "0", (tmp_path / "err.txt").read_text()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)
    stats = json.loads(st.read_text())
    assert stats["loop_switches"] >= 2 and stats["frames_played"] < 60 * 48000  # Q ended it, not --seconds
    log = read_automation(str(tmp_path / "out.mid"), 48000)
    assert [(m.control, m.value) for _, m in log if m.type == "control_change"] == \
        [(20, 64), (20, 66), (20, 68), (20, 70), (20, 72)]
    assert [m.note for _, m in log if m.type == "note_on"] == [37]
    saved = glob.glob(str(tmp_path / "livegan-loop-*-120bpm-1bar-16384hz.wav"))  # into the take's folder
    assert len(saved) == 1 and os.path.isfile(saved[0][:-4] + ".json") and sf.info(saved[0]).frames == 32768

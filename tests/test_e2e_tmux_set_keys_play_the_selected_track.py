"""A live set's panel and computer keyboard in a real terminal (tmux, JACK output): the panel has one line
per track with ``>`` on the track the keys play; Tab moves the keys to the next track (the panel says
which) and its knob table becomes that track's; a knob turned there is that track's, logged on that
track's MIDI channel; Tab again wraps to the first track, whose knob table (its knob 1 untouched) and
keys come back. Q quits with exit code 0."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from livegan.io.automation import read_automation
from livegan.testing.wait import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tab_moves_the_keys_from_track_to_track(tiny_model, jack_server, tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian package tmux): the panel test needs a real terminal")
    set_path = tmp_path / "two.toml"
    set_path.write_text(f'[[track]]\nname = "drums"\nmodel = "{tiny_model}"\nchannel = 1\n\n'
                        f'[[track]]\nname = "bass"\nmodel = "{tiny_model}"\nchannel = 3\n')
    s = f"lgset{os.getpid()}"
    rc_file, wav = tmp_path / "rc", tmp_path / "out.wav"
    cmd = (f"cd {ROOT} && JACK_NO_START_SERVER=1 PYTHONPATH={os.environ.get('PYTHONPATH', '')} {sys.executable} "
           f"-m livegan perform --set {set_path} --seconds 60 --record {wav} "
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

    def keys(*k):
        subprocess.run(["tmux", "send-keys", "-t", s, *k], check=True)
        time.sleep(0.3)

    try:
        wait_for(lambda p: "> 1 drums" in p and "  2 bass" in p and "dBFS" in p)
        keys("Tab")
        wait_for(lambda p: "> 2 bass" in p and "keys play track 2 (bass)" in p)
        keys("1", "]", "]")
        wait_for(lambda p: _knob1(p) == "0.54")  # bass's knob 1 at CC 68, in the table the keys play
        keys("Tab")
        wait_for(lambda p: "> 1 drums" in p and "keys play track 1 (drums)" in p and _knob1(p) == "0.50")
        keys("1", "]")
        keys("Q")
        wait_until(lambda: rc_file.exists() and rc_file.read_text().strip(), 20, 0.1)
        assert rc_file.read_text().strip() == "0", (tmp_path / "err.txt").read_text()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)
    log = read_automation(str(tmp_path / "out.mid"), 48000)
    ccs = [(m.channel, m.control, m.value) for _, m in log if m.type == "control_change"]
    # a knob's first key picks it up at its value (CC 64), each ] then turns it 2 steps (as one model's keys):
    # bass's knob 1 on channel 3, then drums' on channel 1
    assert ccs == [(2, 20, 64), (2, 20, 66), (2, 20, 68), (0, 20, 64), (0, 20, 66)], ccs


def _knob1(pane: str) -> str | None:
    """The value column of the panel's first knob row (CC column 20, after the knob's name), or None."""
    for line in pane.splitlines():
        p = line.replace("│", " ").split()
        if "20" in p[:5] and p.index("20") + 1 < len(p):
            return p[p.index("20") + 1]
    return None

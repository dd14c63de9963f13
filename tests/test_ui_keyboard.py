"""Keyboard control drives the Controller; the panel works in a real terminal (tmux)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from livegan.control.controller import Controller
from livegan.control.keyboard import KeyboardControl
from livegan.control.patch import check_against_model, default_patch_path, load_patch
from livegan.io.panel import panel
from livegan.testing.wait import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _controller():
    p, _ = check_against_model(load_patch(default_patch_path()), 4)
    dirs = np.eye(8, dtype=np.float32)[:4]
    return Controller(p, dirs, np.ones(4, np.float32), "normal")


def test_keys_select_turn_seed_save_recall_and_record():
    c = _controller()
    logged, rec = [], []
    kb = KeyboardControl(c, on_record=rec.append, log=logged.append)
    kb.handle("2")
    z0 = c.z()
    for _ in range(8):
        kb.handle("]")  # pick-up does not apply to the keyboard: it moves the value itself
    assert c.value[21] == pytest.approx(0.625) and not np.allclose(c.z(), z0)
    kb.handle("}")
    assert c.value[21] == pytest.approx(0.75)
    assert kb.handle("x") == "seed 1" and c.seed == 1
    assert kb.handle("a") == "save 1" and kb.handle("a") == "recall 1"
    kb.handle(" ")
    kb.handle(" ")
    assert rec == [True, False]
    assert logged[0] == [0xB0, 21, 65] and [0x90, 37, 100] in logged  # keys reach the performance log
    assert kb.handle("Q") == "quit" and kb.handle("\x1b") == "quit"


def test_l_saves_the_playing_loop_and_shows_where():
    c = _controller()
    calls = []
    kb = KeyboardControl(c, on_save_loop=lambda: calls.append(1) or "loop 3 saved: x.wav")
    assert kb.handle("l") == "loop 3 saved: x.wav" and calls == [1]
    assert KeyboardControl(c).handle("l") is None  # nothing to save with: the key does nothing


def test_panel_renders_every_field():
    from rich.console import Console
    c = _controller()
    kb = KeyboardControl(c)
    console = Console(width=120, record=True, file=open(os.devnull, "w"))
    console.print(panel(dict(bar=3, beat=1, bpm=131.5, playing=7, next=8, gen_ms=42, load=0.25, xruns=2,
                             late=1, level_db=-6.0, recording=True, rec_s=12.5, clock="midi"), c, kb))
    text = console.export_text()
    for want in ("4:2", "131.50 BPM (midi)", "loop 7 -> 8", "gen 42 ms", "load   25%", "xruns 2", "late 1",
                 "-6.0 dBFS", "REC", "12.5 s", "dir 1", "filter.cutoff", "seed 0"):
        assert want in text, want


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_panel_and_keys_in_a_real_terminal_under_tmux(tmp_path):
    s = f"lgui{os.getpid()}"
    done = tmp_path / "rc"
    cmd = (f"cd {ROOT} && {sys.executable} -m livegan.io.panel --demo --seconds 30; echo $? > {done}")
    subprocess.run(["tmux", "new-session", "-d", "-s", s, "-x", "120", "-y", "30", cmd], check=True)
    try:
        def pane():
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", s], capture_output=True, text=True).stdout

        def wait_for(text, timeout=15):
            return wait_until(lambda: text in pane(), timeout, 0.1)
        assert wait_for("dir 1"), pane()
        subprocess.run(["tmux", "send-keys", "-t", s, "1", "]", "]", "]", "]", "x", "a"], check=True)
        assert wait_for("save 1"), pane()
        p = pane()
        assert "0.56" in p.split("dir 1")[1].splitlines()[0]  # 0.5 + 4/64, shown to two places
        assert "seed 1" in p and "■□" in p
        subprocess.run(["tmux", "send-keys", "-t", s, "Q"], check=True)
        wait_until(done.exists, 10, 0.1)
        assert done.exists() and done.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)

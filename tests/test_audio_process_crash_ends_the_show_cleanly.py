"""The audio process dying mid-show (a crash in a C library, the OOM killer) ends ``livegan perform``
with one line naming it, exit 2, and the take recorded so far saved with its performance log; so
does a stream that stops calling back (here: the audio process frozen with SIGSTOP); the control
process dying (SIGKILL) takes the audio process with it, so no orphan keeps a stream open; and an
exception inside the callback (an effect that raises) silences one block, not the show.

Skips only where no JACK server can run (the skip says why).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import soundfile as sf

from livegan.testing.wait import wait_until

SR = 48000


def _audio_children(pid: int) -> list[int]:
    """The perform process's audio process (a multiprocessing spawn child; not the resource tracker)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    kids = []
    for k in map(int, out):
        try:
            with open(f"/proc/{k}/cmdline", "rb") as f:
                if b"spawn_main" in f.read():
                    kids.append(k)
        except OSError:
            pass
    return kids


def _frames(path) -> int:
    """Frames of the take on disk so far (0 before the file is there)."""
    try:
        return sf.info(str(path)).frames
    except Exception:
        return 0


def _gone(pid: int) -> bool:
    """The process has exited: no /proc entry, or a zombie (exited, not yet reaped by init)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def _start(tiny_model, tmp_path):
    wav = tmp_path / "take.wav"
    p = subprocess.Popen([sys.executable, "-m", "livegan", "perform", "--model", str(tiny_model), "--record", str(wav),
                          "--seconds", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t_end = time.monotonic() + 60
    for line in p.stderr:  # the banner: the stream is about to start
        if " on 'system' at " in line or time.monotonic() > t_end:
            break
    # the take holds the 1.5 s the test reads back (and more) before the audio process is hit
    assert wait_until(lambda: _frames(wav) >= 1.6 * SR, 30, 0.05), "the take did not reach 1.6 s within 30 s"
    kids = _audio_children(p.pid)
    assert len(kids) == 1, kids
    return p, kids[0], wav


def _signal_audio_process_and_wait(tiny_model, tmp_path, sig) -> tuple[str, float]:
    """Send ``sig`` to the audio process of a recording show; -> (perform's stderr, seconds from the
    signal to its exit) once it has ended with exit 2, no traceback and the take so far saved (1.5 s
    or more, its .mid beside it)."""
    p, kid, wav = _start(tiny_model, tmp_path)
    os.kill(kid, sig)
    t0 = time.monotonic()
    try:
        _, err = p.communicate(timeout=40)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
        try:
            os.kill(kid, signal.SIGKILL)  # a frozen one is not left behind
        except ProcessLookupError:
            pass
    assert p.returncode == 2 and "Traceback" not in err, err
    data, rate = sf.read(str(wav), dtype="float32")
    assert rate == SR and data.shape[0] >= 1.5 * SR and (tmp_path / "take.mid").exists(), err
    return err, took


def test_audio_process_killed_ends_the_show_with_one_line_and_keeps_the_take(jack_server, tiny_model, tmp_path):
    err, _ = _signal_audio_process_and_wait(tiny_model, tmp_path, signal.SIGKILL)
    assert "the audio process stopped unexpectedly (killed by SIGKILL)" in err, err


def test_frozen_audio_process_ends_the_show_with_one_line_and_keeps_the_take(jack_server, tiny_model, tmp_path):
    err, took = _signal_audio_process_and_wait(tiny_model, tmp_path, signal.SIGSTOP)
    assert "the audio stream stopped: no callback for" in err, err
    assert took <= 10.0, f"the show ended {took:.1f} s after the audio process froze; the README promises 10 s"


FAULTY_FX = r"""
import sys
import livegan.audio.fx as fx
calls = [0]
process = fx.FxChain.process
def boom(self, block):
    calls[0] += 1
    if calls[0] == 200:
        raise RuntimeError("an effect broke")
    process(self, block)
fx.FxChain.process = boom
from livegan.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_exception_in_the_callback_silences_one_block_and_the_show_plays_on(jack_server, tiny_model, tmp_path):
    """The callback's code is the same in the audio process; ``--debug-audio-thread`` lets the test break an
    effect from outside (the audio process imports its own copy)."""
    import json

    wav, stats = tmp_path / "take.wav", tmp_path / "s.json"
    r = subprocess.run([sys.executable, "-c", FAULTY_FX, "perform", "--model", str(tiny_model), "--debug-audio-thread",
                        "--record", str(wav), "--seconds", "4", "--stats-json", str(stats)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    said = [ln for ln in r.stderr.splitlines() if "the audio callback failed (RuntimeError: an effect broke)" in ln]
    assert len(said) == 1, r.stderr
    s = json.loads(stats.read_text())
    assert s["callback_faults"] == 1 and s["frames_played"] >= 4 * SR, s
    data, _ = sf.read(str(wav), dtype="float32")
    assert abs(data[-SR:]).max() > 0.01, "no sound after the fault: the loops did not play on"


def test_control_process_killed_takes_the_audio_process_with_it(jack_server, tiny_model, tmp_path):
    p, kid, _ = _start(tiny_model, tmp_path)
    os.kill(p.pid, signal.SIGKILL)
    p.communicate(timeout=30)
    assert wait_until(lambda: _gone(kid), 10, 0.05), "the audio process outlived its control process"

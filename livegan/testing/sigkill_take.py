"""SIGKILL during ``livegan perform --record``: shared by tests/test_sigkill_take_survives_with_journal.py
and benchmarks/sigkill_take.py.

``perform_and_kill`` runs ``python -m livegan perform --record take.wav --midi virtual`` on the JACK
server, with a controller process turning knobs over JACK MIDI, and SIGKILLs it ``kill_after``
seconds after the first frames reach the WAV. While it plays, the WAV's header is read every few
ms: each drain of the recorder shows up as (time seen, frames); the frames played when the kill
came are the last drain's frames plus the time since it at the output rate, and ``lost`` is that
minus the frames the WAV holds after the kill (an estimate within a few ms: the poll's interval).
``controller`` is the controller's output (the number of messages once it sent the whole plan).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import soundfile as sf

from livegan.testing.midi_sender import start_sender, tell_start

SR = 48000
# (seconds after the stream starts, raw MIDI): 1 s bars (240 BPM); changes come 0.35-0.5 bar after a
# bar line, at least 0.5 s before the next one: live generation decides up to its lead (0.1 s plus
# the slowest recent generation) before a line, the render 0.1 s before; both then see the same knobs
PLAN = [(1.35, [0xB0, 20, 64]), (1.4, [0xB0, 20, 120]), (2.4, [0xB0, 21, 30]), (3.45, [0xB0, 22, 100]),
        (5.4, [0x90, 37, 100]), (5.5, [0x80, 37, 0]), (6.35, [0xB0, 20, 10])]

def patch_240(folder) -> str:
    from livegan.control.patch import default_patch_path, load_patch, replace
    from livegan.control.patch_write import save_patch

    path = os.path.join(str(folder), "bars-of-1s.toml")
    save_patch(replace(load_patch(default_patch_path()), name="bars-of-1s", tempo=240.0), path)
    return path


def _frames(path) -> int:
    try:
        return sf.info(str(path)).frames
    except Exception:  # not there yet, or its header not yet written
        return 0


def perform_and_kill(model, folder, kill_after: float = 8.0, plan=PLAN, tag: str = "") -> dict:
    """Returns wav, journal, patch, frames (in the WAV after the kill), played (estimated at the
    kill), lost (= played - frames), stderr, controller (its stderr)."""
    folder = str(folder)
    wav = os.path.join(folder, "take.wav")
    patch = patch_240(folder)
    client = f"lgkill{os.getpid()}{tag}"
    env = {**os.environ, "LIVEGAN_MIDI_CLIENT": client, "JACK_NO_START_SERVER": "1"}
    p = subprocess.Popen([sys.executable, "-m", "livegan", "perform", "--model", str(model), "--patch", patch,
                          "--midi", "virtual", "--record", wav, "--seconds", "60"], cwd=folder,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=env)
    ctl = start_sender(f"{client}ctl", client, plan, env)
    lines = []
    try:
        for line in p.stderr:
            lines.append(line)
            if " on '" in line and "Hz" in line:  # the stream starts within a few ms of this line
                tell_start(ctl, time.monotonic())
                break
        t0, seen = time.monotonic(), (0.0, 0)
        while seen[1] == 0:
            assert p.poll() is None, "".join(lines)
            assert time.monotonic() - t0 < 60, "perform did not start recording within 60 s"
            n = _frames(wav)
            seen = (time.monotonic(), n) if n else seen
            time.sleep(0.002)
        end = seen[0] + kill_after
        while time.monotonic() < end:
            n = _frames(wav)
            if n != seen[1]:
                seen = (time.monotonic(), n)
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        t_kill = time.monotonic()
        lines.append(p.communicate(timeout=20)[1])
        ctl_out, ctl_err = ctl.communicate(timeout=30)
    finally:
        for q in (p, ctl):
            if q.poll() is None:
                q.kill()
    frames = _frames(wav)
    played = seen[1] + (t_kill - seen[0]) * SR
    return dict(wav=wav, journal=os.path.join(folder, "take.journal"), patch=patch, frames=frames, played=played,
                lost=played - frames, stderr="".join(lines), controller=ctl_out + ctl_err)


def render_journal(model, patch, journal, frames: int, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livegan", "render", "--model", str(model), "--patch", patch,
                           "--automation", journal, "--seconds", repr(frames / SR), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)

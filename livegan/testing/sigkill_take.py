"""SIGKILL during ``livegan perform --record``: shared by tests/test_sigkill_take_survives_with_journal.py
and benchmarks/sigkill_take.py.

``perform_and_kill`` runs ``python -m livegan perform --record take.wav --osc 0`` on the JACK server,
with a controller process turning knobs and pressing a seed over OSC, and SIGKILLs it ``kill_after``
seconds after the first frames reach the WAV. The controller speaks OSC (UDP on 127.0.0.1), not JACK
MIDI: on a loaded machine a JACK client that misses its cycle drops the MIDI it was to send (JACK logs
an xrun for the sender), and this harness measures what the journal keeps of what livegan received,
not the transport's losses; a datagram waits in the socket buffer until perform reads it.

While it plays, the WAV's header is read every few ms: each drain of the recorder shows up as (time
seen, frames); the frames played when the kill came are the last drain's frames plus the time since
it at the output rate, and ``lost`` is that minus the frames the WAV holds after the kill (an
estimate within a few ms: the poll's interval).
``controller`` is the controller's output (the number of messages once it sent the whole plan).
Knob and seed messages are logged as the patch's CC and seed note (``livegan.control.osc``), so the
journal holds CC rows 20-22 and one note on 37.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import soundfile as sf

from livegan.testing.osc_sender import start_sender, tell_start

SR = 48000
# (seconds after the stream starts, OSC address, args): 1 s bars (240 BPM); changes come 0.35-0.5 bar
# after a bar line, at least 0.5 s before the next one: live generation decides up to its lead (0.1 s
# plus the slowest recent generation) before a line, the render 0.1 s before; both then see the same
# knobs. Knobs 1-3 are the default patch's CC 20-22 (value v -> CC round(127 v)); seed 1 is note 37.
PLAN = [(1.35, "/livegan/knob/1", [64 / 127]), (1.4, "/livegan/knob/1", [120 / 127]),
        (2.4, "/livegan/knob/2", [30 / 127]), (3.45, "/livegan/knob/3", [100 / 127]),
        (5.4, "/livegan/seed", [1]), (6.35, "/livegan/knob/1", [10 / 127])]
PLAN_CCS = [64, 120, 30, 100, 10]  # the CC values the plan's knob messages log, in order

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


def perform_and_kill(model, folder, kill_after: float = 8.0, plan=PLAN) -> dict:
    """Returns wav, journal, patch, frames (in the WAV after the kill), played (estimated at the
    kill), lost (= played - frames), stderr, controller (its stderr)."""
    folder = str(folder)
    wav = os.path.join(folder, "take.wav")
    patch = patch_240(folder)
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    p = subprocess.Popen([sys.executable, "-m", "livegan", "perform", "--model", str(model), "--patch", patch,
                          "--osc", "0", "--record", wav, "--seconds", "60"], cwd=folder,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=env)
    ctl = start_sender(plan, env)
    lines = []
    try:
        for line in p.stderr:
            lines.append(line)
            m = re.search(r"OSC on 127\.0\.0\.1:(\d+)", line)
            if m:  # the banner: the stream starts within a few ms of this line
                tell_start(ctl, time.monotonic(), int(m.group(1)))
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

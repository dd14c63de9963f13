"""End to end: a controller in a second process plays ``livegan perform`` over JACK MIDI.

The controller opens a JACK MIDI output, connects to livegan's virtual input
(``--midi virtual``) and sends CC sweeps and seed notes in the middle of bars
(1 s bars: the generic patch at 240 BPM). The performance records OUT.wav and
its log OUT.mid. Then:

- every loop switch lies on a bar boundary, and after each control change the
  loop changes at the first boundary after it, to a loop made from a control
  state that includes the change (a loop the engine logged as late, on a busy
  machine, at the first boundary after it came: ``livegan.testing.switches``);
- ``livegan render`` of OUT.mid (the same code path, offline) makes the same
  loops from the same control states at the same switch frames, and the same
  audio as the recording, bit for bit, effect-knob (filter) sweeps included.

Real-time parts get generous margins (events at least 0.3 bar from any
boundary); exactness is asked only of what the render must reproduce.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import soundfile as sf

from livegan.audio import dsp
from livegan.control.admission import EngineControls, controller_for
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.perflog import marker_loop
from livegan.model import load_model
from livegan.offline import render
from livegan.performance import build
from livegan.testing.switches import check_switches_follow_changes

SR, BPM = 48000, 240.0
BAR = int(SR * 60 / BPM * 4)  # 48000 frames: one 4-beat bar of the tiny model at 240 BPM
SECONDS = 7.5

CONTROLLER = r"""
import sys, time
import rtmidi
client, target, bar = sys.argv[1], sys.argv[2], float(sys.argv[3])
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=client)
end = time.monotonic() + 60
while True:
    hits = [i for i, p in enumerate(out.get_ports()) if p.startswith(target + ":")]
    if hits or time.monotonic() > end:
        break
    time.sleep(0.05)
if not hits:
    sys.exit("no livegan input port: " + repr(out.get_ports()))
out.open_port(hits[0])
t0 = float(sys.stdin.readline())  # when perform started its stream (CLOCK_MONOTONIC, shared by processes)

def sweep(at, cc, a, b, dur):
    n = abs(b - a) // 3 + 1
    return [(at + dur * i / (n - 1), [0xB0, cc, int(round(a + (b - a) * i / (n - 1)))]) for i in range(n)]

plan = (sweep(1.30, 20, 64, 127, 0.3)                      # knob 1: pick up at the middle, turn up
        + [(2.40, [0x90, 37, 100]), (2.50, [0x80, 37, 0])]  # seed 1
        + sweep(3.30, 21, 64, 1, 0.3)                       # knob 2 down
        + [(4.30, [0xB0, 74, 127])] + sweep(4.35, 74, 127, 20, 0.25)  # filter only: no new loop
        + [(5.40, [0x90, 38, 100]), (5.45, [0x80, 38, 0])] + sweep(5.45, 22, 64, 110, 0.2))
for at, msg in sorted(plan, key=lambda x: x[0]):
    delay = t0 + at * bar - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    out.send_message(msg)
time.sleep(0.2)
print(len(plan))
"""


def _patch(tmp_path):
    path = tmp_path / "fast.toml"
    save_patch(replace(load_patch(default_patch_path()), name="e2e", tempo=BPM, quantize="bar"), path)
    return load_patch(path), path


def _perform(tiny_model, tmp_path, patch_path, client):
    """Run livegan perform and the controller (started at once, so its start-up costs no timing); tell the
    controller when perform says its stream starts. Returns (rc, stderr, controller stdout, controller rc)."""
    env = {**os.environ, "LIVEGAN_MIDI_CLIENT": client, "JACK_NO_START_SERVER": "1"}
    cmd = [sys.executable, "-m", "livegan", "perform", "--model", str(tiny_model), "--patch", str(patch_path),
           "--midi", "virtual", "--record", str(tmp_path / "out.wav"), "--seconds", str(SECONDS),
           "--stats-json", str(tmp_path / "stats.json")]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    lines, started = [], threading.Event()
    anchor = {}

    def read():
        for line in p.stderr:
            lines.append(line)
            if "livegan perform: tiny-sines on" in line and not started.is_set():
                anchor["t"] = time.monotonic()  # the stream starts within a few ms of this line
                started.set()
    threading.Thread(target=read, daemon=True).start()
    ctl = subprocess.Popen([sys.executable, "-c", CONTROLLER, f"{client}ctl", client, "1.0"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert started.wait(60), "".join(lines)
        ctl.stdin.write(f"{anchor['t']!r}\n")
        ctl.stdin.flush()
        ctl_out, ctl_err = ctl.communicate(timeout=60)
        rc = p.wait(timeout=60)
    finally:
        for q in (p, ctl):
            if q.poll() is None:
                q.kill()
    time.sleep(0.1)
    return rc, "".join(lines), ctl_out, ctl.returncode, ctl_err


def test_controller_process_plays_perform_and_render_reproduces_it(tiny_model, jack_server, tmp_path):
    patch, patch_path = _patch(tmp_path)
    client = f"lge2e{os.getpid()}"
    rc, err, ctl_out, ctl_rc, ctl_err = _perform(tiny_model, tmp_path, patch_path, client)
    assert ctl_rc == 0, ctl_err
    assert rc == 0, err
    stats = json.loads((tmp_path / "stats.json").read_text())
    events = read_automation(str(tmp_path / "out.mid"), SR)
    # notes all arrive; CCs are last-value-wins (a sweep may lose steps, never its final value)
    assert [(m.type, m.note) for _, m in events if m.type.startswith("note")] == \
        [("note_on", 37), ("note_off", 37), ("note_on", 38), ("note_off", 38)]
    ccs = [(m.control, m.value) for _, m in events if m.type == "control_change"]
    assert 20 <= len(ccs) <= int(ctl_out) - 4
    for cc, last in ((20, 127), (21, 1), (74, 20), (22, 110)):
        assert [v for c_, v in ccs if c_ == cc][-1] == last

    # the control state each event made: replay the log through the same patch's Controller
    model = load_model(tiny_model, device="cpu", threads=1)
    c, _, _ = controller_for(patch, model.meta)
    ec = EngineControls(c)
    changes = []
    for f, msg in events:
        before = ec.seq
        ec.message(msg)
        if ec.seq != before:
            changes.append((f, ec.seq))
        if msg.type == "control_change" and msg.control == 74:
            assert ec.seq == before  # an effect knob makes no new loop
    assert len(changes) >= 10

    switches = stats["switch_log"]  # [frame, loop id]
    loop_seq = [q for _, q in stats["loop_controls"]]
    assert stats["late_loops"] == len(stats["late_log"])  # a late loop (a busy machine) is logged: see below
    assert all(f % BAR == 0 for f, _ in switches), switches  # quantize = bar, exact frames
    played = stats["frames_played"]
    assert check_switches_follow_changes(changes, switches, loop_seq, stats["late_log"], BAR, played) >= 10
    seqs = [loop_seq[lid] for _, lid in switches]
    assert all(a < b for a, b in zip(seqs, seqs[1:]))  # no switch without a change of controls since the last

    # the re-render: same loops from the same control states at the same frames, same audio
    rec, rate = sf.read(str(tmp_path / "out.wav"), dtype="float32")
    assert rate == SR and rec.shape[0] == stats["frames_recorded"] == round(SECONDS * SR) <= played  # cut on its frame
    parts = build(model.meta, patch, SR, 2)  # the patch's tempo (BPM) and quantize (bar), as performed
    ec2 = parts.controls
    try:
        engine, audio = render(model, parts, events, rec.shape[0], blocksize=256)
    finally:
        parts.close()
    ev = engine.events()
    r_switches = [[int(f), int(lid)] for f, k, _, lid in ev if k == dsp.EV_SWITCH]
    r_seq = [q for _, q in ec2.generated]
    assert [f for f, _ in r_switches] == [f for f, _ in switches]
    assert [r_seq[lid] for _, lid in r_switches] == [loop_seq[lid] for _, lid in switches]
    # The recording, bit for bit, effect-knob sweeps included: live, each control change took effect
    # at the first frame of the audio block that admitted it, and the log holds that frame.
    fx_frames = [f for f, m in events if m.type == "control_change" and m.control == 74]
    assert fx_frames and fx_frames[0] > 2 * BAR
    assert np.array_equal(audio, rec), np.abs(audio - rec).max()


SENDER = r"""
import sys, time
import rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=sys.argv[1])
end = time.monotonic() + 60  # perform's start (torch, the model, numba) on a busy machine
hits = []
while not hits and time.monotonic() < end:
    hits = [i for i, p in enumerate(out.get_ports()) if p.startswith(sys.argv[2] + ":")]
    time.sleep(0.05)
if not hits:
    sys.exit("no livegan input port: " + repr(out.get_ports()))
out.open_port(hits[0])
time.sleep(0.3)
for msg in ([0xB0, 20, 64], [0xB0, 20, 90], [0x90, 39, 100], [0x80, 39, 0]):
    out.send_message(msg)
    time.sleep(0.05)
time.sleep(0.3)
"""


def test_sigterm_still_saves_the_performance_log(tiny_model, jack_server, tmp_path):
    import signal

    client = f"lgterm{os.getpid()}"
    env = {**os.environ, "LIVEGAN_MIDI_CLIENT": client, "JACK_NO_START_SERVER": "1"}
    p = subprocess.Popen([sys.executable, "-m", "livegan", "perform", "--model", str(tiny_model), "--midi", "virtual",
                          "--record", str(tmp_path / "t.wav")], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        ctl = subprocess.run([sys.executable, "-c", SENDER, f"{client}ctl", client], capture_output=True, text=True,
                             timeout=60, env=env)
        assert ctl.returncode == 0, ctl.stderr
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    log = read_automation(str(tmp_path / "t.mid"), SR)
    # (a CC that lands before the first control step is overwritten by the next: last value wins)
    assert [m.value for _, m in log if m.type == "control_change"][-1] == 90, err
    made = [m for _, m in log if marker_loop(m) is not None]  # the loops the CC and note made: the render's cue
    assert [m.type for _, m in log if m.type != "control_change" and m not in made] == ["note_on", "note_off"], err
    frames = [f for f, _ in log]
    assert frames == sorted(frames) and 0 < frames[-1] <= sf.info(str(tmp_path / "t.wav")).frames

"""A second process that plays MIDI into a performing livegan over JACK MIDI, the way a controller
would: it opens a JACK MIDI output named ``client``, connects to the first port of ``target`` (the
perform's ``LIVEGAN_MIDI_CLIENT``), and sends a plan of raw messages at seconds after a start time.

The start time is either read from the sender's stdin (``start_from_stdin``: the test writes
``time.monotonic()`` when perform says its stream starts, so plan times are show times) or taken
when the port connects. With ``repeat_every``, the plan is played again and again that far apart
until ``repeat_for`` seconds have passed. The sender prints how many messages it sent."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

SCRIPT = r"""
import json, sys, time
import rtmidi
client, target, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=client)
end = time.monotonic() + 60
hits = []
while not hits and time.monotonic() < end:
    hits = [i for i, p in enumerate(out.get_ports()) if p.startswith(target + ":")]
    time.sleep(0.05)
if not hits:
    sys.exit("no livegan input port: " + repr(out.get_ports()))
out.open_port(hits[0])
t0 = float(sys.stdin.readline()) if cfg["stdin"] else time.monotonic()
period, until, passes, sent = cfg["every"], cfg["until"], 0, 0
while True:
    for at, msg in cfg["plan"]:
        t = at + passes * period
        if period and t >= until:
            break
        d = t0 + t - time.monotonic()
        if d > 0:
            time.sleep(d)
        out.send_message(msg)
        sent += 1
    else:
        passes += 1
        if period:
            continue
    break
print(sent)
"""


def start_sender(client: str, target: str, plan, env, start_from_stdin: bool = True,
                 repeat_every: float | None = None, repeat_for: float = 0.0) -> subprocess.Popen:
    """The sender process (text pipes; stdin open when ``start_from_stdin``). ``plan``: [(seconds,
    [status, data1, data2])]; with ``repeat_every`` (the plan's period) it starts over until
    ``repeat_for`` seconds from the start."""
    cfg = {"plan": [[float(t), list(m)] for t, m in plan], "stdin": bool(start_from_stdin),
           "every": float(repeat_every or 0.0), "until": float(repeat_for)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, client, target, json.dumps(cfg)],
                            stdin=subprocess.PIPE if start_from_stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def seed_note_plan(every: float) -> list:
    """One pass of seed notes, period ``8 * every``: note on/off for each of notes 36-43, ``every``
    seconds apart (each note asks the scheduler for a new loop)."""
    plan = []
    for k in range(8):
        plan += [(k * every, [0x90, 36 + k, 100]), (k * every, [0x80, 36 + k, 0])]
    return plan


def tell_start(sender: subprocess.Popen, t0: float) -> None:
    """Give a ``start_from_stdin`` sender its start time (``time.monotonic()`` of this process: the
    same clock)."""
    sender.stdin.write(f"{t0!r}\n")
    sender.stdin.flush()


def perform_with_sender(args, plan, client: str, cwd, timeout: float = 60.0):
    """``python -m livegan perform ARGS --midi virtual`` (its JACK MIDI input named ``client``) with a
    sender playing ``plan`` from when perform says its stream starts (plan times are show times);
    -> (perform's exit code, its stderr, the sender's exit code, the sender's stderr). Whatever still
    runs after ``timeout`` is killed."""
    env = {**os.environ, "LIVEGAN_MIDI_CLIENT": client, "JACK_NO_START_SERVER": "1"}
    p = subprocess.Popen([sys.executable, "-m", "livegan", "perform", *map(str, args), "--midi", "virtual"],
                         cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    ctl = start_sender(f"{client}ctl", client, plan, env)
    lines = []
    try:
        for line in p.stderr:
            lines.append(line)
            if line.startswith("livegan perform: ") and " on '" in line and " Hz, " in line:  # the banner:
                tell_start(ctl, time.monotonic())  # the stream starts within a few ms of it
                break
        ctl_err = ctl.communicate(timeout=timeout)[1]
        lines.append(p.communicate(timeout=timeout)[1])
    finally:
        for q in (p, ctl):
            if q.poll() is None:
                q.kill()
    return p.returncode, "".join(lines), ctl.returncode, ctl_err

"""A second process that plays OSC into a performing livegan (``perform --osc PORT``), the way
TouchOSC or Max would, and a flood of malformed packets for the robustness test. Every packet goes
to 127.0.0.1.

``python -m livegan.testing.osc_sender CONFIG_JSON`` reads ``T0 PORT`` from stdin (the test writes
``time.monotonic()`` when perform says its stream starts, and the port perform's banner names), then
sends ``plan`` ([[seconds, address, [args]]]) at seconds after T0, and from ``flood.at`` seconds the
``flood.n`` packets of ``malformed(flood.n, flood.seed)`` spread over ``flood.over`` seconds (in small
bursts, so a loaded machine's socket buffer takes them). It prints how many packets it sent.
"""
from __future__ import annotations

import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"
BURST = 25  # packets sent back to back in a flood; then a short pause


def message(address: str, args=(), types: str | None = None) -> bytes:
    """One OSC message; ``types`` gives each argument's type tag (default: inferred: i, f, s, b)."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    b = OscMessageBuilder(address=address)
    for i, a in enumerate(args):
        b.add_arg(a, types[i] if types else None)
    return b.build().dgram


def malformed(n: int, seed: int = 0) -> list:
    """``n`` packets livegan must refuse, cycling through every way to be wrong: bytes that are not
    OSC, a cut-off message, unknown addresses, wrong argument types and counts, NaN and infinity,
    values and indices out of range, an effect parameter no patch knob has."""
    rng = random.Random(seed)
    ok = message("/livegan/knob/1", [0.5])
    kinds = [
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 120))),
        lambda: ok[:rng.randint(1, len(ok) - 1)],
        lambda: message(f"/livegan/nope{rng.randint(0, 99)}", [0.5]),
        lambda: message("/other/knob/1", [0.5]),
        lambda: message("/livegan/knob/1", ["loud"]),
        lambda: message("/livegan/knob/2", [b"\x01\x02"]),
        lambda: message("/livegan/knob/1", [math.nan], "f"),
        lambda: message("/livegan/knob/3", [math.inf], "d"),
        lambda: message("/livegan/knob/1", [1.0 + rng.random()]),
        lambda: message("/livegan/knob/1", [-rng.random() - 0.01]),
        lambda: message(f"/livegan/knob/{rng.choice([0, 99, 1000])}", [0.5]),
        lambda: message("/livegan/knob/x", [0.5]),
        lambda: message("/livegan/seed", [rng.choice([-1, 999])]),
        lambda: message("/livegan/seed", [1.5]),
        lambda: message("/livegan/pad", [rng.choice([0, 99])]),
        lambda: message("/livegan/tempo", [rng.choice([0.0, 5.0, 5000.0])]),
        lambda: message("/livegan/record", [2]),
        lambda: message("/livegan/record", [True], "T"),
        lambda: message("/livegan/morph", []),
        lambda: message("/livegan/morph", [0.5, 0.5]),
        lambda: message("/livegan/fx/chorus/mix", [0.5]),
    ]
    return [kinds[i % len(kinds)]() for i in range(n)]


def main(argv=None) -> int:
    cfg = json.loads((argv or sys.argv[1:])[0])
    t0, port = sys.stdin.readline().split()
    t0, port = float(t0), int(port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sends = [(float(at), message(addr, args)) for at, addr, args in cfg.get("plan", [])]
    fl = cfg.get("flood")
    if fl:
        packets = malformed(int(fl["n"]), int(fl.get("seed", 0)))
        bursts = max(1, len(packets) // BURST)
        sends += [(fl["at"] + fl["over"] * (i // BURST) / bursts, p) for i, p in enumerate(packets)]
    sends.sort(key=lambda s: s[0])
    for at, data in sends:
        d = t0 + at - time.monotonic()
        if d > 0:
            time.sleep(d)
        sock.sendto(data, (HOST, port))
    print(len(sends))
    return 0


def start_sender(plan=(), env=None, flood: dict | None = None) -> subprocess.Popen:
    """The sender process (text pipes); give it ``tell_start``. ``plan``: [(seconds, address, [args])];
    ``flood``: {"n", "at", "over", "seed"}."""
    cfg = {"plan": [[float(t), a, list(args)] for t, a, args in plan], "flood": flood}
    return subprocess.Popen([sys.executable, "-m", "livegan.testing.osc_sender", json.dumps(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def tell_start(sender: subprocess.Popen, t0: float, port: int) -> None:
    """The sender's start time (``time.monotonic()`` here: the same clock) and perform's OSC port."""
    sender.stdin.write(f"{t0!r} {port}\n")
    sender.stdin.flush()


def perform_with_osc(model, cwd, args, plan=(), flood=None, started=None):
    """``livegan perform --model MODEL --osc 0 ARGS`` in ``cwd``, with a sender (``plan``, ``flood``) told
    the port and the stream's start (perform's banner line); ``started(pid)``, if given, is called then
    with perform's process id. -> (perform's exit code, its stderr, (the sender's exit code, stdout, stderr))."""
    head = ["--model", str(model)] if model is not None else []  # None: ARGS name what plays (--set)
    cmd = [sys.executable, "-m", "livegan", "perform", *head, "--osc", "0", *map(str, args)]
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    sender = start_sender(plan, env, flood)
    lines = []
    try:
        for line in p.stderr:
            lines.append(line)
            m = re.search(r"OSC on 127\.0\.0\.1:(\d+)", line)
            if m:  # the stream starts within a few ms of this line
                tell_start(sender, time.monotonic(), int(m.group(1)))
                if started is not None:
                    started(p.pid)
                break
        out, serr = sender.communicate(timeout=60)
        lines.append(p.communicate(timeout=60)[1])
    finally:
        for q in (p, sender):
            if q.poll() is None:
                q.kill()
    return p.returncode, "".join(lines), (sender.returncode, out, serr)


if __name__ == "__main__":
    sys.exit(main())

"""A plain Ableton Link peer (the ``link`` module of LinkPython-extern only, nothing of livegan) for
``livegan.testing.link_show`` and the Link tests.

    python link_peer.py PLAN_JSON SECONDS [WAIT_S]

Joins the session at 120 BPM (start/stop sync on), waits until it has a peer (at most WAIT_S,
default 20) and says "ready"; reads T0 (a ``time.monotonic()`` time, the clock every process here
shares) from stdin; from T0 on sets the tempo and the transport as PLAN ([[seconds after T0, bpm or
"stop" or "start"], ...]) says and notes its own timeline every 2 ms: (monotonic time, beat at
quantum 4, tempo), Link's clock read between two ``time.monotonic()`` calls (a note is dropped when
they are 0.5 ms apart or more). After SECONDS prints the notes as one JSON line.
"""
import json
import sys
import time

from link import Link


def main():
    plan, seconds = json.loads(sys.argv[1]), float(sys.argv[2])
    link = Link(120.0)
    link.startStopSyncEnabled = True
    link.enabled = True
    clock = link.clock()
    give_up = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 20.0)
    while link.numPeers() < 1 and time.monotonic() < give_up:
        time.sleep(0.01)
    print("ready", link.numPeers(), flush=True)
    t0 = float(sys.stdin.readline())
    notes, i = [], 0
    while time.monotonic() < t0 + seconds:
        while i < len(plan) and time.monotonic() >= t0 + plan[i][0]:
            state, what = link.captureAppSessionState(), plan[i][1]
            if isinstance(what, str):  # "stop" / "start": the session's transport
                state.setIsPlaying(what == "start", clock.micros())
            else:
                state.setTempo(float(what), clock.micros())
            link.commitAppSessionState(state)
            i += 1
        a = time.monotonic()
        us = clock.micros()
        b = time.monotonic()
        state = link.captureAppSessionState()
        if b - a < 0.0005:  # a note only where Link's clock was read within 0.5 ms of its time: a process
            notes.append((0.5 * (a + b), state.beatAtTime(us, 4), state.tempo()))  # descheduled in between
        time.sleep(0.002)  # would date its beat wrong by up to half the stall
    print(json.dumps({"notes": notes, "peers": link.numPeers()}), flush=True)
    link.enabled = False


if __name__ == "__main__":
    main()

"""Write the demo's automation, ``livegan/data/demo.mid``: 30 s of knob sweeps,
seed changes, a filter sweep and a tempo change, played on the generic patch
(directions on CC 20-23, filter cutoff on CC 74, seeds on notes 36-43).

    python scripts/make_demo_automation.py [OUT.mid]

It is written in the performance-log format (``livegan/io/perflog.py``): what
`livegan perform --record` leaves beside a recording, so the demo is replayed
exactly as a recorded performance is. The tempo change is a ``livegan tempo``
marker at 16 s (120 -> 132 BPM).
"""
from __future__ import annotations

import os
import sys

import mido

from livegan.io.perflog import PerfLog

RATE = 48000
OUT = os.path.join(os.path.dirname(__file__), "..", "livegan", "data", "demo.mid")


def build() -> PerfLog:
    events = []  # (seconds, message)

    def sweep(cc, t0, t1, v0, v1, steps_per_s=20):
        n = max(2, int((t1 - t0) * steps_per_s))
        for i in range(n + 1):
            v = round(v0 + (v1 - v0) * i / n)
            events.append((t0 + (t1 - t0) * i / n, mido.Message("control_change", channel=0, control=cc, value=v)))

    def note(t, n):
        events.append((t, mido.Message("note_on", channel=0, note=n, velocity=100)))
        events.append((t + 0.2, mido.Message("note_off", channel=0, note=n, velocity=0)))

    note(0.0, 36)
    sweep(20, 2.0, 6.0, 64, 127)
    sweep(20, 6.0, 10.0, 127, 20)
    note(8.0, 38)
    sweep(74, 10.0, 13.0, 127, 50)
    sweep(21, 10.0, 15.0, 64, 0)
    sweep(74, 13.0, 16.0, 50, 127)
    note(16.5, 40)
    sweep(22, 18.0, 23.0, 64, 127)
    sweep(23, 20.0, 25.0, 64, 10)
    note(25.0, 36)
    sweep(21, 25.0, 28.0, 0, 64)
    tempo_change_s, bpm1 = 16.0, 132.0

    log = PerfLog(RATE)  # the performance-log format: one tick per frame, tempo changes as markers
    for sec, msg in sorted(events, key=lambda e: e[0]):
        log.log(int(round(sec * RATE)), msg.bytes())
    log.tempo(int(round(tempo_change_s * RATE)), bpm1)
    return log


def main(argv=None) -> int:
    out = (argv or sys.argv[1:] or [OUT])[0]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    n = build().save(out)
    print(f"wrote {os.path.normpath(out)}: {mido.MidiFile(out).length:.2f} s, {n} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())

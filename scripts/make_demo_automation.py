"""Write the demo's automations: ``livegan/data/demo.mid``, 30 s of knob sweeps,
seed changes, a filter sweep and a tempo change, played on the generic patch
(directions on CC 20-23, filter cutoff on CC 74, seeds on notes 36-43); and
``livegan/data/demo_set.mid``, what ``livegan demo`` plays on the two-track demo
set ``livegan/data/demo_set.toml``: the same moves on the drums (channel 1, the
named knobs first), the bass (channel 2) coming in on the bar at 4 s, its own
knob moves and seeds, and the set's scene "drop" recalled at 11.5 s (both
tracks' new points at once, the faders on the 12 s bar), as a live recall logs it.

    python scripts/make_demo_automation.py [OUT.mid [OUT_SET.mid]]

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
OUT_SET = os.path.join(os.path.dirname(__file__), "..", "livegan", "data", "demo_set.mid")
SET = os.path.join(os.path.dirname(__file__), "..", "livegan", "data", "demo_set.toml")
BASS_IN_S, SCENE_S, SCENE_BAR_S = 4.0, 11.5, 12.0  # bar lines at 120 BPM: 4 s and 12 s


def build() -> PerfLog:
    """The one-model demo's log (``demo.mid``)."""
    log = PerfLog(RATE)  # the performance-log format: one tick per frame, tempo changes as markers
    _moves(log, 0)
    return log


def _moves(log: PerfLog, channel: int) -> None:
    """The demo's knob sweeps, seed notes and tempo change, on ``channel`` (0-based)."""
    events = []  # (seconds, message)

    def sweep(cc, t0, t1, v0, v1, steps_per_s=20):
        n = max(2, int((t1 - t0) * steps_per_s))
        for i in range(n + 1):
            v = round(v0 + (v1 - v0) * i / n)
            events.append((t0 + (t1 - t0) * i / n, mido.Message("control_change", channel=channel, control=cc,
                                                                  value=v)))

    def note(t, n):
        events.append((t, mido.Message("note_on", channel=channel, note=n, velocity=100)))
        events.append((t + 0.2, mido.Message("note_off", channel=channel, note=n, velocity=0)))

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

    for sec, msg in sorted(events, key=lambda e: e[0]):
        log.log(int(round(sec * RATE)), msg.bytes())
    log.tempo(int(round(tempo_change_s * RATE)), bpm1)


def build_set() -> PerfLog:
    """The two-track demo's log (``demo_set.mid``) for ``demo_set.toml``."""
    from livegan.audio.mix_marks import mix_row
    from livegan.control.set_mix import scene_point
    from livegan.model import read_meta
    from livegan.set_file import load_set

    s = load_set(SET)
    metas = [read_meta(t.model) for t in s.tracks]
    log = PerfLog(RATE, named=max(len(m.knobs) for m in metas))  # each track's named knobs first on CC 20..
    _moves(log, 0)  # the drums: the one-model demo's moves
    f = lambda sec: int(round(sec * RATE))  # noqa: E731
    bass = s.tracks[1]
    log.log(f(BASS_IN_S), mix_row(1, int(round(bass.gain_db * 1000)), False, False))  # in on the bar
    for sec, cc, v in [(5.0, 20, 64), (6.0, 20, 110), (8.0, 21, 64), (9.0, 21, 20), (17.0, 20, 30), (20.0, 21, 120)]:
        log.log(f(sec), mido.Message("control_change", channel=1, control=cc, value=v).bytes())
    for sec, n in [(0.0, 36), (8.0, 37), (22.0, 39)]:
        log.log(f(sec), mido.Message("note_on", channel=1, note=n, velocity=100).bytes())
        log.log(f(sec + 0.2), mido.Message("note_off", channel=1, note=n, velocity=0).bytes())
    drop = next(sc for sc in s.scenes if sc.name == "drop")
    for k, part in sorted(drop.parts.items()):  # a recall: each track's point at once ...
        z = scene_point(part, metas[k], None)
        if z is not None:
            log.base(f(SCENE_S), z, k)
    for k, part in sorted(drop.parts.items()):  # ... its fader and mute on the next bar line
        t = s.tracks[k]
        gain = t.gain_db if part.gain_db is None else part.gain_db
        mute = False if part.mute is None else part.mute  # (the bass is in by then)
        log.log(f(SCENE_BAR_S), mix_row(k, int(round(gain * 1000)), mute, t.solo))
    return log


def main(argv=None) -> int:
    outs = list(argv or sys.argv[1:]) + [OUT, OUT_SET][len(argv or sys.argv[1:]):]
    for out, log in zip(outs, (build(), build_set())):
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        n = log.save(out)
        print(f"wrote {os.path.normpath(out)}: {mido.MidiFile(out).length:.2f} s, {n} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())

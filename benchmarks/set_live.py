"""A live set on JACK: 1 track vs N tracks of the built-in model, each regenerating every bar at 120 BPM
with its knob moving (issue 26's measure, first version; results in benchmarks/results/sets.md).

Each run is ``livegan perform --set SET --osc 0 --seconds S --stats-json`` on a JACK dummy server of its
own (``--period`` frames, 48 kHz), while an OSC sender (``livegan.testing.osc_sender``) moves knob 1 of
every track once a bar, half a bar before the bar line, so every track has a new loop due on every bar.
Rounds alternate 1 and N tracks (the order flips each round), so the machine's drift falls on both.
Per run: xruns (the stream's own count), late loops per track, loops generated, the callback's load
(median, p99, max: the audio process's work per block, the mix included), and the CPU seconds of the
perform process and its audio process together (``getrusage(RUSAGE_CHILDREN)`` before and after);
CPU per extra track = (CPU(N) - CPU(1)) / (N - 1) / seconds.

    python benchmarks/set_live.py --tracks 4 --rounds 2 --seconds 20 --period 128
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time

from livegan.testing.jackd import start_jack, stop_jack
from livegan.testing.osc_sender import perform_with_osc


def set_text(n: int) -> str:
    return "".join(f'[[track]]\nname = "t{k}"\nmodel = "builtin:beats"\nchannel = {k + 1}\ngain = -6.0\n\n'
                   for k in range(n))


def plan(n: int, seconds: float, bar_s: float = 2.0) -> list:
    """Knob 1 of every track once a bar, half a bar before each bar line (a new value each time)."""
    out = []
    bar = 0
    while (bar + 0.5) * bar_s < seconds - 1.0:
        for k in range(n):
            out.append(((bar + 0.5) * bar_s + 0.01 * k, f"/livegan/track/{k + 1}/knob/1",
                        [0.2 + 0.6 * ((bar + k) % 5) / 4]))
        bar += 1
    return out


def one_run(n: int, seconds: float, folder: str) -> dict:
    path = os.path.join(folder, f"set{n}.toml")
    with open(path, "w") as f:
        f.write(set_text(n))
    stats = os.path.join(folder, f"stats{n}.json")
    if os.path.exists(stats):
        os.remove(stats)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    rc, err, (s_rc, _, s_err) = perform_with_osc(None, folder, ["--set", path, "--seconds", seconds,
                                                                "--stats-json", stats], plan=plan(n, seconds))
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise SystemExit(f"perform failed ({rc}): {err[-2000:]}")
    s = json.load(open(stats))
    return {"tracks": n, "xruns": s["xruns"], "wall_s": round(wall, 2),
            "late": [s[f"track{k}_late_loops"] for k in range(n)],
            "loops": [s[f"track{k}_loops_generated"] for k in range(n)],
            "load_median": s["callback_load_median"], "load_p99": s["callback_load_p99"],
            "load_max": s["callback_load_max"], "osc_accepted": s.get("osc_accepted"),
            "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--period", type=int, default=128)
    ap.add_argument("--json", default=None, help="write every run here")
    a = ap.parse_args(argv)
    name = f"livegan-setbench-{os.getpid()}"
    os.environ["JACK_DEFAULT_SERVER"] = name
    jack, rt = start_jack(name, a.period)
    runs = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for r in range(a.rounds):
                for n in ((1, a.tracks) if r % 2 == 0 else (a.tracks, 1)):
                    runs.append(one_run(n, a.seconds, folder))
                    print(json.dumps(runs[-1]), flush=True)
    finally:
        stop_jack(jack)
    print(f"JACK dummy {a.period} frames at 48 kHz ({rt}), {a.seconds:g} s runs, {a.rounds} rounds")
    for n in (1, a.tracks):
        rs = [x for x in runs if x["tracks"] == n]
        print(f"{n} track(s): xruns {[x['xruns'] for x in rs]}, late loops {[sum(x['late']) for x in rs]}, "
              f"loops {[sum(x['loops']) for x in rs]}, callback load median "
              f"{statistics.median(x['load_median'] for x in rs):.3f} p99 {max(x['load_p99'] for x in rs):.3f}, "
              f"CPU {statistics.median(x['cpu_s'] for x in rs) / a.seconds:.3f} s/s")
    one = statistics.median(x["cpu_s"] for x in runs if x["tracks"] == 1)
    many = statistics.median(x["cpu_s"] for x in runs if x["tracks"] == a.tracks)
    print(f"CPU per extra track: {(many - one) / (a.tracks - 1) / a.seconds:.3f} s per s "
          "(process start and model load included in both)")
    if a.json:
        json.dump(runs, open(a.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A live set on JACK: 1 track vs N tracks of the built-in models, each regenerating every bar at 120 BPM
with its knob moving (issue 26's measure; results in benchmarks/results/sets.md).

Each run is ``livegan perform --set SET --osc 0 --seconds S --stats-json`` on a JACK dummy server of its
own (``--period`` frames, 48 kHz), while an OSC sender (``livegan.testing.osc_sender``) moves knob 1 of
every track once a bar, half a bar before the bar line, so every track has a new loop due on every bar.
The tracks alternate ``builtin:beats`` and ``builtin:bass`` (beats only where bass is not installed).
Rounds alternate 1 and N tracks (the order flips each round: the A/B interleaving of
``benchmarks/realtime_ab.py``), so the machine's drift falls on both; the xruns' paired difference
(N - 1, same round) is given with its 95 % t interval. Per run: xruns (the stream's own count), late
loops per track, loops generated, the callback's load (median, p99, max: the audio process's work per
block, the mix included), the CPU seconds of the perform process and its audio process together
(``getrusage(RUSAGE_CHILDREN)`` before and after), and their memory at 3/4 of the run (perform and every
process under it: RSS, PSS and USS from ``/proc/PID/smaps_rollup``). Per extra track:
(value(N) - value(1)) / (N - 1), CPU also per second.

    python benchmarks/set_live.py --tracks 8 --rounds 3 --seconds 20 --period 128
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import realtime_ab  # noqa: E402  (this folder: the paired 95 % interval)

from livegan.set_file import BUILTIN  # noqa: E402
from livegan.testing.jackd import start_jack, stop_jack  # noqa: E402
from livegan.testing.osc_sender import perform_with_osc  # noqa: E402

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "livegan", "models")


def builtins() -> list[str]:
    have = [b for b in ("beats", "bass") if os.path.isfile(os.path.join(MODELS, BUILTIN.get(b, "-")))]
    return have or ["beats"]


def set_text(n: int) -> str:
    kinds = builtins()
    return "".join(f'[[track]]\nname = "t{k}"\nmodel = "builtin:{kinds[k % len(kinds)]}"\nchannel = {k + 1}\n'
                   f'gain = -9.0\n\n' for k in range(n))


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


def tree(pid: int) -> list[int]:
    """``pid`` and every process under it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def memory(pid: int) -> dict:
    """RSS, PSS and USS (private clean + dirty) in MiB of ``pid``'s process tree, from smaps_rollup."""
    tot = {"rss": 0, "pss": 0, "uss": 0, "procs": 0}
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                kb = {ln.split(":")[0]: int(ln.split()[1]) for ln in f if ln.split()[-1] == "kB"}
        except OSError:
            continue
        tot["rss"] += kb.get("Rss", 0)
        tot["pss"] += kb.get("Pss", 0)
        tot["uss"] += kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
        tot["procs"] += 1
    return {k: (round(v / 1024, 1) if k != "procs" else v) for k, v in tot.items()}


def one_run(n: int, seconds: float, folder: str) -> dict:
    path = os.path.join(folder, f"set{n}.toml")
    with open(path, "w") as f:
        f.write(set_text(n))
    stats = os.path.join(folder, f"stats{n}.json")
    if os.path.exists(stats):
        os.remove(stats)
    mem: dict = {}

    def started(pid: int) -> None:
        threading.Timer(0.75 * seconds, lambda: mem.update(memory(pid))).start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    rc, err, (s_rc, _, s_err) = perform_with_osc(None, folder, ["--set", path, "--seconds", seconds,
                                                                "--stats-json", stats], plan=plan(n, seconds),
                                                 started=started)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise SystemExit(f"perform failed ({rc}): {err[-2000:]}")
    s = json.load(open(stats))
    return {"tracks": n, "xruns": s["xruns"], "wall_s": round(wall, 2),
            "late": [s[f"track{k}_late_loops"] for k in range(n)],
            "loops": [s[f"track{k}_loops_generated"] for k in range(n)],
            "load_median": s["callback_load_median"], "load_p99": s["callback_load_p99"],
            "load_max": s["callback_load_max"], "osc_accepted": s.get("osc_accepted"), "mem_mib": mem,
            "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 2)}


def summary(runs: list, n: int, seconds: float) -> None:
    for k in (1, n):
        rs = [x for x in runs if x["tracks"] == k]
        print(f"{k} track(s): xruns {[x['xruns'] for x in rs]}, late loops {[sum(x['late']) for x in rs]}, "
              f"loops {[sum(x['loops']) for x in rs]}, callback load median "
              f"{statistics.median(x['load_median'] for x in rs):.3f} p99 {max(x['load_p99'] for x in rs):.3f}, "
              f"CPU {statistics.median(x['cpu_s'] for x in rs) / seconds:.3f} s/s, memory MiB (median) "
              + ", ".join(f"{m} {statistics.median(x['mem_mib'][m] for x in rs):.1f}" for m in ("rss", "pss", "uss")))

    def med(k, f):
        return statistics.median(f(x) for x in runs if x["tracks"] == k)
    cpu = (med(n, lambda x: x["cpu_s"]) - med(1, lambda x: x["cpu_s"])) / (n - 1) / seconds
    print(f"CPU per extra track: {cpu:.3f} s per s (process start and model load included in both)")
    print("memory per extra track (MiB): " + ", ".join(
        f"{m} {(med(n, lambda x, m=m: x['mem_mib'][m]) - med(1, lambda x, m=m: x['mem_mib'][m])) / (n - 1):.1f}"
        for m in ("rss", "pss", "uss")))
    ones = [x["xruns"] for x in runs if x["tracks"] == 1]
    many = [x["xruns"] for x in runs if x["tracks"] == n]
    d = realtime_ab.paired_excess(many, ones)
    ci = "" if d["ci95"] is None else f", 95 % interval [{d['ci95'][0]:.1f}, {d['ci95'][1]:.1f}]"
    print(f"xruns, {n} tracks - 1 track (paired by round, {d['n']} rounds): mean {d['mean']:.1f}{ci}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
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
    print(f"JACK dummy {a.period} frames at 48 kHz ({rt}), {a.seconds:g} s runs, {a.rounds} rounds, "
          f"tracks of {' and '.join('builtin:' + b for b in builtins())}")
    summary(runs, a.tracks, a.seconds)
    if a.json:
        json.dump(runs, open(a.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

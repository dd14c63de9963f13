"""How long ``livegan perform`` takes to end after a SIGTERM sent while a slow generation runs.

Each run plays ``livegan perform --model SLOW --midi virtual --record take.wav`` on the JACK server
(``tests/faulty_models`` kind ``slow``: each loop after the start takes ``--slow`` seconds, and a
second process plays a new seed note every 0.3 s, so the generator is inside torch almost all the
time), sends SIGTERM ``--term-after`` seconds (plus up to ``--jitter``) after the stream starts,
and reports the seconds to exit, the exit code and whether the take's ``.mid`` and the stats were
written. A perform still alive ``--hang-s`` after the SIGTERM counts as a hang: it gets SIGABRT,
and Python's fault handler prints every thread's stack. ``--hogs N`` runs N busy processes
alongside (a loaded machine). Run:
    python benchmarks/sigterm_exit.py [--runs 20] [--hogs 2]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
os.environ.setdefault("JACK_NO_START_SERVER", "1")
os.environ.setdefault("PYO_GUI_WX", "0")


def one_run(model: str, d: str, client: str, term_after: float, hang_s: float) -> dict:
    """One show ended by SIGTERM -> {exit_s, rc, saved, err}. Main thread of the benchmark."""
    from faulty_models import NOTES

    env = {**os.environ, "LIVEGAN_MIDI_CLIENT": client, "PYTHONFAULTHANDLER": "1"}
    take, stats = os.path.join(d, "take.wav"), os.path.join(d, "stats.json")
    p = subprocess.Popen([sys.executable, "-m", "livegan", "perform", "--model", model, "--midi", "virtual",
                          "--seconds", "120", "--record", take, "--stats-json", stats],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=d)
    lines, started = [], threading.Event()

    def read():
        for line in p.stderr:
            lines.append(line)
            if " on 'system' at " in line:
                started.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ctl = subprocess.Popen([sys.executable, "-c", NOTES, f"{client}ctl", client, "0.3", "120"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        if not started.wait(120):
            p.kill()
            return {"exit_s": None, "rc": None, "saved": False, "err": "never started:\n" + "".join(lines)}
        time.sleep(term_after)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(hang_s)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGABRT)  # the fault handler prints every thread's Python stack
            p.wait()
            reader.join(5)
            return {"exit_s": None, "rc": None, "saved": False, "err": "".join(lines)}
        exit_s = time.monotonic() - t0
    finally:
        for q in (p, ctl):
            if q.poll() is None:
                q.kill()
                q.wait()
    reader.join(5)
    saved = os.path.exists(stats) and os.path.exists(os.path.join(d, "take.mid"))
    if saved:
        json.load(open(stats))
    return {"exit_s": exit_s, "rc": rc, "saved": saved, "err": "".join(lines)}


def main(argv=None) -> int:
    import numpy as np

    from faulty_models import save_faulty

    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--runs", type=int, default=20)
    a.add_argument("--slow", type=float, default=2.0, help="seconds per loop after the start")
    a.add_argument("--term-after", type=float, default=3.5)
    a.add_argument("--jitter", type=float, default=0.5)
    a.add_argument("--hang-s", type=float, default=60.0)
    a.add_argument("--hogs", type=int, default=0)
    args = a.parse_args(argv)
    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.hogs)]
    try:
        with tempfile.TemporaryDirectory() as d:
            model = save_faulty(os.path.join(d, "slow.ts"), "slow", after=3, slow_s=args.slow)
            times, bad = [], 0
            print(f"{'run':>3} {'exit s':>7} {'rc':>4}  take .mid + stats")
            for i in range(args.runs):
                run = os.path.join(d, f"run{i}")
                os.makedirs(run)
                r = one_run(model, run, f"lgb{os.getpid()}x{i}", args.term_after + random.uniform(0, args.jitter),
                            args.hang_s)
                ok = r["rc"] == 0 and r["saved"] and "Traceback" not in r["err"] and "terminate called" not in r["err"]
                bad += not ok
                if r["exit_s"] is not None:
                    times.append(r["exit_s"])
                print(f"{i + 1:>3} {'HANG' if r['exit_s'] is None else format(r['exit_s'], '7.2f'):>7} "
                      f"{'-' if r['rc'] is None else r['rc']:>4}  {'yes' if r['saved'] else 'NO'}", flush=True)
                if not ok:
                    print(r["err"])
            t = np.array(times) if times else np.zeros(1)
            print(f"{args.runs} runs, {args.runs - len(times)} hung, {bad} not clean; exit after SIGTERM: "
                  f"median {np.median(t):.2f} s, max {t.max():.2f} s ({args.hogs} CPU hogs, --slow {args.slow} s)")
            return 1 if bad else 0
    finally:
        for h in hogs:
            h.kill()
            h.wait()


if __name__ == "__main__":
    sys.exit(main())

"""How long ``livegan perform`` takes to end after a SIGTERM sent while a slow model generates.

Each run plays ``livegan perform --model SLOW --midi virtual --record take.wav`` on the JACK server
through ``livegan.testing.faulty_models.perform_with_seed_notes`` (kind ``slow``: each loop after the start
takes ``--slow`` seconds, and a second process plays a new seed note every 0.3 s, so the generator
is inside torch almost all the time), sends SIGTERM ``--term-after`` seconds (plus up to
``--jitter``) after the stream starts, and reports the seconds to exit, the exit code and whether
the take's ``.mid`` and the stats were written. A perform still alive ``--hang-s`` after the SIGTERM
counts as a hang and its threads' stacks are printed. ``--hogs N`` runs N busy processes alongside
(a loaded machine). Run:
    python benchmarks/sigterm_exit.py [--runs 20] [--hogs 2]
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("JACK_NO_START_SERVER", "1")
os.environ.setdefault("PYO_GUI_WX", "0")


def main(argv=None) -> int:
    import numpy as np

    from livegan.testing.faulty_models import perform_with_seed_notes, save_faulty

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
            times, hung, bad = [], 0, 0
            print(f"{'run':>3} {'exit s':>7} {'rc':>4}  take .mid + stats")
            for i in range(args.runs):
                run = os.path.join(d, f"run{i}")
                os.makedirs(run)
                timing = {}
                try:
                    rc, err = perform_with_seed_notes(
                        model, run, f"lgb{os.getpid()}x{i}", ["--seconds", 120, "--record", "take.wav",
                                                              "--stats-json", "stats.json"], notes_s=120,
                        term_after_s=args.term_after + random.uniform(0, args.jitter), timeout=args.hang_s,
                        timing=timing)
                except AssertionError as e:  # still running after --hang-s: what it printed, its stacks
                    hung += 1
                    rc, err = None, str(e)
                saved = all(os.path.exists(os.path.join(run, f)) for f in ("take.mid", "stats.json"))
                ok = rc == 0 and saved and "Traceback" not in err and "terminate called" not in err
                bad += not ok
                if "exit_s" in timing:
                    times.append(timing["exit_s"])
                print(f"{i + 1:>3} {format(timing['exit_s'], '7.2f') if 'exit_s' in timing else 'HANG':>7} "
                      f"{'-' if rc is None else rc:>4}  {'yes' if saved else 'NO'}", flush=True)
                if not ok:
                    print(err)
            t = np.array(times) if times else np.zeros(1)
            print(f"{args.runs} runs, {hung} hung, {bad} not clean; exit after SIGTERM: median {np.median(t):.2f} s, "
                  f"max {t.max():.2f} s ({args.hogs} CPU hogs, --slow {args.slow} s)")
            return 1 if bad else 0
    finally:
        for h in hogs:
            h.kill()
            h.wait()


if __name__ == "__main__":
    sys.exit(main())

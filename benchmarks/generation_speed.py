"""Time per 2-s loop of model files on one CPU thread, measured as ``livegan info`` measures it.

    python benchmarks/generation_speed.py [MODEL.ts ...] [--repeats 7] [--runs 20] [--threads 1]

Each model is loaded once (``LoopModel``, as perform and ``livegan info`` load it); then, ``--repeats``
times, each model in turn gives ``time_per_loop(runs)``: the median of ``--runs`` generations of one
loop. The models take turns so the machine's noise hits them alike. Prints, per model, the median,
the smallest and the largest of its repeats, and how many repeats were within the 5 ms budget
(issue 17: 44.1 kHz loops on one CPU thread). With no MODEL, the built-in model.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BUDGET_MS = 5.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="model files (default: the built-in model)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--runs", type=int, default=20, help="generations per repeat (`livegan info --runs`)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    from livegan.model import default_model_path, load_model

    paths = args.models or [default_model_path()]
    models = [load_model(p, device="cpu", threads=args.threads) for p in paths]
    ms = {p: [] for p in paths}
    for _ in range(args.repeats):
        for p, m in zip(paths, models):
            ms[p].append(m.time_per_loop(runs=args.runs) * 1e3)
    print(f"ms per 2-s loop, {args.threads} CPU thread(s), {args.repeats} repeats of the median of {args.runs} "
          f"({os.cpu_count()} CPUs here)")
    for p, m in zip(paths, models):
        v = np.array(ms[p])
        meta = m.meta
        print(f"{p}: {meta.sample_rate} Hz x {meta.channels} ch: median {np.median(v):.2f}, min {v.min():.2f}, "
              f"max {v.max():.2f}; within {BUDGET_MS:g} ms in {int((v <= BUDGET_MS).sum())} of {len(v)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

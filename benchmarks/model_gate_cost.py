"""What the model-file gate costs at load: the archive and code check (before ``torch.jit.load``), the
load itself, and the walk over what torch compiled (after it), for a model file (default: the
built-in one). Prints the median of ``--runs`` rounds, each step timed in turn.

    python benchmarks/model_gate_cost.py [MODEL.ts] [--runs 7]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from livegan.model import default_model_path
from livegan.model_code import check_model_code
from livegan.model_graph import check_loaded_code, jit_quiet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default=default_model_path())
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    times = {"archive + code check": [], "torch.jit.load": [], "compiled-graph check": []}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        check_model_code(args.model)
        t1 = time.perf_counter()
        with jit_quiet():
            m = torch.jit.load(args.model, map_location="cpu")
        t2 = time.perf_counter()
        check_loaded_code(m)
        t3 = time.perf_counter()
        for k, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(dt)
    print(f"{args.model}: median of {args.runs} rounds, one torch thread")
    for k, v in times.items():
        print(f"  {k:22s} {statistics.median(v) * 1e3:7.1f} ms  (min {min(v) * 1e3:.1f}, max {max(v) * 1e3:.1f})")


if __name__ == "__main__":
    main()

"""Short probe of a preset variant on the paper's 4 loops: train N steps, score the 100 fixed z.

  python benchmarks/train_probe.py OUT_DIR steps=2000 minibatch_std=true   # any --set style overrides

Needs runs/bench/paper4 (written by `benchmarks/train_runs.py paper`). One torch thread.
"""
import sys
import time

import numpy as np
import torch

from train import metrics
from train.presets import apply_overrides, paper
from train.trainer import render, train

if __name__ == "__main__":
    torch.set_num_threads(1)
    over = sys.argv[2:]
    p = apply_overrides(paper(), over + ["report=false", "preview_every=0", "threads=1"])
    t = time.time()
    s = train("runs/bench/paper4", p, sys.argv[1], device="cpu", quiet=True)
    loops = np.load(sys.argv[1] + "/data.npz")["loops"]
    gen = render(s.g_plain, s.z_val, torch.device("cpu"))
    m = metrics.evaluate(loops, gen, p.sample_rate)
    print(over, f"{time.time() - t:.0f}s", {k: round(v, 3) for k, v in m.items() if isinstance(v, float)})

"""Steps per second of `train_step` for preset variants on the paper's 4 loops, measured in alternating
rounds so the variants share the machine's slow and fast minutes.

  python benchmarks/train_step_speed.py                       # faithful / DiffAugment / + minibatch disc / paper-plus
  python benchmarks/train_step_speed.py --onednn              # the same with oneDNN convolutions on
  python benchmarks/train_step_speed.py --threads 1 --steps 300 --rounds 4

Needs runs/bench/paper4 (written by `benchmarks/train_runs.py paper`).
"""
import argparse
import time

import numpy as np
import torch

from train.data import prepare
from train.presets import apply_overrides, paper, paper_plus
from train.trainer import Batches, make_state, train_step

VARIANTS = {
    "paper (faithful)": (paper, []),
    "+ DiffAugment": (paper, ["translate=0.125", "cutout=0.5"]),
    "+ DiffAugment + minibatch disc 16": (paper, ["translate=0.125", "cutout=0.5", "minibatch_disc=16"]),
    "paper-plus": (paper_plus, []),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300, help="steps per variant per round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--onednn", action="store_true", help="oneDNN convolutions on (the paper presets turn it off)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.onednn
    torch.set_flush_denormal(True)
    loops = prepare("runs/bench/paper4", paper(), quiet=True)
    states = {name: make_state(apply_overrides(make(), over), torch.device("cpu"))
              for name, (make, over) in VARIANTS.items()}
    rates = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, s in states.items():
            batches = Batches(loops, s.p.batch_size, s.gen)
            t = time.perf_counter()
            for _ in range(args.steps):
                train_step(s, batches)
            rates[name].append(args.steps / (time.perf_counter() - t))
    print(f"steps/s, {args.threads} thread(s), oneDNN {'on' if args.onednn else 'off'}, "
          f"{args.rounds} rounds of {args.steps} steps:")
    for name, r in rates.items():
        print(f"  {name:36s} median {np.median(r):5.1f}   rounds {' '.join(f'{x:.1f}' for x in r)}")

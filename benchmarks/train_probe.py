"""Short probe of a preset variant on the paper's 4 loops: train N steps, score the 100 fixed z.

  python benchmarks/train_probe.py OUT_DIR steps=10000 translate=0.125 cutout=0.5   # --set style overrides
  python benchmarks/train_probe.py OUT_DIR steps=5000 --data FOLDER ...              # another loop folder

Starts from the `paper` preset (name a field to change it; e.g. the paper-plus fields). Prints the
metrics of the final fixed z, and for a preview every 1000 steps how many of the 100 fixed z are
nearest to each training loop (coverage over time: a GAN can hop from loop to loop).
Needs runs/bench/paper4 (written by `benchmarks/train_runs.py paper`). One torch thread.
"""
import glob
import os
import sys
import time

import numpy as np
import soundfile as sf
import torch

from train import logmel_metrics
from train.config import apply_overrides
from train.models import render
from train.presets import paper
from train.trainer import train


def print_preview_counts(run: str, loops: np.ndarray, p) -> None:
    """For each kept preview WAV of ``run``: how many of its loops are nearest to each training loop, and
    their Fréchet distance to the training loops (what ``select_every`` scores); the lowest is marked."""
    train_vectors = logmel_metrics.loop_vectors(loops, p.sample_rate)
    train_frames = logmel_metrics.features(loops, p.sample_rate).reshape(-1, logmel_metrics.N_MELS)
    grid, rows = None, []
    for f in sorted(glob.glob(os.path.join(run, "previews", "step*.wav"))):
        y, _ = sf.read(f, dtype="float32", always_2d=True)  # (n_val * L, C): the loops one after another
        grid = y.reshape(-1, p.loop_samples, p.channels).transpose(0, 2, 1)  # (n_val, C, L)
        frames = logmel_metrics.features(grid, p.sample_rate).reshape(-1, logmel_metrics.N_MELS)
        fd = logmel_metrics.frechet(train_frames, frames)
        counts = logmel_metrics.nearest_counts(train_vectors, logmel_metrics.loop_vectors(grid, p.sample_rate))
        rows.append((int(f[-10:-4]), counts, fd))
    low = min(rows, key=lambda r: r[2])[0] if rows else None
    for step, counts, fd in rows:
        print(f"  step {step:6d}: nearest-loop counts {counts}  FD {fd:7.1f}{'  <- lowest FD' if step == low else ''}")
    print(f"  band energy (dB) in {logmel_metrics.BANDS_HZ} Hz:")
    for i in range(len(loops)):
        print(f"    training loop {i}: {logmel_metrics.band_energy_db(loops[i:i + 1], p.sample_rate)}")
    if grid is not None:
        print(f"    last preview, mean of its loops: {logmel_metrics.band_energy_db(grid, p.sample_rate)}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    args = sys.argv[2:]
    data = "runs/bench/paper4"
    if "--data" in args:
        i = args.index("--data")
        data = args[i + 1]
        args = args[:i] + args[i + 2:]
    p = apply_overrides(paper(), args + ["report=false", "preview_every=1000", "keep_every=1", "threads=1",
                                         "checkpoint_every=1000000"])
    t = time.time()
    s = train(data, p, sys.argv[1], device="cpu", quiet=True)
    loops = np.load(sys.argv[1] + "/data.npz")["loops"]
    gen = render(s.g_plain, s.z_val, torch.device("cpu"))
    m = logmel_metrics.evaluate(loops, gen, p.sample_rate)
    print(args, f"{time.time() - t:.0f}s", {k: round(v, 3) for k, v in m.items() if isinstance(v, float)})
    print(f"  band energy (dB) in {logmel_metrics.BANDS_HZ} Hz: "
          f"training {logmel_metrics.band_energy_db(loops, p.sample_rate)}, "
          f"generated {logmel_metrics.band_energy_db(gen, p.sample_rate)}")
    print_preview_counts(sys.argv[1], loops, p)

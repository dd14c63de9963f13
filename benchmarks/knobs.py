"""Named knobs and find on the built-in model (issue 27), on one CPU thread.

    python benchmarks/knobs.py [--model M.ts] [--draws 1024] [--seeds 32] [--method both] [--fit-seed 0]
                               [--skip-knobs] [--skip-find] [--steps 150] [--loops F ...] [--train-dir DIR]

Knobs: ``train.knobs.fit_knobs`` with each ``--method``: "projected" (prior draws, joint regression, the
others' gradients projected out) and "rayleigh" (``train.knob_fit``: per-draw gradients, the others'
second moment held down, the range measured on fit-side seeds), then each knob swept over +-2 sigmas on
``--seeds`` held-out seeds: median Spearman of its descriptor, its reach and the cross-talk (both in prior
spreads), and whether it is kept.

Find: for each loop file (default: the sonic-pi loops the built-in model was not trained on, those of
``sonic-pi-samples`` that docs/default-model/SOURCES.md does not list), ``livegan.find.find`` with
``--steps``; the found loop's distance against 100 random prior draws' loops (an rng the search never
uses: not the seeds it starts from), how many of them it beats, and the CPU and wall seconds per find.

With ``--train-dir DIR`` (the folder the model was trained on), its loops as the trainer sees them
(``train.data``'s scan and load_file at the model's rate, length and channels and its preset's fit) are
compared too: the nearest training loop's distance to the target (the best the training data itself
offers), and the found loop's distance to its own nearest training loop (is find returning a memorised
copy?), beside two scales: that distance for 20 random prior draws' loops (median), and each training
loop's distance to its nearest other one (median). Every distance is ``livegan.find.Distance`` with the
loop asked about as its reference: d(reference, candidate).
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def unseen_sonic_pi() -> list[str]:
    listed = open(os.path.join(ROOT, "docs", "default-model", "SOURCES.md")).read()
    return [p for p in sorted(glob.glob("/usr/share/sonic-pi/samples/loop_*.flac"))
            if os.path.basename(p) not in listed]


def bench_knobs(model, draws: int, seeds: int, method: str, fit_seed: int = 0) -> None:
    from train.knobs import fit_knobs, module_generator

    m = model.meta
    t0, c0 = time.perf_counter(), time.process_time()
    fits = fit_knobs(module_generator(model.module), m.latent_dim, m.latent_dist, m.sample_rate, n_fit=draws,
                     n_seeds=seeds, seed=fit_seed, method=method)
    print(f"knob fit ({method}): {draws} draws, {seeds} held-out seeds, {time.perf_counter() - t0:.0f} s wall, "
          f"{time.process_time() - c0:.0f} s CPU, kept {sum(f.kept for f in fits)} of {len(fits)}")
    print("| knob | Spearman (median of seeds) | reach | cross-talk | fit R2 | sigma | kept |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for f in fits:
        print(f"| {f.name} | {f.spearman:.3f} | {f.reach:.2f} | {f.crosstalk:.2f} | {f.r2:.2f} | {f.sigma:.2f} | "
              f"{'yes' if f.kept else 'no'} |")


def training_loops(train_dir: str, meta) -> tuple[np.ndarray, list[str]]:
    """The loops of ``train_dir`` as ``train.data.prepare`` makes them for this model (the same scan and
    load_file, in the same order) -> ((N, C, L) float32, a name per loop: the file, with #k for its k-th)."""
    import dataclasses

    from train.config import Preset
    from train.data import load_file, scan
    from train.presets import get_preset

    try:
        p = get_preset(str(meta.training.get("preset", "spectral")))
    except KeyError:  # a wrapped model's record names no preset of ours: the default fit
        p = Preset()
    p = dataclasses.replace(p, sample_rate=meta.sample_rate, loop_samples=meta.loop_samples,
                            channels=meta.channels)
    files, _ = scan(train_dir)
    loops, names = [], []
    for f in files:
        got, _, _ = load_file(f, p, p.fit)
        rel = os.path.relpath(f, train_dir)
        loops += got
        names += [rel] if len(got) == 1 else [f"{rel}#{k}" for k in range(len(got))]
    if not loops:
        raise SystemExit(f"knobs.py: --train-dir {train_dir}: no usable audio file")
    return np.stack(loops), names


def distances(ref: np.ndarray, loops: np.ndarray, sample_rate: int, batch: int = 16) -> np.ndarray:
    """d(ref, each of loops): ``ref`` (C, L) or (L,), ``loops`` (N, C, L) -> (N,) float64."""
    import torch

    from livegan.find import Distance

    dist = Distance(ref.mean(0) if ref.ndim == 2 else ref, sample_rate)
    with torch.inference_mode():
        return np.concatenate([dist(torch.from_numpy(loops[i:i + batch])).numpy()
                               for i in range(0, len(loops), batch)]).astype(np.float64)


def train_scales(train: np.ndarray, rand_loops: np.ndarray, sample_rate: int) -> None:
    """Print the two scales a found loop's nearest-training-loop distance is read against."""
    own = []
    for i in range(len(train)):
        d = distances(train[i], train, sample_rate)
        own.append(np.min(np.delete(d, i)))
    draws = [distances(r, train, sample_rate).min() for r in rand_loops[:20]]
    print(f"training set: {len(train)} loops; nearest training loop of 20 random prior draws' loops: median "
          f"{np.median(draws):.3f} (min {np.min(draws):.3f}); of each training loop (its nearest other one): "
          f"median {np.median(own):.3f} (min {np.min(own):.3f})")


def bench_find(model, loops: list[str], steps: int, train_dir: str | None = None) -> None:
    import torch

    from livegan.find import Distance, find, read_loop
    from livegan.model import sample_latent

    m = model.meta
    rand = sample_latent(m, np.random.default_rng(2026), 100)
    rand_loops = np.concatenate([model.generate(rand[i:i + 10]) for i in range(0, 100, 10)])
    train, names = training_loops(train_dir, m) if train_dir else (None, [])
    if train is not None:
        train_scales(train, rand_loops, m.sample_rate)
    print(f"find: {steps} steps after the best of seeds 0-99; compared with 100 other prior draws")
    cols = "| loop | found | start (best seed) | random: median / best | beats | CPU s | wall s |"
    if train is not None:
        cols += " nearest training loop to the target | found's nearest training loop |"
    print(cols)
    print("|---" * (cols.count("|") - 1) + "|")
    for path in loops:
        target, _ = read_loop(path, m.sample_rate, m.loop_samples)
        t0, c0 = time.perf_counter(), time.process_time()
        found = find(model.module, m, target, steps=steps)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        with torch.inference_mode():
            dr = Distance(target, m.sample_rate)(torch.from_numpy(rand_loops)).numpy()
        row = (f"| {os.path.basename(path)} | {found.distance:.3f} | {found.start_distance:.3f} | "
               f"{np.median(dr):.3f} / {dr.min():.3f} | {int(np.sum(dr > found.distance))} of 100 | {cpu:.1f} | "
               f"{wall:.1f} |")
        if train is not None:
            dt = distances(target, train, m.sample_rate)
            df = distances(model.generate(found.z[None])[0], train, m.sample_rate)
            row += f" {dt.min():.3f} ({names[int(np.argmin(dt))]}) | {df.min():.3f} ({names[int(np.argmin(df))]}) |"
        print(row, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model file (default: the built-in model)")
    ap.add_argument("--draws", type=int, default=1024)
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--loops", nargs="*", default=None, help="audio files for find (default: unseen sonic-pi loops)")
    ap.add_argument("--method", choices=("rayleigh", "projected", "both"), default="both",
                    help="knob fit: per-draw gradients' Rayleigh quotient, the projected regression, or both")
    ap.add_argument("--fit-seed", type=int, default=0, help="seed of the knob fit's prior draws")
    ap.add_argument("--skip-knobs", action="store_true")
    ap.add_argument("--skip-find", action="store_true")
    ap.add_argument("--train-dir", default=None, metavar="DIR",
                    help="the model's training folder: compare find with its nearest training loops")
    args = ap.parse_args(argv)
    if args.train_dir is not None and not os.path.isdir(args.train_dir):
        print(f"knobs.py: --train-dir {args.train_dir}: not a folder", file=sys.stderr)
        return 2

    from livegan.model import default_model_path, load_model

    model = load_model(args.model or default_model_path(), device="cpu", threads=1)
    print(f"model {args.model or 'built-in'}: {model.meta.name}")
    if not args.skip_knobs:
        for method in ("projected", "rayleigh") if args.method == "both" else (args.method,):
            bench_knobs(model, args.draws, args.seeds, method, args.fit_seed)
    if args.skip_find:
        return 0
    loops = unseen_sonic_pi() if args.loops is None else args.loops
    if loops:
        bench_find(model, loops, args.steps, args.train_dir)
    else:
        print("find: no loops (install Debian's sonic-pi-samples, or pass --loops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

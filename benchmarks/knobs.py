"""Named knobs and find on the built-in model (issue 27), on one CPU thread.

    python benchmarks/knobs.py [--model M.ts] [--draws 1024] [--seeds 32] [--method both] [--fit-seed 0]
                               [--skip-find] [--steps 150] [--loops F ...]

Knobs: ``train.knobs.fit_knobs`` with each ``--method``: "projected" (prior draws, joint regression, the
others' gradients projected out) and "rayleigh" (``train.knob_fit``: per-draw gradients, the others'
second moment held down, the range measured on fit-side seeds), then each knob swept over +-2 sigmas on
``--seeds`` held-out seeds: median Spearman of its descriptor, its reach and the cross-talk (both in prior
spreads), and whether it is kept.

Find: for each loop file (default: the sonic-pi loops the built-in model was not trained on, those of
``sonic-pi-samples`` that docs/default-model/SOURCES.md does not list), ``livegan.find.find`` with
``--steps``; the found loop's distance against 100 random prior draws' loops (an rng the search never
uses: not the seeds it starts from), how many of them it beats, and the CPU and wall seconds per find.
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


def bench_find(model, loops: list[str], steps: int) -> None:
    import torch

    from livegan.find import Distance, find, read_loop
    from livegan.model import sample_latent

    m = model.meta
    rand = sample_latent(m, np.random.default_rng(2026), 100)
    rand_loops = np.concatenate([model.generate(rand[i:i + 10]) for i in range(0, 100, 10)])
    print(f"find: {steps} steps after the best of seeds 0-99; compared with 100 other prior draws")
    print("| loop | found | start (best seed) | random: median / best | beats | CPU s | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in loops:
        target, _ = read_loop(path, m.sample_rate, m.loop_samples)
        t0, c0 = time.perf_counter(), time.process_time()
        found = find(model.module, m, target, steps=steps)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        with torch.inference_mode():
            dr = Distance(target, m.sample_rate)(torch.from_numpy(rand_loops)).numpy()
        print(f"| {os.path.basename(path)} | {found.distance:.3f} | {found.start_distance:.3f} | "
              f"{np.median(dr):.3f} / {dr.min():.3f} | {int(np.sum(dr > found.distance))} of 100 | {cpu:.1f} | "
              f"{wall:.1f} |")


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
    args = ap.parse_args(argv)

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
        bench_find(model, loops, args.steps)
    else:
        print("find: no loops (install Debian's sonic-pi-samples, or pass --loops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

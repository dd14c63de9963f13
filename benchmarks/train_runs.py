"""Benchmark runs of the trainer (issue 3). Each subcommand is one heavy job; run it under
``flock /tmp/livegan-heavy.lock`` (the CPU is shared). Outputs go to runs/bench/.

  python benchmarks/train_runs.py paper            # the paper's experiment at full length
  python benchmarks/train_runs.py paper RUN KEY=VALUE ...   # the same with overrides, in runs/bench/RUN
                                                   # (e.g. paper_diffaug translate=0.125 cutout=0.5;
                                                   # preset=paper-plus starts from that preset)
  python benchmarks/train_runs.py compare NAME S [KEY=VALUE ...]   # NAME in paper|wavegan|wavegan-noseam,
                                                   # S seconds; extra overrides go to a run named cmp_NAME_S
  python benchmarks/train_runs.py summary          # print the markdown tables from the runs
  python benchmarks/train_runs.py rescore RUN      # recompute report + exported metrics of runs/bench/RUN
  python benchmarks/train_runs.py previews RUN     # nearest-loop counts of every kept preview of runs/bench/RUN
  python benchmarks/train_runs.py margins RUN ...  # how near the kept snapshot's fixed-z loops are to their
                                                   # nearest and second-nearest training loop
  python benchmarks/train_runs.py counts RUN ...   # nearest-loop counts of the fixed z at every 10 000th
                                                   # scored step and at the kept one
  python benchmarks/train_runs.py same RUN RUN     # whether two runs trained the same (losses, scores)
  python benchmarks/train_runs.py table RUN ...    # one markdown row per paper-style run: the exported
                                                   # snapshot against the last step, and the selection history

Exported metrics are computed twice: against the run's own prepared loops ("own": each
preset's copy of the data at its own rate) and, for the comparison runs, against one
common reference for every preset (``train.logmel_metrics.reference``: the same files prepared at
the analysis rate). Only the second compares presets fairly: the paper preset's own copy
(2048 Hz) has nothing above 1024 Hz, so against it the paper's loops are never asked for
the upper three quarters of the analysed band.

Data: the paper experiment uses 4 bass loops from livegan.testing.synth, seeds 0-3 (16384 Hz WAVs);
the comparison uses 20 loops, seeds 100-119, alternating bass and drums.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

ROOT = os.path.join("runs", "bench")
COMPARE = {  # name -> (preset, overrides)
    "paper": ("paper", ["preview_every=1000", "checkpoint_every=100000", "steps=10000000"]),
    "wavegan": ("wavegan", ["preview_every=100", "steps=10000000"]),
    "wavegan-noseam": ("wavegan", ["preview_every=100", "steps=10000000", "seam_roll=false",
                                   "shift_augment=false"]),
}


def data(name: str, n: int, seed0: int, kinds) -> str:
    from livegan.testing.synth import write_loop_folder

    folder = os.path.join(ROOT, name)
    if not os.path.isdir(folder):  # written aside and renamed: a run started beside this one never sees half of it
        part = f"{folder}.part{os.getpid()}"
        write_loop_folder(part, n, sr=16384, kinds=kinds, seed0=seed0)
        try:
            os.rename(part, folder)
        except OSError:  # another run renamed its copy first: the same files
            import shutil

            shutil.rmtree(part)
    return folder


def exported_metrics(run: str, loops: np.ndarray, sr: int, reference_folder: str | None = None,
                     which: str = "best") -> dict:
    """Export the run (``which`` snapshot), generate 100 loops from the .ts file, score them against the
    training loops (and, with ``reference_folder``, under "common" against that folder's common reference)."""
    from livegan.model import load_model, sample_latent
    from train import logmel_metrics
    from train.export import export_run

    ts = run + (".ts" if which == "best" else f"_{which}.ts")
    rep = export_run(run, ts, quiet=True, which=which, force=True)  # (the benchmark's own export of its run)
    m = load_model(ts, device="cpu", threads=2)
    gen = m.generate(sample_latent(m.meta, np.random.default_rng(1234), 100))
    out = logmel_metrics.evaluate(loops, gen, sr, m.meta.sample_rate)
    out["ms_per_loop"] = rep["seconds_per_loop"] * 1e3
    out["snapshot"], out["snapshot_step"] = m.meta.training["snapshot"], m.meta.training["snapshot_step"]
    if reference_folder:
        ref = logmel_metrics.reference(reference_folder, m.meta.loop_samples / m.meta.sample_rate)
        out["common"] = logmel_metrics.evaluate(ref, gen, logmel_metrics.ANALYSIS_SR, m.meta.sample_rate)
    return out


def run_paper(name: str = "paper_full", over=()) -> None:
    """The paper's 4 loops at full length; ``preset=NAME`` among the overrides picks another preset."""
    from train.config import apply_overrides
    from train.presets import get_preset
    from train.trainer import train

    folder = data("paper4", 4, 0, ("bass",))
    run = os.path.join(ROOT, name)
    base = [o.split("=", 1)[1] for o in over if o.startswith("preset=")]
    over = [o for o in over if not o.startswith("preset=")]
    t0 = time.perf_counter()
    s = train(folder, apply_overrides(get_preset(base[-1] if base else "paper"), over), run, device="cpu")
    wall = time.perf_counter() - t0
    loops = np.load(os.path.join(run, "data.npz"))["loops"]
    ex = exported_metrics(run, loops, 2048)
    out = {"wall_s": wall, "train_s": s.seconds, "steps": s.step, "exported": ex}
    if s.best is not None and s.best["step"] != s.step:  # the last step's generator too, for comparison
        out["exported_last"] = exported_metrics(run, loops, 2048, which="last")
    with open(os.path.join(run, "bench.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"{name}: {s.step} steps, training {s.seconds:.1f} s, whole command {wall:.1f} s")


def run_compare(name: str, seconds: float, extra=()) -> None:
    from train.config import apply_overrides
    from train.presets import get_preset
    from train.trainer import train

    folder = data("mix20", 20, 100, ("bass", "drums"))
    preset, over = COMPARE[name]
    p = apply_overrides(get_preset(preset), over + [f"max_seconds={seconds}"] + list(extra))
    run = os.path.join(ROOT, f"cmp_{name}" + (f"_{seconds:g}" if extra else ""))
    s = train(folder, p, run, device="cpu")
    loops = np.load(os.path.join(run, "data.npz"))["loops"]
    ex = exported_metrics(run, loops, p.sample_rate, folder)
    with open(os.path.join(run, "bench.json"), "w") as f:
        json.dump({"train_s": s.seconds, "steps": s.step, "exported": ex}, f, indent=1)


def table(runs) -> None:
    """Markdown rows for runs of ``run_paper``: the exported (best) snapshot's metrics on 100 loops of
    seed 1234 (in brackets: the report's 100 fixed z), the last step's for comparison, and how many of the
    selection points covered every training loop on the fixed z."""
    import torch

    print("| run | training s (steps/s) | kept step | FD | NDB/k | NN ratio | min NN | copy_xcorr | coverage "
          "| diversity | seam (training) | last step: FD, coverage | fixed z all covered at |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        folder = os.path.join(ROOT, run)
        b = json.load(open(os.path.join(folder, "bench.json")))
        m = json.load(open(os.path.join(folder, "metrics.json")))  # the report: fixed z
        h = torch.load(os.path.join(folder, "checkpoint.pt"), weights_only=True)["history"]
        e, n = b["exported"], b["exported"]["n_train"]
        full = sum(all(c > 0 for c in counts) for counts in h.get("select_counts", []))
        last = b.get("exported_last", e)

        def cov(x, n=n):
            return f"{round(x * n)}/{n}"

        print(f"| {run} | {b['train_s']:.1f} ({b['steps'] / b['train_s']:.1f}) | {e['snapshot_step']} "
              f"| {e['fd']:.0f} ({m['fd']:.0f}) | {e['ndb_k']:.3g} | {e['nn_ratio']:.2f} | {e['min_nn']:.2f} "
              f"| {e['copy_xcorr']:.2f} | {cov(e['coverage'])} ({cov(m['coverage'])}) | {e['diversity']:.2f} "
              f"| {e['seam']:.2f} ({e['seam_train']:.2f}) | {last['fd']:.0f}, {cov(last['coverage'])} "
              f"| {full} of {len(h.get('select_counts', []))} |")


def margins(runs) -> None:
    """Log-mel distance of each fixed-z loop of the kept snapshot to its nearest and second-nearest
    training loop, against the training loops' own distances: a nearest loop that is barely nearer
    than the next one makes the coverage count a coin toss."""
    import torch

    from train import logmel_metrics
    from train.checkpoint import snapshot
    from train.config import from_dict
    from train.models import Generator, render

    for run in runs:
        folder = os.path.join(ROOT, run)
        ck = torch.load(os.path.join(folder, "checkpoint.pt"), weights_only=True)
        p = from_dict(ck["preset"])
        loops = np.load(os.path.join(folder, "data.npz"))["loops"]
        g = Generator(p)
        g.load_state_dict(snapshot(ck, "best")[0])
        tv = logmel_metrics.loop_vectors(loops, p.sample_rate)
        gv = logmel_metrics.loop_vectors(render(g, ck["z_val"], "cpu"), p.sample_rate)
        d = np.sort(logmel_metrics.distances(gv, tv), 1)
        tt = logmel_metrics.distances(tv, tv)[np.triu_indices(len(tv), 1)]
        print(f"{run}: fixed z -> training loops, median nearest {np.median(d[:, 0]):.2f}, second "
              f"{np.median(d[:, 1]):.2f}, median gap {np.median(d[:, 1] - d[:, 0]):.2f}; training pairs "
              f"{' '.join(f'{x:.2f}' for x in np.sort(tt))}")


def _history(run: str) -> tuple[dict, dict | None]:
    import torch

    ck = torch.load(os.path.join(ROOT, run, "checkpoint.pt"), weights_only=True)
    return ck["history"], ck.get("best")


def counts(runs, every: int = 10000) -> None:
    """Nearest-training-loop counts of the fixed z, as the selection scored them."""
    for run in runs:
        h, best = _history(run)
        at = {s: c for s, c in zip(h["select_step"], h["select_counts"])}
        row = ", ".join(f"{s // 1000}k {at[s]}" for s in h["select_step"] if s % every == 0)
        kept = f"kept {best['step'] // 1000}k {at[best['step']]}" if best else "kept none"
        n_full = sum(all(c > 0 for c in cs) for cs in h["select_counts"])
        n_kinds = len({tuple(c) for c in h["select_counts"]})
        print(f"{run}: {row}; {kept}; all loops reached at {n_full} of {len(h['select_counts'])}; "
              f"{n_kinds} different count vectors")


def same(a: str, b: str) -> None:
    ha, hb = _history(a)[0], _history(b)[0]
    keys = ("loss_d", "loss_g", "select_fd", "select_counts")
    print(f"{a} vs {b}: " + ", ".join(f"{k} {'identical' if ha[k] == hb[k] else 'differ'}" for k in keys))


def summary() -> None:
    def load(run):
        path = os.path.join(ROOT, run, "bench.json")
        return json.load(open(path)) if os.path.isfile(path) else None

    b = load("paper_full")
    if b:
        m = json.load(open(os.path.join(ROOT, "paper_full", "metrics.json")))
        print(f"paper full: {b['steps']} steps, train {b['train_s']:.1f} s, command {b['wall_s']:.1f} s, "
              f"{b['steps'] / b['train_s']:.1f} steps/s")
        print("  report metrics (fixed 100 z): " + json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                                             for k, v in m.items()}))
        print("  exported metrics (100 z, seed 1234): " + json.dumps({k: round(v, 4) if isinstance(v, float)
                                                                    else v for k, v in b["exported"].items()}))
    print("| run | steps | train s | steps/s | FD common (own) | NDB/k common (own) | NN ratio common (own) | min NN "
          "| coverage | seam gen | seam train | diversity |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in sorted(d for d in os.listdir(ROOT) if d.startswith("cmp_")):
        b = load(run)
        if not b:
            continue
        e = b["exported"]
        c = e.get("common", {k: float("nan") for k in ("fd", "ndb_k", "nn_ratio")})
        print(f"| {run[4:]} | {b['steps']} | {b['train_s']:.0f} | {b['steps'] / b['train_s']:.2f} | "
              f"{c['fd']:.1f} ({e['fd']:.1f}) | {c['ndb_k']:.2f} ({e['ndb_k']:.2f}) | "
              f"{c['nn_ratio']:.2f} ({e['nn_ratio']:.2f}) | {e['min_nn']:.2f} | {e['coverage']:.2f} | "
              f"{e['seam']:.2f} | {e['seam_train']:.2f} | {e['diversity']:.2f} |")


if __name__ == "__main__":
    import torch

    torch.set_num_threads(2)
    cmd = sys.argv[1] if len(sys.argv) > 1 else "summary"
    if cmd == "paper":
        run_paper(*(sys.argv[2:3] or ["paper_full"]), sys.argv[3:])
    elif cmd == "rescore":
        from train.report import write_report

        run = os.path.join(ROOT, sys.argv[2])
        b = json.load(open(os.path.join(run, "bench.json")))
        loops = np.load(os.path.join(run, "data.npz"))["loops"]
        write_report(run, loops=loops)
        ref = data("mix20", 20, 100, ("bass", "drums")) if sys.argv[2].startswith("cmp_") else None
        b["exported"] = exported_metrics(run, loops, json.load(open(os.path.join(run, "preset.json")))["sample_rate"],
                                         ref)
        json.dump(b, open(os.path.join(run, "bench.json"), "w"), indent=1)
    elif cmd == "previews":
        from train_probe import print_preview_counts

        from train.config import from_dict

        run = os.path.join(ROOT, sys.argv[2])
        p = from_dict(json.load(open(os.path.join(run, "preset.json"))))
        print_preview_counts(run, np.load(os.path.join(run, "data.npz"))["loops"], p)
    elif cmd == "counts":
        counts(sys.argv[2:])
    elif cmd == "same":
        same(sys.argv[2], sys.argv[3])
    elif cmd == "margins":
        margins(sys.argv[2:])
    elif cmd == "table":
        table(sys.argv[2:])
    elif cmd == "compare":
        run_compare(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    else:
        summary()

"""Steps per second of `train_step` for preset variants on the paper's 4 loops, measured in alternating
rounds so the variants share the machine's slow and fast minutes.

  python benchmarks/train_step_speed.py                       # faithful ... paper-plus, and the options
  python benchmarks/train_step_speed.py --onednn              # the same with oneDNN convolutions on
  python benchmarks/train_step_speed.py --threads 1 --steps 300 --rounds 4
  python benchmarks/train_step_speed.py --set pack            # paper-plus with minibatch disc, nearest, wider
  python benchmarks/train_step_speed.py --set batch           # paper-plus at batch 1 / 4 / 16: what a step costs
  python benchmarks/train_step_speed.py --set compile         # paper and paper-plus with and without torch.compile
  python benchmarks/train_step_speed.py --set previews --steps 1500 --rounds 2
      # whole `train()` runs of paper-plus: previews + selection on the worker thread / in line / none

Needs runs/bench/paper4 (written by `benchmarks/train_runs.py paper`).
"""
import argparse
import time

import numpy as np
import torch

from train.config import apply_overrides
from train.data import prepare
from train.presets import paper, paper_plus
from train.state import Batches, make_state
from train.waveform import waveform_step

MD16 = ["pack=1", "minibatch_disc=16", "model_dim=2"]  # the fifth session's paper-plus: minibatch disc, no pairs
MD2 = ["model_dim=2"]  # paper-plus before the seventh session's wider net
SETS = {  # name -> {variant: (preset, overrides, torch.compile?)}
    "presets": {
        "paper (faithful)": (paper, [], False),
        "+ DiffAugment": (paper, ["translate=0.125", "cutout=0.5"], False),
        "+ DiffAugment + pack 2": (paper, ["translate=0.125", "cutout=0.5", "pack=2"], False),
        "+ linear resize G (+ label smoothing)": (paper_plus, MD2 + ["reuse_fake=false"], False),
        "+ reuse the D step's fake": (paper_plus, MD2, False),
        "+ model_dim 3 = paper-plus": (paper_plus, ["model_dim=3"], False),
        "paper-plus, minibatch disc 16 for pack": (paper_plus, MD16, False),
    },
    "pack": {  # PacGAN in place of minibatch discrimination, nearest in place of linear resize, a wider net
        "paper (faithful)": (paper, [], False),
        "paper-plus, minibatch disc 16 for pack": (paper_plus, MD16, False),
        "paper-plus (pack 2)": (paper_plus, MD2, False),
        "paper-plus, nearest resize": (paper_plus, MD2 + ["upsample=nearest"], False),
        "paper-plus, model_dim 4": (paper_plus, ["model_dim=4"], False),
    },
    "batch": {f"paper-plus (minibatch disc 16), batch {b}": (paper_plus, MD16 + [f"batch_size={b}"], False)
              for b in (1, 4, 16)},
    "compile": {
        "paper": (paper, [], False),
        "paper, torch.compile": (paper, [], True),
        "paper-plus": (paper_plus, [], False),
        "paper-plus, torch.compile": (paper_plus, [], True),
    },
}

PREVIEWS = {  # name -> (preview worker thread?, overrides)
    "worker thread, 1 torch thread (as shipped)": (True, []),
    "in line, 1 torch thread": (False, []),
    "in line, 2 torch threads": (False, ["threads=2"]),
    "worker thread, 2 torch threads (not shipped)": (True, ["threads=2"]),
    "no previews, no selection": (True, ["preview_every=0", "select_every=0"]),
}


def previews(steps: int, rounds: int) -> None:
    """Steps/s of whole ``train()`` runs (previews every 100 steps, selection every 1000 scaled to the run)."""
    import shutil
    import tempfile

    from train import trainer

    real = trainer.Previewer

    def forced(worker: bool):  # train() itself keeps previews in line beside more than one torch thread
        class Forced(real):
            def __init__(self, *a, **k):
                super().__init__(*a, **{**k, "background": worker})
        return Forced

    rates = {name: [] for name in PREVIEWS}
    for _ in range(rounds):
        for name, (worker, over) in PREVIEWS.items():
            p = apply_overrides(paper_plus(), [f"steps={steps}", "report=false", f"select_every={steps // 5}"] + over)
            trainer.Previewer = forced(worker)
            tmp = tempfile.mkdtemp()
            try:
                t = time.perf_counter()
                trainer.train("runs/bench/paper4", p, tmp, device="cpu", quiet=True)
                rates[name].append(steps / (time.perf_counter() - t))
            finally:
                trainer.Previewer = real
                shutil.rmtree(tmp)
    print(f"whole train() runs of paper-plus, {steps} steps, {rounds} rounds, steps/s:")
    for name, r in rates.items():
        print(f"  {name:45s} median {np.median(r):5.1f}   rounds {' '.join(f'{x:.1f}' for x in r)}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the paper presets train at 1)")
    ap.add_argument("--steps", type=int, default=300, help="steps per variant per round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--set", default="presets", choices=[*SETS, "previews"], help="which variants")
    ap.add_argument("--onednn", action="store_true", help="oneDNN convolutions on (the paper presets turn it off)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.onednn
    torch.set_flush_denormal(True)
    if args.set == "previews":
        previews(args.steps, args.rounds)
        raise SystemExit(0)
    loops = prepare("runs/bench/paper4", paper(), quiet=True)
    variants = SETS[args.set]
    states = {}
    for name, (make, over, compiled) in variants.items():
        s = states[name] = make_state(apply_overrides(make(), over), torch.device("cpu"))
        if compiled:
            s.g, s.d = torch.compile(s.g), torch.compile(s.d)
        t = time.perf_counter()
        for _ in range(20):  # warm-up (and the compile)
            waveform_step(s, Batches(loops, s.p.batch_size, s.gen))
        if compiled:
            print(f"  {name}: compile + 20 steps {time.perf_counter() - t:.1f} s")
    rates = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, s in states.items():
            batches = Batches(loops, s.p.batch_size, s.gen)
            t = time.perf_counter()
            for _ in range(args.steps):
                waveform_step(s, batches)
            rates[name].append(args.steps / (time.perf_counter() - t))
    print(f"steps/s, {args.threads} thread(s), oneDNN {'on' if args.onednn else 'off'}, "
          f"{args.rounds} rounds of {args.steps} steps:")
    for name, r in rates.items():
        print(f"  {name:38s} median {np.median(r):5.1f}   rounds {' '.join(f'{x:.1f}' for x in r)}")

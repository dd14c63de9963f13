"""Report: ``RUN_DIR/report.html`` with PNG figures, audio and the metrics table.

The paper's figures, for any run: G and D loss curves (their Fig. 7); PCA of
training + the fixed validation loops on one plane (Fig. 8); for each training
loop the nearest generated loop, waveforms overlaid, both playable (Figs. 9-11).
"""
from __future__ import annotations

import html
import json
import os

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def waveform_grid_png(y: np.ndarray, sr: int, path: str, title: str = "") -> None:
    """(N, C, L) loops -> a 4-column grid of waveforms."""
    plt = _plt()
    n = len(y)
    rows = (n + 3) // 4
    fig, axes = plt.subplots(rows, 4, figsize=(12, 1.3 * rows), sharex=True, sharey=True, squeeze=False)
    t = np.arange(y.shape[-1]) / sr
    for i, ax in enumerate(axes.flat):
        if i < n:
            ax.plot(t, y[i].mean(0), lw=0.4)
        ax.set_axis_off()
    fig.suptitle(title)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _smooth(v: np.ndarray, n: int) -> np.ndarray:
    if len(v) < 2 * n:
        return v
    return np.convolve(v, np.ones(n) / n, mode="valid")


def loss_png(history: dict, path: str) -> None:
    plt = _plt()
    steps = np.asarray(history["step"])
    fig, ax = plt.subplots(figsize=(8, 3.5))
    w = max(1, len(steps) // 200)
    for key, label in (("loss_d", "D"), ("loss_g", "G")):
        v = np.asarray(history[key], float)
        ax.plot(steps[len(steps) - len(_smooth(v, w)):], _smooth(v, w), label=f"{label} loss", lw=0.8)
    ax.set_xlabel("step (= epoch for the paper preset)")
    ax.set_ylabel(f"loss (mean of {w} steps)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def selection_png(history: dict, best_step: int | None, path: str, full: list | None = None) -> None:
    """Fréchet distance of the fixed z's loops over training (``select_every``), the kept snapshot marked;
    ``full`` (one bool per scored step): which snapshots reach every training loop, drawn filled."""
    plt = _plt()
    steps, fd = np.asarray(history["select_step"]), np.asarray(history["select_fd"], float)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.plot(steps, fd, lw=0.8, marker="." if full is None else None, label="fixed z vs training loops")
    if full is not None:
        f = np.asarray(full, bool)
        ax.plot(steps[f], fd[f], "o", color="C0", ms=4, label="reaches every training loop")
        ax.plot(steps[~f], fd[~f], "o", mfc="none", color="C0", ms=4, label="misses one or more")
    if best_step is not None and best_step in history["select_step"]:
        i = history["select_step"].index(best_step)
        ax.plot([best_step], [fd[i]], "r*", ms=12, label=f"kept for export: step {best_step}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("Fréchet distance (log-mel)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def pca_png(train_f: np.ndarray, gen_f: np.ndarray, path: str) -> None:
    from train.metrics import pca_2d

    plt = _plt()
    xy = pca_2d(np.concatenate([train_f, gen_f]))
    n = len(train_f)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(xy[n:, 0], xy[n:, 1], s=12, alpha=0.6, label=f"generated ({len(gen_f)})")
    ax.scatter(xy[:n, 0], xy[:n, 1], s=60, marker="*", color="C3", label=f"training ({n})")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("PCA of log-mel spectrograms")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def nearest_png(train: np.ndarray, gen: np.ndarray, idx: np.ndarray, sr: int, path: str) -> None:
    plt = _plt()
    n = len(train)
    fig, axes = plt.subplots(n, 1, figsize=(9, 1.6 * n), sharex=True, squeeze=False)
    t = np.arange(train.shape[-1]) / sr
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(t, train[i].mean(0), lw=0.5, label=f"training {i}")
        ax.plot(t, gen[idx[i]].mean(0), lw=0.5, alpha=0.7, label=f"generated {idx[i]}")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_report(run_dir: str, loops: np.ndarray | None = None, quiet: bool = False) -> dict:
    """Render the fixed z, compute metrics, write figures, WAVs, metrics.json and report.html."""
    import soundfile as sf
    import torch

    from train import metrics
    from train.data import CACHE
    from train.models import Generator
    from train.presets import Preset
    from train.trainer import REACH_MIN_Z, load_checkpoint, reach_counts, reached, render, snapshot

    ck = load_checkpoint(run_dir)
    p = Preset(**ck["preset"])
    g = Generator(p)
    if loops is None:
        with np.load(os.path.join(run_dir, CACHE)) as z:
            loops = z["loops"]
    weights, snap = snapshot(ck, "best")  # what `livegan export` writes by default
    g.load_state_dict(weights)
    gen = render(g, ck["z_val"], torch.device("cpu"))  # (n_val, C, L)
    m = metrics.evaluate(loops, gen, p.sample_rate)
    m.update(step=int(ck["step"]), seconds=float(ck["seconds"]), preset=p.name, snapshot=snap["snapshot"],
             snapshot_step=snap["step"])
    last = None
    if snap["snapshot"] == "best" and snap["step"] != int(ck["step"]):
        g.load_state_dict(ck["g"])
        last = metrics.evaluate(loops, render(g, ck["z_val"], torch.device("cpu")), p.sample_rate)
    ft = metrics.loop_vectors(loops, p.sample_rate)
    fg = metrics.loop_vectors(gen, p.sample_rate)
    idx = metrics._dist(ft, fg).argmin(1)  # nearest generated loop of each training loop
    fig_dir = os.path.join(run_dir, "report")
    os.makedirs(fig_dir, exist_ok=True)
    loss_png(ck["history"], os.path.join(fig_dir, "losses.png"))
    selected = bool(ck["history"].get("select_step"))
    by_reach = reach_counts(len(loops), len(ck["z_val"]))
    if selected:
        full = ([reached(c, len(ck["z_val"])) == len(loops) for c in ck["history"]["select_counts"]]
                if by_reach else None)
        selection_png(ck["history"], snap["step"] if snap["snapshot"] == "best" else None,
                      os.path.join(fig_dir, "selection.png"), full)
    pca_png(ft, fg, os.path.join(fig_dir, "pca.png"))
    nearest_png(loops, gen, idx, p.sample_rate, os.path.join(fig_dir, "nearest.png"))
    waveform_grid_png(gen[:16], p.sample_rate, os.path.join(fig_dir, "generated.png"), "generated (first 16 of the fixed z)")
    rows = []
    for i, j in enumerate(idx):
        a, b = f"train_{i:03d}.wav", f"nearest_{i:03d}_gen{j:03d}.wav"
        sf.write(os.path.join(fig_dir, a), loops[i].T, p.sample_rate, subtype="PCM_16")
        sf.write(os.path.join(fig_dir, b), gen[j].T, p.sample_rate, subtype="PCM_16")
        rows.append(f"<tr><td>{i}</td><td><audio controls src='report/{a}'></audio></td><td>{j}</td>"
                    f"<td><audio controls src='report/{b}'></audio></td><td>{metrics._dist(ft[i:i+1], fg[j:j+1])[0, 0]:.3f}</td></tr>")
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump(m if last is None else {**m, "last": last}, f, indent=1)

    def cell(v):
        return f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"

    head = ("<tr><th>metric</th><th>exported snapshot (step {})</th><th>last step</th></tr>".format(snap["step"])
            if last is not None else "")
    mrows = head + "".join(f"<tr><td>{html.escape(k)}</td>{cell(v)}" + (cell(last[k]) if last is not None and k in last
                                                                        else ("<td></td>" if last is not None else ""))
                           + "</tr>" for k, v in m.items())
    rule = (f"of the snapshots whose fixed z reach the most training loops (each by at least {REACH_MIN_Z} of them), "
            "the one with the lowest Fréchet distance" if by_reach else "the one whose fixed z scored the lowest "
            "Fréchet distance (too few fixed z per training loop to count loops reached)")
    what = (f"The generator shown and exported is the {snap['snapshot']} snapshot (step {snap['step']} of "
            f"{m['step']}): {rule}." if snap["snapshot"] == "best"
            else "The generator shown and exported is the one at the last step.")
    sel = ("<h2>Snapshot selection</h2><p>Fréchet distance of the fixed z's loops to the training loops, every "
           f"{p.select_every} steps" + (f"; filled dots: snapshots whose fixed z reach every training loop (each by "
                                        f"at least {REACH_MIN_Z})" if by_reach else "") +
           ".</p><img src=\"report/selection.png\">" if selected else "")
    page = f"""<!doctype html><meta charset="utf-8"><title>livegan run: {html.escape(p.name)}</title>
<h1>{html.escape(p.name)}: {m['step']} steps, {m['seconds']:.0f} s, {len(loops)} training loops</h1>
<h2>Metrics</h2><p>Spectral metrics at {metrics.ANALYSIS_SR} Hz (see train/metrics.py). {html.escape(what)}</p>
<table border=1 cellpadding=3>{mrows}</table>
<h2>Losses</h2><img src="report/losses.png">
{sel}
<h2>PCA: training and {len(gen)} generated loops</h2><img src="report/pca.png">
<h2>Nearest generated loop of each training loop</h2><img src="report/nearest.png">
<table border=1 cellpadding=3><tr><th>training</th><th></th><th>nearest generated</th><th></th><th>distance</th></tr>
{''.join(rows)}</table>
<h2>Generated</h2><img src="report/generated.png">
"""
    with open(os.path.join(run_dir, "report.html"), "w") as f:
        f.write(page)
    if not quiet:
        print(f"report: {os.path.join(run_dir, 'report.html')}  " +
              "  ".join(f"{k}={v:.3g}" for k, v in m.items() if isinstance(v, float)))
    return m

"""Report: ``RUN_DIR/report.html`` with PNG figures, audio and the metrics table.

The paper's figures, for any run: G and D loss curves (their Fig. 7); PCA of
training + the fixed validation loops on one plane (Fig. 8); for each training
loop the nearest generated loop, waveforms overlaid, both playable (Figs. 9-11).
Beyond the paper: spectrograms of training loops beside their nearest generated
loops, hiss and bandwidth, and how smoothly knob 0 morphs.
"""
from __future__ import annotations

import html
import json
import os
import warnings

import numpy as np
import torch

import train.presets  # noqa: F401  (registers the built-in architectures a checkpoint may name)
from train import checkpoint, figures, logmel_metrics
from train.config import Preset, from_dict
from train.data import CACHE
from train.directions import ganspace
from train.models import build_generator, render
from train.selection import REACH_MIN_Z, reach_counts, reached


def _score(ck: dict, p: Preset, loops: np.ndarray) -> tuple[np.ndarray, dict, dict | None, dict]:
    """The exported snapshot's loops of the fixed z, their metrics, the last step's metrics where the
    exported snapshot is another one (else None), and what the snapshot is."""
    weights, snap = checkpoint.snapshot(ck, "best")  # what `livegan export` writes by default
    g = build_generator(p, weights)
    gen = render(g, ck["z_val"], torch.device("cpu"))  # (n_val, C, L)
    m = logmel_metrics.evaluate(loops, gen, p.sample_rate)
    m.update(_morph(g, p))
    m.update(step=int(ck["step"]), seconds=float(ck["seconds"]), preset=p.name, snapshot=snap["snapshot"],
             snapshot_step=snap["step"])
    last = None
    if snap["snapshot"] == "best" and snap["step"] != int(ck["step"]):
        g_last = build_generator(p, checkpoint.snapshot(ck, "last")[0])
        last = logmel_metrics.evaluate(loops, render(g_last, ck["z_val"], torch.device("cpu")), p.sample_rate)
    return gen, m, last, snap


def _morph(g, p: Preset) -> dict:
    """Morph smoothness of knob 0 (the strongest GANSpace direction, as exported); nan with a warning
    where the directions cannot be found, so that the rest of the report is still written."""
    try:
        dirs, sigmas = ganspace(g, p.latent_dim, p.latent_dist)
        m = logmel_metrics.morph_smoothness(lambda z: render(g, torch.from_numpy(z), torch.device("cpu")), p.latent_dim,
                                     p.latent_dist, dirs[0], float(sigmas[0]), p.sample_rate)
    except Exception as e:  # a new architecture without head(), a degenerate PCA: the report goes on
        warnings.warn(f"report: morph smoothness of knob 0 not computed ({type(e).__name__}: {e})",
                      stacklevel=2)
        m = dict.fromkeys(("max_step", "median_random", "smoothness"), float("nan"))
    return {"morph_smoothness": m["smoothness"], "morph_max_step": m["max_step"],
            "morph_median_random": m["median_random"]}


def _draw(ck: dict, p: Preset, loops, gen, snap: dict, fig_dir: str, ft, fg, idx) -> None:
    """Every PNG of the report into ``fig_dir``."""
    figures.loss_png(ck["history"], os.path.join(fig_dir, "losses.png"))
    if ck["history"].get("select_step"):
        n_val = len(ck["z_val"])
        full = ([reached(c, n_val) == len(loops) for c in ck["history"]["select_counts"]]
                if reach_counts(len(loops), n_val) else None)
        figures.selection_png(ck["history"], snap["step"] if snap["snapshot"] == "best" else None,
                              os.path.join(fig_dir, "selection.png"), full)
    figures.pca_png(ft, fg, os.path.join(fig_dir, "pca.png"))
    figures.nearest_png(loops, gen, idx, p.sample_rate, os.path.join(fig_dir, "nearest.png"))
    figures.spectrogram_pairs_png(loops, gen, idx, p.sample_rate, os.path.join(fig_dir, "spectrograms.png"))
    figures.waveform_grid_png(gen[:16], p.sample_rate, os.path.join(fig_dir, "generated.png"),
                              "generated (first 16 of the fixed z)")


def _nearest_rows(loops, gen, idx, ft, fg, sr: int, fig_dir: str) -> list[str]:
    """WAVs of each training loop and its nearest generated loop, and their table rows."""
    import soundfile as sf

    rows = []
    for i, j in enumerate(idx):
        a, b = f"train_{i:03d}.wav", f"nearest_{i:03d}_gen{j:03d}.wav"
        sf.write(os.path.join(fig_dir, a), loops[i].T, sr, subtype="PCM_16")
        sf.write(os.path.join(fig_dir, b), gen[j].T, sr, subtype="PCM_16")
        rows.append(f"<tr><td>{i}</td><td><audio controls src='report/{a}'></audio></td><td>{j}</td>"
                    f"<td><audio controls src='report/{b}'></audio></td>"
                    f"<td>{logmel_metrics.distances(ft[i:i+1], fg[j:j+1])[0, 0]:.3f}</td></tr>")
    return rows


def _metrics_table(m: dict, last: dict | None, snap: dict) -> str:
    def cell(v):
        return f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"

    head = ("<tr><th>metric</th><th>exported snapshot (step {})</th><th>last step</th></tr>".format(snap["step"])
            if last is not None else "")
    return head + "".join(f"<tr><td>{html.escape(k)}</td>{cell(v)}" + (cell(last[k]) if last is not None and k in last
                                                                       else ("<td></td>" if last is not None else ""))
                          + "</tr>" for k, v in m.items())


def _selection_text(p: Preset, m: dict, snap: dict, selected: bool, by_reach: bool) -> tuple[str, str]:
    """What the exported generator is (one sentence), and the snapshot-selection section ("" without one)."""
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
    return what, sel


def write_report(run_dir: str, loops: np.ndarray | None = None, quiet: bool = False) -> dict:
    """Render the fixed z, compute metrics, write figures, WAVs, metrics.json and report.html."""
    ck = checkpoint.load(run_dir)
    p = from_dict(ck["preset"])
    if loops is None:
        with np.load(os.path.join(run_dir, CACHE)) as z:
            loops = z["loops"]
    gen, m, last, snap = _score(ck, p, loops)
    ft = logmel_metrics.loop_vectors(loops, p.sample_rate)
    fg = logmel_metrics.loop_vectors(gen, p.sample_rate)
    idx = logmel_metrics.distances(ft, fg).argmin(1)  # nearest generated loop of each training loop
    fig_dir = os.path.join(run_dir, "report")
    os.makedirs(fig_dir, exist_ok=True)
    _draw(ck, p, loops, gen, snap, fig_dir, ft, fg, idx)
    rows = _nearest_rows(loops, gen, idx, ft, fg, p.sample_rate, fig_dir)
    with open(os.path.join(run_dir, "metrics.json"), "w") as f:
        json.dump(m if last is None else {**m, "last": last}, f, indent=1)
    what, sel = _selection_text(p, m, snap, bool(ck["history"].get("select_step")),
                                reach_counts(len(loops), len(ck["z_val"])))
    page = f"""<!doctype html><meta charset="utf-8"><title>livegan run: {html.escape(p.name)}</title>
<h1>{html.escape(p.name)}: {m['step']} steps, {m['seconds']:.0f} s, {len(loops)} training loops</h1>
<h2>Metrics</h2><p>Log-mel metrics at {logmel_metrics.ANALYSIS_SR} Hz; hiss (flatness in 2-7 kHz: 1 = white noise) and
high_band_db (dB share of power above 8 kHz; bandwidth_db = generated minus training) at {p.sample_rate} Hz;
morph_smoothness: largest log-mel step of a 16-step sweep of knob 0 over the median distance between two
random loops (smaller = smoother). See train/logmel_metrics.py. {html.escape(what)}</p>
<table border=1 cellpadding=3>{_metrics_table(m, last, snap)}</table>
<h2>Losses</h2><img src="report/losses.png">
{sel}
<h2>PCA: training and {len(gen)} generated loops</h2><img src="report/pca.png">
<h2>Spectrograms: training loops and their nearest generated loops</h2><img src="report/spectrograms.png">
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

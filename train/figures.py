"""The report's figures as PNG files (matplotlib, Agg): loss curves, snapshot selection, PCA, nearest
loops, waveform grids and spectrograms. Each takes arrays and a path and writes one file."""
from __future__ import annotations

import numpy as np

from train.band_metrics import power_spectrogram_db
from train.logmel_metrics import pca_2d

SPEC_RANGE_DB = 80.0  # spectrogram colour scale: from the loudest bin of the figure down this far


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
    lines, labels = ax.get_legend_handles_labels()
    if history.get("rec"):  # spectral: the reconstruction at the anchors, on its own scale
        rec, r = _smooth(np.asarray(history["rec"], float), w), ax.twinx()
        lines += r.plot(steps[len(steps) - len(rec):], rec, color="C2", lw=0.8)
        labels.append("reconstruction (right axis)")
        r.set_ylabel("multi-resolution STFT loss")
    ax.legend(lines, labels)
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


def _spectrograms(cells: list, path: str, cols: int, fmax: float | None = None) -> None:
    """cells: row-major (loop (C, L), sr, title) or None (an empty panel) -> one log-power spectrogram each,
    on one colour scale (the figure's loudest bin down ``SPEC_RANGE_DB``); frequency axes to ``fmax``
    (default each loop's Nyquist)."""
    plt = _plt()
    specs = [power_spectrogram_db(c[0], c[1])[0] if c else None for c in cells]  # dB (F, T) each
    vmax = max(float(db.max()) for db in specs if db is not None)
    rows = (len(cells) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 2 * rows + 0.6), squeeze=False, layout="constrained")
    cmap = plt.get_cmap("magma")
    im = None
    for k, ax in enumerate(axes.flat):
        if k >= len(cells) or cells[k] is None:
            ax.set_axis_off()
            continue
        loop, sr, title = cells[k]
        im = ax.imshow(specs[k], origin="lower", aspect="auto", cmap=cmap, vmin=vmax - SPEC_RANGE_DB, vmax=vmax,
                       extent=(0, loop.shape[-1] / sr, 0, sr / 2 / 1000))
        ax.set_facecolor(cmap(0))  # above a low-rate model's Nyquist: nothing, drawn as the floor
        ax.set_ylim(0, (fmax or sr / 2) / 1000)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("kHz", fontsize=8)
        ax.set_xlabel("seconds", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=axes, label=f"dB (0 = full-scale sine; {SPEC_RANGE_DB:.0f} dB range)", shrink=0.6)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def spectrogram_pairs_png(train: np.ndarray, gen: np.ndarray, idx, sr: int, path: str, n: int = 8) -> None:
    """Row i: training loop i (N, C, L) beside its nearest generated loop gen[idx[i]], for i < n."""
    cells = []
    for i in range(min(n, len(train))):
        cells += [(train[i], sr, f"training {i}"), (gen[idx[i]], sr, f"generated {idx[i]} (nearest)")]
    _spectrograms(cells, path, cols=2)


def spectrogram_grid_png(sets: dict, path: str, n: int = 4) -> None:
    """{name: (loops (N, C, L), sr)} -> one column per set, its first n loops down the rows, every
    frequency axis to 22.05 kHz so that what a low-rate set cannot play shows as an empty top."""
    rows = min(n, max(len(loops) for loops, _ in sets.values()))
    cells = [(loops[i], sr, f"{name} {i}") if i < len(loops) else None
             for i in range(rows) for name, (loops, sr) in sets.items()]
    _spectrograms(cells, path, cols=len(sets), fmax=22050.0)

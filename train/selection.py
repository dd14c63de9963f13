"""Previews and snapshot selection: which generator of a run is the one to export.

Every ``preview_every`` steps the fixed z are rendered; every ``select_every`` steps their loops are scored
against the training loops (``select_key``) and the best-scored generator is kept for export.
"""
from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from train import logmel_metrics
from train.config import Preset
from train.figures import waveform_grid_png
from train.models import render
from train.state import TrainState


def write_preview(y: np.ndarray, p: Preset, step: int, run_dir: str, keep: bool) -> None:
    """WAV grid of rendered loops ``y`` (n_val, C, L) one after another, and a waveform PNG of the first 16."""
    import soundfile as sf

    folder = os.path.join(run_dir, "previews")
    os.makedirs(folder, exist_ok=True)
    grid = np.concatenate(list(y), axis=-1).T  # (n_val * L, C)
    sf.write(os.path.join(folder, "latest.wav"), grid, p.sample_rate, subtype="PCM_16")
    if keep:
        tag = f"step{step:06d}"
        sf.write(os.path.join(folder, f"{tag}.wav"), grid, p.sample_rate, subtype="PCM_16")
        waveform_grid_png(y[:16], p.sample_rate, os.path.join(folder, f"{tag}.png"), f"step {step}")


REACH_MIN_Z = 3  # fixed z a training loop needs to count as reached (a fresh draw of as many misses it ~e^-3 = 5 %)


def reach_counts(n_loops: int, n_val: int) -> bool:
    """Whether ``n_val`` fixed z are enough to count how many of ``n_loops`` training loops they reach."""
    return n_val >= REACH_MIN_Z * n_loops


def reached(counts, n_val: int) -> int | None:
    """How many training loops at least ``REACH_MIN_Z`` of the ``n_val`` fixed z have as their nearest, from the
    per-loop counts; None where there are too few fixed z per training loop to tell (``reach_counts``)."""
    if not reach_counts(len(counts), n_val):
        return None
    return sum(c >= REACH_MIN_Z for c in counts)


def select_key(counts, fd: float, n_val: int) -> tuple:
    """Order of snapshots for export, smaller first: more training loops reached, then lower Fréchet distance.

    FD alone misses a loop that few z reach: its frames are a small share of the pooled statistics
    (an example: benchmarks/results/train.md). A loop reached by one z of 100
    is missed by a fresh draw of 100 z about e^-1 = 37 % of the time, by three about 5 %."""
    r = reached(counts, n_val)
    return (0 if r is None else -r, fd)


def keep_best(best: dict | None, res: dict, history: dict, n_val: int) -> dict:
    """Record a scored snapshot ``res`` ({"step", "fd", "counts", "g"}) in ``history``'s select_* lists and
    return the snapshot to keep for export: ``res`` where ``select_key`` orders it before ``best``, else ``best``."""
    history["select_step"].append(res["step"])
    history["select_fd"].append(res["fd"])
    history["select_counts"].append(res["counts"])
    if best is None or select_key(res["counts"], res["fd"], n_val) < _best_key(best, history, n_val):
        return {"step": res["step"], "fd": res["fd"], "counts": res["counts"], "g": res["g"]}
    return best


def _best_key(best: dict, history: dict, n_val: int) -> tuple:
    counts = best.get("counts")
    if counts is None and best["step"] in history["select_step"]:  # a checkpoint from before best held its counts
        counts = history["select_counts"][history["select_step"].index(best["step"])]
    return select_key(counts, best["fd"], n_val) if counts is not None else (0, best["fd"])


class Previewer:
    """Previews and snapshot selection, off the training thread.

    At every ``preview_every`` step the fixed z are rendered (WAV grid, and a PNG for kept ones); at every
    ``select_every`` step their loops are also scored against the training loops (``select_key``: how many
    training loops they reach, then the Fréchet distance of log-mel frames, ``train.logmel_metrics``) and the
    best-scored generator so far is kept in ``s.best`` (what ``livegan export`` writes by default). The
    work runs on one background thread on a copy of G's weights, so it never changes training and the
    paper preset's small step, bound to one core by per-op overhead, keeps that core (costs measured in
    benchmarks/results/train.md). At most one job
    is in flight; its results are applied on the training thread (``collect``), so ``s`` is only ever
    written there.
    """

    def __init__(self, s: TrainState, run_dir: str, loops: np.ndarray, background: bool = True):
        self.s, self.run_dir = s, run_dir
        self.g = copy.deepcopy(s.g_export)  # the copy jobs render from; reloaded before each job
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="livegan-preview") if background else None
        self.job = None
        self.frames_t = None
        if s.p.select_every:
            ft = logmel_metrics.features(loops, s.p.sample_rate)  # (N, T, M) once, not per evaluation
            self.frames_t, self.vectors_t = ft.reshape(-1, logmel_metrics.N_MELS), ft.reshape(len(ft), -1)
        for key in ("select_step", "select_fd", "select_counts"):
            s.history.setdefault(key, [])

    def due(self, step: int) -> tuple[bool, bool]:
        p = self.s.p
        return (bool(p.preview_every) and step % p.preview_every == 0,
                bool(p.select_every) and step % p.select_every == 0)

    def submit(self, step: int, preview: bool, select: bool) -> None:
        if not (preview or select):
            return
        self.collect()  # the previous job is done with self.g
        p = self.s.p
        self.g.load_state_dict(self.s.g_export.state_dict())
        keep = preview and (step // p.preview_every) % max(1, p.keep_every) == 0
        args = (step, preview, keep, select)
        if self.pool is None:
            self._apply(self._work(*args))
        else:
            self.job = self.pool.submit(self._work, *args)

    def _work(self, step: int, preview: bool, keep: bool, select: bool) -> dict | None:
        y = render(self.g, self.s.z_val, self.s.device)  # (n_val, C, L)
        if preview:
            write_preview(y, self.s.p, step, self.run_dir, keep)
        if not select:
            return None
        fg = logmel_metrics.features(y, self.s.p.sample_rate)
        fd = logmel_metrics.frechet(self.frames_t, fg.reshape(-1, logmel_metrics.N_MELS))
        counts = logmel_metrics.nearest_counts(self.vectors_t, fg.reshape(len(fg), -1))  # as loop_vectors(y)
        g_state = {k: v.detach().clone() for k, v in self.g.state_dict().items()}
        return {"step": step, "fd": fd, "counts": counts, "g": g_state}

    def _apply(self, res: dict | None) -> None:
        if res is not None:
            self.s.best = keep_best(self.s.best, res, self.s.history, len(self.s.z_val))

    def collect(self) -> None:
        """Wait for the job in flight (if any) and apply its result; its errors are raised here."""
        job, self.job = self.job, None
        if job is not None:
            self._apply(job.result())

    def close(self) -> None:
        """Score the last step too (if selection is on and it was not just scored), then wait."""
        self.collect()
        scored = self.s.history["select_step"]
        if self.s.p.select_every and (not scored or scored[-1] != self.s.step):
            self.submit(self.s.step, preview=False, select=True)
            self.collect()
        if self.pool is not None:
            self.pool.shutdown()

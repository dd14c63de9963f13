"""Prepare: a folder of audio files -> (N, channels, loop_samples) float32 loops, cached.

Every readable file below the folder (wav, flac, ogg, aiff, mp3 where
libsndfile reads it) is mixed to mono (or kept stereo), resampled with soxr
(band-limited) to the preset's rate, fitted to the loop length, DC-removed
and peak-normalised. Files that cannot be used are skipped with a reason.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass

import numpy as np

from train.presets import Preset

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc", ".mp3")
PEAK = 0.9  # every prepared loop peaks here (the test synthesiser's level)
SILENT = 1e-4  # a file (or slice) peaking below -80 dBFS is silent
CACHE = "data.npz"


class NoUsableAudio(Exception):
    """No file in the folder gave a loop; the message lists why."""


@dataclass
class FileResult:
    path: str
    loops: int  # loops taken from this file (0 = skipped)
    reason: str  # "" when used, else why it was skipped
    seconds: float = 0.0  # file length


def find_audio(folder) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            if f.lower().endswith(AUDIO_EXTS) and not f.startswith("."):
                out.append(os.path.join(root, f))
    return out


def _fit_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """(frames, file_channels) -> (frames, channels)."""
    if channels == 1:
        return x.mean(axis=1, keepdims=True)
    if x.shape[1] == 1:
        return np.repeat(x, 2, axis=1)
    return x[:, :2]


def _resample(x: np.ndarray, in_rate: float, out_rate: float, frames: int | None = None) -> np.ndarray:
    """Band-limited resample of (frames, C); if ``frames`` is given, pad/trim to exactly that."""
    import soxr

    y = x if in_rate == out_rate else soxr.resample(x, in_rate, out_rate, quality="HQ")
    if frames is not None:
        if y.shape[0] < frames:
            y = np.pad(y, ((0, frames - y.shape[0]), (0, 0)))
        y = y[:frames]
    return y


def _finish(loop: np.ndarray) -> np.ndarray | None:
    """DC-remove and peak-normalise one (frames, C) loop -> (C, frames), or None if silent."""
    loop = loop - loop.mean(axis=0, keepdims=True)
    peak = float(np.max(np.abs(loop)))
    if peak < SILENT:
        return None
    return (loop * (PEAK / peak)).T.astype(np.float32)


def load_file(path: str, p: Preset, fit: str) -> tuple[list[np.ndarray], str, float]:
    """-> (loops as (C, L) arrays, skip reason or "", seconds)."""
    import soundfile as sf

    try:
        x, sr = sf.read(path, dtype="float64", always_2d=True)  # (frames, file_channels)
    except Exception as e:  # libsndfile raises LibsndfileError / RuntimeError / TypeError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return [], f"unreadable ({first[:80]})", 0.0
    seconds = x.shape[0] / sr if sr else 0.0
    if x.shape[0] == 0 or not np.all(np.isfinite(x)):
        return [], "unreadable (no finite samples)", seconds
    if float(np.max(np.abs(x - x.mean(axis=0)))) < SILENT:
        return [], "silent", seconds
    x = _fit_channels(x, p.channels)
    n_at_rate = x.shape[0] * p.sample_rate / sr  # frames the file would have at the preset's rate
    if fit == "stretch":
        k = int(round(n_at_rate / p.loop_samples))  # whole loops the file is re-pitched to
        if k < 1:
            return [], f"too short ({seconds:.2f} s < half a loop of {p.seconds:.2f} s)", seconds
        # one band-limited resample re-pitches the whole file to exactly k loops
        y = _resample(x, x.shape[0], k * p.loop_samples, k * p.loop_samples)
    else:
        k = int(n_at_rate // p.loop_samples)
        if k < 1:
            return [], f"too short ({seconds:.2f} s < one loop of {p.seconds:.2f} s)", seconds
        y = _resample(x, sr, p.sample_rate)
    loops = [_finish(y[i * p.loop_samples:(i + 1) * p.loop_samples]) for i in range(k)]
    loops = [lp for lp in loops if lp is not None]
    if not loops:
        return [], "silent", seconds
    return loops, "", seconds


def _key(files: list[str], p: Preset, fit: str) -> str:
    h = hashlib.sha1()
    for f in files:
        st = os.stat(f)
        h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    h.update(f"{p.sample_rate}|{p.loop_samples}|{p.channels}|{fit}|{PEAK}".encode())
    return h.hexdigest()


def print_table(results: list[FileResult], root: str) -> None:
    used = [r for r in results if r.loops]
    skipped = [r for r in results if not r.loops]
    print(f"prepare: {len(used)} file(s) used, {len(skipped)} skipped, "
          f"{sum(r.loops for r in used)} loop(s)")
    w = max([len(os.path.relpath(r.path, root)) for r in results] + [4])
    for r in results:
        status = f"used  {r.loops:3d} loop(s)" if r.loops else f"SKIP  {r.reason}"
        print(f"  {os.path.relpath(r.path, root):<{w}}  {r.seconds:7.2f} s  {status}")


def prepare(data_dir, p: Preset, run_dir=None, fit: str | None = None, quiet: bool = False) -> np.ndarray:
    """All loops of ``data_dir`` as (N, channels, loop_samples) float32; cached in ``run_dir``."""
    fit = fit or p.fit
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise NoUsableAudio(f"{data_dir}: not a folder")
    files = find_audio(data_dir)
    key = _key(files, p, fit)
    cache = os.path.join(run_dir, CACHE) if run_dir else None
    if cache and os.path.isfile(cache):
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                if not quiet:
                    print(f"prepare: {z['loops'].shape[0]} loop(s) from cache {cache}")
                return z["loops"]
    results, loops = [], []
    for f in files:
        got, reason, seconds = load_file(f, p, fit)
        results.append(FileResult(f, len(got), reason, seconds))
        loops.extend(got)
    if not quiet and results:
        print_table(results, data_dir)
    for r in results:
        if r.reason.startswith("unreadable") and not quiet:
            print(f"warning: skipped {r.path}: {r.reason}", file=sys.stderr)
    if not loops:
        why = "; ".join(f"{os.path.basename(r.path)}: {r.reason}" for r in results[:5])
        raise NoUsableAudio(f"{data_dir}: no usable audio file ({len(files)} audio file(s) found"
                            + (f": {why}" if why else f" with extensions {', '.join(AUDIO_EXTS)}") + ")")
    arr = np.stack(loops)  # (N, C, L)
    if cache:
        os.makedirs(run_dir, exist_ok=True)
        np.savez(cache + ".part.npz", loops=arr, key=np.array(key),
                 files=np.array(json.dumps([r.__dict__ for r in results])))
        os.replace(cache + ".part.npz", cache)
    return arr

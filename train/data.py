"""Prepare: a folder of audio files -> (N, channels, loop_samples) float32 loops, cached.

Every readable file below the folder (wav, flac, ogg, aiff, mp3 where
libsndfile reads it) is mixed to mono (or kept stereo), resampled with soxr
(band-limited) to the preset's rate, fitted to the loop length, DC-removed
and peak-normalised. Files that cannot be used (unreadable, dangling links,
not regular files, silent, too short) are skipped with a reason; long files
are read and resampled in blocks, so memory stays bounded by the loops kept.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass

import numpy as np

from livegan.errors import first_line, shown
from train.config import Preset

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc", ".mp3")
PEAK = 0.9  # every prepared loop peaks here (the test synthesiser's level)
SILENT = 1e-4  # a file (or slice) peaking below -80 dBFS is silent
CACHE = "data.npz"
BLOCK = 1 << 16  # frames read and resampled at a time
MAX_SAMPLES = 1 << 28  # loop samples one file may give (1 GiB of float32: 4.5 h at 16384 Hz mono)


class NoUsableAudio(Exception):
    """No file in the folder gave a loop; the message lists why."""


@dataclass
class FileResult:
    path: str
    loops: int  # loops taken from this file (0 = skipped)
    reason: str  # "" when used, else why it was skipped
    seconds: float = 0.0  # file length


def scan(folder) -> tuple[list[str], list[FileResult]]:
    """Audio files below ``folder`` -> (regular files to read, entries skipped with a reason).

    A dangling link, a link loop, a FIFO or a folder that cannot be listed is skipped here, so
    one bad entry never stops the others from being read (a FIFO would block the read)."""
    out, skipped = [], []

    def unlisted(e: OSError) -> None:
        skipped.append(FileResult(e.filename or folder, 0, f"unreadable folder ({e.strerror})"))

    for root, dirs, files in os.walk(folder, onerror=unlisted):
        dirs.sort()
        for f in sorted(files):
            if not f.lower().endswith(AUDIO_EXTS) or f.startswith("."):
                continue
            path = os.path.join(root, f)
            try:
                st = os.stat(path)
            except OSError as e:
                why = "dangling link" if os.path.islink(path) and e.errno == 2 else e.strerror
                skipped.append(FileResult(path, 0, f"unreadable ({why})"))
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append(FileResult(path, 0, "unreadable (not a regular file)"))
                continue
            out.append(path)
    return out, skipped


def _fit_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """(frames, file_channels) -> (frames, channels)."""
    if channels == 1:
        return x.mean(axis=1, keepdims=True)
    if x.shape[1] == 1:
        return np.repeat(x, 2, axis=1)
    return x[:, :2]


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
        with sf.SoundFile(os.fsencode(path)) as f:  # bytes: a name that is not UTF-8 opens too
            return _read_loops(f, p, fit)
    except Exception as e:  # libsndfile raises LibsndfileError / RuntimeError / TypeError
        return [], f"unreadable ({first_line(e, 80)})", 0.0


def _read_loops(f, p: Preset, fit: str) -> tuple[list[np.ndarray], str, float]:
    """Loops of an open SoundFile, read BLOCK frames at a time into one (k * loop_samples, C) array."""
    import soxr

    n, sr = f.frames, f.samplerate
    seconds = n / sr if sr > 0 else 0.0
    if n <= 0 or sr <= 0:
        return [], "unreadable (no finite samples)", seconds
    n_at_rate = n * p.sample_rate / sr  # frames the file would have at the preset's rate
    if fit == "stretch":
        k = int(round(n_at_rate / p.loop_samples))  # whole loops the file is re-pitched to
        if k < 1:
            return [], f"too short ({seconds:.2f} s < half a loop of {p.seconds:.2f} s)", seconds
        rates = (n, k * p.loop_samples)  # one band-limited resample re-pitches the file to exactly k loops
    else:
        k = int(n_at_rate // p.loop_samples)
        if k < 1:
            return [], f"too short ({seconds:.2f} s < one loop of {p.seconds:.2f} s)", seconds
        rates = (sr, p.sample_rate)
    total = k * p.loop_samples
    if total * p.channels > MAX_SAMPLES:
        return [], f"too long ({seconds / 3600:.1f} h: split it into files under "\
                   f"{MAX_SAMPLES / p.channels / p.sample_rate / 3600:.1f} h)", seconds
    y = np.zeros((total, p.channels), np.float32)  # (k * L, C); what the file lacks stays silent
    rs = None if rates[0] == rates[1] else soxr.ResampleStream(*rates, p.channels, dtype="float32", quality="HQ")
    pos = 0
    for block in f.blocks(BLOCK, dtype="float32", always_2d=True):  # (<= BLOCK, file_channels)
        if not np.all(np.isfinite(block)):
            return [], "unreadable (no finite samples)", seconds
        block = _fit_channels(block, p.channels)
        pos = _put(y, pos, block if rs is None else rs.resample_chunk(block))
    if rs is not None:
        _put(y, pos, rs.resample_chunk(np.zeros((0, p.channels), np.float32), last=True))
    loops = [_finish(y[i * p.loop_samples:(i + 1) * p.loop_samples]) for i in range(k)]
    loops = [lp for lp in loops if lp is not None]
    if not loops:
        return [], "silent", seconds
    return loops, "", seconds


def _put(y: np.ndarray, pos: int, chunk: np.ndarray) -> int:
    """Copy what fits of ``chunk`` into ``y`` at ``pos``; -> the next position."""
    m = max(0, min(len(chunk), len(y) - pos))
    y[pos:pos + m] = chunk[:m]
    return pos + len(chunk)


def _key(files: list[str], p: Preset, fit: str) -> str:
    h = hashlib.sha1()
    for f in files:
        try:
            st = os.stat(f)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:  # gone since the scan: load_file will say so
            size, mtime = -1, -1
        h.update(os.fsencode(f) + f"|{size}|{mtime}\n".encode())
    h.update(f"{p.sample_rate}|{p.loop_samples}|{p.channels}|{fit}|{PEAK}".encode())
    return h.hexdigest()


def print_table(results: list[FileResult], root: str) -> None:
    used = [r for r in results if r.loops]
    skipped = [r for r in results if not r.loops]
    print(f"prepare: {len(used)} file(s) used, {len(skipped)} skipped, "
          f"{sum(r.loops for r in used)} loop(s)")
    names = [shown(os.path.relpath(r.path, root)) for r in results]
    w = max([len(name) for name in names] + [4])
    for r, name in zip(results, names):
        status = f"used  {r.loops:3d} loop(s)" if r.loops else f"SKIP  {r.reason}"
        print(f"  {name:<{w}}  {r.seconds:7.2f} s  {status}")


def prepare(data_dir, p: Preset, run_dir=None, fit: str | None = None, quiet: bool = False) -> np.ndarray:
    """All loops of ``data_dir`` as (N, channels, loop_samples) float32; cached in ``run_dir``."""
    fit = fit or p.fit
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise NoUsableAudio(f"{shown(data_dir)}: not a folder")
    files, skipped = scan(data_dir)
    key = _key(files, p, fit)
    cache = os.path.join(run_dir, CACHE) if run_dir else None
    if cache and os.path.isfile(cache):
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                if not quiet:
                    print(f"prepare: {z['loops'].shape[0]} loop(s) from cache {shown(cache)}")
                return z["loops"]
    results, loops = list(skipped), []
    for f in files:
        got, reason, seconds = load_file(f, p, fit)
        results.append(FileResult(f, len(got), reason, seconds))
        loops.extend(got)
    if not quiet and results:
        print_table(results, data_dir)
    if not loops:  # one line: the reasons of the first files, no warning before it
        why = "; ".join(f"{shown(os.path.basename(r.path))}: {r.reason}" for r in results[:5])
        raise NoUsableAudio(f"{shown(data_dir)}: no usable audio file ({len(results)} audio file(s) found"
                            + (f": {why}" if why else f" with extensions {', '.join(AUDIO_EXTS)}") + ")")
    for r in results:
        if r.reason.startswith("unreadable") and not quiet:
            print(f"warning: skipped {shown(r.path)}: {r.reason}", file=sys.stderr)
    arr = np.stack(loops)  # (N, C, L)
    if cache:
        os.makedirs(run_dir, exist_ok=True)
        try:
            np.savez(cache + ".part.npz", loops=arr, key=np.array(key),
                     files=np.array(json.dumps([r.__dict__ for r in results])))
            os.replace(cache + ".part.npz", cache)
        except OSError as e:  # a full disk: one line naming the file, and no partial one left
            if os.path.exists(cache + ".part.npz"):
                os.remove(cache + ".part.npz")
            raise OSError(e.errno, f"cannot be written ({e.strerror or e})", shown(cache)) from None
    return arr

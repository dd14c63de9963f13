"""Metrics of generated loops against training loops; no downloaded model.

Everything spectral is computed at one analysis rate (``ANALYSIS_SR``) so that
presets working at different rates compare: loops are mixed to mono and
resampled with soxr first. Features are log-mel frames of a circular STFT
(loops wrap, so the analysis wraps too).

- ``fd``: Fréchet distance between Gaussians fitted to the log-mel frames of
  generated vs training loops (an FAD with log-mel in place of VGGish).
- ``ndb_k``: NDB/k (Richardson & Weiss 2018): k = min(20, 2 x training loops)
  k-means bins of training frames; fraction of bins whose share of generated
  frames differs (two-proportion z-test, p < 0.05, with the numbers of loops
  as sample sizes since frames of one loop are not independent).
- ``nn_ratio``: mean distance generated -> nearest training loop, over mean
  distance training -> nearest other training loop (memorisation when << 1).
- ``min_nn``: the smallest generated -> training distance (a copy is ~0).
- ``coverage``: fraction of training loops that are the nearest training loop
  of at least one generated loop.
- ``seam``: |x[0] - x[-1]| over mean |x[t+1] - x[t]| inside the loop, at the
  loop's own rate, averaged over loops (about 1 for a loop as smooth at the
  wrap as inside; a click makes it large). ``seam_train`` is the same for the
  training loops.
- ``copy_xcorr``: the largest normalised circular cross-correlation between any generated
  and any training loop, over all lags (at the analysis rate). A copy scores ~1 even when
  rolled or under hiss, which moves a copy away in the log-mel distances above.
- ``diversity``: mean pairwise distance between generated loops over that
  between training loops (1 = as varied as the data).
- ``hiss``, ``hiss_train``, ``high_band_db``, ``high_band_db_train``, ``bandwidth_db``: at the loops'
  own rates (see ``train.band_metrics``): flatness in 2-7 kHz, share of power above 8 kHz, and the
  generated minus the training share (0 = as bright as the data).
- ``morph_smoothness`` (not in ``evaluate``: it needs the generator): a 16-step sweep of one knob.
Loop distances are RMS differences of log-mel spectrograms (natural-log power units).

The log has a floor ``FLOOR_DB`` = -80 dB re a full-scale sine (VGGish, behind FAD, puts its
log-mel offset at about the same level): what is quieter counts as silence, so the distances
are not ruled by how silent the gaps between notes are (history: benchmarks/results/train.md).

Comparing presets that work at different rates: score every preset's loops
against one ``reference(folder)`` (the source files prepared at the analysis
rate), not against each preset's own prepared copy. A 2048 Hz preset's copy
has nothing above 1024 Hz, so its loops would only be asked to match the
bottom of the spectrum, and what it cannot play would cost it nothing.
"""
from __future__ import annotations

import numpy as np

from livegan.model import seed_z
from train.band_metrics import bandwidth_db, high_band_db, hiss

ANALYSIS_SR = 8000  # Hz: every loop is resampled here before spectral features
N_FFT = 512  # 64 ms
HOP = 128  # 16 ms
N_MELS = 64
FLOOR_DB = -80.0  # dB re a full-scale sine: quieter mel energy counts as silence


def _mel_filters(sr: int, n_fft: int, n_mels: int, fmin: float = 20.0) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters on the HTK mel scale."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
    inv = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    edges = inv(np.linspace(mel(fmin), mel(sr / 2), n_mels + 2))
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fb = np.zeros((n_mels, freqs.size))
    for i in range(n_mels):
        lo, mid, hi = edges[i:i + 3]
        fb[i] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return fb


_FB = _mel_filters(ANALYSIS_SR, N_FFT, N_MELS)
_WIN = np.hanning(N_FFT)


def floor_power(floor_db: float | None = None) -> float:
    """Mel power ``floor_db`` (default ``FLOOR_DB``) below a full-scale sine's (peak bin: (sum(window) / 2)^2)."""
    db = FLOOR_DB if floor_db is None else floor_db
    return float((_WIN.sum() / 2.0) ** 2 * 10.0 ** (db / 10.0))


def to_analysis(loops: np.ndarray, sr: int) -> np.ndarray:
    """(N, C, L) or (N, L) at ``sr`` -> (N, L') mono float64 at ANALYSIS_SR."""
    import soxr

    x = np.asarray(loops, np.float64)
    if x.ndim == 3:
        x = x.mean(axis=1)
    if sr == ANALYSIS_SR:
        return x
    # resample three copies and keep the middle one: the loop wraps, so its edges must too
    tiled = np.concatenate([x, x, x], axis=1).T  # (3L, N)
    y = soxr.resample(tiled, sr, ANALYSIS_SR, quality="HQ").T  # (N, ~3L')
    n = int(round(x.shape[1] * ANALYSIS_SR / sr))
    return y[:, n:2 * n]


def logmel(x: np.ndarray) -> np.ndarray:
    """(N, L) at ANALYSIS_SR -> (N, T, N_MELS) log-mel of a circular STFT, T = L // HOP."""
    n, length = x.shape
    t = length // HOP
    idx = (np.arange(t)[:, None] * HOP + np.arange(N_FFT)[None, :]) % length  # (T, N_FFT), wraps
    frames = x[:, idx] * _WIN  # (N, T, N_FFT)
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2  # (N, T, F)
    return np.log(power @ _FB.T + floor_power())  # (N, T, M)


def features(loops: np.ndarray, sr: int) -> np.ndarray:
    return logmel(to_analysis(loops, sr))


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to rows of a (n, d) and b (m, d)."""
    from scipy import linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):
        off = np.eye(s1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s1 + off) @ (s2 + off))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 30) -> np.ndarray:
    """Plain Lloyd k-means with k-means++ init: (n, d) -> (k, d) centres."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d2 = np.min(((x[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(len(x))])
    c = np.array(centres)
    for _ in range(iters):
        lab = _assign(x, c)
        for j in range(k):
            if np.any(lab == j):
                c[j] = x[lab == j].mean(0)
    return c


def _assign(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    d = (x ** 2).sum(1)[:, None] - 2 * x @ c.T + (c ** 2).sum(1)[None]
    return d.argmin(1)


def ndb(train_frames: np.ndarray, gen_frames: np.ndarray, k: int = 20, seed: int = 0,
        n_eff: tuple[int, int] | None = None) -> float:
    """NDB/k over k-means bins of the training frames (two-proportion z-test at p < 0.05).

    Frames of one loop are not independent: ``n_eff`` = (training loops, generated loops)
    are the sample sizes the test uses (default: the frame counts).
    """
    rng = np.random.default_rng(seed)
    sub = train_frames[rng.permutation(len(train_frames))[:4000]]
    c = kmeans(sub, k, seed)
    p_t = np.bincount(_assign(train_frames, c), minlength=k) / len(train_frames)
    p_g = np.bincount(_assign(gen_frames, c), minlength=k) / len(gen_frames)
    n1, n2 = n_eff or (len(train_frames), len(gen_frames))
    pooled = (p_t * n1 + p_g * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) + 1e-12
    return float(np.mean(np.abs(p_t - p_g) / se > 1.96))


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMS distance between rows of a (n, d) and b (m, d) -> (n, m)."""
    d2 = (a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1)[None]
    return np.sqrt(np.maximum(d2, 0) / a.shape[1])


def seam_score(loops: np.ndarray) -> np.ndarray:
    """(N, C, L) or (N, L) -> (N,) wrap step over mean inside step (mono, native rate)."""
    x = np.asarray(loops, np.float64)
    if x.ndim == 3:
        x = x.mean(axis=1)
    inside = np.abs(np.diff(x, axis=1)).mean(1) + 1e-9
    return np.abs(x[:, 0] - x[:, -1]) / inside


def copy_xcorr(train_a: np.ndarray, gen_a: np.ndarray) -> np.ndarray:
    """(N, L) and (M, L) mono at one rate -> (M,) max over training loops and circular lags of the
    normalised cross-correlation (1 = a copy, possibly rolled; ~0 = unrelated)."""
    def unit(x):
        x = x - x.mean(1, keepdims=True)
        return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)

    ft = np.fft.rfft(unit(train_a), axis=1)  # (N, F)
    fg = np.fft.rfft(unit(gen_a), axis=1)  # (M, F)
    best = np.zeros(len(fg))
    for i in range(len(ft)):  # one training loop at a time: (M, L) in memory, not (M, N, L)
        c = np.fft.irfft(fg * np.conj(ft[i])[None], n=train_a.shape[1], axis=1)  # (M, L) over lags
        best = np.maximum(best, c.max(1))
    return best


def evaluate(train: np.ndarray, gen: np.ndarray, sr: int, gen_sr: int | None = None) -> dict:
    """All metrics; ``train`` (N, C, L) at ``sr``, ``gen`` (M, C, L') at ``gen_sr`` (default sr)."""
    ta, ga = to_analysis(train, sr), to_analysis(gen, gen_sr or sr)  # (N, L'), (M', L')
    ft, fg = logmel(ta), logmel(ga)  # (N, T, M), (M', T, M)
    frames_t, frames_g = ft.reshape(-1, N_MELS), fg.reshape(-1, N_MELS)
    et, eg = ft.reshape(len(ft), -1), fg.reshape(len(fg), -1)  # one vector per loop
    d_gt = distances(eg, et)  # (M, N)
    d_tt = distances(et, et) + np.diag(np.full(len(et), np.inf))
    nn_tt = d_tt.min(1) if len(et) > 1 else np.array([np.nan])
    d_gg = distances(eg, eg)
    iu_g, iu_t = np.triu_indices(len(eg), 1), np.triu_indices(len(et), 1)
    div_t = distances(et, et)[iu_t].mean() if len(et) > 1 else np.nan
    return {
        "fd": frechet(frames_t, frames_g),
        "ndb_k": ndb(frames_t, frames_g, k=min(20, 2 * len(et)), n_eff=(len(et), len(eg))),
        "nn_ratio": float(d_gt.min(1).mean() / np.mean(nn_tt)),
        "min_nn": float(d_gt.min()),
        "train_nn_min": float(np.min(nn_tt)),
        "coverage": float(len(set(d_gt.argmin(1).tolist())) / len(et)),
        "copy_xcorr": float(copy_xcorr(ta, ga).max()),
        "seam": float(seam_score(gen).mean()),
        "seam_train": float(seam_score(train).mean()),
        "diversity": float(d_gg[iu_g].mean() / div_t) if len(eg) > 1 else float("nan"),
        **_sound(train, sr, gen, gen_sr or sr),
        "n_train": int(len(et)),
        "n_gen": int(len(eg)),
    }


def _sound(train: np.ndarray, sr: int, gen: np.ndarray, gen_sr: int) -> dict:
    """Hiss and bandwidth at the native rates (the analysis rate has nothing above 4 kHz)."""
    return {"hiss": hiss(gen, gen_sr), "hiss_train": hiss(train, sr), "high_band_db": high_band_db(gen, gen_sr),
            "high_band_db_train": high_band_db(train, sr), "bandwidth_db": bandwidth_db(train, sr, gen, gen_sr)}


def morph_smoothness(generate, latent_dim: int, latent_dist: str, direction: np.ndarray, sigma: float, sr: int,
                     steps: int = 16, base_seed: int = 0, n_random: int = 32) -> dict:
    """How far one knob step moves the loop, against how far apart two random loops are.

    ``generate(z (B, latent_dim) float32) -> (B, C, L)`` numpy at ``sr``. The knob sweeps
    z0 + t * sigma * direction, t in linspace(-2, 2, steps), around z0 = seed_z(base_seed);
    the random loops are those of seeds 1000 .. 1000 + n_random. -> {"max_step": largest log-mel
    distance between neighbouring loops of the sweep, "median_random": median distance between two
    random loops, "smoothness": their ratio (smaller = smoother; nan when z changes nothing)}.
    """
    z0 = seed_z(base_seed, latent_dim, latent_dist)
    t = np.linspace(-2.0, 2.0, steps)[:, None]
    sweep = (z0[None] + t * float(sigma) * np.asarray(direction, np.float64)[None]).astype(np.float32)  # (S, D)
    rand = np.stack([seed_z(1000 + i, latent_dim, latent_dist) for i in range(n_random)]).astype(np.float32)
    vs, vr = loop_vectors(generate(sweep), sr), loop_vectors(generate(rand), sr)  # (S, V), (R, V)
    rms = lambda d: np.sqrt((d ** 2).mean(-1))  # the ``distances`` metric, exact where loops are equal
    max_step = float(rms(vs[1:] - vs[:-1]).max())
    iu = np.triu_indices(len(vr), 1)
    median = float(np.median(rms(vr[iu[0]] - vr[iu[1]])))
    return {"max_step": max_step, "median_random": median,
            "smoothness": max_step / median if median > 1e-9 else float("nan")}


def reference(folder, seconds: float = 2.0, channels: int = 1) -> np.ndarray:
    """The loops of ``folder`` prepared (stretch-fitted) at ANALYSIS_SR: (N, C, seconds * ANALYSIS_SR).

    One reference for every preset, whatever rate it trains at (see the module docstring).
    """
    from train.config import Preset
    from train.data import prepare

    n = int(round(seconds * ANALYSIS_SR))
    return prepare(folder, Preset(sample_rate=ANALYSIS_SR, loop_samples=n, channels=channels), quiet=True)


def loop_vectors(loops: np.ndarray, sr: int) -> np.ndarray:
    """(N, C, L) at ``sr`` -> (N, T * N_MELS): one log-mel vector per loop, what loop distances compare."""
    return features(loops, sr).reshape(len(loops), -1)


def nearest_counts(train_vectors: np.ndarray, gen_vectors: np.ndarray) -> list[int]:
    """How many generated loops have each training loop as their nearest (coverage = share of nonzero counts).
    Both from ``loop_vectors`` (the training loops' computed once when scoring many sets of generated loops)."""
    nearest = distances(gen_vectors, train_vectors).argmin(1)
    return np.bincount(nearest, minlength=len(train_vectors)).tolist()


BANDS_HZ = ((20, 80), (80, 160), (160, 320), (320, 640), (640, 1000))


def band_energy_db(loops: np.ndarray, sr: int, bands=BANDS_HZ) -> list[float]:
    """Mean over loops of the energy in each band (dB, arbitrary reference), at ANALYSIS_SR: where a
    generator's loops are brighter or darker than the training loops."""
    x = to_analysis(loops, sr)
    power = np.abs(np.fft.rfft(x, axis=1)) ** 2  # (N, F)
    freqs = np.fft.rfftfreq(x.shape[1], 1.0 / ANALYSIS_SR)
    return [round(float(10 * np.log10(power[:, (freqs >= lo) & (freqs < hi)].sum(1).mean() + 1e-12)), 1)
            for lo, hi in bands]


def pca_2d(x: np.ndarray) -> np.ndarray:
    """(n, d) -> (n, 2) coordinates on the first two principal axes."""
    xc = x - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    return xc @ vt[:2].T

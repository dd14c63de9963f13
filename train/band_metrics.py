"""What a performer hears that the log-mel metrics at ``ANALYSIS_SR`` cannot: hiss and bandwidth.

Computed at the loops' own rate (the 8 kHz analysis rate of ``train.logmel_metrics`` has nothing above 4 kHz,
where hiss lives), on a circular STFT (loops wrap, so the analysis wraps too).

- ``hiss``: spectral flatness (geometric mean / arithmetic mean of power) in 2-7 kHz, per STFT frame,
  averaged over the non-silent frames of all loops. ~1 for white noise, ~0 for a tone; real bass loops,
  whose harmonics fall off with frequency, score far below noise. The power spectrum is first averaged
  over bands of ``HISS_BAND_BINS`` bins: a white-noise periodogram's bins scatter as chi-square with two
  degrees of freedom, whose flatness is e^-gamma ~ 0.56 however long the noise, so without the bands
  white noise would not score ~1. Band power below that of white noise at ``HISS_FLOOR_DB`` is taken
  off first: flatness is blind to level, so without it a band holding only a tone's far sidelobes or a
  16-bit file's quantisation noise (~-100 dBFS) would score as a flat wall of hiss.
- ``high_band_db``: 10 log10 of the share of the loops' power above ``hz`` (the sum over loops and
  channels of power above ``hz`` over the sum of all power, DC excluded: loud loops weigh more, as the
  ear hears them), floored at ``HIGH_BAND_FLOOR_DB`` when there is nothing up there (``sr / 2 <= hz``).
- ``bandwidth_db``: generated minus training ``high_band_db`` (0 = as bright as the training loops).
"""
from __future__ import annotations

import numpy as np

HISS_BAND_HZ = (2000.0, 7000.0)  # where a waveform generator's hiss sits above a bass line's harmonics
SILENT_DB = -60.0  # dB re full scale: frames with a lower RMS are silence and carry no hiss verdict
HISS_BAND_BINS = 8  # bins averaged per band before the flatness (~170 Hz; see the module docstring)
HISS_FLOOR_DB = -80.0  # dB re full scale: band power below white noise this loud is inaudible (module docstring)
HIGH_BAND_FLOOR_DB = -120.0  # high_band_db of loops with no power above hz (e.g. sr <= 2 * hz)
REF_SR, REF_N_FFT = 44100, 2048  # the STFT window is ~46 ms at every rate: 2048 points at 44.1 kHz


def stft_size(sr: int) -> int:
    """The even FFT size of a ~46 ms window at ``sr`` (2048 at 44.1 kHz); the hop is a quarter of it."""
    return max(16, 2 * int(round(REF_N_FFT * sr / REF_SR / 2)))


def mono(loops: np.ndarray) -> np.ndarray:
    """(N, C, L) or (N, L) -> (N, L) float64 mean over channels."""
    x = np.asarray(loops, np.float64)
    return x.mean(axis=1) if x.ndim == 3 else x


def circular_frames(x: np.ndarray, n_fft: int) -> np.ndarray:
    """(L,) loop -> (T, n_fft) frames every n_fft // 4 samples, T = L // hop; the last ones wrap to the start."""
    hop = n_fft // 4
    idx = (np.arange(max(1, len(x) // hop))[:, None] * hop + np.arange(n_fft)[None, :]) % len(x)
    return x[idx]


def power_spectrogram_db(loop: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One loop (C, L) or (L,) at ``sr`` -> (dB (F, T) re a full-scale sine, freqs (F,) Hz, times (T,) s)."""
    x = mono(np.asarray(loop)[None])[0]
    n_fft = stft_size(sr)
    win = np.hanning(n_fft)
    power = np.abs(np.fft.rfft(circular_frames(x, n_fft) * win, axis=1)) ** 2  # (T, F)
    db = 10 * np.log10(power / (win.sum() / 2.0) ** 2 + 1e-20)
    times = np.arange(db.shape[0]) * (n_fft // 4) / sr
    return db.T, np.fft.rfftfreq(n_fft, 1.0 / sr), times


def hiss(loops: np.ndarray, sr: int) -> float:
    """Spectral flatness in 2-7 kHz over non-silent frames of (N, C, L) loops at ``sr`` (nan below 14 kHz
    or when every frame is silent)."""
    if sr < 2 * HISS_BAND_HZ[1]:
        return float("nan")
    n_fft = stft_size(sr)
    win = np.hanning(n_fft)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = np.flatnonzero((freqs >= HISS_BAND_HZ[0]) & (freqs <= HISS_BAND_HZ[1]))
    n_bands = len(band) // HISS_BAND_BINS
    band = band[:n_bands * HISS_BAND_BINS]
    threshold = 10.0 ** (SILENT_DB / 20.0)
    floor = 10.0 ** (HISS_FLOOR_DB / 10.0) * (win ** 2).sum()  # mean |rfft|^2 of white noise at that RMS
    flat = []
    for x in mono(loops):  # one loop at a time: (T, n_fft) frames, not (N, T, n_fft)
        frames = circular_frames(x, n_fft)  # (T, n_fft)
        loud = np.sqrt((frames ** 2).mean(1)) > threshold
        if not loud.any():
            continue
        power = np.abs(np.fft.rfft(frames[loud] * win, axis=1)[:, band]) ** 2  # (T', B)
        power = np.maximum(power.reshape(len(power), n_bands, HISS_BAND_BINS).mean(2) - floor, 0)  # (T', n_bands)
        mean = power.mean(1)
        geo = np.exp(np.log(np.maximum(power, 1e-300)).mean(1))  # one empty band makes it ~0: not flat
        flat.append(np.where(mean > 0, geo / np.maximum(mean, 1e-300), 0.0))  # all below the floor: no hiss
    return float(np.concatenate(flat).mean()) if flat else float("nan")


def high_band_db(loops: np.ndarray, sr: int, hz: float = 8000.0) -> float:
    """dB share of the power of (N, C, L) loops at ``sr`` above ``hz`` (``HIGH_BAND_FLOOR_DB`` when none)."""
    x = np.asarray(loops, np.float64)
    x = x - x.mean(axis=-1, keepdims=True)
    power = np.abs(np.fft.rfft(x, axis=-1)) ** 2  # (N, C, F) or (N, F)
    freqs = np.fft.rfftfreq(x.shape[-1], 1.0 / sr)
    total = power.sum()
    if total <= 0:
        return HIGH_BAND_FLOOR_DB
    share = power[..., freqs > hz].sum() / total
    return float(max(10 * np.log10(share) if share > 0 else HIGH_BAND_FLOOR_DB, HIGH_BAND_FLOOR_DB))


def bandwidth_db(train: np.ndarray, train_sr: int, gen: np.ndarray, gen_sr: int, hz: float = 8000.0) -> float:
    """Generated loops' ``high_band_db`` minus the training loops' (0 = as bright; < 0 = duller)."""
    return high_band_db(gen, gen_sr, hz) - high_band_db(train, train_sr, hz)

"""A small deterministic loop synthesiser: bass lines and drum patterns.

Used by the tests (no test needs downloaded audio) and as a source of loops
anyone can rebuild. Every loop is a function of (kind, seed, sample rate,
tempo): the same arguments give the same samples on every machine.

Loops are circular by construction: every note is rendered on a circular
time axis (its tail wraps to the start), so the loop's seam is as smooth as
its inside.
"""
from __future__ import annotations

import os

import numpy as np

KINDS = ("bass", "drums")
_SCALES = {  # semitone offsets
    "minor_pent": (0, 3, 5, 7, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}


def _loop_frames(sr: int, bpm: float, bars: int, beats_per_bar: int) -> int:
    return int(round(sr * bars * beats_per_bar * 60.0 / bpm))


def _add_circular(out: np.ndarray, start: int, x: np.ndarray) -> None:
    """out[start:start+len(x)] += x, wrapping around the end of the loop."""
    n = out.shape[0]
    idx = (start + np.arange(x.shape[0])) % n
    np.add.at(out, idx, x)


def _one_pole_lowpass(x: np.ndarray, cutoff_hz: float, sr: int) -> np.ndarray:
    a = float(np.exp(-2.0 * np.pi * cutoff_hz / sr))
    y = np.empty_like(x)
    acc = 0.0
    for i in range(x.shape[0]):  # short signals; clarity over speed
        acc = (1.0 - a) * x[i] + a * acc
        y[i] = acc
    return y


def bass_loop(seed: int, sr: int = 16384, bpm: float = 120.0, bars: int = 1,
              beats_per_bar: int = 4) -> np.ndarray:
    """A monophonic bass riff in 16th-note steps: (frames,) float32, peak 0.9."""
    rng = np.random.default_rng([seed, 1])
    n = _loop_frames(sr, bpm, bars, beats_per_bar)
    out = np.zeros(n, np.float64)
    scale = list(_SCALES.values())[seed % len(_SCALES)]
    root = 28 + int(rng.integers(0, 12))  # MIDI note E1..D#2
    wave = ("saw", "square", "sine")[int(rng.integers(0, 3))]
    steps = 4 * beats_per_bar * bars
    step = n / steps
    density = rng.uniform(0.35, 0.8)
    on = rng.random(steps) < density
    on[0] = True  # a riff starts on the one
    cutoff = rng.uniform(300.0, 1200.0)
    for s in np.flatnonzero(on):
        deg = int(rng.integers(0, len(scale)))
        octave = 12 * int(rng.random() < 0.2)
        f = 440.0 * 2.0 ** ((root + scale[deg] + octave - 69) / 12.0)
        length = int(step * rng.choice([1, 1, 2, 3]))
        t = np.arange(length) / sr
        ph = (f * t) % 1.0
        if wave == "saw":
            x = 2.0 * ph - 1.0
        elif wave == "square":
            x = np.where(ph < 0.5, 1.0, -1.0)
        else:
            x = np.sin(2 * np.pi * ph)
        attack = np.minimum(1.0, np.arange(length) / max(1, int(0.004 * sr)))
        release = np.minimum(1.0, (length - np.arange(length)) / max(1, int(0.01 * sr)))
        env = attack * release * np.exp(-t * rng.uniform(2.0, 8.0))
        _add_circular(out, int(round(s * step)), x * env * rng.uniform(0.6, 1.0))
    # the filter runs twice around the loop so its state at the seam is the steady state
    y = _one_pole_lowpass(np.concatenate([out, out]), cutoff, sr)[n:]
    return _normalise(y)


def drum_loop(seed: int, sr: int = 16384, bpm: float = 120.0, bars: int = 1,
              beats_per_bar: int = 4) -> np.ndarray:
    """Kick, snare and hats on a 16th grid: (frames,) float32, peak 0.9."""
    rng = np.random.default_rng([seed, 2])
    n = _loop_frames(sr, bpm, bars, beats_per_bar)
    out = np.zeros(n, np.float64)
    steps = 4 * beats_per_bar * bars
    step = n / steps
    kick = rng.random(steps) < 0.2
    kick[::8] = True
    snare = np.zeros(steps, bool)
    snare[4::8] = True
    snare |= rng.random(steps) < 0.05
    hat = rng.random(steps) < rng.uniform(0.3, 0.9)
    hat[::2] |= rng.random() < 0.7
    kick_f0, kick_decay = rng.uniform(45, 70), rng.uniform(8, 20)
    for s in range(steps):
        pos = int(round(s * step))
        if kick[s]:
            L = int(0.25 * sr)
            t = np.arange(L) / sr
            f = kick_f0 * (1.0 + 3.0 * np.exp(-t * 40.0))
            x = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t * kick_decay)
            _add_circular(out, pos, x * 0.9)
        if snare[s]:
            L = int(0.15 * sr)
            t = np.arange(L) / sr
            noise = rng.standard_normal(L)
            x = (0.6 * noise + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 25.0)
            _add_circular(out, pos, x * 0.5)
        if hat[s]:
            L = int(0.05 * sr)
            t = np.arange(L) / sr
            noise = rng.standard_normal(L)
            x = np.diff(noise, prepend=0.0) * np.exp(-t * 80.0)  # crude high-pass
            _add_circular(out, pos, x * 0.15 * rng.uniform(0.5, 1.0))
    return _normalise(out)


def _normalise(y: np.ndarray, peak: float = 0.9) -> np.ndarray:
    y = y - y.mean()
    m = float(np.max(np.abs(y)))
    return (y * (peak / m if m > 0 else 1.0)).astype(np.float32)


def make_loop(kind: str, seed: int, sr: int = 16384, bpm: float = 120.0, bars: int = 1,
              beats_per_bar: int = 4) -> np.ndarray:
    if kind == "bass":
        return bass_loop(seed, sr, bpm, bars, beats_per_bar)
    if kind == "drums":
        return drum_loop(seed, sr, bpm, bars, beats_per_bar)
    raise ValueError(f"unknown loop kind {kind!r}; choose from {KINDS}")


def sine_loop(freq_hz: float, sr: int, frames: int, amp: float = 0.5) -> np.ndarray:
    """A sine with a whole number of cycles in ``frames`` (seamless), float32."""
    cycles = max(1, int(round(freq_hz * frames / sr)))
    t = np.arange(frames) / frames
    return (amp * np.sin(2 * np.pi * cycles * t)).astype(np.float32)


def write_loop_folder(folder, n: int, sr: int = 16384, kinds=("bass",), bpm: float = 120.0,
                      subtype: str = "PCM_16", seed0: int = 0) -> list[str]:
    """Write ``n`` loops as WAV files into ``folder``; returns their paths."""
    import soundfile as sf

    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        y = make_loop(kind, seed0 + i, sr, bpm)
        p = os.path.join(folder, f"{kind}_{seed0 + i:03d}.wav")
        sf.write(p, y, sr, subtype=subtype)
        paths.append(p)
    return paths

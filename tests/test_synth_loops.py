"""The test-loop synthesiser is deterministic, exact in length, varied, and seamless."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from livegan.testing.synth import KINDS, make_loop, sine_loop, write_loop_folder


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sr", [2048, 16384, 44100, 48000])
def test_same_arguments_same_samples_and_exact_length(kind, sr):
    a = make_loop(kind, 3, sr)
    b = make_loop(kind, 3, sr)
    assert a.dtype == np.float32 and a.shape == (round(2.0 * sr),)
    assert np.array_equal(a, b)
    assert 0.85 < np.max(np.abs(a)) <= 0.9 + 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_seeds_give_different_loops(kind):
    loops = [make_loop(kind, s, 8000) for s in range(6)]
    for i in range(6):
        for j in range(i + 1, 6):
            corr = np.corrcoef(loops[i], loops[j])[0, 1]
            assert corr < 0.95, (i, j, corr)


@pytest.mark.parametrize("kind", KINDS)
def test_loops_are_seamless(kind):
    """The jump from the last sample to the first is no larger than the loop's own steps."""
    for seed in range(5):
        y = make_loop(kind, seed, 16384).astype(np.float64)
        steps = np.abs(np.diff(y))
        wrap = abs(y[0] - y[-1])
        assert wrap <= np.quantile(steps, 0.999) + 1e-6, (seed, wrap)


def test_sine_loop_has_whole_cycles():
    y = sine_loop(1000.0, 16384, 32768)
    spec = np.abs(np.fft.rfft(y))
    assert np.argmax(spec) == 2000  # 1000 Hz x 2 s: exactly on a bin, so no leakage
    assert spec[2000] / np.sort(spec)[-2] > 1e6


def test_write_loop_folder(tmp_path):
    paths = write_loop_folder(tmp_path, 4, sr=22050, kinds=("bass", "drums"))
    assert len(paths) == 4
    for p in paths:
        y, sr = sf.read(p)
        assert sr == 22050 and len(y) == 44100

"""Prepare reads a long file in blocks: the loops do not depend on the block size and match a one-shot
resample of the whole file, and the memory it takes is bounded by the loops it keeps, not the file."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import soxr

from train import data
from train.presets import paper


@pytest.fixture(scope="module")
def stereo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "long.wav"
    sr = 44100
    x = 0.2 * np.random.default_rng(0).standard_normal((int(9.3 * sr), 2))
    sf.write(path, x, sr, subtype="FLOAT")
    return str(path)


@pytest.mark.parametrize("fit", ["stretch", "slice"])
def test_loops_are_the_same_for_any_block_size_and_match_a_one_shot_resample(stereo_file, fit, monkeypatch):
    p = paper()
    got = {}
    for block in (1000, 4097, 1 << 24):
        monkeypatch.setattr(data, "BLOCK", block)
        loops, reason, _ = data.load_file(stereo_file, p, fit)
        assert reason == ""
        got[block] = np.stack(loops)  # (k, 1, L)
    assert got[1000].shape == (5 if fit == "stretch" else 4, 1, p.loop_samples)  # 9.3 s = 4.65 loops
    for block in (4097, 1 << 24):
        assert np.allclose(got[block], got[1000], atol=1e-5)

    x, sr = sf.read(stereo_file, dtype="float64", always_2d=True)
    mono = x.mean(axis=1, keepdims=True)
    k = got[1000].shape[0]
    rates = (len(x), k * p.loop_samples) if fit == "stretch" else (sr, p.sample_rate)
    ref = soxr.resample(mono, *rates, quality="HQ")[:k * p.loop_samples].reshape(k, p.loop_samples)
    ref = ref - ref.mean(axis=1, keepdims=True)
    ref = ref * (data.PEAK / np.max(np.abs(ref), axis=1, keepdims=True))
    assert np.allclose(got[1000][:, 0], ref, atol=1e-4)


def test_memory_is_bounded_by_the_loops_not_the_file(tmp_path):
    sr, seconds = 44100, 120
    path = tmp_path / "two_minutes.wav"
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", sr, 2, subtype="PCM_16") as f:
        for _ in range(seconds // 10):
            f.write(0.1 * rng.standard_normal((10 * sr, 2)))
    p = paper()  # 2048 Hz mono: 60 loops of 4096 float32 = 1 MB kept, from 42 MB of float64 samples
    tracemalloc.start()
    try:
        loops, reason, _ = data.load_file(str(path), p, "slice")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reason == "" and len(loops) == 60
    assert peak < 8e6, f"peak {peak / 1e6:.1f} MB while reading a 2-minute stereo file"

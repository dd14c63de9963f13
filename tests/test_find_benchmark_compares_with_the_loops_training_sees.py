"""benchmarks/knobs.py --train-dir compares a found loop with the training loops exactly as the trainer
prepared them (``train.data.prepare`` at the model's rate, length and channels: a 2-bar file gives two
loops, another rate is resampled, an unreadable or silent file gives none), names each loop by its file,
and its nearest-loop search finds a loop itself at distance 0 in a set that holds it."""
from __future__ import annotations

import dataclasses
import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench():
    spec = importlib.util.spec_from_file_location("knobs_bench", os.path.join(ROOT, "benchmarks", "knobs.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write(path: str, seconds: float, rate: int, freq: float, silent: bool = False) -> None:
    t = np.arange(int(seconds * rate)) / rate
    x = np.zeros_like(t) if silent else 0.5 * np.sin(2 * np.pi * freq * t) * (1 + np.sin(2 * np.pi * 2 * t))
    sf.write(path, x.astype(np.float32), rate)


def test_training_loops_are_prepare_s_loops_named_by_file(tmp_path):
    from train.data import prepare
    from train.presets import get_preset

    d = tmp_path / "set"
    (d / "sub").mkdir(parents=True)
    _write(str(d / "a.wav"), 1.0, 16000, 220.0)
    _write(str(d / "b.wav"), 2.0, 16000, 330.0)  # two loops
    _write(str(d / "sub" / "c.wav"), 1.0, 22050, 440.0)  # another rate
    _write(str(d / "quiet.wav"), 1.0, 16000, 0.0, silent=True)  # skipped
    (d / "junk.wav").write_bytes(b"not audio")  # skipped
    meta = SimpleNamespace(sample_rate=8000, loop_samples=8000, channels=2, training={"preset": "spectral"})
    bench = _bench()
    loops, names = bench.training_loops(str(d), meta)
    p = dataclasses.replace(get_preset("spectral"), sample_rate=8000, loop_samples=8000, channels=2)
    want = prepare(str(d), p, quiet=True)
    assert loops.shape == want.shape == (4, 2, 8000)
    np.testing.assert_array_equal(loops, want)
    assert names == ["a.wav", "b.wav#0", "b.wav#1", os.path.join("sub", "c.wav")]


def test_a_loop_s_nearest_in_a_set_that_holds_it_is_itself(tmp_path):
    bench = _bench()
    rng = np.random.default_rng(0)
    loops = (0.3 * rng.standard_normal((5, 2, 8000))).astype(np.float32)
    loops[2] = np.sin(np.arange(8000) * 0.05).astype(np.float32)[None].repeat(2, 0)
    d = bench.distances(loops[2], loops, 8000)
    assert d.shape == (5,)
    assert int(np.argmin(d)) == 2 and d[2] < 1e-6 < d.min(initial=np.inf, where=np.arange(5) != 2)

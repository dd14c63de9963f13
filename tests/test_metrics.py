"""The metrics measure what they claim: distance from the data, copies, coverage, seams, at one analysis rate."""
from __future__ import annotations

import numpy as np

from livegan.testing.synth import make_loop, sine_loop
from train import logmel_metrics

SR = 8192


def _bass(seeds, sr=SR):
    return np.stack([make_loop("bass", s, sr)[None] for s in seeds])  # (N, 1, L)


def test_frechet_and_ndb_are_near_zero_for_the_data_itself_and_grow_for_noise():
    train = _bass(range(6))
    same = logmel_metrics.evaluate(train, train, SR)
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (60, *train.shape[1:])).astype(np.float32)
    other = logmel_metrics.evaluate(train, noise, SR)
    assert abs(same["fd"]) < 1e-3 * other["fd"] and same["ndb_k"] == 0.0
    assert other["ndb_k"] >= 0.5  # half the bins or more are off


def test_copies_are_caught_and_coverage_counts_modes():
    train = _bass(range(4))
    gen = np.concatenate([train[:2]] * 5)  # only two of the four loops, copied
    m = logmel_metrics.evaluate(train, gen, SR)
    assert m["min_nn"] < 1e-6 and m["nn_ratio"] < 1e-6
    assert m["coverage"] == 0.5
    assert m["train_nn_min"] > 0.5  # distinct training loops are far apart in the same units


def test_one_analysis_rate_makes_the_same_sound_at_two_rates_compare_as_equal():
    lo = np.stack([sine_loop(f, 2048, 4096)[None] for f in (55, 80, 110)])
    hi = np.stack([sine_loop(f, 16384, 32768)[None] for f in (55, 80, 110)])
    m = logmel_metrics.evaluate(hi, lo, 16384, 2048)
    noise = logmel_metrics.evaluate(hi, np.random.default_rng(1).uniform(-0.5, 0.5, lo.shape), 16384, 2048)
    assert m["fd"] < 0.01 * noise["fd"] and m["coverage"] == 1.0


def test_seam_score_is_small_for_circular_loops_and_large_for_a_click_at_the_wrap():
    seamless = _bass(range(4))
    t = np.arange(4096) / 4096
    clicks = np.stack([(0.8 * t - 0.4)[None] + 0.01 * np.sin(2 * np.pi * 40 * t)] * 2)  # ramp: jumps at the wrap
    s_ok, s_click = logmel_metrics.seam_score(seamless), logmel_metrics.seam_score(clicks)
    assert np.all(s_ok < 5) and np.all(s_click > 50)


def test_diversity_is_low_for_a_collapsed_generator():
    train = _bass(range(6))
    collapsed = np.repeat(train[:1], 6, axis=0) + 1e-3 * np.random.default_rng(2).standard_normal(train.shape)
    assert logmel_metrics.evaluate(train, collapsed, SR)["diversity"] < 0.2
    assert abs(logmel_metrics.evaluate(train, train, SR)["diversity"] - 1.0) < 1e-6


def test_a_common_reference_charges_a_low_rate_preset_for_the_band_it_cannot_play(tmp_path):
    """Scored against its own 2048 Hz copy of the data, that copy looks perfect; against the
    common reference (the same files at the analysis rate) it pays for what it lacks above 1 kHz."""
    from livegan.testing.synth import write_loop_folder
    from train.config import Preset
    from train.data import prepare

    write_loop_folder(tmp_path, 6, sr=16384, kinds=("drums",), seed0=0)
    ref = logmel_metrics.reference(tmp_path)
    assert ref.shape == (6, 1, 2 * logmel_metrics.ANALYSIS_SR)
    low = prepare(tmp_path, Preset(sample_rate=2048, loop_samples=4096), quiet=True)  # the paper's copy
    full = prepare(tmp_path, Preset(sample_rate=16384, loop_samples=32768), quiet=True)  # wavegan's copy
    own = logmel_metrics.evaluate(low, low, 2048)
    common_low = logmel_metrics.evaluate(ref, low, logmel_metrics.ANALYSIS_SR, 2048)
    common_full = logmel_metrics.evaluate(ref, full, logmel_metrics.ANALYSIS_SR, 16384)
    assert abs(own["fd"]) < 1e-3 * common_low["fd"]
    assert common_full["fd"] < 0.05 * common_low["fd"]  # full band: the reference itself, nearly
    assert common_full["coverage"] == 1.0


def test_copy_xcorr_catches_rolled_copies_under_hiss_that_the_log_mel_distance_misses():
    train = _bass(range(4))
    rng = np.random.default_rng(0)
    copies = np.roll(np.concatenate([train] * 3), 1234, axis=-1)  # rolled: the loop started elsewhere
    copies = copies + rng.standard_normal(copies.shape) * 0.01  # hiss at -40 dBFS in the gaps
    m = logmel_metrics.evaluate(train, copies, SR)
    assert m["copy_xcorr"] > 0.99
    assert m["min_nn"] > 0.25 * m["train_nn_min"]  # the log-mel distance alone would call these new loops
    fresh = logmel_metrics.evaluate(train, _bass(range(10, 30)), SR)  # other loops of the same synthesiser
    assert fresh["copy_xcorr"] < 0.6


def test_hiss_in_the_gaps_does_not_hide_which_loop_a_generated_loop_is(monkeypatch):
    """Copies of the 4 loops under -50 dBFS hiss cover all 4 with the -80 dB floor; a floor ~100 dB
    down (the first version) let the hiss in the gaps decide, and they covered fewer."""
    train = _bass(range(4))
    hiss = np.random.default_rng(0).standard_normal((20, *train.shape[1:])) * 10 ** (-50 / 20)
    hissy = np.concatenate([train] * 5) + hiss
    assert logmel_metrics.evaluate(train, hissy, SR)["coverage"] == 1.0
    monkeypatch.setattr(logmel_metrics, "FLOOR_DB", -100.0)
    assert logmel_metrics.evaluate(train, hissy, SR)["coverage"] < 1.0

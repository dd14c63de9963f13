"""Each descriptor reads the known answer on a signal made to have it (train/descriptors.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from train.descriptors import NAMES, describe

SR, N = 44100, 88200  # two seconds: the built-in model's loop


def _t():
    return np.arange(N) / SR


def _clicks(per_second: int) -> np.ndarray:
    x = np.zeros(N)
    x[np.arange(2 * per_second) * N // (2 * per_second)] = 0.5
    return x


def _noise(seed=0):
    return np.random.default_rng(seed).standard_normal(N) * 0.1


@pytest.mark.parametrize("hz", [110.0, 1000.0, 5000.0])
def test_a_sines_brightness_is_the_log_of_its_frequency(hz):
    d = describe(0.5 * np.sin(2 * np.pi * hz * _t()), SR)
    assert math.exp(d["brightness"][0]) == pytest.approx(hz, rel=0.01)


def test_white_noise_is_flat_and_a_sine_is_not():
    noise = describe(_noise(), SR)["noisiness"][0]
    sine = describe(0.5 * np.sin(2 * np.pi * 440 * _t()), SR)["noisiness"][0]
    assert noise == pytest.approx(math.exp(-np.euler_gamma), abs=0.02)  # a periodogram's flatness: 0.561
    assert sine < 1e-3


@pytest.mark.parametrize("per_second", [1, 2, 3, 4, 8, 16])
def test_a_click_train_of_n_per_second_has_density_n(per_second):
    quiet_noise = np.random.default_rng(1).standard_normal(N) * 1e-4
    d = describe((_clicks(per_second) + quiet_noise)[None, None], SR)
    assert d["density"][0] == pytest.approx(per_second, abs=0.15 * per_second)


def test_a_steady_tone_has_no_onsets():
    assert describe(0.5 * np.sin(2 * np.pi * 440 * _t()), SR)["density"][0] < 0.05


def test_low_passed_noise_is_heavier_and_darker_than_high_passed():
    lo = signal.lfilter(*signal.butter(4, 200 / (SR / 2)), _noise())
    hi = signal.lfilter(*signal.butter(4, 2000 / (SR / 2), "high"), _noise())
    d = describe(np.stack([lo, hi])[:, None], SR)
    assert d["weight"][0] > 0.5 > 0.01 > d["weight"][1]
    assert d["brightness"][0] < math.log(400) < math.log(4000) < d["brightness"][1]


def test_loudness_is_rms_in_db_and_follows_the_gain():
    sine = np.sin(2 * np.pi * 440 * _t())
    d = describe(np.stack([sine, 0.1 * sine]), SR)
    assert d["loudness"][0] == pytest.approx(-3.01, abs=0.02)
    assert d["loudness"][0] - d["loudness"][1] == pytest.approx(20.0, abs=0.01)


def test_the_loop_wraps_so_a_click_on_the_seam_counts_once():
    x = _clicks(2)
    shifted = np.roll(x, 300)  # no click on sample 0 any more
    d = describe(np.stack([x, shifted])[:, None], SR)
    assert d["density"][0] == pytest.approx(d["density"][1], abs=0.01)


def test_batches_channels_and_short_loops_give_finite_values():
    rng = np.random.default_rng(2)
    for y, sr in ((rng.standard_normal((3, 2, 4096)), 16000), (np.zeros((1, 1, 64)), 8000),
                  (rng.standard_normal(100), 48000)):
        d = describe(y, sr)
        a = np.asarray(y)
        n = a.reshape(-1, a.shape[-1]).shape[0] if a.ndim < 3 else a.shape[0]  # loops described
        for k in NAMES:
            assert np.all(np.isfinite(d[k])) and d[k].shape == (n,)

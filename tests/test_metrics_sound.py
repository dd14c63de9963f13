"""Hiss, bandwidth and morph smoothness measure what a performer hears: noise walls, dull tops, knob jumps."""
from __future__ import annotations

import numpy as np

from livegan.model import seed_z
from livegan.testing.synth import make_loop, sine_loop
from train import band_metrics, logmel_metrics

SR = 44100
L = SR  # 1 s loops: long enough for ~170 frames each


def _noise(n=2, sr=SR, level_db=-20.0, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, sr)) * 10 ** (level_db / 20)  # (n, 1, L)


def _tone(hz, sr=SR, amp=0.5):
    return sine_loop(hz, sr, sr, amp)[None, None]  # (1, 1, L)


def test_hiss_is_about_one_for_white_noise_and_zero_for_a_tone():
    assert logmel_metrics.hiss(_noise(), SR) > 0.85
    assert logmel_metrics.hiss(_tone(440), SR) < 0.01  # nothing audible in 2-7 kHz
    assert logmel_metrics.hiss(_tone(4600), SR) < 0.01  # a steady tonal line inside the band is not hiss


def test_hiss_of_noise_lowered_under_a_tone_in_the_band_lies_in_between_and_rises_with_the_noise():
    tone = _tone(3000, amp=0.05)
    lower, between = (logmel_metrics.hiss(tone + _noise(1, level_db=db), SR) for db in (-40, -30))
    assert 0.05 < between < 0.7
    assert logmel_metrics.hiss(tone, SR) < lower < between < logmel_metrics.hiss(_noise(1), SR)


def test_added_hiss_raises_the_score_of_a_clean_loop():
    """The issue's test: a clean bass loop against the same loop with -40 dB white noise added."""
    for sr in (22050, SR):
        clean = np.stack([make_loop("bass", s, sr)[None] for s in range(3)])  # (3, 1, L)
        hissy = clean + np.random.default_rng(1).standard_normal(clean.shape) * 0.01
        assert logmel_metrics.hiss(hissy, sr) > 2 * logmel_metrics.hiss(clean, sr)
        assert logmel_metrics.hiss(hissy, sr) > 0.6


def test_hiss_ignores_silent_frames_and_is_nan_without_the_band():
    half = _noise(1)
    half[..., : SR // 2] = 0.0  # first half digital silence: only the noisy half is judged
    assert abs(logmel_metrics.hiss(half, SR) - logmel_metrics.hiss(_noise(1), SR)) < 0.05
    assert np.isnan(logmel_metrics.hiss(np.zeros((1, 1, SR)), SR))
    assert np.isnan(logmel_metrics.hiss(_noise(1, sr=8192), 8192))  # no 7 kHz below 14 kHz


def _lowpassed(x, hz, sr=SR):
    f = np.fft.rfft(x, axis=-1)
    f[..., np.fft.rfftfreq(x.shape[-1], 1 / sr) > hz] *= 1e-4  # -80 dB above hz
    return np.fft.irfft(f, n=x.shape[-1], axis=-1)


def test_high_band_share_is_low_for_low_passed_noise_and_floored_without_a_top():
    white = logmel_metrics.high_band_db(_noise(), SR)
    assert abs(white - 10 * np.log10((SR / 2 - 8000) / (SR / 2))) < 0.5  # its share of the bandwidth
    assert logmel_metrics.high_band_db(_lowpassed(_noise(), 4000), SR) < white - 60
    assert logmel_metrics.high_band_db(_noise(sr=16000), 16000) == band_metrics.HIGH_BAND_FLOOR_DB  # no band at all
    top_cut = np.fft.irfft(np.fft.rfft(_noise(sr=16384))[..., :8001], n=16384)  # 16384 Hz, nothing above 8 kHz
    assert logmel_metrics.high_band_db(top_cut, 16384) == band_metrics.HIGH_BAND_FLOOR_DB


def test_high_band_share_weighs_loops_by_their_power_not_by_their_ratio():
    loud_dull, quiet_bright = _lowpassed(_noise(1, level_db=-6), 4000), _noise(1, level_db=-60)
    both = logmel_metrics.high_band_db(np.concatenate([loud_dull, quiet_bright]), SR)
    assert both < logmel_metrics.high_band_db(quiet_bright, SR) - 30  # a mean of ratios would be ~3 dB below it


def test_bandwidth_is_zero_for_the_same_loops_and_negative_for_a_duller_set():
    x = _noise()
    assert logmel_metrics.bandwidth_db(x, SR, x, SR) == 0.0
    assert logmel_metrics.bandwidth_db(x, SR, _noise(sr=16000), 16000) < -100  # a 16 kHz model has no top
    assert logmel_metrics.bandwidth_db(x, SR, _lowpassed(x, 4000), SR) < -60


def test_evaluate_reports_hiss_and_bandwidth_at_native_rates():
    train = np.stack([make_loop("bass", s, SR)[None] for s in range(3)])
    gen = train + np.random.default_rng(0).standard_normal(train.shape) * 0.01
    m = logmel_metrics.evaluate(train, gen, SR)
    assert m["hiss"] > 2 * m["hiss_train"]
    assert m["high_band_db"] > m["high_band_db_train"] + 10 and m["bandwidth_db"] > 10
    for key in ("fd", "ndb_k", "nn_ratio", "coverage", "seam", "seam_train", "copy_xcorr", "min_nn"):
        assert key in m


D = 4
DIRECTION = np.eye(D, dtype=np.float32)[0]
SR_MORPH = 8000


def _brightness_generator(jump: bool):
    """z -> one fixed noise loop whose brightness (a Gaussian low-pass around 500 Hz * 2^(z[0] / 2)) follows
    z[0]: smoothly, or also jumping two octaves brighter where the sweep crosses its centre (``jump``)."""
    spectrum = np.fft.rfft(np.random.default_rng(0).standard_normal(SR_MORPH))
    f = np.fft.rfftfreq(SR_MORPH, 1 / SR_MORPH)
    x0 = seed_z(0, D, "normal")[0]  # the sweep's centre: t = 0

    def generate(z):
        x = z[:, :1].astype(np.float64)  # (B, 1)
        cutoff = 500.0 * 2 ** (x / 2) * (np.where(x >= x0, 4.0, 1.0) if jump else 1.0)
        y = np.fft.irfft(spectrum * np.exp(-(f / cutoff) ** 2), n=SR_MORPH)  # (B, L), circular
        return (0.3 * y / np.abs(y).max(1, keepdims=True))[:, None, :]  # (B, 1, L)

    return generate


def test_morph_smoothness_of_a_smooth_sweep_is_far_below_a_jumping_one():
    kw = dict(latent_dim=D, latent_dist="normal", direction=DIRECTION, sigma=1.0, sr=SR_MORPH, n_random=12)
    smooth = logmel_metrics.morph_smoothness(_brightness_generator(False), **kw)
    jump = logmel_metrics.morph_smoothness(_brightness_generator(True), **kw)
    assert set(smooth) == {"max_step", "median_random", "smoothness"}
    assert smooth["smoothness"] < 0.5 and jump["smoothness"] > 1.0  # the jump: further than two random loops
    assert smooth["smoothness"] < 0.25 * jump["smoothness"]


def test_morph_smoothness_is_nan_when_z_changes_nothing():
    const = lambda z: np.tile(_tone(110, SR_MORPH), (len(z), 1, 1))
    m = logmel_metrics.morph_smoothness(const, D, "uniform", DIRECTION, 1.0, SR_MORPH, n_random=4)
    assert m["median_random"] == 0.0 and np.isnan(m["smoothness"])

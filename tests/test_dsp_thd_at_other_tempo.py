"""A 1 kHz sine loop played at a tempo other than its native one has THD+N <= -80 dB.

The loop is 16384 Hz, 120 BPM; the engine reads it at 48 kHz x tempo/120,
a fractional rate, through its band-limited interpolator. A negative control
(linear interpolation of the same read) shows the measurement can fail.
"""
from __future__ import annotations

import numpy as np
import pytest

from livegan.model import validate_meta
from livegan.offline import render
from livegan.testing.synth import sine_loop
from livegan.testing.wiring import identity_parts

SR = 48000


class Sine1k:
    meta = validate_meta(dict(format=1, name="sine", sample_rate=16384, loop_samples=32768, channels=1,
                              latent_dim=2, latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=[], sigmas=[], training={}))

    def generate(self, z):
        return sine_loop(1000.0, 16384, 32768)[None, None, :]


def thd_n_db(x: np.ndarray, sr: int, f0: float) -> float:
    """Residual power (20 Hz..20 kHz, tone +- 40 bins removed) over tone power, in dB."""
    w = np.kaiser(x.shape[0], 38.0)  # sidelobes far below -150 dB
    p = np.abs(np.fft.rfft(x * w)) ** 2
    f = np.fft.rfftfreq(x.shape[0], 1.0 / sr)
    k0 = int(np.argmin(np.abs(f - f0)))
    tone = p[max(0, k0 - 40):k0 + 41].sum()
    band = (f >= 20.0) & (f <= 20000.0)
    return float(10 * np.log10((p[band].sum() - tone) / tone))


@pytest.mark.parametrize("tempo", [100.0, 137.0, 89.5])
def test_sine_loop_at_other_tempo_has_thd_n_below_minus_80_db(tempo):
    _, audio = render(Sine1k(), identity_parts(Sine1k.meta, SR, tempo=tempo), [], 3 * SR, blocksize=512)
    x = audio[SR:SR + 65536, 0].astype(np.float64)
    f0 = 1000.0 * tempo / 120.0
    thd = thd_n_db(x, SR, f0)
    print(f"tempo {tempo}: tone {f0:.2f} Hz, THD+N {thd:.1f} dB")
    assert thd <= -80.0, f"THD+N {thd:.1f} dB at {tempo} BPM"
    # the tone is where it should be, at the level it was made
    assert abs(np.sqrt(2 * np.mean(x ** 2)) - 0.5) < 0.005


def test_measurement_catches_linear_interpolation():
    src = sine_loop(1000.0, 16384, 32768).astype(np.float64)
    step = 16384 / SR * 137.0 / 120.0
    pos = (np.arange(65536) * step) % 32768
    i = np.floor(pos).astype(int)
    fr = pos - i
    y = src[i] * (1 - fr) + src[(i + 1) % 32768] * fr
    assert thd_n_db(y, SR, 1000.0 * 137 / 120) > -80.0

"""Effects chain (pyo, manual server): bypass is transparent, each effect does what its name says."""
from __future__ import annotations

import os

os.environ.setdefault("PYO_GUI_WX", "0")

import numpy as np
import pytest

from livegan.audio.fx import default_effect

SR = 48000


def _chain(types, **params):
    from livegan.audio.fx import FxChain
    effects = [default_effect(t) for t in types]
    for e in effects:
        e.params.update({k.split("_", 1)[1]: v for k, v in params.items() if k.startswith(e.type + "_")})
    return FxChain(effects, SR, 2, bpm=120.0)


def _run(fx, x, block=256):
    y = x.copy()
    for a in range(0, len(y) - block + 1, block):
        fx.process(y[a:a + block])
    return y


def _noise(n=24576, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, 2)) * 0.2).astype(np.float32)


def _band(y, lo, hi):
    S = np.abs(np.fft.rfft(y[:, 0])) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    return S[(f >= lo) & (f < hi)].sum() / S.sum()


@pytest.fixture(scope="module")
def full():
    fx = _chain(["filter", "drive", "delay", "reverb"])
    yield fx
    fx.close()


@pytest.fixture(autouse=True)
def _all_bypassed_after(request):
    yield
    if "full" in request.fixturenames:
        fx = request.getfixturevalue("full")
        for t in ("filter", "drive", "delay", "reverb"):
            fx.set_bypass(t, True)


def test_bypassed_chain_is_transparent(full):
    for t in ("filter", "drive", "delay", "reverb"):
        full.set_bypass(t, True)
    _run(full, _noise(4096, 9))  # let the bypass ramps finish
    x = _noise()
    lat = full.latency  # the chain's FIFO delays every frame by this much
    assert np.abs(_run(full, x)[lat:] - x[:-lat]).max() < 1e-5


def test_lowpass_removes_high_band(full):
    full.set_bypass("filter", False)
    full.set_param("filter.cutoff", 300.0)
    _run(full, _noise(4096, 9))
    x = _noise()
    y = _run(full, x)
    assert _band(x, 3000, 24000) > 0.8 and _band(y, 3000, 24000) < 0.05 * _band(x, 3000, 24000)
    full.set_bypass("filter", True)


def test_drive_adds_harmonics(full):
    full.set_bypass("drive", False)
    full.set_param("drive.amount", 0.9)
    t = np.arange(24576) / SR  # 375 Hz falls on an FFT bin
    x = np.repeat((0.5 * np.sin(2 * np.pi * 375 * t)).astype(np.float32)[:, None], 2, axis=1)
    _run(full, x[:4096].copy())
    y = _run(full, x)
    assert _band(x, 1000, 24000) < 1e-6 and _band(y[4096:], 1000, 24000) > 0.01  # odd harmonics 1125 Hz, ...
    full.set_bypass("drive", True)


def test_delay_echo_lands_on_the_beat_fraction_and_follows_tempo(full):
    full.set_bypass("delay", False)
    full.set_param("delay.beats", 0.25)
    full.set_param("delay.feedback", 0.0)
    full.set_param("delay.mix", 0.8)
    for bpm, lag in ((120.0, SR * 0.125), (150.0, SR * 0.1)):
        full.set_tempo(bpm)
        _run(full, np.zeros((8192, 2), np.float32))
        x = np.zeros((24576, 2), np.float32)
        x[1024] = 1.0
        y = _run(full, x)
        echo = int(np.argmax(np.abs(y[2048:, 0]))) + 2048 - full.latency
        assert abs(echo - 1024 - lag) <= 2, (bpm, echo - 1024, lag)
    full.set_bypass("delay", True)


def test_reverb_adds_a_tail(full):
    full.set_bypass("reverb", False)
    full.set_param("reverb.mix", 0.5)
    _run(full, np.zeros((8192, 2), np.float32))
    x = np.zeros((24576, 2), np.float32)
    x[1024:1280] = _noise(256, 3)
    y = _run(full, x)
    tail = slice(1280 + SR // 20, 1280 + SR // 5)  # 50-200 ms after the burst ends
    assert np.sum(x[tail] ** 2) == 0 and np.sum(y[tail] ** 2) > 1e-3 * np.sum(x ** 2)
    full.set_bypass("reverb", True)

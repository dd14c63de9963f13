"""MIDI clock following: tempo from jittery ticks, tempo changes, beat phase, transport."""
from __future__ import annotations

import numpy as np
import pytest

from livegan.control.follow import ClockFollower

PERIOD = 256 / 48000  # JACK cycle: every event is delivered at the start of the next one


def _feed(f, bpm, seconds, t0, rng):
    dt = 60 / bpm / 24
    t = t0
    for _ in range(int(seconds / dt)):
        f.tick(np.ceil(t / PERIOD) * PERIOD + rng.uniform(0, 3e-4))
        t += dt
    return t


@pytest.mark.parametrize("bpm", [90.0, 120.0, 174.0])
def test_steady_tempo_within_a_tenth_of_a_bpm_despite_cycle_jitter(bpm):
    rng = np.random.default_rng(int(bpm))
    f = ClockFollower(latency_s=PERIOD / 2)
    f.start()
    _feed(f, bpm, 4.0, 10.0 + rng.uniform(0, PERIOD), rng)
    assert abs(f.tempo_bpm - bpm) < 0.1


def test_tempo_change_is_detected_and_followed():
    rng = np.random.default_rng(0)
    f = ClockFollower(latency_s=PERIOD / 2)
    f.start()
    t = _feed(f, 120.0, 3.0, 10.0, rng)
    _feed(f, 90.0, 2.0, t, rng)
    assert f.resets >= 1 and abs(f.tempo_bpm - 90.0) < 0.1


def test_beat_phase_follows_start_and_song_position():
    f = ClockFollower()
    dt = 60 / 120 / 24
    f.start()
    for k in range(48):  # two beats, exact times
        f.tick(5.0 + k * dt)
    assert f.beats_at(5.0 + 47 * dt) == pytest.approx(47 / 24)
    assert f.beats_at(5.0 + 48.5 * dt) == pytest.approx(48.5 / 24)  # between ticks, from the fitted line
    f.stop()
    f.tick(5.0 + 48 * dt)
    assert f.position_ticks == 47  # stopped: position holds, tempo still tracked
    f.song_position(16)  # bar 2 of 4/4 in sixteenths
    f.cont()
    f.tick(5.0 + 49 * dt)
    assert f.position_ticks == 96 and f.beats_at(5.0 + 49 * dt) == pytest.approx(4.0)
    assert f.tempo_bpm == pytest.approx(120.0)

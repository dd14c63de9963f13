"""Following an external MIDI clock end to end (simulated time, real code): tempo, beat phase at the
output, start, stop, continue from a song position, and an exact re-render from the performance log.

The simulation (``clock_sim``) runs the real MidiHandler -> ClockFollower ->
LiveControl -> EngineControls -> Engine chain block by block with JACK-like
MIDI delivery (each byte arrives with the next 256-frame cycle), callback
jitter up to 1.5 ms and 4 ms output latency. The sender starts at 126 BPM
while livegan free-runs at 120, stops at 6 s, and continues from song
position 32 sixteenths (beat 8) at 7 s.
"""
from __future__ import annotations

import numpy as np
import pytest

from livegan.audio import dsp
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.io.automation import read_automation
from livegan.offline import render
from livegan.performance import build
from livegan.testing import clock_sim

PLAN = [(0.5, "start"), (0.5, ("bpm", 126.0)), (6.0, "stop"), (7.0, ("spp", 32)), (7.0, "continue")]


@pytest.fixture(scope="module")
def run():
    return clock_sim.simulate(PLAN, 10.0)


def _err_ms(rows, t0, t1):
    th, eb, cb, bpm = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    m = (th >= t0) & (th < t1)
    return (cb[m] - eb[m]) * 60.0 / bpm[m] * 1e3


def test_beat_heard_at_the_output_locks_to_the_clock(run):
    rows = run["rows"]
    e1 = _err_ms(rows, 2.5, 6.0)  # after Start (and a 120 -> 126 BPM change) has settled
    e2 = _err_ms(rows, 7.5, 10.0)  # after Continue from beat 8
    print(f"phase error after start: mean {np.abs(e1).mean():.3f} ms, max {np.abs(e1).max():.3f} ms; "
          f"after continue: mean {np.abs(e2).mean():.3f} ms, max {np.abs(e2).max():.3f} ms")
    assert np.abs(e1).max() < 1.0 and np.abs(e2).max() < 1.0
    tempo = rows[(rows[:, 0] > 4.0) & (rows[:, 0] < 6.0), 4]
    assert np.abs(tempo - 126.0).max() < 0.1


def test_start_locates_to_beat_zero_and_continue_to_the_song_position(run):
    ev = run["engine"].events()
    loc = [(int(f), v / 1000.0) for f, k, _, v in ev if k == dsp.EV_LOCATE]
    assert len(loc) == 2
    # the jump lands about one duck after the clock's first tick after Start (t = 0.5 s) / Continue (7 s)
    (f1, b1), (f2, b2) = loc
    assert abs(f1 / 48000 - 0.5) < 0.03 and abs(b1) < 0.1
    assert abs(f2 / 48000 - 7.0) < 0.03 and abs(b2 - 8.0) < 0.1


def test_stop_silences_and_holds_the_beat(run):
    rows, audio = run["rows"], run["audio"]
    stopped = (rows[:, 0] > 6.05) & (rows[:, 0] < 6.95)
    assert np.all(rows[stopped, 5] == 0.0)
    a, b = int(6.05 * 48000), int(6.95 * 48000)
    assert np.all(audio[a:b] == 0.0)
    beats = rows[stopped, 1]
    assert beats.max() - beats.min() < 1e-3
    assert np.abs(audio[int(8.0 * 48000):int(8.5 * 48000)]).max() > 0.4  # playing again


def test_the_performance_log_re_renders_the_same_audio(run, tmp_path):
    path = tmp_path / "clock.mid"
    run["log"].save(path)
    events = read_automation(str(path), 48000)
    assert sum(1 for _, m in events if m.type == "marker" and m.text.startswith("livegan locate")) == 2

    class Model:
        meta = clock_sim.tiny_meta()

        def generate(self, z):
            return clock_sim.sine_loop()[None]  # (batch, channels, samples)

    patch = replace(load_patch(default_patch_path()), clock="midi")
    n = run["audio"].shape[0]
    _, audio = render(Model(), build(Model.meta, patch, 48000, 2, fx=False), events, n, blocksize=256)
    assert np.array_equal(audio, run["audio"]), np.abs(audio - run["audio"]).max()

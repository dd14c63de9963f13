"""The performance log re-reads to the exact frames and messages it logged."""
from __future__ import annotations

import mido
import numpy as np
import pytest

from livegan.io.perflog import PerfLog, marker_bpm, read_perflog, timing_for


@pytest.mark.parametrize("sr", [48000, 44100, 96000, 16384])
def test_one_tick_is_one_frame_at_common_rates(sr):
    tempo, tpb = timing_for(sr)
    assert tempo * sr == tpb * 1_000_000 and tpb <= 32767


@pytest.mark.parametrize("sr", [48000, 44100])
def test_events_come_back_on_their_frames(tmp_path, sr):
    rng = np.random.default_rng(sr)
    log = PerfLog(sr)
    frames = np.sort(rng.integers(0, 600 * sr, 1000))  # ten minutes
    want = []
    for i, f in enumerate(frames):
        kind = i % 4
        msg = ([0xB0 | (i % 16), i % 128, (i * 7) % 128], [0x90, 36 + i % 12, 100], [0x80, 36, 0],
               [0xC2, i % 128])[kind]
        log.log(int(f), msg)
        want.append((int(f), msg))
    log.tempo(int(frames[-1]) + 5, 132.5)
    log.log(int(frames[-1]) + 10, [0xFA])
    path = tmp_path / "perf.mid"
    assert log.save(path) == len(frames) + 2
    got = read_perflog(path, sr)
    assert [(f, m.bytes()) for f, m in got[:-2]] == want
    assert got[-2][0] == frames[-1] + 5 and marker_bpm(got[-2][1]) == 132.5
    assert got[-1][0] == frames[-1] + 10 and got[-1][1].type == "start"
    # any standard reader agrees: mido's own seconds -> frames, as `livegan render` reads automation
    t, frames_mido = 0.0, []
    for m in mido.MidiFile(path):
        t += m.time
        if m.type == "control_change":
            frames_mido.append(int(round(t * sr)))
    assert frames_mido == [f for f, m in want if m[0] & 0xF0 == 0xB0]


def test_events_logged_out_of_order_past_the_preallocated_chunks_are_all_saved_sorted(tmp_path, monkeypatch):
    import livegan.io.perflog as pl
    monkeypatch.setattr(pl, "CHUNK", 1000)
    log = PerfLog(48000)
    for f in range(2500, 0, -1):  # more than two preallocated chunks
        log.log(f, [0xB0, 1, f % 128])
    log.save(tmp_path / "p.mid")
    got = read_perflog(tmp_path / "p.mid", 48000)
    assert len(got) == 2500 and [f for f, _ in got] == list(range(1, 2501))

"""Tempos the read kernel cannot reach for a model never crash the show.

The kernel reads a loop at most ``dsp.MAX_STEP`` (4) source samples per output frame. A 96 kHz
model of one 4/4 bar at 120 BPM played at 48 kHz reads 2 samples per frame at 120 BPM, so it
can go no faster than 240 BPM there, though tempos up to 400 are otherwise allowed. Before the
fix a MIDI clock at 300 BPM raised ``ValueError`` from the control thread (the show ended), and
so did a patch tempo of 300 at start (a traceback). Now the clock's tempo is held at the limit
with one warning, a performance log's tempo marker likewise in ``render``, and a patch tempo
that can never play is refused before the show with one line naming the field.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

from livegan.audio.engine import tempo_limit
from livegan.control.follow import PPQN
from livegan.control.live import LiveControl
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.midi import MidiSource
from livegan.io.perflog import PerfLog
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing import clock_sim
from livegan.testing.faulty_models import save_faulty
from livegan.testing.tiny import tiny_meta

SR, BLOCK = 48000, 256
HI = dict(sample_rate=96000, loop_samples=192000)  # 2 s: one 4/4 bar at 120 BPM


def test_the_limit_is_what_the_kernel_reads():
    meta = validate_meta({**tiny_meta(**HI), "format": 1})
    assert tempo_limit(meta, SR) == 240.0
    assert tempo_limit(meta, 96000) == 480.0  # (above the transport's own 400)


def test_a_midi_clock_faster_than_the_model_allows_is_held_at_the_limit():
    meta = validate_meta({**tiny_meta(**HI), "format": 1})
    parts = build(meta, replace(load_patch(default_patch_path()), clock="midi"), SR, 2, fx=False)
    ec, engine = parts.controls, parts.engine
    t = np.arange(meta.loop_samples) / meta.sample_rate
    engine.publish_loop((0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None], 0)
    mi = clock_sim._Input()
    warned = []
    live = LiveControl(ec, engine, sources=[MidiSource(mi), mi.clock], now=lambda: now[0])
    live.warn = warned.append
    out = np.zeros((BLOCK, 2), np.float32)
    now, tick_t, peak = [0.0], 0.0, 0.0
    for k in range(int(4.0 * SR / BLOCK)):  # 4 s of a clock at 300 BPM, block by block
        now[0] = k * BLOCK / SR
        while tick_t <= now[0]:
            mi.handler.handle([0xF8], tick_t)
            tick_t += 60.0 / 300.0 / PPQN
        live.step()  # raised ValueError here before the fix
        engine.process(out)
        peak = max(peak, float(np.abs(out).max()))
    assert mi.clock.tempo_bpm == pytest.approx(300.0, abs=0.5)
    assert engine.transport.tempo == 240.0
    assert len(warned) == 1 and "300" in warned[0] and "240" in warned[0]
    assert peak > 0.3 and np.isfinite(out).all()


@pytest.fixture(scope="module")
def hi_model(tmp_path_factory):
    return save_faulty(tmp_path_factory.mktemp("hi") / "hi.ts", "raise", after=10**9, **HI)


def _patch(tmp_path, tempo):
    p = tmp_path / f"t{tempo}.toml"
    save_patch(replace(load_patch(default_patch_path()), name="fast", tempo=tempo), p)
    return p


def test_render_refuses_a_patch_tempo_the_model_can_never_play(hi_model, tmp_path):
    log = PerfLog(SR)
    log.save(tmp_path / "empty.mid")
    r = run_cli("render", "--model", hi_model, "--patch", _patch(tmp_path, 300.0), "--automation",
                tmp_path / "empty.mid", "--seconds", 1, "-o", tmp_path / "out.wav")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "transport.tempo 300 BPM" in lines[0] and "at most 240 BPM" in lines[0], r.stderr
    assert not (tmp_path / "out.wav").exists()


def test_render_holds_a_tempo_marker_beyond_the_limit(hi_model, tmp_path):
    log = PerfLog(SR)
    log.tempo(SR // 2, 300.0)  # a hand-made (or older) performance log: 300 BPM half a second in
    log.save(tmp_path / "fast.mid")
    r = run_cli("render", "--model", hi_model, "--automation", tmp_path / "fast.mid", "--seconds", 2,
                "-o", tmp_path / "out.wav")
    assert r.returncode == 0, r.stderr
    warned = [ln for ln in r.stderr.splitlines() if "held at 240 BPM" in ln]
    assert len(warned) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "tempo at the end 240 BPM" in r.stdout


def test_perform_refuses_a_patch_tempo_the_model_can_never_play(jack_server, hi_model, tmp_path):
    r = run_cli("perform", "--model", hi_model, "--patch", _patch(tmp_path, 300.0), "--seconds", 1,
                "--samplerate", SR, "--record", tmp_path / "take.wav")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "transport.tempo 300 BPM" in lines[0] and "at most 240 BPM" in lines[0], r.stderr
    assert not (tmp_path / "take.wav").exists()

"""The built-in instrument: a shipped model, a demo that renders, no clicks, the tempo change followed."""
from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli

from livegan.model import default_model_path, read_meta
from livegan.testing.demo_check import DEMO_SECONDS, SR, analyse_switches, render_demo_with_log


def test_default_model_ships_in_the_package_and_keeps_the_contract():
    path = default_model_path()
    assert os.path.isfile(path), "livegan/models/default.ts is missing"
    assert os.path.getsize(path) <= 20 * 1024 * 1024
    meta = read_meta(path)
    assert meta.directions.shape[0] >= 4  # the generic patch's knobs need directions to move
    assert meta.training.get("preset"), "the model must say how it was trained"


def test_demo_command_writes_30_s_without_playing(tmp_path):
    out = tmp_path / "demo.wav"
    r = run_cli("demo", "--no-play", "-o", out, timeout=300)
    assert r.returncode == 0, r.stderr
    info = sf.info(str(out))
    assert (info.samplerate, info.channels) == (SR, 2)
    assert info.frames == int(DEMO_SECONDS * SR)
    y, _ = sf.read(str(out), dtype="float32")
    assert 0.01 < np.sqrt(np.mean(y ** 2)) and np.max(np.abs(y)) <= 1.0


@pytest.fixture(scope="module")
def demo_render():
    return render_demo_with_log()


def test_demo_loop_grid_follows_the_tempo_change(demo_render):
    audio, events, tempos, xf = demo_render
    r = analyse_switches(audio, events, tempos, xf)
    assert tempos and tempos[0][1] == pytest.approx(132.0)
    assert r["n_switches"] >= 10
    assert r["gaps_before"] and all(g % 96000 == 0 for g in r["gaps_before"])  # whole bars at 120 BPM
    assert r["gaps_after"] and all(abs(g - 87272.73) <= 1.0 for g in r["gaps_after"])  # one bar at 132 BPM


def test_demo_switches_add_no_click(demo_render):
    audio, events, tempos, xf = demo_render
    r = analyse_switches(audio, events, tempos, xf)
    assert r["click_db_max"] < r["track_db_p99"], r


def test_click_measure_catches_a_discontinuity(demo_render):
    """Negative control: splice the audio at a switch without a crossfade; the measure must flag it.

    The spliced-in piece comes from the loudest part of the track and enters mid-waveform with
    its sign flipped (loops that start and end quietly would otherwise hide the cut)."""
    audio, events, tempos, xf = demo_render
    r = analyse_switches(audio, events, tempos, xf)
    s = r["switch_frames"][3]
    win = 240
    rms = np.sqrt(np.convolve((audio ** 2).mean(1), np.ones(win) / win, mode="valid"))
    loud = int(np.argmax(rms[:len(rms) - 4800]))
    spliced = audio.copy()
    spliced[s:s + 4800] = audio[loud:loud + 4800] * -1.0  # a jump in level, phase and sign at s
    r2 = analyse_switches(spliced, events, tempos, xf)
    assert r2["click_db_max"] > r["track_db_p99"] + 6.0, (r2["click_db_max"], r["track_db_p99"])


def test_demo_without_an_output_device_says_where_the_file_is_and_does_not_claim_to_play(tmp_path, monkeypatch,
                                                                                        capsys):
    import livegan.commands.demo as demo

    out = tmp_path / "demo.wav"
    sf.write(str(out), np.zeros((4800, 2), np.float32), SR)
    monkeypatch.setattr(demo, "render_demo", lambda path: path)  # the render is tested above
    monkeypatch.setattr(demo, "_output_device", lambda: None)  # a machine with no audio output
    args = type("Args", (), {"output": str(out), "no_play": False})()
    assert demo.cli_demo(args) == 0
    said = capsys.readouterr().out
    assert "no audio output device found" in said and str(out) in said
    assert "playing" not in said

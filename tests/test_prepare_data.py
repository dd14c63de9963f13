"""Prepare: any rate / channels / format -> loops at the preset's rate and length; bad files skipped with reasons."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from livegan.cli import main
from livegan.testing.synth import sine_loop
from train.data import NoUsableAudio, prepare
from train.presets import paper, wavegan


def test_any_rate_and_channel_count_becomes_mono_loops_at_the_preset_rate(tmp_path):
    p = paper()
    sr = 44100
    x = sine_loop(110.0, sr, 2 * sr, amp=0.3)  # 2 s: one loop of the paper preset
    sf.write(tmp_path / "stereo.flac", np.stack([x, 0.5 * x + 0.1], 1), sr)  # DC offset on one channel
    loops = prepare(tmp_path, p, quiet=True)
    assert loops.shape == (1, 1, 4096) and loops.dtype == np.float32
    assert abs(float(np.max(np.abs(loops))) - 0.9) < 1e-6  # peak-normalised
    assert abs(float(loops.mean())) < 1e-3  # DC removed
    spec = np.abs(np.fft.rfft(loops[0, 0]))
    assert np.argmax(spec) == 220  # 110 Hz x 2 s = 220 cycles per loop: pitch kept by the resampler


def test_stretch_repitches_a_whole_file_to_whole_loops_and_slice_cuts_it(tmp_path):
    p = paper()
    sr = 8000
    sf.write(tmp_path / "long.wav", sine_loop(100.0, sr, int(4.4 * sr)), sr)  # 4.4 s
    stretched = prepare(tmp_path, p, fit="stretch", quiet=True)
    sliced = prepare(tmp_path, p, fit="slice", quiet=True)
    assert stretched.shape == (2, 1, 4096)  # round(4.4 / 2) = 2 loops, re-pitched by 4.4 / 4
    assert sliced.shape == (2, 1, 4096)  # floor(4.4 / 2) = 2 pieces, remainder dropped
    f_st = np.argmax(np.abs(np.fft.rfft(stretched[0, 0])))
    f_sl = np.argmax(np.abs(np.fft.rfft(sliced[0, 0])))
    assert f_sl == 200 and abs(f_st - 220) <= 1  # 100 Hz played 10 % faster


def test_prepare_caches_in_the_run_folder(tmp_path, capsys):
    data, run = tmp_path / "d", tmp_path / "r"
    data.mkdir()
    sf.write(data / "a.wav", sine_loop(50.0, 16384, 32768), 16384)
    a = prepare(data, wavegan(), run)
    b = prepare(data, wavegan(), run)
    assert (run / "data.npz").is_file() and np.array_equal(a, b)
    assert "from cache" in capsys.readouterr().out


def test_corrupt_silent_and_short_files_are_skipped_with_their_reason(tmp_path, capsys):
    sr = 16384
    sf.write(tmp_path / "good.wav", sine_loop(80.0, sr, 2 * sr), sr)
    sf.write(tmp_path / "silent.wav", np.zeros(2 * sr, np.float32), sr)
    sf.write(tmp_path / "short.ogg", sine_loop(80.0, sr, sr // 4), sr)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really a wav file")
    loops = prepare(tmp_path, paper())
    out = capsys.readouterr()
    assert loops.shape[0] == 1
    table = out.out
    assert "good.wav" in table and "used" in table
    assert "silent.wav" in table and "silent" in table.split("silent.wav")[1].splitlines()[0]
    assert "too short" in table.split("short.ogg")[1].splitlines()[0]
    assert "unreadable" in table.split("corrupt.wav")[1].splitlines()[0]
    assert "warning" in out.err and "corrupt.wav" in out.err


def test_folder_without_usable_audio_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no audio here")
    with pytest.raises(NoUsableAudio, match="no usable audio"):
        prepare(tmp_path, paper(), quiet=True)
    rc = main(["train", str(tmp_path), "--preset", "paper", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and str(tmp_path) in err and "no usable audio" in err

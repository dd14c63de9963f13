"""``livegan find`` (livegan/find.py): any readable audio file lands at a z whose loop is at least as close
to it as the best of the 100 seeds it starts from, ``-o`` writes the model's loop there, and each kind of
bad input is one line naming the file, with exit code 2 and nothing written."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import run_cli

from livegan.find import Distance, find, read_loop
from livegan.model import load_model
from livegan.testing.tiny import TINY

SR, N = TINY["sample_rate"], TINY["loop_samples"]


def _target(tiny_model):
    """A loop the tiny model makes at a z that is no seed."""
    m = load_model(tiny_model, device="cpu")
    z = np.random.default_rng(5).uniform(-0.9, 0.9, (1, 8)).astype(np.float32)
    return m, m.generate(z)[0, 0]


def test_the_found_loop_is_closer_than_every_seed_it_started_from(tiny_model):
    m, target = _target(tiny_model)
    found = find(m.module, m.meta, target, steps=30)
    assert found.distance <= found.seed_distances.min() + 1e-9
    assert found.distance < found.start_distance  # the search moved, towards the target
    again = find(m.module, m.meta, target, steps=30)
    assert np.array_equal(found.z, again.z)  # the same file and model land at the same z
    dist = Distance(target, SR)
    assert float(dist(torch.from_numpy(m.generate(found.z[None])))[0]) == pytest.approx(found.distance, rel=1e-4)


def test_the_cli_reads_another_rate_and_stereo_and_writes_the_loop(tiny_model, tmp_path):
    _, target = _target(tiny_model)
    wav = tmp_path / "loop44k.wav"
    t44 = np.interp(np.arange(int(N * 44100 / SR)) * SR / 44100, np.arange(N), target)
    sf.write(wav, np.stack([t44, 0.5 * t44], 1), 44100, subtype="PCM_16")
    out = tmp_path / "found.wav"
    r = run_cli("find", str(wav), "--model", str(tiny_model), "-o", str(out), "--steps", "10", timeout=300)
    assert r.returncode == 0, r.stderr
    assert "closer than" in r.stdout and "|z|" in r.stdout
    y, sr = sf.read(out)
    assert sr == SR and y.shape == (N,) and np.max(np.abs(y)) > 0.1


def test_a_long_file_is_read_only_up_to_a_few_loops(tmp_path):
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_16") as f:  # ten minutes
        block = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000 * 60) / 8000)).astype(np.float32)
        for _ in range(10):
            f.write(block)
    y, how = read_loop(path, SR, N)
    assert y.shape == (N,) and "first 2.000 s (of 600.0 s)" in how


def _bad_files(tmp_path):
    silent, short, text = tmp_path / "silent.wav", tmp_path / "short.wav", tmp_path / "notes.wav"
    sf.write(silent, np.zeros(SR * 2), SR)
    sf.write(short, 0.5 * np.ones(int(0.005 * SR)), SR)  # 5 ms
    text.write_text("not audio at all\n" * 100)
    (tmp_path / "folder.wav").mkdir()
    return {"silent.wav": "silent", "short.wav": "5 ms long", "notes.wav": "not an audio file",
            "missing.wav": "no such file", "folder.wav": "not a regular file"}


def test_each_bad_input_is_one_line_naming_the_file(tiny_model, tmp_path):
    for name, says in _bad_files(tmp_path).items():
        out = tmp_path / f"out-{name}"
        r = run_cli("find", str(tmp_path / name), "--model", str(tiny_model), "-o", str(out))
        assert r.returncode == 2, (name, r.stderr)
        assert r.stderr.count("\n") == 1 and name in r.stderr and says in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and not out.exists()

"""The built-in bass model (``builtin:bass``, ``livegan/models/bass.ts``): it ships in the package, keeps
the loop-model contract and passes the load's own checks (allowed ops, metadata, warm-up, output), makes
the same loop from the same z and different loops from different z, has named knobs; a set file names it
as ``builtin:bass``; and a drums + bass set renders with ``render --set``, its bass stem sounding like a
bass (most of its energy below 300 Hz, far more of it there than the drums stem has).
"""
from __future__ import annotations

import os

import numpy as np
import soundfile as sf

from livegan.model import default_model_path, load_model, read_meta
from livegan.model_code import check_model_code
from livegan.set_file import load_set

BASS = os.path.join(os.path.dirname(default_model_path()), "bass.ts")
DRUMS_AND_BASS = ('[[track]]\nname = "drums"\nmodel = "builtin:beats"\n'
                  '[[track]]\nname = "bass"\nmodel = "builtin:bass"\n')
DEMO = os.path.join(os.path.dirname(os.path.dirname(BASS)), "data", "demo.mid")


def test_the_bass_model_ships_beside_the_beats_model_and_keeps_the_contract():
    assert os.path.isfile(BASS), "livegan/models/bass.ts is missing"
    assert os.path.getsize(BASS) <= 20 * 1024 * 1024  # a package file, like default.ts
    pyproject = open(os.path.join(os.path.dirname(os.path.dirname(BASS)), "..", "pyproject.toml")).read()
    assert '"models/*.ts"' in pyproject  # installed with the package
    meta = read_meta(BASS)
    assert (meta.channels, meta.bpm, meta.bars) == (2, 120.0, 1)  # a bar at 120 BPM, like the beats model
    assert meta.directions.shape[0] >= 8  # the generic patch's knobs each move a direction
    assert meta.training.get("preset"), "the model must say how it was trained"
    assert len(meta.knobs) >= 1  # named knobs the export's fit kept
    check_model_code(BASS)  # only allowed ops in its code (raises otherwise)


def test_the_bass_model_loads_and_makes_one_loop_per_z():
    model = load_model(BASS, threads=1)  # the load's self-check: metadata, warm-up, output shape and values
    z = np.random.default_rng(0).standard_normal((3, model.meta.latent_dim)).astype(np.float32)
    y = model.generate(z)
    assert y.shape == (3, 2, model.meta.loop_samples) and y.dtype == np.float32
    assert np.isfinite(y).all() and np.abs(y).max() <= 1.5
    assert (np.sqrt((y ** 2).mean(axis=(1, 2))) > 1e-3).all()  # none is silence
    assert np.array_equal(model.generate(z), y)  # the same z, the same loop (batch size changes rounding)
    assert np.abs(y[0] - y[1]).max() > 1e-2  # another z, another loop


def test_builtin_bass_names_the_shipped_file_in_a_set(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(DRUMS_AND_BASS)
    s = load_set(str(p))
    assert [os.path.realpath(t.model) for t in s.tracks] == [os.path.realpath(default_model_path()),
                                                            os.path.realpath(BASS)]
    assert [t.channel for t in s.tracks] == [1, 2]


def _low_share(x: np.ndarray, rate: int, hz: float = 300.0) -> float:
    m = x.mean(axis=1)
    power = np.abs(np.fft.rfft(m)) ** 2
    return float(power[np.fft.rfftfreq(len(m), 1 / rate) < hz].sum() / power.sum())


def test_a_drums_and_bass_set_renders_and_the_bass_track_is_a_bass(cli, tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(DRUMS_AND_BASS)
    out, stems = tmp_path / "s.wav", tmp_path / "s.stems"
    r = cli("render", "--set", p, "--automation", DEMO, "--seconds", "6", "-o", out, "--stems", stems, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "2 tracks (drums, bass), 2 models" in r.stdout, r.stdout
    mix, rate = sf.read(str(out), dtype="float32")
    assert mix.shape == (6 * rate, 2) and np.sqrt((mix ** 2).mean()) > 0.01
    share = {}
    for t in ("drums", "bass"):
        x, _ = sf.read(str(stems / f"{t}.wav"), dtype="float32")
        assert np.sqrt((x ** 2).mean()) > 0.01, t  # both tracks sound
        share[t] = _low_share(x, rate)
    assert share["bass"] > 0.75 and share["bass"] > share["drums"] + 0.2, share

"""Loops out: each loop a performance played, as a WAV a DAW (or ``livegan train``) takes back as the same loop.

``livegan render --loops DIR`` writes one float32 WAV per distinct loop id that played, at the model's
rate, named for its tempo and bars, with an ACID tempo chunk libsndfile reads and a ``.json`` beside it;
each holds exactly what the model generates for the loop's z, and ``livegan train``'s preparation reads
it as that loop, bit for bit. A bad ``--loops`` path is one line; a name in use is never overwritten.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
from types import SimpleNamespace

import mido
import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli

from livegan.audio import dsp
from livegan.control.admission import controller_for
from livegan.control.patch import default_patch_path, load_patch
from livegan.io.loops import copy_playing, free_path, write_loop
from livegan.model import load_model
from train.data import _finish, prepare
from train.presets import paper

SEEDS = [0, 1, 2]  # the first loop, then seed notes 37 and 38 (generic patch: C#2, D2)


def seed_loops(model_path, seeds):
    """What the model makes for each seed with the generic patch's knobs at rest: [(z, (C, N) loop)]."""
    model = load_model(model_path, device="cpu", threads=1)
    c, _, _ = controller_for(load_patch(default_patch_path()), model.meta)
    out = []
    for s in seeds:
        c.set_seed(s)
        z = c.z()
        out.append((z, model.generate(z[None])[0]))
    return out


@pytest.fixture(scope="module")
def rendered(tiny_model, tmp_path_factory):
    """``livegan render --loops`` of 5 s (120 BPM: 2 s bars) with seed 1 at 0.3 s and seed 2 at 2.3 s."""
    tmp = tmp_path_factory.mktemp("render-loops")
    mid = mido.MidiFile(ticks_per_beat=480)  # 500 000 us per beat: 960 ticks a second
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    tr.append(mido.Message("note_on", note=37, velocity=90, time=288))
    tr.append(mido.Message("note_on", note=38, velocity=90, time=1920))
    mid.save(tmp / "auto.mid")
    r = run_cli("render", "--model", tiny_model, "--automation", tmp / "auto.mid", "--seconds", 5,
                "-o", tmp / "out.wav", "--loops", tmp / "loops")
    assert r.returncode == 0, r.stderr
    return SimpleNamespace(dir=tmp / "loops", stdout=r.stdout)


def test_render_loops_writes_each_loop_that_played_as_the_model_made_it(rendered, tiny_model):
    wavs = sorted(glob.glob(str(rendered.dir / "*.wav")))
    assert [os.path.basename(w) for w in wavs] == [f"livegan-loop-{i}-120bpm-1bar-16384hz.wav" for i in range(3)]
    assert "3 loop switches" in rendered.stdout and "3 loops written to" in rendered.stdout
    for w, (z, want) in zip(wavs, seed_loops(tiny_model, SEEDS)):
        got, rate = sf.read(w, dtype="float32", always_2d=True)
        assert rate == 16384 and sf.info(w).subtype == "FLOAT"
        assert np.array_equal(got.T, want)  # the generated loop, bit for bit
        side = json.loads(open(w[:-4] + ".json").read())
        assert {k: side[k] for k in ("bpm", "bars", "beats_per_bar", "sample_rate", "channels", "frames",
                                     "model")} == dict(bpm=120.0, bars=1, beats_per_bar=4, sample_rate=16384,
                                                       channels=1, frames=32768, model="tiny-sines")
        assert np.array_equal(np.asarray(side["z"], np.float32), z)
        info = sf.info(w).extra_info  # libsndfile's own reading of the ACID chunk
        assert re.search(r"Beats\s*: 4", info) and re.search(r"Tempo\s*: 120", info), info


def test_saved_loop_reimports_through_train_preparation_bit_for_bit(rendered, tiny_model):
    p = dataclasses.replace(paper(), sample_rate=16384, loop_samples=32768, channels=1)  # the model's
    for fit in ("stretch", "slice"):
        got = prepare(rendered.dir, p, fit=fit, quiet=True)  # (3, 1, 32768), the files in name order
        # what the preparation makes of the generated loops themselves (DC removed, peak 0.9), in its layout
        want = np.stack([_finish(np.ascontiguousarray(loop.T)) for _, loop in seed_loops(tiny_model, SEEDS)])
        assert got.shape == want.shape and np.array_equal(got, want), fit


def test_a_stereo_loop_reimports_bit_for_bit(tmp_path):
    meta = SimpleNamespace(name="st", bpm=96.0, bars=2, beats_per_bar=3)
    loop = np.random.default_rng(1).uniform(-0.7, 0.7, (2, 88200)).astype(np.float32)
    path = str(tmp_path / "a.wav")
    write_loop(path, loop, 44100, meta, {})
    got, _ = sf.read(path, dtype="float32", always_2d=True)
    assert np.array_equal(got.T, loop)
    p = dataclasses.replace(paper(), sample_rate=44100, loop_samples=88200, channels=2)
    assert np.array_equal(prepare(tmp_path, p, quiet=True)[0], _finish(np.ascontiguousarray(loop.T)))
    assert re.search(r"Meter\s*: 3/4", sf.info(path).extra_info)


def test_a_loop_name_in_use_is_never_overwritten(tmp_path):
    meta = SimpleNamespace(name="m", bpm=120.0, bars=1, beats_per_bar=4)
    loop = np.zeros((1, 64), np.float32)
    paths = []
    for _ in range(3):
        paths.append(free_path(str(tmp_path), "x.wav"))
        write_loop(paths[-1], loop, 1000, meta, {})
    assert [os.path.basename(p) for p in paths] == ["x.wav", "x-2.wav", "x-3.wav"]
    (tmp_path / "y.json").write_text("{}")  # a sidecar alone also holds the name
    assert os.path.basename(free_path(str(tmp_path), "y.wav")) == "y-2.wav"
    with pytest.raises(FileExistsError):
        write_loop(paths[0], loop, 1000, meta, {})
    assert sf.info(paths[0]).frames == 64  # and the file it refused is untouched


def test_a_slot_the_generator_took_is_not_saved_as_the_loop_it_held(tiny_model):
    from livegan.performance import build

    model = load_model(tiny_model, device="cpu", threads=1)
    e = build(model.meta, load_patch(default_patch_path()), 48000, 2, fx=False).engine
    loop = np.full((1, 32768), 0.25, np.float32)
    e.publish_loop(loop, 0)
    e.process(np.zeros((256, 2), np.float32))
    lid, got = copy_playing(e)
    assert lid == 0 and np.array_equal(got, loop)
    slot = int(e.track["cur"])
    e.bank.state[slot] = dsp.FILLING  # as if it had faded out and the generator were writing it
    assert copy_playing(e) is None


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_render_loops_bad_path_is_one_line(tiny_model, tmp_path, cli, where):
    (tmp_path / "f").write_text("x")
    bad = tmp_path / "f" if where == "file" else tmp_path / "f" / "sub"
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack())
    mid.save(tmp_path / "a.mid")
    r = cli("render", "--model", tiny_model, "--automation", tmp_path / "a.mid", "--seconds", 1, "-o",
            tmp_path / "o.wav", "--loops", bad)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith(f"livegan render: error: --loops {bad}: "), r.stderr
    assert not (tmp_path / "o.wav").exists()

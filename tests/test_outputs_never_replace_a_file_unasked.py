"""No command replaces a file it did not make in this run: an existing output needs ``--force``, a file
the command reads is never its output (even with ``--force``), and an output is moved into place only
once it is complete and has passed its checks, so a failed write or check leaves the old file as it was.

``livegan.files`` holds the one rule; each command's use of it is tried here: render, demo, wrap,
export (the refusals of render and perform's ``--stats-json`` are also in the malformed-input corpus).
Before the rule: ``render --automation take.journal -o take.wav`` overwrote the take, ``wrap X.ts -o X.ts``
and ``export RUN -o RUN/checkpoint.pt`` destroyed their input, and a model that failed its self-check
had already replaced the good one at ``-o``.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import mido
import numpy as np
import pytest
import soundfile as sf
import torch

from livegan.cli import main
from livegan.errors import CLIError, ModelFileError
from livegan.files import output_file, same_file
from livegan.testing.synth import write_loop_folder
from livegan.testing.tiny import make_tiny_generator, tiny_meta

GOOD = b"a good file the user made"


def _cli(*args, limit=None):
    def fsize():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([sys.executable, "-m", "livegan", *map(str, args)], capture_output=True, text=True,
                          timeout=300, preexec_fn=fsize if limit else None)


def _one_error(r, command, *words):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
    errors = [ln for ln in lines if ": warning: " not in ln]
    assert len(errors) == 1 and errors[0].startswith(f"livegan {command}: error: "), r.stderr[-3000:]
    for w in words:
        assert str(w) in errors[0], (w, errors[0])


def _no_temporary_files(folder):
    assert [n for n in os.listdir(folder) if ".part" in n] == []


# ------------------------------------------------------------------ the rule itself
def test_a_failed_check_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "out.bin"
    out.write_bytes(GOOD)
    with pytest.raises(ValueError):
        with output_file(out, "output", force=True) as tmp:
            open(tmp, "wb").write(b"half")
            raise ValueError("the check failed")
    assert out.read_bytes() == GOOD and os.listdir(tmp_path) == ["out.bin"]


def test_an_existing_output_is_refused_without_force_and_replaced_with_it(tmp_path):
    out = tmp_path / "out.bin"
    out.write_bytes(GOOD)
    with pytest.raises(CLIError, match="exists; pass --force"):
        with output_file(out, "output") as tmp:
            open(tmp, "wb").write(b"new")
    assert out.read_bytes() == GOOD
    with output_file(out, "output", force=True) as tmp:
        open(tmp, "wb").write(b"new")
    assert out.read_bytes() == b"new" and os.listdir(tmp_path) == ["out.bin"]


def test_a_file_that_appears_while_writing_is_kept(tmp_path):
    out = tmp_path / "out.bin"
    with pytest.raises(CLIError, match="appeared"):
        with output_file(out, "output") as tmp:
            open(tmp, "wb").write(b"new")
            out.write_bytes(GOOD)  # another program took the name meanwhile
    assert out.read_bytes() == GOOD and os.listdir(tmp_path) == ["out.bin"]


def test_the_input_is_never_the_output_through_any_link(tmp_path):
    src = tmp_path / "in.ts"
    src.write_bytes(GOOD)
    os.symlink(src, tmp_path / "sym.ts")
    os.link(src, tmp_path / "hard.ts")
    for alias in ("in.ts", "sym.ts", "hard.ts", "sub/../in.ts"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        assert same_file(tmp_path / alias, src)
        with pytest.raises(CLIError, match="is the decoder this command reads"):
            with output_file(tmp_path / alias, "output", force=True, inputs=[(src, "the decoder")]) as tmp:
                open(tmp, "wb").write(b"new")
    assert src.read_bytes() == GOOD


# ------------------------------------------------------------------ render
@pytest.fixture
def automation(tmp_path):
    mid = mido.MidiFile()
    mid.tracks.append(mido.MidiTrack())
    mid.save(tmp_path / "a.mid")
    return tmp_path / "a.mid"


def test_render_over_an_existing_file_needs_force(tiny_model, automation, tmp_path):
    out = tmp_path / "out.wav"
    out.write_bytes(GOOD)
    r = _cli("render", "--model", tiny_model, "--automation", automation, "--seconds", 0.5, "-o", out)
    _one_error(r, "render", out, "--force")
    assert out.read_bytes() == GOOD
    r = _cli("render", "--model", tiny_model, "--automation", automation, "--seconds", 0.5, "-o", out, "--force")
    assert r.returncode == 0, r.stderr
    assert sf.info(str(out)).frames == 24000
    _no_temporary_files(tmp_path)


def test_render_that_fails_leaves_the_file_it_would_replace(tiny_model, automation, tmp_path):
    out = tmp_path / "out.wav"
    out.write_bytes(GOOD)
    r = _cli("render", "--model", tiny_model, "--automation", automation, "--seconds", 5, "-o", out, "--force",
             limit=100000)  # a full disk: 5 s of float stereo is 1.9 MB
    _one_error(r, "render", out, "File too large")
    assert out.read_bytes() == GOOD
    _no_temporary_files(tmp_path)


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_render_of_a_takes_journal_never_writes_over_the_take(tiny_model, tmp_path, force):
    take, journal = tmp_path / "take.wav", tmp_path / "take.journal"
    take.write_bytes(GOOD)
    journal.write_text("livegan journal 1 rate 48000 take 0\n96000 176 20 64\n")  # an unfinished take's
    r = _cli("render", "--model", tiny_model, "--automation", journal, "--seconds", 1, "-o", take, *force)
    _one_error(r, "render", take, journal)
    assert take.read_bytes() == GOOD


# ------------------------------------------------------------------ demo
def test_demo_run_twice_plays_its_own_file_and_keeps_anything_else(tiny_model, tmp_path, capsys):
    from livegan.commands.demo import render_demo

    out = str(tmp_path / "livegan-demo.wav")
    assert render_demo(out, str(tiny_model), 8000) == out
    first = sf.read(out, dtype="float32")[0]
    assert render_demo(out, str(tiny_model), 8000) == out  # the second run: the same demo, played again
    assert "already holds this demo" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["livegan-demo.wav"]
    assert np.array_equal(sf.read(out, dtype="float32")[0], first)
    mine = tmp_path / "mine.wav"
    sf.write(str(mine), np.zeros((800, 2), np.float32), 8000)
    before = mine.read_bytes()
    got = render_demo(str(mine), str(tiny_model), 8000)
    assert got == str(tmp_path / "mine-2.wav") and mine.read_bytes() == before
    assert f"the demo is in {got}" in capsys.readouterr().out
    assert np.array_equal(sf.read(got, dtype="float32")[0], first)
    _no_temporary_files(tmp_path)


# ------------------------------------------------------------------ wrap
@pytest.fixture(scope="module")
def decoder(tmp_path_factory):
    from test_wrap_third_party_decoders import RaveLike

    path = tmp_path_factory.mktemp("decoder") / "rave.ts"
    torch.jit.save(torch.jit.script(RaveLike().eval()), str(path))
    return path


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_wrap_never_writes_over_its_decoder(decoder, tmp_path, force):
    before = decoder.read_bytes()
    r = _cli("wrap", decoder, "-o", decoder, *force)
    _one_error(r, "wrap", decoder, "the decoder")
    assert decoder.read_bytes() == before


def test_wrap_over_an_existing_model_needs_force(decoder, tmp_path):
    out = tmp_path / "loop.ts"
    out.write_bytes(GOOD)
    r = _cli("wrap", decoder, "-o", out)
    _one_error(r, "wrap", out, "--force")
    assert out.read_bytes() == GOOD


def test_wrap_whose_check_fails_leaves_the_model_at_the_output(decoder, tmp_path, monkeypatch):
    import train.wrap as W
    from train.wrap import wrap_model

    out = tmp_path / "loop.ts"
    out.write_bytes(GOOD)

    class Broken:  # the check of the written file fails (as a slow or faulty decoder's would)
        def __init__(self, path, **kw):
            raise ModelFileError(path, "forward() output contains NaN or Inf")
    monkeypatch.setattr(W, "LoopModel", Broken)
    with pytest.raises(ModelFileError, match="NaN") as e:
        wrap_model(decoder, out, quiet=True, force=True)
    assert e.value.path == str(out)  # named as the output, not its temporary file
    assert out.read_bytes() == GOOD and os.listdir(tmp_path) == ["loop.ts"]


def test_a_model_whose_self_check_fails_never_replaces_the_good_one(tmp_path):
    from train.export import save_loop_model

    class Differs(torch.nn.Module):  # its saved (scripted) form renders other audio than the module
        def __init__(self):
            super().__init__()
            self.g = make_tiny_generator()

        def forward(self, z):
            y = self.g(z)
            if torch.jit.is_scripting():
                y = 0.5 * y
            return y
    out = tmp_path / "model.ts"
    out.write_bytes(GOOD)
    with pytest.raises(ModelFileError, match="renders differently") as e:
        save_loop_model(Differs(), out, tiny_meta(), quiet=True, force=True)
    assert e.value.path == str(out)
    assert out.read_bytes() == GOOD and os.listdir(tmp_path) == ["model.ts"]


# ------------------------------------------------------------------ export
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 2, sr=16384, kinds=("bass",))
    run = tmp_path_factory.mktemp("run")
    assert main(["train", str(folder), "--preset", "paper-plus", "--out", str(run), "--steps", "1", "--device", "cpu",
                 "--set", "model_dim=2", "--set", "report=false", "--set", "preview_every=0",
                 "--set", "select_every=0"]) == 0
    return run


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_export_never_writes_over_its_run(run_dir, force):
    ck = run_dir / "checkpoint.pt"
    before = ck.read_bytes()
    r = _cli("export", run_dir, "-o", ck, *force)
    _one_error(r, "export", ck, "checkpoint")
    assert ck.read_bytes() == before


def test_export_over_an_existing_model_needs_force(run_dir, tmp_path):
    out = tmp_path / "model.ts"
    out.write_bytes(GOOD)
    r = _cli("export", run_dir, "-o", out)
    _one_error(r, "export", out, "--force")
    assert out.read_bytes() == GOOD
    r = _cli("export", run_dir, "-o", out, "--force")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() != GOOD and os.listdir(tmp_path) == ["model.ts"]


def test_find_over_an_existing_file_needs_force_and_never_writes_over_its_loop(tiny_model, tmp_path):
    loop = tmp_path / "mine.wav"
    sf.write(str(loop), 0.3 * np.sin(np.arange(32768) * 2 * np.pi * 220 / 16384).astype(np.float32), 16384)
    kept = tmp_path / "kept.wav"
    kept.write_bytes(GOOD)
    r = _cli("find", loop, "--model", tiny_model, "--steps", "0", "-o", kept)
    assert r.returncode == 2 and "--force" in r.stderr and kept.read_bytes() == GOOD, r.stderr
    r = _cli("find", loop, "--model", tiny_model, "--steps", "0", "-o", loop, "--force")
    assert r.returncode == 2 and "the loop it reads" in r.stderr, r.stderr
    r = _cli("find", loop, "--model", tiny_model, "--steps", "0", "-o", kept, "--force")
    assert r.returncode == 0, r.stderr
    assert sf.info(str(kept)).frames == 32768


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_knobs_never_writes_over_the_model_it_reads(tiny_model, tmp_path, force):
    before = tiny_model.read_bytes()
    r = _cli("knobs", tiny_model, "-o", tiny_model, *force)
    assert r.returncode == 2 and "the model" in r.stderr, r.stderr
    assert tiny_model.read_bytes() == before

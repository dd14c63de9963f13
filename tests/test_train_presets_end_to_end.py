"""Every preset trains on a folder of WAVs through the real CLI and exports a file `livegan info` accepts."""
from __future__ import annotations

import json

import numpy as np
import pytest

from livegan.cli import main
from livegan.model import read_meta
from livegan.testing.synth import write_loop_folder
from train.band_metrics import HIGH_BAND_FLOOR_DB
from train.presets import PRESETS

# shrink each preset so 2 steps take seconds; the structure (arch, loss, rates, roll) is kept
TINY = {
    "paper": ["model_dim=2", "preview_every=1", "keep_every=1", "checkpoint_every=1"],
    "paper-plus": ["model_dim=2", "preview_every=1", "keep_every=1", "checkpoint_every=1", "select_every=1"],
    "wavegan": ["model_dim=2", "batch_size=2", "n_critic=1", "sample_rate=2048", "loop_samples=4096", "n_val=8",
                "preview_every=1", "keep_every=1", "checkpoint_every=1"],
    # the default preset keeps its own shape: 44.1 kHz stereo 2-s loops, hop, n_fft and D's resolutions
    # (r1_every=1: the lazy R1 penalty runs in the one adversarial step)
    "spectral": ["model_dim=8", "batch_size=2", "d_width=4", "rec_only_steps=1", "r1_every=1", "n_val=8",
                 "preview_every=1", "keep_every=1", "checkpoint_every=1", "select_every=1"],
}
SHAPE = {"spectral": (44100, 88200, 2)}  # (sample rate, loop samples, channels) the exported file must declare


@pytest.fixture(scope="module")
def loop_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder / "bass", 3, sr=22050, kinds=("bass",))
    write_loop_folder(folder / "drums", 2, sr=44100, kinds=("drums",), seed0=10, subtype="FLOAT")
    return folder


def test_tiny_overrides_cover_every_preset():
    assert set(TINY) == set(PRESETS)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_trains_two_steps_and_exports_a_valid_model(preset, loop_folder, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", str(loop_folder), "--preset", preset, "--out", str(run), "--steps", "2", "--device", "cpu"]
    for kv in TINY[preset]:
        args += ["--set", kv]
    assert main(args) == 0
    assert (run / "checkpoint.pt").is_file()
    assert (run / "previews" / "step000002.wav").is_file() and (run / "previews" / "step000002.png").is_file()
    assert (run / "report.html").is_file()
    for fig in ("losses.png", "pca.png", "nearest.png"):
        assert (run / "report" / fig).is_file()
    assert (run / "report" / "selection.png").is_file() == (preset in ("paper-plus", "spectral"))  # they select
    m = json.loads((run / "metrics.json").read_text())
    assert m["step"] == 2 and m["n_train"] == 5 and np.isfinite(m["fd"])

    out = tmp_path / "m.ts"
    knobs = [] if preset == "spectral" else ["--no-knobs"]  # one preset pays for the fit, and shows it runs
    assert main(["export", str(run), "-o", str(out), *knobs]) == 0
    assert ("named knobs:" in capsys.readouterr().out) == (not knobs)
    meta = read_meta(out)
    assert meta.training["preset"] == preset and meta.training["steps"] == 2
    if preset in SHAPE:
        assert (meta.sample_rate, meta.loop_samples, meta.channels) == SHAPE[preset]
        # full band: the sound metrics are measured, not nan or at their floor (see the report test's paper run)
        assert np.isfinite(m["hiss"]) and np.isfinite(m["hiss_train"]) and m["high_band_db"] > HIGH_BAND_FLOOR_DB
    assert meta.directions.shape[0] > 0 and meta.directions.shape[1] == meta.latent_dim
    assert np.allclose(np.linalg.norm(meta.directions, axis=1), 1.0, atol=1e-4)
    capsys.readouterr()
    assert main(["info", str(out), "--runs", "2", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["seconds_per_loop"] > 0 and info["name"].startswith(preset)


def test_resume_continues_from_the_checkpoint(loop_folder, tmp_path):
    run = tmp_path / "run"
    base = ["train", str(loop_folder), "--preset", "paper", "--out", str(run), "--device", "cpu",
            "--set", "model_dim=2", "--set", "report=false", "--set", "preview_every=0"]
    assert main(base + ["--steps", "2"]) == 0
    assert main(base + ["--steps", "3"]) == 2  # refuses to overwrite a run without --resume
    # On resume the model settings stay the checkpoint's (model_dim=8 is ignored), while
    # run-control settings such as threads come from the new command line.
    assert main(base + ["--steps", "4", "--resume", "--set", "model_dim=8", "--set", "threads=1"]) == 0
    import torch

    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 4 and len(ck["history"]["step"]) == 4
    assert ck["preset"]["model_dim"] == 2 and ck["preset"]["threads"] == 1


def test_spectral_resume_keeps_the_moving_average_and_refuses_other_loops(loop_folder, tmp_path, capsys):
    """The exported generator is the moving average: a resumed run goes on averaging from the saved
    one (not from G), and a folder that now gives another number of loops (one anchor each) is refused."""
    import torch

    run = tmp_path / "run"
    base = ["train", str(loop_folder), "--preset", "spectral", "--out", str(run), "--device", "cpu",
            "--set", "report=false", "--set", "preview_every=0", "--set", "select_every=0"]
    for kv in ["model_dim=8", "batch_size=2", "sample_rate=8000", "loop_samples=16000", "hop=80", "n_fft=160",
               "d_ffts=64,256", "d_width=4", "rec_only_steps=1", "n_val=8"]:
        base += ["--set", kv]
    assert main(base + ["--steps", "2"]) == 0
    before = torch.load(run / "checkpoint.pt", weights_only=True)
    assert main(base + ["--steps", "3", "--resume"]) == 0
    after = torch.load(run / "checkpoint.pt", weights_only=True)
    assert after["step"] == 3 and len(after["history"]["rec"]) == 3  # the reconstruction's curve goes on too
    keep = min(0.995, (1.0 + 2) / (10.0 + 2))  # the decay at the step taken after resuming
    for k, g in after["g"].items():
        want = before["g_ema"][k] + (1.0 - keep) * (g - before["g_ema"][k])
        assert torch.allclose(after["g_ema"][k], want, atol=1e-6), k
    assert any(not torch.equal(after["g_ema"][k], g) for k, g in after["g"].items())

    fewer = tmp_path / "fewer"
    write_loop_folder(fewer, 2, sr=22050, kinds=("bass",))
    capsys.readouterr()
    args = base + ["--steps", "4", "--resume"]
    args[1] = str(fewer)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "loops" in err and "Traceback" not in err


def test_bad_override_is_one_clear_cli_error(loop_folder, tmp_path, capsys):
    rc = main(["train", str(loop_folder), "--out", str(tmp_path / "r"), "--set", "no_such_field=1"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no_such_field" in err and "Traceback" not in err

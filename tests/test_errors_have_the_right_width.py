"""Only what the user gave becomes a one-line error: `livegan train`'s input checks (preset, overrides,
device, run folder, data) turn into one line naming the thing, but a bug in training (a KeyError deep
in the loop) is not dressed up as a user error (it used to print ``error: 'rec'`` and exit 2); and with
``LIVEGAN_DEBUG`` set, every command prints the traceback (with the error's cause) above its one line."""
from __future__ import annotations

import pytest

import train.presets  # noqa: F401  (registers the built-in architectures)
from livegan.cli import main
from livegan.testing.synth import write_loop_folder
from train import archs

TINY = ["--preset", "paper", "--steps", "2", "--device", "cpu", "--set", "model_dim=2", "--set", "report=false",
        "--set", "preview_every=0", "--set", "checkpoint_every=0", "--set", "n_val=4"]


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 2, sr=8192, kinds=("bass",))
    return folder


def test_a_bug_in_training_is_not_a_user_error(loops, tmp_path, monkeypatch, capsys):
    def step(s, batches):  # set on the architecture object itself: called as arch.step(state, batches)
        raise KeyError("rec")  # a coding bug: a loss the step forgot to return

    monkeypatch.setattr(archs.get("dcgan"), "step", step)  # the paper preset's architecture
    with pytest.raises(KeyError, match="rec"):
        main(["train", str(loops), "--out", str(tmp_path / "run"), *TINY])
    assert "error:" not in capsys.readouterr().err


def test_a_full_disk_while_training_names_the_file(loops, tmp_path, monkeypatch, capsys):
    def step(s, batches):  # set on the architecture object itself: called as arch.step(state, batches)
        raise OSError(28, "No space left on device", str(tmp_path / "run" / "checkpoint.pt"))

    monkeypatch.setattr(archs.get("dcgan"), "step", step)  # the paper preset's architecture
    assert main(["train", str(loops), "--out", str(tmp_path / "run"), *TINY]) == 2
    err = capsys.readouterr().err  # (the progress bar's line is there too: the first step had begun)
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].endswith(f"livegan train: error: {tmp_path / 'run' / 'checkpoint.pt'}: No space left on device")


@pytest.mark.parametrize("command", ["train", "info"])
def test_livegan_debug_prints_the_traceback_above_the_one_line(command, loops, tmp_path, monkeypatch, capsys):
    argv = {"train": ["train", str(loops), "--out", str(tmp_path / "run"), *TINY, "--set", "batch_size=0"],
            "info": ["info", str(tmp_path / "missing.ts")]}[command]
    assert main(argv) == 2
    quiet = capsys.readouterr().err
    assert quiet.count("\n") == 1 and "Traceback" not in quiet, quiet
    monkeypatch.setenv("LIVEGAN_DEBUG", "1")
    assert main(argv) == 2
    loud = capsys.readouterr().err
    assert loud.startswith("Traceback") and loud.splitlines()[-1] == quiet.strip(), loud

"""A checkpoint is data: `export` and `train --resume` read it with weights_only=True, so a crafted
`checkpoint.pt` never runs code, and a truncated or random one is one line naming it, exit 2."""
from __future__ import annotations

import os
import warnings

import pytest
import torch

from livegan.cli import main
from train import checkpoint
from train.checkpoint import CKPT

MARKER = "payload-ran"


class _Payload:
    """Unpickling this would run a shell command that creates the marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _run_folder(tmp_path, kind: str):
    run = tmp_path / "run"
    run.mkdir()
    ck = run / CKPT
    if kind == "payload":
        torch.save({"preset": {"name": "paper"}, "step": 1, "g": _Payload(str(tmp_path / MARKER))}, ck)
    elif kind == "truncated":
        torch.save({"preset": {"name": "paper"}, "step": 1, "g": {"w": torch.zeros(1000)}}, ck)
        ck.write_bytes(ck.read_bytes()[:300])
    elif kind == "random":
        ck.write_bytes(os.urandom(4096))
    elif kind == "pickle-protocol-128":  # torch warns about the protocol before it fails: no second line
        ck.write_bytes(b"\x80\x80" + os.urandom(4094))
    elif kind == "empty":
        ck.write_bytes(b"")
    elif kind == "wrong-data":  # loads as data, but is not what save_checkpoint writes
        torch.save({"preset": {"name": "paper"}, "step": "two"}, ck)
    elif kind in ("unknown-arch", "field-of-another-arch"):  # every field of the right type, the preset not
        preset = {"name": "paper", "arch": "resnet"} if kind == "unknown-arch" else {"arch": "dcgan", "hop": 100}
        torch.save({"preset": preset, "g": {}, "d": {}, "opt_g": {}, "opt_d": {}, "z_val": torch.zeros(1, 2),
                    "step": 1, "seconds": 0.0, "history": {}, "gen": torch.zeros(8, dtype=torch.uint8)}, ck)
    return run


def _one_error_line(err: str, run) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert str(run / CKPT) in lines[0] and "Traceback" not in err


@pytest.mark.parametrize("kind", ["payload", "truncated", "random", "pickle-protocol-128", "empty", "wrong-data",
                                  "unknown-arch", "field-of-another-arch"])
def test_bad_checkpoint_is_one_line_and_exit_2_for_export(kind, tmp_path, capsys):
    run = _run_folder(tmp_path, kind)
    with warnings.catch_warnings(record=True) as caught:  # a warning would be a second line on a terminal
        warnings.simplefilter("always")
        assert main(["export", str(run), "-o", str(tmp_path / "x.ts")]) == 2
    assert not [str(w.message) for w in caught]
    _one_error_line(capsys.readouterr().err, run)
    assert not (tmp_path / MARKER).exists()
    assert not (tmp_path / "x.ts").exists()


@pytest.mark.parametrize("kind", ["payload", "truncated", "random", "pickle-protocol-128", "empty", "wrong-data",
                                  "unknown-arch", "field-of-another-arch"])
def test_bad_checkpoint_is_one_line_and_exit_2_for_resume(kind, tmp_path, capsys):
    run = _run_folder(tmp_path, kind)
    data = tmp_path / "data"
    data.mkdir()
    rc = main(["train", str(data), "--preset", "paper", "--out", str(run), "--resume", "--device", "cpu",
               "--steps", "1"])
    assert rc == 2
    _one_error_line(capsys.readouterr().err, run)
    assert not (tmp_path / MARKER).exists()


def test_pickle_payload_is_named_and_never_runs(tmp_path):
    run = _run_folder(tmp_path, "payload")
    with pytest.raises(ValueError, match=r"holds a Python object \((posix|os|nt)\.system\)"):
        checkpoint.load(str(run))
    assert not (tmp_path / MARKER).exists()

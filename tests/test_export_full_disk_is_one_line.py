"""``livegan export`` to a full disk: one line naming the file, exit code 2, and no file left behind.

A full disk is simulated without root: the export runs in a subprocess whose file-size limit
(``RLIMIT_FSIZE``) is smaller than the model, with ``SIGXFSZ`` ignored, so the write fails with
``EFBIG`` as it would with ``ENOSPC``. (torch's own file writer aborted the process here: rc 134.)
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest

from livegan.cli import main
from livegan.testing.synth import write_loop_folder


def _file_size_limit(nbytes: int):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 2, sr=16384, kinds=("bass",))
    run = tmp_path_factory.mktemp("run")
    assert main(["train", str(folder), "--preset", "paper-plus", "--out", str(run), "--steps", "1", "--device", "cpu",
                 "--set", "model_dim=2", "--set", "report=false", "--set", "preview_every=0",
                 "--set", "select_every=0"]) == 0
    return run


def test_export_to_a_full_disk_is_one_line_exit_2_and_no_file(run_dir, tmp_path):
    out = tmp_path / "model.ts"
    r = subprocess.run([sys.executable, "-m", "livegan", "export", str(run_dir), "-o", str(out), "--no-knobs"],
                       capture_output=True, text=True, timeout=300, preexec_fn=_file_size_limit(64 * 1024))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("livegan export: error: ") and str(out) in lines[0], r.stderr
    assert "File too large" in lines[0]
    assert os.listdir(tmp_path) == []  # neither the model nor a partial .part


def test_export_with_room_still_writes_the_model(run_dir, tmp_path):
    out = tmp_path / "model.ts"
    r = subprocess.run([sys.executable, "-m", "livegan", "export", str(run_dir), "-o", str(out), "--no-knobs"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path)) == ["model.ts"] and out.stat().st_size > 64 * 1024

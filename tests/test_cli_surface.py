"""The CLI surface users and scripts rely on: names, options, lazy imports."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from livegan.cli import build_parser

SURFACE = {
    "devices": [],
    "info": ["model"],
    "train": ["data_dir", "--preset", "--out", "--steps", "--device", "--resume"],
    "export": ["run_dir", "-o", "--no-knobs"],
    "wrap": ["model", "-o", "--sample-rate", "--bpm", "--bars", "--beats-per-bar", "--latent-dim", "--crossfade-ms",
             "--no-knobs"],
    "perform": ["--model", "--patch", "--midi", "--device", "--record", "--stats-json", "--loops-dir"],
    "render": ["--automation", "--seconds", "-o", "--model", "--patch", "--loops"],
    "learn": ["--patch"],
    "demo": [],
    "knobs": ["model", "-o", "--report", "--draws", "--seeds"],
    "find": ["loop", "--model", "-o", "--steps"],
}


@pytest.mark.parametrize("command", sorted(SURFACE))
def test_subcommand_has_the_promised_arguments(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    names = set(re.findall(r"(?<![\w-])-{0,2}[\w][\w-]*", capsys.readouterr().out))  # what --help names
    missing = [n for n in SURFACE[command] if n not in names]
    assert not missing, f"livegan {command} lacks {missing}"


def test_devices_runs_with_torch_unimportable():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from livegan.cli import main\n"
            "rc = main(['devices'])\n"
            "assert 'torch' not in sys.modules or sys.modules['torch'] is None\n"
            "sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "audio outputs" in r.stdout and "MIDI inputs" in r.stdout


def test_devices_imports_neither_torch_nor_numba():
    code = ("import sys\nfrom livegan.cli import main\nmain(['devices'])\n"
            "print('HEAVY', sorted(m for m in ('torch', 'numba', 'pyo') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stdout


def test_unknown_subcommand_is_a_usage_error():
    r = subprocess.run([sys.executable, "-m", "livegan", "dance"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_perform_offers_one_path_and_names_its_debug_path_as_one(capsys):
    """One way to play (audio process, generator thread): the old in-process callback is a debug
    option that says so; the retired matrix options (``--audio``, ``--generator``) are gone."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["perform", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--debug-audio-thread debug path:" in text
    assert not re.search(r"--audio\b(?!-)|--generator\b", text)

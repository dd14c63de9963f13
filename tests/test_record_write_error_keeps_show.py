"""A write error while recording (a full disk) shows at once, the show plays on to ``--seconds``,
and the teardown still writes everything else: the ``.mid``, the stats JSON and the summary line;
then exit code 2 with one error line, and the WAV keeps what reached the disk.

A full disk is simulated without root: perform runs with a file-size limit (``RLIMIT_FSIZE``, 1 MB,
about 2.7 s of float32 stereo at 48 kHz) and ``SIGXFSZ`` ignored, so the recorder's write fails with
``EFBIG`` as it would with ``ENOSPC``; the small files stay under the limit. The limit is set once
the show's parts are open (shared memory is sized with ``ftruncate`` too, and the audio process has
no file to write), so it strikes the files as a full disk would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import soundfile as sf

LIMIT = 1 << 20
SR = 48000


DRIVER = f"""
import resource, signal, sys
from livegan.commands.perform import Show
def full_disk(stage, show):  # the parts are open: from here on the files meet a 'full disk'
    if stage == "connect":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
Show.hooks.append(full_disk)
from livegan.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_write_error_is_shown_at_once_the_show_goes_on_and_the_teardown_finishes(jack_server, tiny_model, tmp_path):
    wav, stats = tmp_path / "take.wav", tmp_path / "stats.json"
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    r = subprocess.run([sys.executable, "-c", DRIVER, "perform", "--model", str(tiny_model), "--record", str(wav),
                        "--seconds", "6", "--stats-json", str(stats)], env=env, capture_output=True, text=True,
                       timeout=120)
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    warn = [i for i, ln in enumerate(lines) if "warning: take 1: writing" in ln and "File too large" in ln]
    assert len(warn) == 1, r.stderr  # said once, while playing: status lines of the show follow it
    assert sum(1 for ln in lines[warn[0] + 1:] if "BPM" in ln and "rec " in ln) >= 1, r.stderr
    errors = [ln for ln in lines if "error:" in ln]
    assert errors == [lines[-1]] and lines[-1].startswith(f"livegan perform: error: record file {wav}"), r.stderr
    s = json.loads(stats.read_text())  # the teardown went on after the error
    assert s["frames_played"] >= 6 * SR
    assert any(ln.startswith("livegan perform: xruns") for ln in lines), r.stderr  # the summary
    assert (tmp_path / "take.mid").is_file() and not (tmp_path / "take.journal").exists()
    kept = sf.info(str(wav)).frames  # what fitted under the limit, readable
    assert kept == s["frames_recorded"] and 2.0 * SR < kept <= LIMIT // 8
    data, _ = sf.read(str(wav), dtype="float32")
    assert data.shape[0] == kept


def test_the_panel_shows_a_take_write_warning_as_written():
    from rich.console import Console

    from livegan.io.panel import panel

    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    msg = "take 1: writing /x/[red]take.wav failed (File too large)"
    console.print(panel({"warning": msg}))
    assert msg in console.export_text()
    console.print(panel({}))
    assert console.export_text().count("File too large") == 0  # (export_text clears): none without one

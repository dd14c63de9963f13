"""A second Ctrl-C or SIGTERM while ``livegan perform`` is ending does not cut the teardown short:
the take, its performance log and ``--stats-json`` are all written, exit 0, no traceback.

SIGTERM comes 3.5 s into a show whose model takes about 6 s per loop after the start (``faulty_models``
kind ``slow``; seed notes keep the generator busy), so the teardown is still waiting for that
generation when the second signal comes 0.5 s later.
"""
from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import soundfile as sf

from livegan.testing.faulty_models import perform_with_seed_notes, save_faulty

SECOND = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


@pytest.fixture(scope="module")
def shows(jack_server, tmp_path_factory):
    """One show per second signal, side by side (each mostly waits on its slow model)."""
    model = save_faulty(tmp_path_factory.mktemp("slow6") / "slow.ts", "slow", after=3, slow_s=6.0)

    def show(name):
        d = tmp_path_factory.mktemp(name)
        args = ["--seconds", 60, "--record", d / "take.wav", "--stats-json", d / "stats.json"]
        rc, err = perform_with_seed_notes(model, d, f"lg2{os.getpid()}{name}", args, term_after_s=3.5,
                                          then=(SECOND[name], 0.5))
        return name, (rc, err, d)
    with ThreadPoolExecutor(len(SECOND)) as ex:
        return dict(ex.map(show, SECOND))


@pytest.mark.parametrize("second", list(SECOND))
def test_a_second_signal_during_the_teardown_keeps_the_take(shows, second):
    rc, err, d = shows[second]
    assert rc == 0, err
    assert "Traceback" not in err and "terminate called" not in err and "interrupted" not in err, err
    stats = json.loads((d / "stats.json").read_text())
    assert (d / "take.mid").exists() and not (d / "take.journal").exists(), err
    assert sf.info(str(d / "take.wav")).frames == stats["frames_recorded"] > 48000  # (a loaded stream starts late)

"""A model whose forward() never returns cannot hang livegan: one line and exit 2 at load, or the
show plays on and still ends on time if it hangs mid-show.

The deadline is ``LIVEGAN_GEN_TIMEOUT_S`` (30 s by default), set to 3 s here to keep the file
short. A torch op that never returns cannot be interrupted: the process leaves with ``os._exit``
once everything is printed and saved, so the exit must also be prompt and free of an abort.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import soundfile as sf
from conftest import run_cli

from livegan.testing.faulty_models import perform_with_seed_notes, save_faulty

DEADLINE = {"LIVEGAN_GEN_TIMEOUT_S": "3"}
BOUND_S = 40  # start-up (imports, torch, numba) on a busy machine + the 3 s deadline


PERFORM_CASES = [0, 2]  # hangs at the warm-up, at the first loop of a show


@pytest.fixture(scope="module")
def runs(jack_server, tmp_path_factory):
    """Every case at once (side by side: each spends most of its time starting up or waiting)."""
    d = tmp_path_factory.mktemp("hung")
    # hangs at the warm-up (call 1), at the first loop of a show (call 3), as the show runs (call 4)
    models = {after: save_faulty(d / f"hang{after}.ts", "hang", after=after) for after in (0, 2, 3)}

    def timed(key, fn):
        t0 = time.monotonic()
        return key, (fn(), time.monotonic() - t0)

    def perform(after):
        take = d / f"take-{after}.wav"
        r = run_cli("perform", "--model", models[after], "--seconds", 1, "--record", take,
                    env_extra=DEADLINE, timeout=BOUND_S + 30)
        return r, take

    def mid_show():
        return perform_with_seed_notes(models[3], d, f"lgh{os.getpid()}",
                                       ["--seconds", 6, "--record", d / "take.wav", "--stats-json", d / "stats.json"],
                                       env_extra=DEADLINE)
    jobs = [("info", lambda: run_cli("info", models[0], env_extra=DEADLINE, timeout=BOUND_S + 30)), ("mid", mid_show)]
    jobs += [(a, lambda a=a: perform(a)) for a in PERFORM_CASES]
    with ThreadPoolExecutor(len(jobs)) as ex:
        out = dict(ex.map(lambda j: timed(*j), jobs))
    out["models"], out["dir"] = models, d
    return out


def _one_error_line(r, path):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and str(path) in lines[0] and "did not return within 3 s" in lines[0], r.stderr


def test_info_on_a_model_that_never_returns_is_one_line(runs):
    r, took = runs["info"]
    assert took < BOUND_S
    _one_error_line(r, runs["models"][0])


@pytest.mark.parametrize("after", PERFORM_CASES)
def test_perform_on_a_model_that_never_returns_is_one_line(runs, after):
    (r, take), took = runs[after]
    assert took < BOUND_S
    _one_error_line(r, runs["models"][after])
    assert not take.exists(), "no take is opened for a show that never started"


def test_a_model_that_hangs_mid_show_lets_the_show_end_on_time(runs):
    (rc, err), took = runs["mid"]
    d = runs["dir"]
    assert took < BOUND_S + 17  # + the teardown's wait for the generation in progress, + the 6 s show's 2 s more
    assert rc == 0, err
    assert "Traceback" not in err and "terminate called" not in err, err
    last = err.strip().splitlines()[-1]
    assert last == "livegan perform: a generation never returned: leaving without waiting for it", err
    stats = json.loads((d / "stats.json").read_text())
    # --seconds stops the stream at the first block boundary at or past it: the take is never shorter
    frames = sf.info(str(d / "take.wav")).frames
    assert frames == stats["frames_recorded"] and 6 * 48000 <= frames <= 6 * 48000 + 4800


def test_a_model_that_hangs_mid_show_is_a_generation_fault_while_it_hangs(runs):
    """Past its deadline the stuck generation is counted and said: the knobs stopped acting, and why."""
    (rc, err), _ = runs["mid"]
    stats = json.loads((runs["dir"] / "stats.json").read_text())
    assert stats["gen_faults"] >= 1 and "has not returned for 3 s" in stats["last_gen_fault"], stats
    said = [ln for ln in err.splitlines() if "warning:" in ln and "has not returned for 3 s" in ln]
    assert len(said) == 1 and "knobs" in said[0], err

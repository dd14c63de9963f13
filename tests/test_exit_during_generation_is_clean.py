"""Ending ``livegan perform`` while a loop is being generated exits 0, without an abort.

The model's forward takes about 2 s once the show runs (``faulty_models`` kind ``slow``) and a
second process plays a new seed note every 0.3 s, so the generator thread is inside torch almost
all the time. The show ends by ``--seconds`` or by SIGTERM. Before the fix the generator thread
was left running at interpreter exit and the process aborted: "terminate called without an
active exception", rc -6.
"""
from __future__ import annotations

import json
import os
import time

import pytest

from livegan.testing.faulty_models import perform_with_seed_notes, save_faulty


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    return save_faulty(tmp_path_factory.mktemp("slow") / "slow.ts", "slow", after=3, slow_s=2.0)


@pytest.mark.parametrize("how", ["seconds", "sigterm"])
def test_show_ending_mid_generation_exits_cleanly(jack_server, slow_model, tmp_path, how):
    args = ["--seconds", 4 if how == "seconds" else 60, "--stats-json", tmp_path / "stats.json"]
    t0 = time.monotonic()
    rc, err = perform_with_seed_notes(slow_model, tmp_path, f"lgx{os.getpid()}{how}", args,
                                      term_after_s=3.5 if how == "sigterm" else None)
    assert rc == 0, err
    assert "terminate called" not in err and "Traceback" not in err, err
    assert "never returned" not in err, "a slow generation is waited for, not abandoned"
    assert time.monotonic() - t0 < 45
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["loops_generated"] >= 2, "a slow loop was generated live (the generator was busy)"
    assert stats["gen_ms_p99"] > 1000

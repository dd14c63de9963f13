"""SIGKILL 8 s into ``livegan perform --record take.wav`` loses no more than the last 100 ms, and
the journal the take leaves re-renders it bit for bit.

The WAV's header is rewritten after every drain (valid after a kill); the performance log's journal
(``take.journal``) is appended as the show goes, since the ``.mid`` is written only at the stop a
SIGKILL never reaches. ``livegan render --automation take.journal`` gives back the WAV over its length.
"""
from __future__ import annotations

import os

import numpy as np
import soundfile as sf

from livegan.io.journal import read_journal_rows
from livegan.testing.sigkill_take import PLAN, PLAN_CCS, SR, perform_and_kill, render_journal


def test_sigkill_loses_under_100_ms_and_the_journal_re_renders_the_take(jack_server, tiny_model, tmp_path):
    r = perform_and_kill(tiny_model, tmp_path, kill_after=8.0)
    assert r["controller"].split()[:1] == [str(len(PLAN))] and r["frames"] > 0, r["stderr"]  # the whole plan went out
    # (lost can be a few ms below 0: the WAV may grow between the test's last look and the kill)
    assert r["lost"] <= 0.1 * SR, f"lost {r['lost'] / SR * 1e3:.1f} ms of {r['played'] / SR:.2f} s\n{r['stderr']}"
    assert not os.path.exists(tmp_path / "take.mid")  # the stop never came...
    rate, start, rows = read_journal_rows(r["journal"])  # ...but every knob turn is on disk
    assert rate == SR and start == 0
    assert [int(v) for v in rows[rows[:, 1] == 0xB0][:, 3]][-5:] == PLAN_CCS, rows
    assert int(np.sum(rows[:, 1] == 0x90)) == 1

    rec, sr = sf.read(r["wav"], dtype="float32")
    assert sr == SR and rec.shape[0] == r["frames"] and np.max(np.abs(rec)) > 0.05
    out = tmp_path / "again.wav"
    rr = render_journal(tiny_model, r["patch"], r["journal"], rec.shape[0], out)
    assert rr.returncode == 0, rr.stderr
    again, _ = sf.read(str(out), dtype="float32")
    assert again.shape == rec.shape and np.array_equal(again, rec), np.abs(again - rec).max()

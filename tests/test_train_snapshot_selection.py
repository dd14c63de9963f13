"""Snapshot selection (``select_every``) and previews on the background thread.

The run scores the fixed z's loops against the training loops every ``select_every`` steps and keeps
the best generator (most training loops reached, then lowest Fréchet distance); `livegan export` writes
that one unless ``--snapshot last``.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from livegan.cli import main
from livegan.model import load_model, read_meta
from livegan.testing.synth import write_loop_folder
from train import logmel_metrics
from train.checkpoint import snapshot
from train.config import from_dict
from train.models import Generator, render
from train.selection import REACH_MIN_Z, keep_best, reached, select_key

TINY = ["model_dim=2", "keep_every=2", "checkpoint_every=3", "report=false"]


@pytest.fixture(scope="module")
def loop_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 3, sr=16384, kinds=("bass",))
    return folder


def _train(folder, run, steps, extra=(), resume=False):
    args = ["train", str(folder), "--preset", "paper-plus", "--out", str(run), "--steps", str(steps),
            "--device", "cpu"]
    for kv in [*TINY, *extra]:
        args += ["--set", kv]
    assert main(args + (["--resume"] if resume else [])) == 0
    return torch.load(run / "checkpoint.pt", weights_only=True)


def test_previews_and_selection_never_change_training(loop_folder, tmp_path):
    """Rendering, scoring and copying G on the other thread, every step, leaves the trajectory bitwise
    the same as a run with neither."""
    busy = _train(loop_folder, tmp_path / "busy", 6, ["preview_every=1", "select_every=1"])
    quiet = _train(loop_folder, tmp_path / "quiet", 6, ["preview_every=0", "select_every=0"])
    assert busy["history"]["select_step"] == [1, 2, 3, 4, 5, 6]
    assert quiet["history"]["select_step"] == [] and quiet["best"] is None
    for net in ("g", "d"):
        for k, v in busy[net].items():
            assert torch.equal(v, quiet[net][k]), (net, k)
    assert busy["history"]["loss_g"] == quiet["history"]["loss_g"]
    assert (tmp_path / "busy" / "previews" / "step000006.wav").is_file()


def test_a_snapshot_that_reaches_more_loops_beats_a_lower_fd():
    n = 100
    assert reached([18, 1, 77, 4], n) == 3 and reached([3, 6, 88, 3], n) == 4
    assert select_key([3, 6, 88, 3], 131.0, n) < select_key([18, 1, 77, 4], 105.0, n)
    assert select_key([23, 44, 4, 29], 121.0, n) < select_key([8, 38, 35, 19], 128.0, n)  # same reach: FD
    # too few fixed z per training loop to count reach (64 loops, 100 z): FD alone decides
    many = [2] * 40 + [0] * 24
    assert reached(many, n) is None
    assert select_key([100] + [0] * 63, 50.0, n) < select_key(many, 60.0, n)
    assert REACH_MIN_Z * 33 <= n < REACH_MIN_Z * 34 and reached([3] * 33, n) == 33 and reached([3] * 34, n) is None


def test_the_kept_generator_is_the_best_scored_and_its_score_is_its_own(loop_folder, tmp_path):
    run = tmp_path / "run"
    ck = _train(loop_folder, run, 8, ["preview_every=1", "select_every=2"])
    h, best = ck["history"], ck["best"]
    assert h["select_step"] == [2, 4, 6, 8]
    keys = [select_key(c, fd, 100) for c, fd in zip(h["select_counts"], h["select_fd"])]
    i = min(range(len(keys)), key=keys.__getitem__)
    assert best["step"] == h["select_step"][i] and best["fd"] == h["select_fd"][i]
    assert best["counts"] == h["select_counts"][i]
    assert all(sum(c) == 100 and len(c) == 3 for c in h["select_counts"])
    # the weights kept are the ones that were scored (a copy, not G moving on while it was rendered)
    p = from_dict(ck["preset"])
    g = Generator(p)
    g.load_state_dict(best["g"])
    loops = np.load(run / "data.npz")["loops"]
    feats = lambda x: logmel_metrics.features(x, p.sample_rate).reshape(-1, logmel_metrics.N_MELS)
    fd = logmel_metrics.frechet(feats(loops), feats(render(g, ck["z_val"], "cpu")))
    assert fd == pytest.approx(best["fd"], rel=1e-6)


def test_resume_keeps_the_best_and_goes_on_scoring(loop_folder, tmp_path):
    run = tmp_path / "run"
    first = _train(loop_folder, run, 3, ["preview_every=0", "select_every=1"])
    ck = _train(loop_folder, run, 5, ["preview_every=0", "select_every=1"], resume=True)
    assert ck["history"]["select_step"] == [1, 2, 3, 4, 5]
    assert ck["history"]["select_fd"][:3] == first["history"]["select_fd"]
    h = ck["history"]
    assert ck["best"]["step"] == min(zip(h["select_counts"], h["select_fd"], h["select_step"]),
                                     key=lambda r: select_key(r[0], r[1], 100))[2]


def test_the_last_step_is_scored_even_off_the_grid(loop_folder, tmp_path):
    ck = _train(loop_folder, tmp_path / "run", 5, ["preview_every=0", "select_every=3"])
    assert ck["history"]["select_step"] == [3, 5]


def test_export_writes_the_best_snapshot_unless_told_last(loop_folder, tmp_path, capsys):
    run = tmp_path / "run"
    ck = _train(loop_folder, run, 2, ["preview_every=0", "select_every=1"])
    # make the kept snapshot unmistakable: a generator whose weights differ from the last step's
    odd = {k: (v * 0.5 if v.is_floating_point() and k.endswith("weight") else v) for k, v in ck["g"].items()}
    ck["best"] = {"step": 1, "fd": 1.0, "g": odd}
    torch.save(ck, run / "checkpoint.pt")
    p = from_dict(ck["preset"])
    z = torch.rand(3, p.latent_dim) * 2 - 1
    want = {}
    for name, weights in (("best", odd), ("last", ck["g"])):
        g = Generator(p)
        g.load_state_dict(weights)
        g.eval()
        with torch.no_grad():
            want[name] = g(z).numpy()
    assert not np.allclose(want["best"], want["last"], atol=1e-3)
    for args, name in (([], "best"), (["--snapshot", "best"], "best"), (["--snapshot", "last"], "last")):
        out = tmp_path / f"{name}{len(args)}.ts"
        assert main(["export", str(run), "-o", str(out), "--no-knobs", *args]) == 0
        meta = read_meta(out)
        assert meta.training["snapshot"] == name
        assert meta.training["snapshot_step"] == (1 if name == "best" else 2)
        got = load_model(out, device="cpu", threads=1).generate(z.numpy())
        assert np.allclose(got, want[name], atol=1e-5), name
    assert "best snapshot (step 1 of 2, FD 1.0)" in capsys.readouterr().out


def test_a_run_that_kept_none_exports_the_last(loop_folder, tmp_path):
    run = tmp_path / "run"
    ck = _train(loop_folder, run, 2, ["preview_every=0", "select_every=0"])
    weights, what = snapshot(ck, "best")
    assert what == {"snapshot": "last", "step": 2, "fd": None} and weights is ck["g"]
    out = tmp_path / "m.ts"
    assert main(["export", str(run), "-o", str(out), "--no-knobs"]) == 0
    assert read_meta(out).training["snapshot"] == "last"


def test_report_scores_the_exported_snapshot_and_the_last(loop_folder, tmp_path):
    from train.report import write_report

    run = tmp_path / "run"
    ck = _train(loop_folder, run, 2, ["preview_every=0", "select_every=1"])
    ck["best"] = {"step": 1, "fd": 1.0, "g": {k: v * 0.5 if k.endswith("weight") else v for k, v in ck["g"].items()}}
    torch.save(ck, run / "checkpoint.pt")
    m = write_report(str(run), quiet=True)
    assert m["snapshot"] == "best" and m["snapshot_step"] == 1
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["last"]["fd"] != saved["fd"]  # two generators, two scores
    assert (run / "report" / "selection.png").is_file()
    assert "step 1 of 2" in (run / "report.html").read_text()


def test_negative_select_every_is_refused(loop_folder, tmp_path):
    rc = main(["train", str(loop_folder), "--out", str(tmp_path / "r"), "--preset", "paper-plus",
               "--set", "select_every=-1"])
    assert rc == 2


def _scored(step, fd, counts):
    return {"step": step, "fd": fd, "counts": counts, "g": {}}


def _history():
    return {"select_step": [], "select_fd": [], "select_counts": []}


def test_the_run_keeps_by_the_rule_not_by_fd_alone():
    h = _history()
    best = keep_best(None, _scored(1, 100.0, [30, 30, 40]), h, 100)
    best = keep_best(best, _scored(2, 50.0, [1, 0, 99]), h, 100)  # lower FD, reaches one loop
    assert best["step"] == 1
    best = keep_best(best, _scored(3, 80.0, [20, 40, 40]), h, 100)  # same reach, lower FD
    assert best["step"] == 3 and best["counts"] == [20, 40, 40]
    assert h["select_step"] == [1, 2, 3] and h["select_fd"] == [100.0, 50.0, 80.0]  # every score is recorded


def test_a_checkpoint_kept_before_best_held_its_counts_is_judged_by_its_history():
    h = _history()
    best = keep_best(None, _scored(1, 100.0, [30, 30, 40]), h, 100)
    del best["counts"]  # as the first checkpoints with selection wrote it; the history still has them
    best = keep_best(best, _scored(2, 50.0, [1, 0, 99]), h, 100)
    assert best["step"] == 1

"""The knob page's descriptor curves are the knob fit's own numbers (train/knob_figures.py, train/knob_report.py):
the figure draws exactly a direct ``sweep`` and returns ``judge``'s numbers; the sweeps export hands over
(``add_knobs``'s record) give back the Spearman and cross-talk stored in the file; and a file's page, measured
again with the fit's draws and seeds, gives those same stored numbers back."""
from __future__ import annotations

import re

import numpy as np
from conftest import run_cli

from livegan.model import read_meta
from livegan.testing.tiny import TINY, make_tiny_generator, tiny_meta
from train.export import save_loop_model
from train.knob_figures import curve_data, descriptor_curve_png
from train.knob_report import measure
from train.knobs import add_knobs, held_out_seeds, judge, module_generator, prior_draws, sweep

SR, D = TINY["sample_rate"], TINY["latent_dim"]




class _Stored:
    spearman, crosstalk = 0.5, 0.25


def test_the_curve_figure_draws_a_direct_sweep_and_the_judge_numbers(drawn, tmp_path):
    gen = module_generator(make_tiny_generator())
    seeds = held_out_seeds(3, D, "uniform")
    direction = np.eye(1, D, 4, dtype=np.float32).ravel()  # the tiny model's z[4]: a partial's level
    pos, curves = sweep(gen, seeds, direction, 0.4, SR)
    spread = {k: float(np.std(v)) + 0.01 for k, v in curves.items()}
    d = descriptor_curve_png("loudness", pos, curves, spread, _Stored(), str(tmp_path / "c.png"))
    assert (tmp_path / "c.png").is_file()
    assert (d["spearman"], d["crosstalk"], d["reach"]) == judge("loudness", pos, curves, spread)
    assert d["moved"]["brightness"] == judge("brightness", pos, curves, spread)[2]
    assert np.array_equal(d["own"], curves["loudness"]) and np.array_equal(d["pos"], pos)
    own_axis = drawn[0].axes[0]
    lines = own_axis.get_lines()
    assert len(lines) == 4  # one per seed, then the median
    for line, row in zip(lines, curves["loudness"]):
        assert np.array_equal(line.get_xdata(), pos) and np.array_equal(line.get_ydata(), row)
    assert np.array_equal(lines[-1].get_ydata(), np.median(curves["loudness"], axis=0))
    assert d["reach"] > 0.5 and "stored Spearman +0.50, cross-talk 0.25" in drawn[0].get_suptitle()
    bars = [p.get_height() for p in drawn[0].axes[2].patches]
    assert bars == [d["moved"][k] for k in curves]  # the bar chart is the judge's change per descriptor


def test_a_curve_that_moves_the_other_way_on_half_the_seeds_still_shows_its_distance():
    pos = np.linspace(-2, 2, 5)
    curves = {"loudness": np.array([pos, pos]), "weight": np.array([pos, -pos])}  # signed median: flat zero
    d = curve_data("loudness", pos, curves, {"loudness": 1.0, "weight": 1.0})
    assert np.allclose(d["change"]["weight"], np.abs(pos)) and d["crosstalk"] == 4.0


def test_export_record_and_a_file_measured_again_give_the_stored_numbers(tmp_path):
    module = make_tiny_generator()
    gen = module_generator(module)
    meta = tiny_meta()
    record: dict = {}
    fits = add_knobs(meta, gen, n_fit=64, n_seeds=4, quiet=True, record=record)
    assert meta["knobs"], [f.summary() for f in fits]  # z sets the sines' pitches and levels: some knob works
    assert set(record["sweeps"]) == {f.name for f in fits}
    assert record["spread"] == prior_draws(gen, D, "uniform", SR, 64)[2]
    for k in meta["knobs"]:
        d = curve_data(k["name"], *record["sweeps"][k["name"]], record["spread"])
        assert (round(d["spearman"], 4), round(d["crosstalk"], 4)) == (k["spearman"], k["crosstalk"])
    save_loop_model(module, tmp_path / "k.ts", meta, quiet=True)
    stored = read_meta(tmp_path / "k.ts")
    again = measure(gen, stored, n_fit=64, n_seeds=4)
    for k in stored.knobs:
        d = curve_data(k.name, *again["sweeps"][k.name], again["spread"])
        assert (round(d["spearman"], 4), round(d["crosstalk"], 4)) == (k.spearman, k.crosstalk), k.name
    other = measure(gen, stored, n_fit=64, n_seeds=3)  # the page's numbers come from the seeds it was given
    assert all(other["sweeps"][k.name][1][k.name].shape == (3, 9) for k in stored.knobs)


def test_knobs_o_with_report_shows_the_numbers_it_stored(tiny_model, tmp_path):
    out, rep = tmp_path / "named.ts", tmp_path / "rep"
    r = run_cli("knobs", tiny_model, "-o", out, "--report", rep, "--draws", "64", "--seeds", "4", timeout=300)
    assert r.returncode == 0, r.stderr
    knobs = read_meta(out).knobs
    assert knobs, r.stdout
    page = (rep / "knobs.html").read_text()
    for k in knobs:
        shown = re.search(rf"id='{k.name}'>.*?This page's sweep on 4 seeds: Spearman ([-+.\d]+), cross-talk "
                          r"([.\d]+)", page, re.S)
        assert shown and (float(shown[1]), float(shown[2])) == (round(k.spearman, 3), round(k.crosstalk, 3)), k

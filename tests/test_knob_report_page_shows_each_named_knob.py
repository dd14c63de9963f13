"""``livegan knobs MODEL --report DIR`` and export's run-folder page (train/knob_report.py): one section per
named knob with its name and PNGs and WAVs that exist; the sweep's spectrograms on one colour scale; a model
without named knobs is one line and writes nothing; a page file is never replaced without --force; export
into a run folder with a report.html writes the page there and links it from the report."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest
import soundfile as sf
from conftest import run_cli

from livegan.model import read_meta
from livegan.testing.tiny import TINY, make_tiny_generator, tiny_meta
from train.export import save_loop_model
from train.knob_figures import SPEC_RANGE_DB, sweep_spectrograms_png
from train.knob_report import PAGE, link_from_report, run_page_wanted, targets

KNOBS = [dict(name="brightness", direction=np.eye(1, 8, 0).ravel().tolist(), sigma=0.3, spearman=0.97, crosstalk=0.2),
         dict(name="loudness", direction=np.eye(1, 8, 4).ravel().tolist(), sigma=0.3, spearman=0.99, crosstalk=0.1)]
FAST = ("--draws", "64", "--seeds", "3")


@pytest.fixture(scope="module")
def named_model(tmp_path_factory):
    """The tiny model (z[0]: a partial's pitch, z[4]: its level) with two named knobs written in."""
    path = tmp_path_factory.mktemp("models") / "named.ts"
    save_loop_model(make_tiny_generator(), path, tiny_meta(knobs=KNOBS), quiet=True)
    return path


def _links(page: str) -> list[str]:
    return re.findall(r"(?:src|href)='([^'#]+)'", page)


def test_the_page_has_a_section_per_named_knob_linking_files_that_exist(named_model, tmp_path):
    out = tmp_path / "rep"
    r = run_cli("knobs", named_model, "--report", out, *FAST, timeout=300)
    assert r.returncode == 0, r.stderr
    page = (out / PAGE).read_text()
    sections = re.split(r"<h2 ", page)[1:]
    assert [re.match(r"id='(\w+)'>(\w+)</h2>", s).groups() for s in sections] == [("brightness", "brightness"),
                                                                                   ("loudness", "loudness")]
    for s, k in zip(sections, KNOBS):
        links = _links(s)
        assert {f"knobs/{k['name']}_sweep.png", f"knobs/{k['name']}_curve.png"} <= set(links), links
        assert all(link.startswith(f"knobs/{k['name']}_") for link in links)  # no base64, no other knob's file
        assert f"Spearman {k['spearman']:+.3f}, cross-talk {k['crosstalk']:.3f}" in s  # the stored numbers
    for link in _links(page):
        assert (out / link).stat().st_size > 0, link
    wav = sf.read(str(out / "knobs/loudness_seed0_plus2.wav"))[0]
    quiet = sf.read(str(out / "knobs/loudness_seed0_minus2.wav"))[0]
    assert len(wav) == TINY["loop_samples"] and np.std(wav) > np.std(quiet)  # +2 sigmas of loudness is louder
    assert sorted(str(p) for p in out.rglob("*") if p.is_file()) == sorted(targets(out, ["brightness", "loudness"]))


def test_the_sweep_spectrograms_share_one_colour_scale(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    kept, close = [], plt.close
    monkeypatch.setattr(plt, "close", kept.append)
    t = np.arange(8192) / 8192
    loops = np.stack([[[np.sin(2 * np.pi * 440 * t) * 10 ** (g / 20)] for g in (-40, -20, 0)]] * 2)  # (2, 3, 1, L)
    d = sweep_spectrograms_png(loops, np.array([-2.0, 0.0, 2.0]), [0, 1], 8192, str(tmp_path / "s.png"), "t")
    try:
        *panels, bar = kept[0].axes  # the 2 x 3 panels, then the colour bar
        assert "dB" in bar.get_ylabel() and len(panels) == 6
        meshes = [ax.collections[0] for ax in panels]
        assert len({m.get_clim() for m in meshes}) == 1
        assert d["vmax"] - d["vmin"] == SPEC_RANGE_DB and meshes[0].get_clim() == (d["vmin"], d["vmax"])
        assert d["vmax"] == pytest.approx(0.0, abs=2.0)  # the loudest panel: a full-scale sine (0 dB)
        assert all(ax.get_yscale() == "log" for ax in panels)
        edges = d["edges_hz"]
        assert np.all(np.diff(edges) > 0) and edges[0] >= 16 and edges[-1] > 4096 - 64
        row = np.argmax(d["db"][0][2].mean(1))  # the loudest band holds 440 Hz
        assert edges[row] <= 440 <= edges[row + 1]
    finally:
        for fig in kept:
            close(fig)


def test_a_model_without_named_knobs_is_one_line_and_writes_nothing(tiny_model, tmp_path):
    out = tmp_path / "rep"
    r = run_cli("knobs", tiny_model, "--report", out)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "has no named knobs" in lines[0] and "-o OUT.ts" in lines[0]
    assert str(tiny_model) in lines[0] and not out.exists()


def test_no_page_file_is_replaced_without_force(named_model, tmp_path):
    out = tmp_path / "rep"
    (out / "knobs").mkdir(parents=True)
    kept = out / "knobs" / "loudness_curve.png"
    kept.write_bytes(b"mine")
    r = run_cli("knobs", named_model, "--report", out, *FAST)
    assert r.returncode == 2 and "--force" in r.stderr and str(kept) in r.stderr, r.stderr
    assert kept.read_bytes() == b"mine" and not (out / PAGE).exists()  # refused before anything was written
    r = run_cli("knobs", named_model, "--report", out, *FAST, "--force", timeout=300)
    assert r.returncode == 0, r.stderr
    assert kept.read_bytes()[:4] == b"\x89PNG" and (out / PAGE).is_file()
    assert not [p for p in out.rglob(".*part*")]  # no temporary file left behind


def test_knobs_without_o_or_report_is_one_line(named_model):
    r = run_cli("knobs", named_model)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--report" in r.stderr


def test_export_writes_the_page_into_a_run_with_a_report_and_links_it(tmp_path_factory, capsys):
    from livegan.cli import main
    from livegan.testing.synth import write_loop_folder

    folder, run = tmp_path_factory.mktemp("loops"), tmp_path_factory.mktemp("run")
    write_loop_folder(folder, 2, sr=16384, kinds=("bass",))
    assert main(["train", str(folder), "--preset", "paper-plus", "--out", str(run), "--steps", "1", "--device",
                 "cpu", "--set", "model_dim=2", "--set", "preview_every=0", "--set", "select_every=0"]) == 0
    assert (run / "report.html").is_file() and not (run / PAGE).exists()
    out = tmp_path_factory.mktemp("out") / "m.ts"
    assert main(["export", str(run), "-o", str(out)]) == 0
    names = [k.name for k in read_meta(out).knobs]
    assert names, capsys.readouterr().out  # an untrained paper-plus generator's level is a knob that works
    page = (run / PAGE).read_text()
    assert all(f"<h2 id='{n}'>" in page for n in names)
    assert all(os.path.isfile(run / link) for link in _links(page))
    report = (run / "report.html").read_text()
    assert report.count('href="knobs.html"') == 1
    assert not run_page_wanted(run, force=False)  # the next export keeps this page ...
    assert "knob page not written" in capsys.readouterr().out and (run / PAGE).is_file()
    assert run_page_wanted(run, force=True)  # ... unless told --force
    link_from_report(run)  # as a forced export would
    assert (run / "report.html").read_text().count('href="knobs.html"') == 1  # linked once, not twice

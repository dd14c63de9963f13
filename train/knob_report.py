"""A report page per named knob (issue 27): ``DIR/knobs.html``, its figures and WAVs in ``DIR/knobs/``.

For each named knob of a model file: its sweep on seeds 0-3 at -2..+2 sigmas as spectrograms, its
descriptor curve with the other descriptors' change (``train.knob_figures``), and WAVs of seed 0 at -2, 0
and +2 sigmas. Written by ``livegan knobs MODEL --report DIR`` and by ``livegan export`` into a run
folder that has a ``report.html`` (which then links to it). Where the knobs were just fitted, the curves
are the fit's own sweeps (``add_knobs``'s ``record``); for a file, they are measured again with the fit's
code, draws and seeds, so the defaults give the stored numbers back. Every file obeys ``livegan.files``:
nothing is replaced without ``--force``, and each is moved into place only once written. Thread: main.
"""
from __future__ import annotations

import html
import os
import time

import numpy as np

from livegan.errors import CLIError, first_line
from livegan.files import check_target, output_file, temp_beside
from livegan.model import META_NAME, load_checked, read_meta
from train.descriptors import NAMES
from train.knob_figures import SHOW_STEPS, descriptor_curve_png, sweep_spectrograms_png
from train.knobs import (
    MAX_CROSSTALK,
    MIN_REACH,
    MIN_SPEARMAN,
    SPAN,
    held_out_seeds,
    module_generator,
    prior_draws,
    sweep,
    sweep_z,
)

PAGE = "knobs.html"
FOLDER = "knobs"
SHOW_SEEDS = 4  # seeds 0.. drawn as spectrograms
WHAT = "--report"


def _files(name: str) -> list[str]:
    """A knob's files in ``FOLDER``: sweep spectrograms, descriptor curve, seed 0 at -2, 0, +2 sigmas."""
    return [f"{name}_sweep.png", f"{name}_curve.png", f"{name}_seed0_minus2.wav", f"{name}_seed0_centre.wav",
            f"{name}_seed0_plus2.wav"]


def targets(out_dir, names) -> list[str]:
    """Every file a page for knobs ``names`` writes under ``out_dir``, the page first."""
    out_dir = os.fspath(out_dir)
    return [os.path.join(out_dir, PAGE)] + [os.path.join(out_dir, FOLDER, f) for n in names for f in _files(n)]


def check_targets(out_dir, names, force: bool, inputs=()) -> None:
    """CLIError (one line) before any work if the page cannot be written: ``out_dir`` is a file, or one of
    its files exists and ``force`` is not given."""
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise CLIError(f"{WHAT} {out_dir}: is a file, not a folder")
    for t in targets(out_dir, names):
        check_target(t, WHAT, force, inputs)


def measure(generate, meta, n_fit: int = 1024, n_seeds: int = 32) -> dict:
    """``add_knobs``'s record measured again for a file's stored knobs (``meta``: a ModelMeta): the prior
    spreads of the fit's ``n_fit`` draws and each knob's sweep on seeds 0..``n_seeds``-1."""
    _, _, spread = prior_draws(generate, meta.latent_dim, meta.latent_dist, meta.sample_rate, n_fit)
    seeds = held_out_seeds(n_seeds, meta.latent_dim, meta.latent_dist)
    return dict(spread=spread, sweeps={k.name: sweep(generate, seeds, k.direction, k.sigma, meta.sample_rate)
                                       for k in meta.knobs})


def _write_wav(path: str, loop: np.ndarray, sr: int, force: bool) -> None:
    import soundfile as sf

    with output_file(path, WHAT, force) as tmp:
        sf.write(tmp, np.asarray(loop).T, sr, subtype="PCM_16")


def _section(out_dir: str, generate, meta, knob, record: dict, force: bool) -> str:
    """One knob's figures and WAVs into ``out_dir/FOLDER``; -> its HTML section."""
    sr = meta.sample_rate
    seeds = held_out_seeds(SHOW_SEEDS, meta.latent_dim, meta.latent_dist)
    pos, z = sweep_z(seeds, knob.direction, knob.sigma, SHOW_STEPS)
    loops = np.stack([generate(z[i * SHOW_STEPS:(i + 1) * SHOW_STEPS]) for i in range(SHOW_SEEDS)])  # (S, P, C, L)
    files = [os.path.join(out_dir, FOLDER, f) for f in _files(knob.name)]
    with output_file(files[0], WHAT, force) as tmp:
        sweep_spectrograms_png(loops, pos, list(range(SHOW_SEEDS)), sr, tmp,
                               f"{knob.name}: seeds 0-{SHOW_SEEDS - 1} (rows) at -{SPAN:g}..+{SPAN:g} sigmas")
    curve_pos, curves = record["sweeps"][knob.name]
    with output_file(files[1], WHAT, force) as tmp:
        d = descriptor_curve_png(knob.name, curve_pos, curves, record["spread"], knob, tmp)
    for path, j in zip(files[2:], (0, SHOW_STEPS // 2, SHOW_STEPS - 1)):
        _write_wav(path, loops[0, j], sr, force)
    rel = [f"{FOLDER}/{os.path.basename(f)}" for f in files]
    name = html.escape(knob.name)
    audio = " ".join(f"{label} <audio controls src='{r}'></audio>"
                     for label, r in zip((f"-{SPAN:g} sigmas", "centre", f"+{SPAN:g} sigmas"), rel[2:]))
    return (f"<h2 id='{name}'>{name}</h2>\n<p>sigma {knob.sigma:.4g} (z units per knob sigma). Stored in the "
            f"file: Spearman {knob.spearman:+.3f}, cross-talk {knob.crosstalk:.3f}. This page's sweep on "
            f"{len(d['own'])} seeds: Spearman {d['spearman']:+.3f}, cross-talk {d['crosstalk']:.3f}, reach "
            f"{d['reach']:.3f}.</p>\n<img src='{rel[0]}'>\n<img src='{rel[1]}'>\n<p>Seed 0: {audio}</p>\n")


def write_page(out_dir, generate, meta, record: dict, force: bool = False, source: str = "") -> str:
    """``out_dir/knobs.html`` with one section per named knob of ``meta`` (a ModelMeta), the figures and
    WAVs in ``out_dir/knobs/``; ``record``: ``add_knobs``'s or ``measure``'s. -> the page's path."""
    out_dir = os.fspath(out_dir)
    os.makedirs(os.path.join(out_dir, FOLDER), exist_ok=True)
    sections = "".join(_section(out_dir, generate, meta, k, record, force) for k in meta.knobs)
    first = meta.knobs[0].name
    n_seeds = len(record["sweeps"][first][1][first])
    page = f"""<!doctype html><meta charset="utf-8"><title>livegan named knobs: {html.escape(meta.name)}</title>
<h1>Named knobs of {html.escape(meta.name)}</h1>
<p>{html.escape(source)} Each knob: its sweep on seeds 0-{SHOW_SEEDS - 1} at -{SPAN:g}..+{SPAN:g} sigmas (the
generic patch's knob range) as spectrograms on one colour scale, log frequency; then its descriptor against
knob position on {n_seeds} held-out seeds (thin: a seed, thick: the median), every descriptor's median distance
from its value at the centre in prior spreads, and each descriptor's change over the sweep as the fit judges it
(kept: Spearman >= {MIN_SPEARMAN:g}, reach >= {MIN_REACH:g}, cross-talk <= {MAX_CROSSTALK:g} prior spreads; see
docs/knobs.md).</p>
<ul>{''.join(f"<li><a href='#{html.escape(k.name)}'>{html.escape(k.name)}</a></li>" for k in meta.knobs)}</ul>
{sections}"""
    path = os.path.join(out_dir, PAGE)
    with output_file(path, WHAT, force) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
    return path


def link_from_report(run_dir) -> None:
    """Put a link to ``knobs.html`` under ``run_dir/report.html``'s title (once; the report is the run's own
    file, rewritten whole by training, so it is replaced here without ``--force``, through a temporary file)."""
    path = os.path.join(os.fspath(run_dir), "report.html")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if f"href=\"{PAGE}\"" in text:
        return
    link = f"\n<p><a href=\"{PAGE}\">Named knobs</a>: a page per knob (written by livegan export).</p>"
    at = text.find("</h1>")
    text = text + link if at < 0 else text[:at + 5] + link + text[at + 5:]
    tmp = temp_beside(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def run_page_wanted(run_dir, force: bool, quiet: bool = False) -> bool:
    """Whether ``livegan export`` writes the knob page into ``run_dir``, decided before the fit: the run
    has a ``report.html``, and no page of an earlier export is there, or ``force`` replaces it (without
    it, export goes on and says in one line that the page was kept)."""
    run_dir = os.fspath(run_dir)
    if not os.path.isfile(os.path.join(run_dir, "report.html")):
        return False
    there = [t for t in targets(run_dir, NAMES) if os.path.lexists(t)]
    if there and not force:
        if not quiet:
            print(f"knob page not written: {there[0]} is an earlier export's; kept (pass --force to replace it)")
        return False
    return True


def write_run_page(run_dir, generate, model_path, record: dict, force: bool = False, quiet: bool = False) -> None:
    """``livegan export``: the page of the model file just written (its kept knobs, the fit's sweeps in
    ``record``) into ``run_dir``, linked from its ``report.html``. The model file is what export is for:
    a page that cannot be written is one line, and the export still succeeds."""
    t0 = time.perf_counter()
    meta = read_meta(model_path)
    if not meta.knobs:
        if not quiet:
            print("knob page: no named knob kept, none written")
        return
    try:
        page = write_page(run_dir, generate, meta, record, force,
                          f"Written by livegan export with {os.fspath(model_path)}; the curves are the fit's own "
                          "sweeps.")
        link_from_report(run_dir)
    except Exception as e:  # a full disk, a file that appeared meanwhile, a plotting failure: the model stands
        print(f"knob page not written ({type(e).__name__}: {first_line(e)})")
        return
    if not quiet:
        print(f"knob page: {page} ({time.perf_counter() - t0:.1f} s)")


def report_file(src, out_dir, force: bool = False, n_fit: int = 1024, n_seeds: int = 32, quiet: bool = False) -> str:
    """``livegan knobs MODEL --report DIR``: the page of a file's stored knobs, its curves measured again
    (``measure``). A file without named knobs: CLIError, nothing written. -> the page's path."""
    src = os.fspath(src)
    meta = read_meta(src)
    if not meta.knobs:
        raise CLIError(f"{src} has no named knobs; add them with livegan knobs {src} -o OUT.ts")
    inputs = [(src, "the model")]
    check_targets(out_dir, [k.name for k in meta.knobs], force, inputs)
    t0 = time.perf_counter()
    generate = module_generator(load_checked(src, "cpu", {META_NAME: ""}))
    record = measure(generate, meta, n_fit, n_seeds)
    page = write_page(out_dir, generate, meta, record, force,
                      f"{src}: the curves measured again with the fit's code ({n_fit} prior draws, seeds "
                      f"0-{n_seeds - 1}; the fit's defaults give its stored numbers back).")
    if not quiet:
        print(f"knob page: {page} ({len(meta.knobs)} knobs, {time.perf_counter() - t0:.1f} s)")
    return page

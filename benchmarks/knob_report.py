"""What the knob page (train/knob_report.py) adds to the knob fit, on one CPU thread.

    python benchmarks/knob_report.py [--model M.ts] [--draws 1024] [--seeds 32] [--out DIR]

1. The fit as export runs it (``add_knobs`` with the record the page reuses): wall and CPU seconds.
2. The page of the kept knobs from that record (what export adds to a run folder with a report.html).
3. The page of all five fitted directions, kept or not (the most a page can hold): seconds per knob.
4. ``livegan knobs MODEL --report DIR`` on the written file: the prior spreads and sweeps measured again.
Each page's Spearman and cross-talk are checked against the fit's.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _timed(what: str, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{what}: {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
    return out


def main() -> None:
    import torch

    from livegan.model import META_NAME, default_model_path, load_checked, read_meta
    from livegan.model_knobs import NamedKnob
    from train.export import save_loop_model
    from train.knob_figures import curve_data
    from train.knob_report import report_file, write_page
    from train.knobs import add_knobs, module_generator

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=default_model_path())
    ap.add_argument("--draws", type=int, default=1024)
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--out", default=None, help="folder for the pages (default: a temporary one)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = a.out or tempfile.mkdtemp(prefix="knob-report-")
    module = load_checked(a.model, "cpu", {META_NAME: ""})
    gen = module_generator(module)
    meta = read_meta(a.model).to_json_dict()
    record: dict = {}
    fits = _timed(f"fit ({a.draws} draws, {a.seeds} seeds)",
                  lambda: add_knobs(meta, gen, a.draws, a.seeds, quiet=True, record=record))
    path = os.path.join(out, "named.ts")
    save_loop_model(module, path, meta, quiet=True, force=True)
    written = read_meta(path)
    print(f"kept: {[k.name for k in written.knobs]}")
    if written.knobs:
        _timed(f"page of the kept {len(written.knobs)} (export's added time)",
               lambda: write_page(os.path.join(out, "kept"), gen, written, record, force=True))
    every = dataclasses.replace(written, knobs=tuple(
        NamedKnob(f.name, f.direction, f.sigma, f.spearman, f.crosstalk) for f in fits))
    _timed(f"page of all {len(fits)} fitted directions",
           lambda: write_page(os.path.join(out, "all"), gen, every, record, force=True))
    for f in fits:
        d = curve_data(f.name, *record["sweeps"][f.name], record["spread"])
        assert (d["spearman"], d["crosstalk"]) == (f.spearman, f.crosstalk), f.name
    if written.knobs:
        _timed("livegan knobs --report (measured again)",
               lambda: report_file(path, os.path.join(out, "file"), True, a.draws, a.seeds, quiet=True))
    print(f"pages under {out}")


if __name__ == "__main__":
    main()

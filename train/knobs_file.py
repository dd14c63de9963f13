"""``livegan knobs [MODEL.ts] [-o OUT.ts] [--report DIR]``: named knobs added to an existing model file (the
built-in one included), written through ``save_loop_model`` so the file passes export's self-checks; and/or
a report page per named knob (train/knob_report.py). Thread: main."""
from __future__ import annotations

import os

from livegan.errors import CLIError
from livegan.model import META_NAME, default_model_path, load_checked, read_meta
from train.descriptors import NAMES
from train.export import save_loop_model
from train.knobs import add_knobs, module_generator


def knobs_file(src, out, quiet: bool = False, n_fit: int = 1024, n_seeds: int = 32, force: bool = False,
               report=None) -> dict:
    """``livegan knobs``: fit named knobs for the model file ``src`` and write it with them to ``out`` through
    ``save_loop_model`` (the same self-checks as export); directions, sigmas and the sound are unchanged.
    An existing ``out`` is replaced only with ``force``, never when it is ``src``. ``report``: a folder for
    the knob page (``out`` None: the page of ``src``'s stored knobs, nothing fitted)."""
    from livegan.files import check_target
    from train.knob_report import check_targets, report_file, write_page

    src = os.fspath(src) if src else default_model_path()
    if out is None and report is None:
        raise CLIError("give -o OUT.ts (fit the knobs and write the model), --report DIR (a page per named knob), "
                       "or both")
    dim = read_meta(src).latent_dim
    if n_fit < 2 * (dim + 1):  # the regression has latent_dim + 1 unknowns
        raise CLIError(f"--draws {n_fit}: a {dim}-d latent needs at least {2 * (dim + 1)}")
    if out is None:
        return {"page": report_file(src, report, force, n_fit, n_seeds, quiet)}
    inputs = [(src, "the model")]
    check_target(out, "-o", force, inputs)  # before the fit's half a minute
    if report is not None:
        check_targets(report, NAMES, force, inputs + [(out, "the -o model")])
    meta = read_meta(src).to_json_dict()
    module = load_checked(src, "cpu", {META_NAME: ""})
    record: dict = {}
    generate = module_generator(module)
    add_knobs(meta, generate, n_fit, n_seeds, quiet=quiet, record=record)
    result = save_loop_model(module, out, meta, quiet=quiet, force=force, inputs=inputs)
    if report is not None:
        written = read_meta(out)
        if written.knobs:
            result["page"] = write_page(report, generate, written, record, force,
                                        f"Written by livegan knobs with {os.fspath(out)}; the curves are the "
                                        "fit's own sweeps.")
            if not quiet:
                print(f"knob page: {result['page']}")
        elif not quiet:
            print("knob page: no named knob kept, none written")
    return result


def cli_knobs(args) -> int:
    knobs_file(args.model, args.output, n_fit=args.draws, n_seeds=args.seeds, force=args.force, report=args.report)
    return 0

"""``livegan knobs [MODEL.ts] -o OUT.ts``: named knobs added to an existing model file (the built-in one
included), written through ``save_loop_model`` so the file passes export's self-checks. Thread: main."""
from __future__ import annotations

import os

from livegan.errors import CLIError
from livegan.model import META_NAME, default_model_path, load_checked, read_meta
from train.export import save_loop_model
from train.knobs import add_knobs, module_generator


def knobs_file(src, out, quiet: bool = False, n_fit: int = 1024, n_seeds: int = 32, force: bool = False) -> dict:
    """``livegan knobs``: fit named knobs for the model file ``src`` and write it with them to ``out`` through
    ``save_loop_model`` (the same self-checks as export); directions, sigmas and the sound are unchanged.
    An existing ``out`` is replaced only with ``force``, never when it is ``src``."""
    from livegan.files import check_target

    src = os.fspath(src) if src else default_model_path()
    inputs = [(src, "the model")]
    check_target(out, "-o", force, inputs)  # before the fit's half a minute
    meta = read_meta(src).to_json_dict()
    if n_fit < 2 * (meta["latent_dim"] + 1):  # the regression has latent_dim + 1 unknowns
        need = 2 * (meta["latent_dim"] + 1)
        raise CLIError(f"--draws {n_fit}: a {meta['latent_dim']}-d latent needs at least {need}")
    module = load_checked(src, "cpu", {META_NAME: ""})
    add_knobs(meta, module_generator(module), n_fit, n_seeds, quiet=quiet)
    return save_loop_model(module, out, meta, quiet=quiet, force=force, inputs=inputs)


def cli_knobs(args) -> int:
    knobs_file(args.model, args.output, n_fit=args.draws, n_seeds=args.seeds, force=args.force)
    return 0

"""``livegan render``: a performance re-rendered offline from MIDI automation (``livegan.offline``).

The CLI plays the automation through a patch (``--patch``, default the
generic patch): CCs and notes go to ``livegan.control.controller.Controller`` (knobs ->
directions in sigmas with pick-up takeover, seed notes, snapshot pads, morph,
buttons, effect parameters), the patch's effects chain runs as the engine's
``fx`` hook (``FxChain`` in FIFO mode: any block length, a constant latency of
128 frames), and ``livegan tempo X`` markers of a performance log become
``engine.set_tempo(X)`` (and the delay's tempo) at their frame.

Thread: main only.
"""
from __future__ import annotations

import math
import os

from livegan.errors import CLIError


def cli_render(args) -> int:
    from livegan.cli import RENDER_MAX_SECONDS
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.files import check_target
    from livegan.io.automation import take_start
    from livegan.io.journal import automation_events
    from livegan.model import SAMPLERATE_RANGE, default_model_path
    from livegan.offline import check_output, render_automation

    model_path = args.model or default_model_path()
    if args.model is None and not os.path.isfile(model_path):
        raise CLIError("no built-in model is installed yet: pass --model FILE.ts")
    if not (math.isfinite(args.seconds) and 0 < args.seconds <= RENDER_MAX_SECONDS):
        raise CLIError(f"--seconds must be in (0, {RENDER_MAX_SECONDS:g}], got {args.seconds}")
    if args.blocksize < 1:
        raise CLIError(f"--blocksize must be >= 1, got {args.blocksize}")
    if not SAMPLERATE_RANGE[0] <= args.samplerate <= SAMPLERATE_RANGE[1]:
        raise CLIError(f"--samplerate must be in {list(SAMPLERATE_RANGE)}, got {args.samplerate}")
    total = int(round(args.seconds * args.samplerate))
    check_output(args.output, total, 2)
    patch_path = args.patch or default_patch_path()
    inputs = _inputs(args.automation, patch_path, model_path)
    check_target(args.output, "output", args.force, inputs)
    if args.loops is not None:
        from livegan.io.loops import loops_folder

        loops_folder(args.loops, "--loops")
    patch = load_patch(patch_path)
    events = automation_events(args.automation, args.samplerate)  # a .mid, or an unfinished take's journal
    skip = take_start(events)  # a later take of a performance: render from frame 0, keep from the take on
    if skip > RENDER_MAX_SECONDS * args.samplerate:
        raise CLIError(f"automation file {args.automation}: its take starts at frame {skip}, "
                       f"more than {RENDER_MAX_SECONDS:g} s in")
    print(render_automation(model_path, patch, events, args.output, args.seconds, args.samplerate,
                            blocksize=args.blocksize, skip=skip, loops=args.loops, force=args.force, inputs=inputs))
    return 0


def _inputs(automation: str, patch: str, model: str) -> list:
    """What a render reads, as (path, what) pairs its ``-o`` must never be (``livegan.files``): the
    automation, the patch, the model, and for an unfinished take's journal the take's own files (its
    audio is the only copy of that performance)."""
    from livegan.io.takes import take_files

    out = [(automation, "the --automation file"), (patch, "the patch"), (model, "the model")]
    if os.path.splitext(automation)[1].lower() == ".journal":
        root = os.path.splitext(automation)[0]
        out += [(p, f"a file of the take {automation} records") for ext in (".wav", ".flac")
                for p in take_files(root + ext)]
    return out

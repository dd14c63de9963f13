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
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.files import check_target
    from livegan.model import default_model_path
    from livegan.offline import check_output, render_automation

    if args.set is not None or args.stems is not None:
        return _cli_render_set(args)
    model_path = args.model or default_model_path()
    if args.model is None and not os.path.isfile(model_path):
        raise CLIError("no built-in model is installed yet: pass --model FILE.ts")
    _check_numbers(args)
    total = int(round(args.seconds * args.samplerate))
    check_output(args.output, total, 2)
    patch_path = args.patch or default_patch_path()
    inputs = _inputs(args.automation, patch_path, model_path)
    check_target(args.output, "output", args.force, inputs)
    if args.loops is not None:
        from livegan.io.loops import loops_folder

        loops_folder(args.loops, "--loops")
    patch = load_patch(patch_path)
    events, skip = _events(args)
    print(render_automation(model_path, patch, events, args.output, args.seconds, args.samplerate,
                            blocksize=args.blocksize, skip=skip, loops=args.loops, force=args.force, inputs=inputs))
    return 0


def _check_numbers(args) -> None:
    from livegan.cli import RENDER_MAX_SECONDS
    from livegan.model import SAMPLERATE_RANGE

    if not (math.isfinite(args.seconds) and 0 < args.seconds <= RENDER_MAX_SECONDS):
        raise CLIError(f"--seconds must be in (0, {RENDER_MAX_SECONDS:g}], got {args.seconds}")
    if args.blocksize < 1:
        raise CLIError(f"--blocksize must be >= 1, got {args.blocksize}")
    if not SAMPLERATE_RANGE[0] <= args.samplerate <= SAMPLERATE_RANGE[1]:
        raise CLIError(f"--samplerate must be in {list(SAMPLERATE_RANGE)}, got {args.samplerate}")


def _events(args):
    """The automation's events at the output rate, and the frame its take starts at (``take_start``)."""
    from livegan.cli import RENDER_MAX_SECONDS
    from livegan.io.automation import take_start
    from livegan.io.journal import automation_events

    events = automation_events(args.automation, args.samplerate)  # a .mid, or an unfinished take's journal
    skip = take_start(events)  # a later take of a performance: render from frame 0, keep from the take on
    if skip > RENDER_MAX_SECONDS * args.samplerate:
        raise CLIError(f"automation file {args.automation}: its take starts at frame {skip}, "
                       f"more than {RENDER_MAX_SECONDS:g} s in")
    return events, skip


def _cli_render_set(args) -> int:
    """``render --set SET.toml [--stems DIR]``: every output is checked before any track renders."""
    from livegan.files import check_target
    from livegan.offline import check_output
    from livegan.set_file import load_set
    from livegan.set_render import check_space, render_set, stem_path

    if args.set is None:
        raise CLIError("--stems needs --set (one model's render has no tracks)")
    for opt in ("model", "patch", "loops"):
        if getattr(args, opt) is not None:
            raise CLIError(f"--{opt} and --set: the set file names each track's model and patch; give one")
    _check_numbers(args)
    total = int(round(args.seconds * args.samplerate))
    check_output(args.output, total, 2)
    s = load_set(args.set)
    inputs = _inputs(args.automation, args.set, s.tracks[0].model)  # the automation (and a take's files)
    inputs[1:3] = [(args.set, "the set file"), *[(t.model, f"the model of {t.where}") for t in s.tracks],
                   *[(t.patch_path, f"the patch of {t.where}") for t in s.tracks if t.patch_path]]
    check_target(args.output, "output", args.force, inputs)
    ext = os.path.splitext(args.output)[1].lower()
    if args.stems is not None:
        if os.path.exists(args.stems) and not os.path.isdir(args.stems):
            raise CLIError(f"--stems {args.stems}: is a file, not a folder")
        if not os.path.isdir(os.path.dirname(os.path.abspath(args.stems))):
            raise CLIError(f"--stems {args.stems}: its folder does not exist")
        for t in s.tracks:
            path = stem_path(args.stems, t.name, ext)
            if os.path.isdir(args.stems):
                check_output(path, total, 2)
            check_target(path, "stem", args.force, [*inputs, (args.output, "the mix this render writes")])
    check_space(args.output, total, len(s.tracks), args.stems is not None)
    events, skip = _events(args)
    print(render_set(s, events, args.output, args.seconds, args.samplerate, blocksize=args.blocksize, skip=skip,
                     stems=args.stems, force=args.force, inputs=inputs))
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

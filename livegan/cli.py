"""``livegan`` command line: one console script, stages imported lazily.

Each subcommand's handler lives in the module of its stage and is named in
``HANDLERS`` as "module:function"; nothing heavy (torch, numba, pyo) is
imported until a subcommand needs it, so ``livegan devices`` never loads torch.
"""
from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sys
import traceback

from livegan.errors import CLIError, ModelFileError
from livegan.model import SAMPLERATE_RANGE

HANDLERS = {
    "devices": "livegan.commands.devices:cli_devices",
    "info": "livegan.commands.info:cli_info",
    "train": "train.trainer:cli_train",
    "export": "train.export:cli_export",
    "wrap": "train.wrap:cli_wrap",
    "perform": "livegan.commands.perform:cli_perform",
    "render": "livegan.commands.render:cli_render",
    "learn": "livegan.commands.learn:cli_learn",
    "demo": "livegan.commands.demo:cli_demo",
    "knobs": "train.knobs_file:cli_knobs",
    "find": "livegan.commands.find:cli_find",
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except empty ones (None, False, []) that the help text already explains."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default == []:
            return action.help
        return super()._get_help_string(action)


# ---------------------------------------------------------------- option checks at the door
RENDER_MAX_SECONDS = 86400.0  # one day: a render past it is a typo (1e9), not a performance


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``livegan render: error: argument --seconds: ...``),
    the project's rule for bad input; ``--help`` still shows the usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def int_in(lo: int, hi: int):
    """argparse type: an integer in [lo, hi]."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], got {text!r}")
        return v
    parse.__name__ = "integer"
    return parse


def seconds_up_to(hi: float):
    """argparse type: a finite number of seconds in (0, hi]."""
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and 0 < v <= hi):
            raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, {hi:g}], got {text!r}")
        return v
    parse.__name__ = "seconds"
    return parse


def latency(text):
    """argparse type: 'low', 'high' or a number of seconds in (0, 10]."""
    if text in ("low", "high"):
        return text
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and 0 < v <= 10):
        raise argparse.ArgumentTypeError(f"must be 'low', 'high' or seconds in (0, 10], got {text!r}")
    return v


def torch_device(text):
    """argparse type: auto, cpu, cuda, cuda:N or mps (whether it exists here is checked on use)."""
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d{1,2})?", text):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda, cuda:N or mps, got {text!r}")
    return text


def _add_wrap(sub, fmt) -> None:
    """``livegan wrap``'s options (train/wrap.py)."""
    s = sub.add_parser("wrap", help="turn a third-party TorchScript decoder (RAVE / nn~ decode, or a plain "
                                    "forward) into a self-checked loop-model file", formatter_class=fmt)
    s.add_argument("model", help="a TorchScript decoder: decode(z[B, latent, T]) or forward(z[B, latent])")
    s.add_argument("-o", "--output", required=True, help="output .ts loop-model file")
    s.add_argument("--force", action="store_true",
                   help="replace an existing -o file (once the new one passes its checks)")
    s.add_argument("--sample-rate", type=int_in(*SAMPLERATE_RANGE), default=None,
                   help="the decoder's rate (default: its sr / sample_rate / sampling_rate attribute)")
    s.add_argument("--bpm", type=float, default=120.0, help="tempo the rendered bar means")
    s.add_argument("--bars", type=int_in(1, 64), default=1, help="bars per loop")
    s.add_argument("--beats-per-bar", type=int_in(1, 32), default=4, help="beats per bar")
    s.add_argument("--latent-dim", type=int_in(1, 4096), default=None,
                   help="the decoder's latent size (default: decode_params, or a latent_size / latent_dim attribute)")
    s.add_argument("--latent-dist", choices=("normal", "uniform"), default="normal", help="the decoder's prior")
    s.add_argument("--swing", type=float, default=0.5,
                   help="decode: how far the latent path swings out and back over the bar (0: a constant latent)")
    s.add_argument("--crossfade-ms", type=float, default=10.0, help="circular crossfade at the wrap")
    s.add_argument("--pca-renders", type=int_in(16, 4096), default=256,
                   help="forward: loops rendered for the PCA that finds the knob directions")
    s.add_argument("--name", default=None, help="model name in the metadata (default: the file's name)")
    s.add_argument("--no-knobs", action="store_true", help=NO_KNOBS)


NO_KNOBS = ("skip fitting the named knobs (brightness, weight, loudness, noisiness, density): saves the "
            "minute or two of CPU it takes")


def _add_knobs_and_find(sub, fmt) -> None:
    """``livegan knobs`` (train/knobs.py) and ``livegan find`` (livegan/commands/find.py)."""
    s = sub.add_parser("knobs", help="fit named knobs (brightness, loudness, ...) for a model file and write it "
                                     "with them", formatter_class=fmt)
    s.add_argument("model", nargs="?", default=None, help=".ts model file (default: the built-in model)")
    s.add_argument("-o", "--output", default=None, help="output .ts file (the same model, with named knobs)")
    s.add_argument("--report", default=None, metavar="DIR",
                   help="write DIR/knobs.html: a page per named knob (its sweep as spectrograms, its descriptor "
                        "curve, WAVs); without -o, of the model's stored knobs (docs/knobs.md)")
    s.add_argument("--force", action="store_true",
                   help="replace an existing -o file or --report page files (once the new ones are written)")
    s.add_argument("--draws", type=int_in(64, 65536), default=1024,
                   help="prior draws the directions are fitted on (--report alone: the prior spreads are measured on)")
    s.add_argument("--seeds", type=int_in(2, 1024), default=32,
                   help="held-out seeds each knob is judged on (and its --report curve drawn from)")
    s = sub.add_parser("find", help="place an audio loop in a model's latent space and play the model from there",
                       formatter_class=fmt)
    s.add_argument("loop", help="an audio file (any rate, length and channel count libsndfile reads)")
    s.add_argument("--model", default=None, help=".ts model file (default: the built-in model)")
    s.add_argument("-o", "--output", default=None, metavar="OUT.wav", help="write the model's loop at the found z")
    s.add_argument("--force", action="store_true", help="replace an existing -o file (once the new one is written)")
    s.add_argument("--steps", type=int_in(0, 10000), default=150, help="optimisation steps after the best draw")


def _add_osc(s) -> None:
    """perform's OSC control options."""
    s.add_argument("--osc", type=int_in(0, 65535), default=None, metavar="PORT",
                   help="OSC control on this UDP port (0: a free one, printed); addresses in docs/control.md")
    s.add_argument("--osc-host", default=None, metavar="HOST",
                   help="where the OSC server listens (default 127.0.0.1: this machine only); 0.0.0.0 or a LAN "
                        "address opens it, on purpose, to anyone who can reach this machine")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="livegan", description=__doc__.splitlines()[0],
                                formatter_class=_HelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fmt = _HelpFormatter

    s = sub.add_parser("devices", help="list audio outputs and MIDI inputs", formatter_class=fmt)

    s = sub.add_parser("info", help="show a model's metadata and time one loop", formatter_class=fmt)
    s.add_argument("model", help="a .ts loop-model file")
    s.add_argument("--device", type=torch_device, default="auto", help="cpu, cuda or auto")
    s.add_argument("--runs", type=int_in(1, 10000), default=20, help="timed generations (median is printed)")
    s.add_argument("--json", action="store_true", help="print machine-readable JSON")

    s = sub.add_parser("train", help="train a loop generator on a folder of audio", formatter_class=fmt)
    s.add_argument("data_dir", help="folder of audio loops (searched recursively)")
    s.add_argument("--preset", default="spectral", help="training preset (default: spectral)")
    s.add_argument("--out", required=True, help="run folder (checkpoints, previews, report)")
    s.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's)")
    s.add_argument("--device", default="auto", help="cuda, mps, cpu or auto")
    s.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    s.add_argument("--fit", choices=("stretch", "slice"), default=None,
                   help="fit files to the loop length by re-pitching the whole file or slicing it")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset field, e.g. --set lr=2e-4 (repeatable)")

    s = sub.add_parser("export", help="export a trained run as a .ts loop-model file", formatter_class=fmt)
    s.add_argument("run_dir", help="run folder written by `livegan train`")
    s.add_argument("-o", "--output", required=True, help="output .ts file")
    s.add_argument("--force", action="store_true", help="replace an existing -o file (once the new one is checked)")
    s.add_argument("--snapshot", choices=("best", "last"), default="best",
                   help="'best': the generator the run kept (presets with select_every, e.g. paper-plus: most "
                        "training loops reached by the fixed z, then lowest Frechet distance), else the last; "
                        "'last': the one at the last step")
    s.add_argument("--no-knobs", action="store_true", help=NO_KNOBS)

    _add_wrap(sub, fmt)
    _add_knobs_and_find(sub, fmt)

    s = sub.add_parser("perform", help="play a model live with MIDI knobs", formatter_class=fmt)
    s.add_argument("--model", default=None, help=".ts model file (default: the built-in model)")
    s.add_argument("--patch", default=None, help="patch .toml file (default: the generic patch)")
    s.add_argument("--set", default=None, metavar="SET.toml",
                   help="play a set: several models as tracks under one clock (docs/sets.md); not with --model/--patch")
    s.add_argument("--stems", action="store_true",
                   help="with --set and --record: each track's WAV beside each take (TAKE.stems/NAME.wav)")
    s.add_argument("--midi", default=None, help="MIDI input: index, name substring, or 'virtual'")
    s.add_argument("--device", default=None, help="audio output: index or name substring")
    s.add_argument("--record", default=None, metavar="OUT.wav", help="record the performance (WAV or FLAC)")
    s.add_argument("--stats-json", default=None, metavar="FILE", help="write run statistics here at exit")
    s.add_argument("--force", action="store_true",
                   help="let --stats-json replace an existing file (takes and loops never replace one: they "
                        "get the next free name)")
    _add_osc(s)
    _add_realtime(s)
    s.add_argument("--loops-dir", default=None, metavar="DIR",
                   help="where the l key and a save_loop button write the playing loop (default: the take's folder)")
    s.add_argument("--link", action="store_true", help="follow and lead an Ableton Link session (tempo, bar phase, "
                   "start/stop), as a patch with clock = \"link\"")

    _add_render(sub, fmt)

    s = sub.add_parser("learn", help="MIDI learn: move each control and write the patch", formatter_class=fmt)
    s.add_argument("--patch", required=True, help="patch .toml file to write")
    s.add_argument("--midi", default=None, help="MIDI input: index, name substring, or 'virtual'")

    s = sub.add_parser("demo", help="render (and play) a 30 s demo of the built-in model", formatter_class=fmt)
    s.add_argument("-o", "--output", default="livegan-demo.wav",
                   help="output WAV; if it exists and holds this demo it is played again, any other file is kept "
                        "and the demo goes to the next free name (NAME-2.wav)")
    s.add_argument("--no-play", action="store_true", help="only render, never play")
    return p


def _add_render(sub, fmt) -> None:
    """``livegan render``: one model (``--model``/``--patch``) or a set (``--set``, ``--stems``)."""
    s = sub.add_parser("render", help="render a performance offline from MIDI automation", formatter_class=fmt)
    s.add_argument("--automation", required=True, metavar="PERF.mid",
                   help="standard MIDI file of control events (or an unfinished take's TAKE.journal)")
    s.add_argument("--seconds", type=seconds_up_to(RENDER_MAX_SECONDS), required=True, help="length of the render")
    s.add_argument("-o", "--output", required=True, help="output WAV or FLAC")
    s.add_argument("--force", action="store_true",
                   help="replace an existing -o file (once the render is complete; never the automation it reads)")
    s.add_argument("--model", default=None, help=".ts model file (default: the built-in model)")
    s.add_argument("--patch", default=None, help="patch .toml file (default: the generic patch)")
    s.add_argument("--samplerate", type=int_in(*SAMPLERATE_RANGE), default=48000, help="output sample rate")
    s.add_argument("--blocksize", type=int_in(1, 65536), default=256, help="frames per process() call")
    s.add_argument("--loops", default=None, metavar="DIR",
                   help="also write each distinct loop that played into DIR (WAV + .json, as perform's l key)")
    s.add_argument("--set", default=None, metavar="SET.toml",
                   help="render a set of tracks (docs/sets.md) instead of one --model/--patch")
    s.add_argument("--stems", default=None, metavar="DIR",
                   help="with --set: each track's post-fader audio as DIR/NAME.wav (.flac for a .flac -o)")


def _add_realtime(s) -> None:
    """perform's real-time options: rate, block, latency, and the debug path for the callback."""
    s.add_argument("--samplerate", type=int_in(*SAMPLERATE_RANGE), default=None,
                   help="output sample rate (default: device's)")
    s.add_argument("--blocksize", type=int_in(16, 8192), default=None,
                   help="frames per audio callback (default: the JACK server's period on JACK, else 256)")
    s.add_argument("--latency", type=latency, default="low", help="'low', 'high' or seconds")
    s.add_argument("--seconds", type=seconds_up_to(1e7), default=None,
                   help="stop after this many seconds of audio played")
    s.add_argument("--debug-audio-thread", action="store_true",
                   help="debug path: run the audio callback, engine and effects in this process instead of an "
                        "audio process of their own, where another thread holding Python's GIL can delay the sound")


def _handler(command: str):
    modname, func = HANDLERS[command].split(":")
    return getattr(importlib.import_module(modname), func)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handler = _handler(args.command)
    try:
        rc = handler(args)
        sys.stdout.flush()  # a reader that left (`| head`) shows here, not in the interpreter's exit
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        rc = 128 + 13  # what a shell reports for a command SIGPIPE ended
    except (CLIError, ModelFileError) as e:
        if os.environ.get("LIVEGAN_DEBUG"):  # the traceback and the cause the one line stands for
            e.__suppress_context__ = False
            traceback.print_exception(e, file=sys.stderr)
        print(f"livegan {args.command}: error: {e}", file=sys.stderr)
        rc = 2
    except KeyboardInterrupt:
        print(f"livegan {args.command}: interrupted", file=sys.stderr)
        rc = 130
    _leave_now_if_a_forward_hangs(int(rc or 0))
    return int(rc or 0)


def _stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (``livegan devices | head -1``): then the
    command ends quietly, and what is still buffered goes to /dev/null, not into a second error at exit."""
    import select

    try:
        fd = sys.stdout.fileno()
        poll = select.poll()
        poll.register(fd, select.POLLOUT)
        if not any(ev & select.POLLERR for _, ev in poll.poll(0)):
            return False
        os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
        return True
    except (OSError, ValueError, AttributeError):  # stdout is no file (an in-process caller's capture)
        return False


def _leave_now_if_a_forward_hangs(rc: int) -> None:
    """A model's forward() that never returned still runs on an abandoned thread: torch cannot
    interrupt it, and at interpreter exit such a thread aborts the process ("terminate called
    without an active exception") or blocks it. Everything is saved by now: leave at once."""
    from livegan.faults import abandoned

    if abandoned():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)


if __name__ == "__main__":
    sys.exit(main())

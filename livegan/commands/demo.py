"""``livegan demo``: render 30 s of the built-in two-track set from the bundled automation, then play it.

The set (``livegan/data/demo_set.toml``: the built-in drums and bass) plays its automation
(``livegan/data/demo_set.mid``, rebuilt by ``scripts/make_demo_automation.py``), a performance log:
knob sweeps, seed changes, a filter sweep on the drums, the bass coming in on the bar at 4 s, the
set's scene "drop" at 11.5 s (its faders on the 12 s bar) and a tempo change from 120 to 132 BPM at
16 s. It goes through ``livegan render --set``, the same engine code path as ``livegan perform --set``
(``livegan.set_render.render_set``).

Thread: main.
"""
from __future__ import annotations

import os

from livegan.errors import CLIError
from livegan.offline import DEMO_RATE, DEMO_SECONDS


def render_demo(output: str, model: str | None = None, samplerate: int = DEMO_RATE) -> str:
    """The demo set playing its automation into ``output`` (what ``livegan render --set`` would write);
    -> the file that holds the demo. ``model``: every track plays that model file instead (tests).

    Never replaces a file: where ``output`` exists (the second ``livegan demo`` in a folder) the demo is
    rendered to the next free name (``livegan-demo-2.wav``); if ``output`` already holds exactly these
    samples (the render is deterministic) the new copy is removed and ``output`` is the demo, so running
    the demo again plays it again and leaves one file; any other file at ``output`` is kept and the
    demo stays under the new name, which is said."""
    from livegan.files import free_name
    from livegan.io.journal import automation_events
    from livegan.offline import DEMO_SET, DEMO_SET_AUTOMATION, check_output
    from livegan.set_file import load_set
    from livegan.set_render import render_set

    check_output(output, int(round(DEMO_SECONDS * samplerate)), 2)
    target = free_name(output)
    s = load_set(DEMO_SET)
    for t in s.tracks if model else ():
        t.model = model
    events = automation_events(DEMO_SET_AUTOMATION, samplerate)
    summary = render_set(s, events, target, DEMO_SECONDS, samplerate,
                         inputs=[(DEMO_SET_AUTOMATION, "the demo's automation"), (DEMO_SET, "the demo set")])
    if target == output:
        print(summary)
    elif _same_audio(output, target):
        os.remove(target)  # this run's own copy: the file already there is the demo
        print(f"{output} already holds this demo: kept, nothing new written")
        target = output
    else:
        print(summary)
        print(f"{output} exists and is not this demo: kept; the demo is in {target}")
    return target


def _same_audio(a: str, b: str) -> bool:
    """Whether sound files ``a`` and ``b`` hold the same samples at the same rate (a WAV's header
    differs between two renders: libsndfile stamps its PEAK chunk with the time)."""
    import numpy as np
    import soundfile as sf

    try:
        ia, ib = sf.info(a), sf.info(b)
        if (ia.samplerate, ia.channels, ia.frames) != (ib.samplerate, ib.channels, ib.frames):
            return False  # (and a long file of the user's is never read whole)
        return np.array_equal(sf.read(a, dtype="float32")[0], sf.read(b, dtype="float32")[0])
    except (OSError, RuntimeError, ValueError, MemoryError):  # not a sound file libsndfile reads
        return False


def _output_device():
    """Index of the default output device, or None where there is none (no sound card, no server)."""
    try:
        import sounddevice as sd
    except OSError:
        return None
    try:
        dev = sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError):
        return None
    return dev.get("index") if dev and dev.get("max_output_channels", 0) > 0 else None


def play_file(path: str) -> bool:
    """Play a rendered file on the default output; False where no device exists."""
    import soundfile as sf

    dev = _output_device()
    if dev is None:
        return False
    import sounddevice as sd

    data, sr = sf.read(path, dtype="float32", always_2d=True)
    print(f"playing {path} on output device {dev} ... (Ctrl-C stops)", flush=True)
    try:
        sd.play(data, sr, device=dev)
        sd.wait()
    except sd.PortAudioError as e:
        raise CLIError(f"could not play on output device {dev}: {e}; the demo is in {path}") from None
    except KeyboardInterrupt:
        sd.stop()
    return True


def cli_demo(args) -> int:
    from livegan.model import default_model_path

    if not os.path.isfile(default_model_path()):
        raise CLIError(f"the built-in model {default_model_path()} is missing: reinstall livegan")
    path = render_demo(args.output)
    if args.no_play:
        return 0
    if not play_file(path):
        print(f"no audio output device found: the demo is in {path}; play it with any audio player. "
              "(`livegan devices` lists outputs; see the README's troubleshooting for JACK.)")
    return 0

"""``livegan demo``: render 30 s of the built-in model from the bundled automation, then play it.

The automation (``livegan/data/demo.mid``, rebuilt by
``scripts/make_demo_automation.py``) is a performance log: knob sweeps on
the generic patch's direction knobs, seed changes, a filter sweep and a tempo
change from 120 to 132 BPM at 16 s. It goes through ``livegan render``, the
same engine code path as ``livegan perform``.

Thread: main.
"""
from __future__ import annotations

import argparse
import os

import numpy as np

from livegan.errors import CLIError

DEMO_SECONDS = 30.0
SR = 48000
HP_HZ = 11000.0  # above the model's Nyquist x any demo tempo ratio: only discontinuities land here
DEMO_AUTOMATION = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "demo.mid")


def render_demo(output: str, model: str | None = None, samplerate: int = 48000) -> None:
    from livegan.control.patch import default_patch_path
    from livegan.commands.render import cli_render

    ns = argparse.Namespace(automation=DEMO_AUTOMATION, seconds=DEMO_SECONDS, output=output, model=model,
                            patch=default_patch_path(), samplerate=samplerate, blocksize=256)
    cli_render(ns)


def render_demo_with_log(model_path=None, fx=False, blocksize=256):
    """(audio (frames, 2) float32, events (n, 4) int64, tempo markers [(frame, bpm)])."""
    from livegan.model import default_model_path, load_model
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.io.perflog import marker_bpm
    from livegan.commands.render import controls_apply, patch_controls, read_automation, render

    patch = load_patch(default_patch_path())
    model = load_model(model_path or default_model_path(), threads=1)
    events = read_automation(DEMO_AUTOMATION, SR)
    ec, chain, _ = patch_controls(patch, model.meta, SR, 2, fx=fx)
    engine, audio = render(model, events, int(DEMO_SECONDS * SR), sample_rate=SR, channels=2, blocksize=blocksize,
                           quantize=patch.quantize, crossfade_ms=patch.crossfade_ms, tempo=patch.tempo, fx=chain,
                           apply=controls_apply(ec), engine_kw=dict(controls=ec, z_fn=ec.z_fn))
    if chain is not None:
        chain.close()
    tempos = [(f, marker_bpm(m)) for f, m in events if marker_bpm(m) is not None]
    return audio, engine.events(), tempos, patch.crossfade_ms


def analyse_switches(audio, events, tempos, crossfade_ms, beats_per_bar=4):
    """The demo's switch intervals and click energies (pure; used by tests and benchmarks/demo_check.py).

    A click is broadband: energy above HP_HZ in the 5 ms around a switch start
    or crossfade end, in dB re the track's RMS, compared with every other 5 ms
    of the same track (the sinc kernel leaves faint images of the model's top
    octave everywhere, so the track's own distribution is the yardstick).
    """
    from scipy.signal import butter, sosfilt

    from livegan.audio import dsp

    switches = events[events[:, 1] == dsp.EV_SWITCH, 0]
    fades = events[events[:, 1] == dsp.EV_FADE_END, 0]
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    sos = butter(8, HP_HZ, "highpass", fs=SR, output="sos")
    hf = sosfilt(sos, audio.astype(np.float64), axis=0)
    half = int(0.0025 * SR)

    def db_at(frame):
        w = hf[max(0, frame - half):frame + half]
        return 20 * np.log10(np.sqrt(np.mean(w ** 2)) / rms + 1e-12)

    change = tempos[0][0] if tempos else len(audio)
    bar = {bpm: SR * 60.0 * beats_per_bar / bpm for bpm in (120.0, *(b for _, b in tempos))}
    gaps = np.diff(switches)
    before = gaps[switches[1:] <= change]
    after = gaps[switches[:-1] >= change + bar[120.0]]  # whole bars after the change
    click_db = [db_at(int(f)) for f in np.concatenate([switches, fades])]
    track = np.array([db_at(int(f)) for f in range(half, len(audio) - half, 2 * half)])  # every 5 ms
    return dict(n_switches=int(len(switches)), switch_frames=switches.tolist(), tempo_change_frame=int(change),
                bar_before=bar[120.0], bar_after=bar[tempos[0][1]] if tempos else None,
                gaps_before=before.tolist(), gaps_after=after.tolist(), click_db_max=float(max(click_db)),
                track_db_median=float(np.median(track)), track_db_p99=float(np.quantile(track, 0.99)), rms=rms)


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
    render_demo(args.output)
    if args.no_play:
        return 0
    if not play_file(args.output):
        print(f"no audio output device found: the demo is in {args.output}; play it with any audio player. "
              "(`livegan devices` lists outputs; see the README's troubleshooting for JACK.)")
    return 0

"""Check the demo: no clicks at loop switches, the loop grid follows the tempo change, and no hiss.

    python benchmarks/demo_check.py [--model M.ts] [--fx] [--loops runs/default/data.npz]

Renders the bundled demo automation (30 s, generic patch) through the same
``render`` as ``livegan demo``, keeping the engine's event log, and prints:

- the interval between loop switches before and after the tempo marker, next
  to one bar at 120 and at 132 BPM (a bar-quantised switch every bar means the
  grid follows the tempo);
- click energy at each switch. The built-in model's audio ends at its Nyquist
  frequency (22.05 kHz at 44.1 kHz), and the resampler is band-limited (at the
  48 kHz output's Nyquist when the tempo reads the loop faster), so a rendered
  signal without discontinuities has little between 22.5 and 24 kHz. A click is
  broadband: energy above 22.5 kHz in the 5 ms around a switch start or
  crossfade end, relative to the track's RMS, measures it. Effects are off by
  default because drive adds harmonics on purpose (--fx to include them). The
  switches are compared with every other 5 ms of the same track: the sinc
  kernel's transition band leaves some of the model's top band there, so "no
  click" means a switch window is no louder above 22.5 kHz than the track's own
  99th percentile.

Hiss: ``livegan demo``'s own render (``render_demo``, the file it plays) against the
loops the model was trained on (``--loops``: a training run's ``data.npz``, written by
``scripts/train_default_model.sh`` for the built-in model), as spectral flatness in
2-7 kHz over non-silent frames (``train.logmel_metrics.hiss``; 1 is white noise).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from livegan.testing.demo_check import DEMO_SECONDS, HP_HZ, analyse_switches, render_demo_with_log  # noqa: E402


def hiss_line(model: str | None, loops_npz: str) -> str:
    """One line: the hiss of ``livegan demo``'s render against the model's training loops'."""
    import json
    import tempfile

    import numpy as np
    import soundfile as sf

    from livegan.commands.demo import render_demo
    from train import logmel_metrics

    preset = os.path.join(os.path.dirname(loops_npz), "preset.json")  # the run's rate is the loops'
    if not (os.path.isfile(loops_npz) and os.path.isfile(preset)):
        return f"hiss: no {loops_npz} with a preset.json beside it (a training run's folder, e.g. runs/default)"
    with np.load(loops_npz, allow_pickle=False) as z:
        loops = z["loops"]
    with open(preset) as f:
        rate = int(json.load(f)["sample_rate"])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "demo.wav")
        render_demo(out, model)
        y, sr = sf.read(out, dtype="float32", always_2d=True)
    demo, train = logmel_metrics.hiss(y.T[None], sr), logmel_metrics.hiss(loops, rate)
    return (f"hiss (2-7 kHz flatness, 1 = white noise): livegan demo {demo:.3f}, its training loops {train:.3f} "
            f"({demo / train:.2f}x)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model (default: the built-in one)")
    ap.add_argument("--fx", action="store_true", help="render with the patch's effects on")
    ap.add_argument("--loops", default=os.path.join("runs", "default", "data.npz"),
                    help="the model's training loops, for the hiss line (a training run's data.npz)")
    args = ap.parse_args(argv)
    audio, events, tempos, xf = render_demo_with_log(args.model, fx=args.fx)
    r = analyse_switches(audio, events, tempos, xf)
    print(f"switches: {r['n_switches']} in {DEMO_SECONDS:g} s; tempo marker at frame {r['tempo_change_frame']}")
    print(f"switch interval before the change: {sorted(set(r['gaps_before']))} frames "
          f"(1 bar at 120 BPM = {r['bar_before']:.1f})")
    print(f"switch interval after the change:  {sorted(set(r['gaps_after']))} frames "
          f"(1 bar at {tempos[0][1]:g} BPM = {r['bar_after']:.1f})" if tempos else "")
    print(f"energy above {HP_HZ / 1000:g} kHz in the 5 ms around each switch / fade end: "
          f"max {r['click_db_max']:.1f} dB re track RMS; "
          f"every 5 ms of the track: median {r['track_db_median']:.1f} dB, "
          f"99th percentile {r['track_db_p99']:.1f} dB")
    print(hiss_line(args.model, args.loops))
    return 0


if __name__ == "__main__":
    sys.exit(main())

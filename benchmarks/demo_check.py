"""Check the demo: no clicks at loop switches, and the loop grid follows the tempo change.

    python benchmarks/demo_check.py [--model M.ts] [--fx]

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
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from livegan.testing.demo_check import DEMO_SECONDS, HP_HZ, analyse_switches, render_demo_with_log  # noqa: E402



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model (default: the built-in one)")
    ap.add_argument("--fx", action="store_true", help="render with the patch's effects on")
    args = ap.parse_args(argv)
    audio, events, tempos, xf = render_demo_with_log(args.model, fx=args.fx)
    r = analyse_switches(audio, events, tempos, xf)
    print(f"switches: {r['n_switches']} in {DEMO_SECONDS:g} s; tempo marker at frame {r['tempo_change_frame']}")
    print(f"switch interval before the change: {sorted(set(r['gaps_before']))} frames "
          f"(1 bar at 120 BPM = {r['bar_before']:.1f})")
    print(f"switch interval after the change:  {sorted(set(r['gaps_after']))} frames "
          f"(1 bar at {tempos[0][1]:g} BPM = {r['bar_after']:.1f})" if tempos else "")
    print(f"energy above {HP_HZ / 1000:g} kHz in the 5 ms around each switch / fade end: max {r['click_db_max']:.1f} dB "
          f"re track RMS; every 5 ms of the track: median {r['track_db_median']:.1f} dB, "
          f"99th percentile {r['track_db_p99']:.1f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

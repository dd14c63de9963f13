"""What ``SetEngine.process`` (a live set's callback body) keeps per span of blocks: 3 tracks of the
test engines, 64-frame blocks, loops switching during warm-up, then a warm-up span and ``--spans`` measured
spans of ``livegan.testing.alloc.spans`` (only the measuring thread's allocations count). Prints per span
the bytes the blocks kept, the traced peak above the span's start, and where the largest growth was.
    python benchmarks/set_alloc.py [--blocks 5000] [--spans 8]
Run it on a commit before d48af10 to see the Python field copies it replaced keep numpy objects.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from livegan.audio.engine import Engine  # noqa: E402
from livegan.audio.mixer import Mixer  # noqa: E402
from livegan.audio.set_engine import SetEngine  # noqa: E402
from livegan.model import validate_meta  # noqa: E402
from livegan.testing.alloc import spans  # noqa: E402
from livegan.testing.wiring import identity_controls  # noqa: E402

META = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                          latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                          directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=5000)
    ap.add_argument("--spans", type=int, default=8)
    a = ap.parse_args()
    loops = [np.random.default_rng(k).uniform(-0.6, 0.6, (1, 32768)).astype(np.float32) for k in range(3)]
    engines = []
    for k in range(3):
        e = Engine(META, identity_controls(META), sample_rate=48000, channels=2, quantize="bar")
        e.publish_loop(loops[k], 0)
        engines.append(e)
    se = SetEngine(engines, Mixer(3, 8192, 48000, limiter=True, master_db=3.0), 64)
    out = np.zeros((64, 2), np.float32)
    for i in range(3000):
        se.process(out)
        if i % 500 == 7:
            for k, e in enumerate(se.engines):
                e.publish_loop(loops[(i + k) % 3], -1, wait=lambda: se.process(out[:0]))
    print(f"SetEngine, 3 tracks, spans of {a.blocks} blocks of 64 frames:")
    for n, s in enumerate(spans(lambda i: se.process(out), a.blocks, a.spans)):
        print(f"  span {n + 1}: kept {s.net} B, peak {s.peak} B above start"
              + (f", most {s.top[0]}" if s.top else ""))


if __name__ == "__main__":
    main()

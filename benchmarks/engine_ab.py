"""``Engine.process`` cost per block, two checkouts side by side in one run (interleaved rounds).

Each round runs one child process per checkout, alternating which goes first; the child imports
``livegan`` from that checkout (``PYTHONPATH``) and times ``process`` on a steady engine (stereo
out at 48 kHz, a mono 16384 Hz loop, no audio server, no effects) as ``benchmarks/realtime.py
--cost`` does: one loop playing, and during a crossfade (two loops read). Only the public
``Engine`` API is used, so any two versions of it compare. Prints, per block size and case, the
median over rounds of each round's median microseconds per call, and B / A.

    python benchmarks/engine_ab.py A_CHECKOUT B_CHECKOUT [--rounds 8] [--calls 2000] [--blocks 64,256]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, time
import numpy as np
from livegan.audio.engine import Engine
from livegan.model import validate_meta
from livegan.testing.wiring import identity_controls

calls = int(sys.argv[1])
blocks = [int(b) for b in sys.argv[2].split(',')]
meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=2,
                          latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=[], sigmas=[],
                          training={}))
rng = np.random.default_rng(0)
res = {}
for bs in blocks:
    for fading in (False, True):
        e = Engine(meta, identity_controls(meta), sample_rate=48000, channels=2, quantize="none",
                   crossfade_ms=60000 if fading else 4)
        out = np.zeros((bs, 2), np.float32)
        e.publish_loop(rng.uniform(-.5, .5, (1, 32768)).astype(np.float32), 0)
        for _ in range(200):
            e.process(out)
        e.publish_loop(rng.uniform(-.5, .5, (1, 32768)).astype(np.float32), -1, wait=lambda: e.process(out[:0]))
        e.process(out)
        t = np.empty(calls)
        for i in range(calls):
            t0 = time.perf_counter()
            e.process(out)
            t[i] = time.perf_counter() - t0
        res[f"{bs} {'crossfade' if fading else 'one loop'}"] = float(np.median(t) * 1e6)
print(json.dumps(res))
"""


def run(tree: str, calls: int, blocks: str = "64,256") -> dict:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    r = subprocess.run([sys.executable, "-c", CHILD, str(calls), blocks], cwd=os.path.abspath(tree), env=env,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"{tree}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--calls", type=int, default=2000, help="timed process() calls per case per round")
    ap.add_argument("--blocks", default="64,256", help="block sizes, comma-separated (default: %(default)s)")
    args = ap.parse_args()
    runs = {"a": [], "b": []}
    run(args.a, 10), run(args.b, 10)  # each checkout's numba cache compiled before the first round
    for i in range(args.rounds):
        for k in ("ab" if i % 2 == 0 else "ba"):
            runs[k].append(run(getattr(args, k), args.calls, args.blocks))
    import numpy as np

    print(f"A = {args.a}\nB = {args.b}\n{args.rounds} rounds x {args.calls} calls; us per process() call, "
          "median over rounds of each round's median")
    print(f"{'block, case':<20} {'A':>8} {'B':>8} {'B/A':>6}   A range / B range")
    for case in runs["a"][0]:
        a = np.array([r[case] for r in runs["a"]])
        b = np.array([r[case] for r in runs["b"]])
        print(f"{case:<20} {np.median(a):8.1f} {np.median(b):8.1f} {np.median(b) / np.median(a):6.3f}   "
              f"{a.min():.1f}-{a.max():.1f} / {b.min():.1f}-{b.max():.1f}")


if __name__ == "__main__":
    main()

"""Cost of the pyo effects chain per 128-frame block (what the audio callback pays).

The chain runs as perform and render run it: through its ``pyo_block``-frame
FIFO (the only mode ``FxChain`` has), fed 128-frame blocks.

Each effect alone and the full chain (filter, drive, delay, reverb), mono and
stereo, 48 kHz, all stages active and a bypassed full chain. Prints median,
99th percentile and the share of the 2.667 ms a 128-frame block lasts.
``--flush-caches`` reads a 16 MB array before every timed block, as the other
threads and processes of a performance do between two callbacks: the chain's
state then comes from memory, not the caches (the cost the callback sees).
    python benchmarks/fx_cost.py [--blocks 5000] [--flush-caches]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("PYO_GUI_WX", "0")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from livegan.audio.fx import EFFECTS, FxChain, default_effect  # noqa: E402

SR, BLOCK = 48000, 128


FLUSH = np.ones(16 * 1024 * 1024 // 8)  # 16 MB, more than this VM's share of the last-level cache


def measure(types, channels, blocks, bypass=False, flush=False):
    effects = [default_effect(t) for t in types]
    for e in effects:
        e.bypass = bypass
    fx = FxChain(effects, SR, channels)
    x = (np.random.default_rng(0).standard_normal((BLOCK, channels)) * 0.2).astype(np.float32)
    b = x.copy()
    for _ in range(200):
        fx.process(b)
    ts = np.empty(blocks)
    for i in range(blocks):
        b[:] = x
        if flush:
            FLUSH.sum()
        t = time.perf_counter()
        fx.process(b)
        ts[i] = time.perf_counter() - t
    fx.close()
    return np.median(ts) * 1e6, np.percentile(ts, 99) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=5000)
    ap.add_argument("--flush-caches", action="store_true", help="evict the caches before every timed block")
    a = ap.parse_args()
    budget = BLOCK / SR * 1e6
    print(f"pyo manual server, FIFO chain, {SR} Hz, {BLOCK}-frame blocks ({budget:.0f} us each), "
          f"{a.blocks} timed blocks"
          + (", caches flushed before each" if a.flush_caches else ""))
    print(f"  {'chain':<30} {'ch':>2} {'median us':>10} {'p99 us':>8} {'% of block':>10}")
    rows = [([t], c, False) for c in (1, 2) for t in EFFECTS]
    rows += [(list(EFFECTS), c, False) for c in (1, 2)] + [(list(EFFECTS), 2, True)]
    for types, ch, byp in rows:
        med, p99 = measure(types, ch, a.blocks, byp, a.flush_caches)
        name = "+".join(types) + (" (bypassed)" if byp else "")
        print(f"  {name:<30} {ch:>2} {med:10.1f} {p99:8.1f} {100 * med / budget:9.2f}%")


if __name__ == "__main__":
    main()

"""Hot swap cost (``livegan.swap``): how long a swap of builtin:beats takes from the request to the model
being ready (load, contract check, warm-up, fit check, on the loader thread), and whether the other
track's loops stay on time while it loads.

Two tracks of builtin:beats at 120 BPM on the generic patch (quantize bar), stepped block by block at
the output's pace (48000 Hz, 256 frames: the lockstep loop of a live set without a sound card) with one
generator thread; track 1's knob moves on every bar, and track 2 is swapped to builtin:beats (a fresh
load: nothing cached) ``--swaps`` times, one every two bars. Prints a markdown table row set.

    python benchmarks/hot_swap.py --swaps 5
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RATE, BLOCK = 48000, 256


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swaps", type=int, default=5)
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.control.set_control import SetControl
    from livegan.control.sources import Event
    from livegan.generate.set_scheduler import SetGenerator
    from livegan.model import default_model_path, load_model
    from livegan.performance import build
    from livegan.swap import Swapper

    model = load_model(default_model_path(), threads=1)
    patch = replace(load_patch(default_patch_path()), quantize="bar", takeover="jump")
    parts = [build(model.meta, replace(patch, channel=k + 1), RATE, 2, fx=False) for k in range(2)]
    for p in parts:
        snap = p.controls.snapshot()
        p.engine.publish_loop(model.generate(np.asarray(snap[1], np.float32)[None])[0], 0)

    class Src:
        events: list = []

        def poll(self):
            out, self.events = self.events, []
            return out

    src, said = Src(), []
    live = SetControl([(p.controls, p.engine, k + 1) for k, p in enumerate(parts)], sources=[src])
    live.warn = live.note = said.append
    live.swapper = Swapper([(f"track {k + 1}", replace(patch, channel=k + 1), p.engine.meta)
                            for k, p in enumerate(parts)], ".")
    gen = SetGenerator([p.engine for p in parts], [model, model], block_frames=BLOCK)
    for g, p in zip(gen.tracks, parts):
        g.sched.done_seq = p.controls.seq
    bar = int(4 * 60 / parts[0].engine.transport.tempo * RATE)
    out = np.zeros((BLOCK, 2), np.float32)
    asked: list = []
    ready: list = []
    n_blocks = (2 * a.swaps + 3) * bar // BLOCK
    gen.start()
    t0 = time.monotonic()
    for b in range(n_blocks):
        f = b * BLOCK
        if f // bar != (f - BLOCK) // bar:
            src.events.append(Event("cc", channel=0, a=20, b=30 + (f // bar * 37) % 90))
            if (f // bar) % 2 == 1 and len(asked) < a.swaps:
                live.swapper.models.clear()  # a fresh load each time (a file already loaded is reused)
                src.events.append(Event("model", track=1, data="builtin:beats"))
                asked.append(time.perf_counter())
        c = parts[1].controls.c
        live.step()
        if parts[1].controls.c is not c:  # the swap was installed in this step
            ready.append(time.perf_counter())
        for p in parts:
            p.engine.process(out)
        time.sleep(max(0.0, t0 + (b + 1) * BLOCK / RATE - time.monotonic()))
    gen.stop()
    gen.join(10)
    waits = [r - q for q, r in zip(asked, ready)]
    s0, s1 = parts[0].engine.stats(), parts[1].engine.stats()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}, "
          f"torch {torch.__version__} on one thread; load average {os.getloadavg()[0]:.1f}")
    print("| swaps | request to ready, median s | max s | track 1 loops | track 1 late | track 2 loops | "
          "track 2 late | failed |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(waits)} | {np.median(waits):.3f} | {max(waits):.3f} | {s0['loops_generated']} | "
          f"{s0['late_loops']} | {s1['loops_generated']} | {s1['late_loops']} | "
          f"{sum('plays on' in m for m in said)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

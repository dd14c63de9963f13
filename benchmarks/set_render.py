"""Render cost of a set: 1, 2 and 4 tracks of the built-in model playing the same 30 s of demo automation
(``livegan/data/demo.mid``), torch on one thread.

Two measures, each the median of ``--repeats`` runs:
- the command a user runs, ``livegan render --set S.toml --automation demo.mid --seconds 30`` in a fresh
  process (start-up, imports, model load, numba cache load and pyo boot included);
- in one warm process, ``render_set`` split into its stages: loading the models (once per file), each
  track's render, the mixing pass (with stems written).
Tracks sit on channels 1..N; the demo's events are on channel 1, so track 1 plays the performance and
the others play their patch's first seed (the same work per loop: one generation per bar each).
    python benchmarks/set_render.py [--repeats 3] [--write benchmarks/results/sets.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("PYO_GUI_WX", "0")

DEMO = os.path.join(ROOT, "livegan", "data", "demo.mid")
SECONDS = 30.0
RATE = 48000


def set_file(folder: str, n: int) -> str:
    path = os.path.join(folder, f"set{n}.toml")
    with open(path, "w") as f:
        f.write("[master]\nlimiter = true\n")
        for k in range(n):
            f.write(f'[[track]]\nname = "t{k + 1}"\nmodel = "builtin:beats"\npan = {(k % 3 - 1) * 0.5}\n')
    return path


def cli_seconds(path: str, folder: str) -> float:
    out = os.path.join(folder, "cli.wav")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "livegan", "render", "--set", path, "--automation", DEMO, "--seconds",
                    str(SECONDS), "-o", out, "--force"], check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t


def stage_seconds(path: str, folder: str) -> dict:
    """One warm in-process render_set, timed by stage (the stages wrapped, nothing else changed)."""
    import livegan.set_render as sr
    from livegan.io.journal import automation_events
    from livegan.set_file import load_set

    times: dict = {"models": 0.0, "tracks": 0.0, "mix": 0.0}
    orig = (sr._models, sr._render_tracks, sr._mix)

    def timed(name, fn):
        def call(*a, **k):
            t = time.perf_counter()
            r = fn(*a, **k)
            times[name] += time.perf_counter() - t
            return r
        return call

    sr._models, sr._render_tracks, sr._mix = timed("models", orig[0]), timed("tracks", orig[1]), timed("mix", orig[2])
    try:
        s = load_set(path)
        ev = automation_events(DEMO, RATE)
        t = time.perf_counter()
        sr.render_set(s, ev, os.path.join(folder, "mix.wav"), SECONDS, RATE, stems=os.path.join(folder, "stems"),
                      force=True, say=lambda m: None)
        times["total"] = time.perf_counter() - t
    finally:
        sr._models, sr._render_tracks, sr._mix = orig
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", default=None, metavar="FILE.md", help="also write the table here")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        stage_seconds(set_file(folder, 1), folder)  # warm: numba kernels, pyo server, torch
        for n in (1, 2, 4):
            path = set_file(folder, n)
            cli = statistics.median(cli_seconds(path, folder) for _ in range(a.repeats))
            st = [stage_seconds(path, folder) for _ in range(a.repeats)]
            med = {k: statistics.median(x[k] for x in st) for k in st[0]}
            rows.append((n, cli, med))
    base_cli, base = rows[0][1], rows[0][2]["total"]
    lines = ["| tracks | CLI wall s | x 1 track | in-process s | x 1 track | models s | tracks s | mix+stems s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, cli, m in rows:
        lines.append(f"| {n} | {cli:.2f} | {cli / base_cli:.2f} | {m['total']:.2f} | {m['total'] / base:.2f} | "
                     f"{m['models']:.3f} | {m['tracks']:.2f} | {m['mix']:.2f} |")
    table = "\n".join(lines)
    print(table)
    if a.write:
        head = (f"# Set render cost\n\n- **Machine:** {platform.machine()}, {os.cpu_count()} cores visible, "
                f"{platform.python_version()}, torch {torch.__version__} on one thread\n"
                f"- **Date:** {time.strftime('%Y-%m-%d', time.gmtime())}\n"
                f"- **Command:** `python benchmarks/set_render.py --repeats {a.repeats} --write {a.write}`\n"
                f"- **What:** 1, 2, 4 tracks of builtin:beats, {SECONDS:g} s of livegan/data/demo.mid at {RATE} Hz, "
                "generic patch (its effects chain on), master limiter on, stems written in-process; "
                f"median of {a.repeats}.\n\n")
        with open(a.write, "w") as f:
            f.write(head + table + "\n")


if __name__ == "__main__":
    main()

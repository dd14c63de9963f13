"""Render cost of a set: 1, 2 and 4 tracks of the built-in model playing the same 30 s of demo automation
(``livegan/data/demo.mid``), torch on one thread.

Two measures, each the median of ``--repeats`` runs, as wall time and as CPU time (user + system; on a
shared machine the CPU time is the steadier of the two):
- the command a user runs, ``livegan render --set S.toml --automation demo.mid --seconds 30`` in a fresh
  process (start-up, imports, model load, numba cache load and pyo boot included);
- in one warm process, ``render_set`` split into its stages: loading the models (once per file), each
  track's render, the mixing pass (with stems written).
Tracks sit on channels 1..N and the demo's channel messages are copied onto each of them, so every track
plays the same performance: the same knob moves and seed notes, the same generations per bar.
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


def automation(folder: str, n: int) -> str:
    """The demo's automation with each channel message copied onto channels 1..n, at the same ticks: every
    track plays the same performance (the same knob moves, hence the same loops to generate)."""
    import mido

    src = mido.MidiFile(DEMO)
    out = mido.MidiFile(type=src.type, ticks_per_beat=src.ticks_per_beat)
    for tr in src.tracks:
        t = mido.MidiTrack()
        for m in tr:
            if hasattr(m, "channel"):
                t.extend(m.copy(channel=k, time=m.time if k == 0 else 0) for k in range(n))
            else:
                t.append(m)
        out.tracks.append(t)
    path = os.path.join(folder, f"demo{n}.mid")
    out.save(path)
    return path


def demo_of(set_path: str) -> str:
    """setN.toml -> the demoN.mid beside it (``automation``)."""
    folder, name = os.path.split(set_path)
    return os.path.join(folder, "demo" + name[3:-5] + ".mid")


def cli_seconds(path: str, folder: str) -> tuple[float, float]:
    out = os.path.join(folder, "cli.wav")
    demo = demo_of(path)
    t, c = time.perf_counter(), _child_cpu()
    subprocess.run([sys.executable, "-m", "livegan", "render", "--set", path, "--automation", demo, "--seconds",
                    str(SECONDS), "-o", out, "--force"], check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - t, _child_cpu() - c


def _child_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def stage_seconds(path: str, folder: str) -> dict:
    """One warm in-process render_set, timed by stage (the stages wrapped, nothing else changed)."""
    import livegan.set_render as sr
    from livegan.io.journal import automation_events
    from livegan.set_file import load_set

    times: dict = {"models": 0.0, "tracks": 0.0, "mix": 0.0, "tracks_cpu": 0.0}
    orig = (sr._models, sr._render_tracks, sr._mix)

    def timed(name, fn):
        def call(*a, **k):
            t, c = time.perf_counter(), time.process_time()
            r = fn(*a, **k)
            times[name] += time.perf_counter() - t
            if name == "tracks":
                times["tracks_cpu"] += time.process_time() - c
            return r
        return call

    sr._models, sr._render_tracks, sr._mix = timed("models", orig[0]), timed("tracks", orig[1]), timed("mix", orig[2])
    try:
        s = load_set(path)
        ev = automation_events(demo_of(path), RATE)
        t, c = time.perf_counter(), time.process_time()
        sr.render_set(s, ev, os.path.join(folder, "mix.wav"), SECONDS, RATE, stems=os.path.join(folder, "stems"),
                      force=True, say=lambda m: None)
        times["total"] = time.perf_counter() - t
        times["cpu"] = time.process_time() - c
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
        for n in (1, 2, 4):
            automation(folder, n)
        stage_seconds(set_file(folder, 1), folder)  # warm: numba kernels, pyo server, torch
        for n in (1, 2, 4):
            path = set_file(folder, n)
            runs = [cli_seconds(path, folder) for _ in range(a.repeats)]
            cli = {"wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs)}
            st = [stage_seconds(path, folder) for _ in range(a.repeats)]
            med = {k: statistics.median(x[k] for x in st) for k in st[0]}
            rows.append((n, cli, med))
    b_cli, b_in = rows[0][1], rows[0][2]
    lines = ["| tracks | CLI wall s | CLI CPU s | CPU x 1 track | in-process wall s | in-process CPU s | CPU x 1 track "
             "| models s | tracks CPU s | mix+stems s |", "|---:" * 10 + "|"]
    for n, cli, m in rows:
        lines.append(f"| {n} | {cli['wall']:.2f} | {cli['cpu']:.2f} | {cli['cpu'] / b_cli['cpu']:.2f} | "
                     f"{m['total']:.2f} | {m['cpu']:.2f} | {m['cpu'] / b_in['cpu']:.2f} | {m['models']:.3f} | "
                     f"{m['tracks_cpu']:.2f} | {m['mix']:.2f} |")
    table = "\n".join(lines)
    print(table)
    if a.write:
        head = (f"# Set render cost\n\n- **Machine:** {platform.machine()}, {os.cpu_count()} cores visible, "
                f"{platform.python_version()}, torch {torch.__version__} on one thread\n"
                f"- **Date:** {time.strftime('%Y-%m-%d', time.gmtime())}\n"
                f"- **Command:** `python benchmarks/set_render.py --repeats {a.repeats} --write {a.write}`\n"
                f"- **What:** 1, 2, 4 tracks of builtin:beats, {SECONDS:g} s of livegan/data/demo.mid at {RATE} Hz, "
                "generic patch (its effects chain on), the demo's events copied to every track's channel, master "
                "limiter on, stems written in-process; "
                f"median of {a.repeats}.\n\n")
        with open(a.write, "w") as f:
            f.write(head + table + "\n")


if __name__ == "__main__":
    main()

"""How each preset sounds after the same training time on real loops no one here wrote (issue 17).

    python benchmarks/sound.py [--minutes 30] [--presets spectral,wavegan] [--out runs/sound]

Data: Debian's ``sonic-pi-samples`` loops (``/usr/share/sonic-pi/samples/loop_*.flac``, 44.1 kHz stereo;
licences in ``/usr/share/doc/sonic-pi-samples/copyright``), one bar of each file: a file of about
k * 2 s holds k bars and its first is kept (a file under 1 s is doubled first), so every file gives one
2-s training loop once ``livegan train`` stretches it to the preset's bar.

Each preset trains for the same wall-clock time (``livegan train --set max_seconds=...``), one after the
other with every core, or with ``--parallel`` all at once, one thread each; then its exported snapshot renders
its 100 fixed z and one table compares them with the training loops themselves (a split-half row: the odd loops
scored against the even ones). Every row is scored against the same loops, prepared at 44.1 kHz
stereo. Writes ``OUT/sound.json``, ``OUT/sound.md`` (the table) and ``OUT/spectrograms.png``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SOURCE = "/usr/share/sonic-pi/samples"
RATE, LOOP = 44100, 88200  # the reference the table scores against: 2 s at 44.1 kHz, stereo
COLUMNS = ("fd", "fd_ratio", "coverage", "reached", "hiss", "hiss_ratio", "bandwidth_db", "bandwidth_10k_db", "seam",
           "copy_xcorr", "min_nn", "morph", "ms_per_loop")


def one_bar_per_file(src: str, dst: str) -> list[str]:
    """The first bar of every ``loop_*.flac`` in ``src`` as a WAV in ``dst``; -> the files written."""
    import soundfile as sf

    os.makedirs(dst, exist_ok=True)
    out = []
    for f in sorted(glob.glob(os.path.join(src, "loop_*.flac"))):
        x, sr = sf.read(f, dtype="float32", always_2d=True)
        while len(x) < sr:
            x = np.concatenate([x, x])
        bars = max(1, int(round(len(x) / sr / 2.0)))
        name = os.path.join(dst, os.path.basename(f)[:-5] + ".wav")
        sf.write(name, x[:int(round(len(x) / bars))], sr, subtype="FLOAT")
        out.append(name)
    return out


def train(data: str, presets: list[str], out: str, seconds: float, parallel: bool) -> dict:
    """``livegan train`` of each preset for ``seconds`` of training time, one after the other with every
    core, or (``parallel``) all at once with one thread each; -> {preset: wall seconds, report included}."""
    def start(name: str, threads: list[str]) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "livegan", "train", data, "--preset", name, "--out", os.path.join(out, name),
               "--set", f"max_seconds={seconds}", "--set", "steps=10000000", *threads]
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, f"{name}.stderr.txt"), "w") as err:  # the reason, where a run fails
            return subprocess.Popen(cmd, stderr=err)

    def failed(name: str) -> SystemExit:
        with open(os.path.join(out, f"{name}.stderr.txt")) as f:
            lines = [ln.strip() for ln in f if ln.strip()]
        return SystemExit(f"sound: training {name} failed: {lines[-1] if lines else 'no message'}")

    walls = {}
    if parallel:
        t = time.perf_counter()
        procs = {name: start(name, ["--set", "threads=1"]) for name in presets}
        for name, proc in procs.items():
            if proc.wait() != 0:
                raise failed(name)
            walls[name] = time.perf_counter() - t
        return walls
    for name in presets:
        t = time.perf_counter()
        if start(name, []).wait() != 0:
            raise failed(name)
        walls[name] = time.perf_counter() - t
    return walls


def generated(run: str):
    """(loops of the exported snapshot's 100 fixed z (N, C, L), its rate, the generator, the preset)."""
    import torch

    from train import checkpoint
    from train.config import from_dict
    from train.models import build_generator, render

    if not os.path.isfile(os.path.join(run, checkpoint.CKPT)):
        raise SystemExit(f"sound: {run} holds no training run to score (train it: leave out --score-only)")
    ck = checkpoint.load(run)
    p = from_dict(ck["preset"])
    g = build_generator(p, checkpoint.snapshot(ck, "best")[0])
    return render(g, ck["z_val"], torch.device("cpu")), p.sample_rate, g, p


def ms_per_loop(g, p, runs: int = 20) -> float:
    """Median ms per 2-s loop on one CPU thread of ``g`` as ``livegan export`` writes it (its playing form,
    compiled to TorchScript); interleaved with the other presets by the caller."""
    import torch

    from train import archs
    from train.export import to_script
    from train.models import ExportedGenerator

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    times = []
    latent_dim = p.latent_dim
    g = to_script(ExportedGenerator(archs.get(p.arch).playing_form(g)), torch.randn(1, latent_dim))
    with torch.inference_mode():
        for _ in range(3):  # TorchScript optimises its graph over the first calls
            g(torch.randn(1, latent_dim))
        for _ in range(runs):
            t = time.perf_counter()
            g(torch.randn(1, latent_dim))
            times.append(time.perf_counter() - t)
    torch.set_num_threads(before)
    return float(np.median(times)) * 1e3


def morph(g, p) -> float:
    """Knob 0's morph smoothness, as the run's own report measures it."""
    from train.report import _morph

    return float(_morph(g, p)["morph_smoothness"])


def score(train_loops, gen, gen_sr: int, real_fd: float, hiss_train: float) -> dict:
    from train import logmel_metrics
    from train.selection import reached

    m = logmel_metrics.evaluate(train_loops, gen, RATE, gen_sr)
    counts = logmel_metrics.nearest_counts(logmel_metrics.loop_vectors(train_loops, RATE),
                                           logmel_metrics.loop_vectors(gen, gen_sr))
    r = reached(counts, len(gen))
    # above 10 kHz too: a 16384 Hz model's hiss in the last 192 Hz below its Nyquist counts above 8 kHz
    m.update(fd_ratio=m["fd"] / real_fd, reached=float("nan") if r is None else r / len(train_loops),
             hiss_ratio=m["hiss"] / hiss_train,
             bandwidth_10k_db=logmel_metrics.bandwidth_db(train_loops, RATE, gen, gen_sr, hz=10000.0))
    return m


def table(rows: dict) -> str:
    head = "| | " + " | ".join(COLUMNS) + " |\n|---|" + "---|" * len(COLUMNS) + "\n"
    def cell(v):
        return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3g}"
    return head + "".join(f"| {name} | " + " | ".join(cell(r.get(c)) for c in COLUMNS) + " |\n"
                          for name, r in rows.items())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="training time per preset")
    ap.add_argument("--presets", default="spectral,wavegan")
    ap.add_argument("--out", default=os.path.join("runs", "sound"))
    ap.add_argument("--parallel", action="store_true",
                    help="train the presets at the same time, one thread each (default: one after the other)")
    ap.add_argument("--score-only", action="store_true", help="re-score the runs already in --out")
    a = ap.parse_args()
    from train import logmel_metrics
    from train.config import Preset
    from train.data import prepare
    from train.figures import spectrogram_grid_png

    data = os.path.join(a.out, "data")
    files = one_bar_per_file(SOURCE, data)
    if not files:
        raise SystemExit(f"sound: no loop_*.flac in {SOURCE} (Debian's sonic-pi-samples package)")
    loops = prepare(data, Preset(sample_rate=RATE, loop_samples=LOOP, channels=2), quiet=True)  # (N, 2, L)
    print(f"sound: {len(files)} files -> {len(loops)} training loops; {a.minutes:g} min per preset", flush=True)
    presets = a.presets.split(",")
    walls = {} if a.score_only else train(data, presets, a.out, a.minutes * 60.0, a.parallel)
    for name, wall in walls.items():
        print(f"sound: {name} trained in {wall:.0f} s wall (report included)", flush=True)
    half_a, half_b = loops[0::2], loops[1::2]
    real = logmel_metrics.evaluate(half_a, half_b, RATE)
    real.update(hiss=logmel_metrics.hiss(loops, RATE), bandwidth_db=0.0, bandwidth_10k_db=0.0)
    rows = {"training loops (odd vs even half)": dict(real, fd_ratio=1.0, hiss_ratio=1.0)}
    sets = {"training": (loops, RATE)}
    gens = {name: generated(os.path.join(a.out, name)) for name in presets}
    speed = {name: [] for name in presets}
    for _ in range(3):  # interleaved: the machine's noise hits every preset alike
        for name, (_, _, g, p) in gens.items():
            speed[name].append(ms_per_loop(g, p))
    for name, (gen, sr, g, p) in gens.items():
        rows[name] = score(loops, gen, sr, real["fd"], real["hiss"])
        rows[name].update(morph=morph(g, p), ms_per_loop=float(np.median(speed[name])),
                          steps=int(json.load(open(os.path.join(a.out, name, "train_time.json")))["steps"]))
        sets[name] = (gen, sr)
    text = table(rows)
    print(text)
    with open(os.path.join(a.out, "sound.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "sound.json"), "w") as f:
        json.dump({"minutes": a.minutes, "parallel": a.parallel, "walls": walls, "rows": rows,
                   "cpus": os.cpu_count()}, f, indent=1, default=float)
    spectrogram_grid_png(sets, os.path.join(a.out, "spectrograms.png"), n=4)
    return 0


if __name__ == "__main__":
    sys.exit(main())

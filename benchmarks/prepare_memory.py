"""Peak memory of preparing one long WAV: ``python benchmarks/prepare_memory.py [MB] [PRESET]``.

Writes a stereo 16-bit 44.1 kHz WAV of about MB megabytes (default 55) of noise, then runs
``train.data.prepare`` on it in a fresh process and prints that process's peak RSS, next to
the peak RSS of a process that only imports the same modules (the baseline).
Results: benchmarks/results/train.md.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

CHILD = """
import resource, sys, time
import numpy, soundfile, soxr, torch
from train.data import prepare
from train.presets import get_preset
t = time.perf_counter()
n = prepare(sys.argv[1], get_preset(sys.argv[2]), quiet=True).shape[0] if sys.argv[3] == "1" else 0
print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def peak(folder: str, preset: str, run: bool) -> tuple[int, float, float]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", CHILD, folder, preset, "1" if run else "0"], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> None:
    import numpy as np
    import soundfile as sf

    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 55.0
    preset = sys.argv[2] if len(sys.argv) > 2 else "wavegan"
    sr = 44100
    frames = int(mb * 1e6 / 4)  # 2 channels x 2 bytes
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "long.wav")
        with sf.SoundFile(path, "w", sr, 2, subtype="PCM_16") as f:
            rng = np.random.default_rng(0)
            for i in range(0, frames, sr * 10):  # written in pieces: this process stays small too
                f.write((0.1 * rng.standard_normal((min(sr * 10, frames - i), 2))).astype(np.float32))
        size = os.path.getsize(path) / 1e6
        _, _, base = peak(d, preset, False)
        n, secs, rss = peak(d, preset, True)
        print(f"{size:.1f} MB WAV ({frames / sr:.0f} s, 44.1 kHz stereo 16-bit), preset {preset}: {n} loops in "
              f"{secs:.1f} s; peak RSS {rss:.0f} MiB, imports alone {base:.0f} MiB, prepare adds {rss - base:.0f} MiB")


if __name__ == "__main__":
    main()

"""Peak memory of reading a large automation file: ``livegan render --automation`` and the reader alone.

Writes a type-0 standard MIDI file of N control changes (running status:
3 bytes an event, so 10^6 CCs make a 3 MB file) spread over SPAN seconds,
then runs each measurement in a fresh child process and reports its peak RSS
(``ru_maxrss`` of the child):

- ``reader``: ``livegan.io.automation.read_automation`` on the file (walks every event once);
- ``render``: ``python -m livegan render --automation BIG.mid --seconds 2`` with the
  tiny test model (reading dominates: the events past 2 s are never applied);
- ``render10``: the same render with a file of 10 CCs (torch, the model, pyo: what any render costs);
- ``baseline``: the same interpreter importing livegan.io.automation and doing nothing.

``--tree DIR`` runs the same measurements with another checkout's livegan on
PYTHONPATH (e.g. ``git archive da46ff6 | tar -x -C /tmp/old``) for a before/after.

    python benchmarks/automation_memory.py [--events 1000000] [--tree /tmp/old]
"""
from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_big_automation(path: str, n: int, span_s: float = 100.0) -> int:
    """A type-0 SMF with n CCs (channel 1, CC 20..27) over span_s seconds; returns its size in bytes."""
    tpb = 24000  # at 500000 us per beat: one tick = 1/48000 s, the perflog timing at 48 kHz
    step = max(1, int(span_s * 48000 / n))
    ev = bytearray()
    ev += b"\x00\xff\x51\x03\x07\xa1\x20"  # set_tempo 500000
    first = True
    for i in range(n):
        d = step if i else 0
        vl = bytearray([d & 0x7F])
        d >>= 7
        while d:
            vl.insert(0, 0x80 | (d & 0x7F))
            d >>= 7
        ev += vl
        if first:
            ev.append(0xB0)
            first = False
        ev += bytes([20 + (i & 7), i % 128])
    ev += b"\x00\xff\x2f\x00"
    data = b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpb) + b"MTrk" + struct.pack(">I", len(ev)) + bytes(ev)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


_WRAP = ("import resource, subprocess, sys\n"
         "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
         "sys.stderr.write(r.stderr[-2000:] if r.returncode else '')\n"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def peak_rss_mib(cmd: list[str], env: dict, cwd: str) -> tuple[float, float, int]:
    """(peak RSS MiB, wall seconds, return code) of ``cmd``, run under a wrapper whose only child it is
    (in ``cwd``, away from any checkout: ``-c`` and ``-m`` import from the current folder first)."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _WRAP, *cmd], env=env, cwd=cwd, capture_output=True, text=True,
                       check=True)
    sys.stderr.write(r.stderr)
    kib, rc = r.stdout.split()
    return int(kib) / 1024.0, time.perf_counter() - t0, int(rc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--tree", default=ROOT, help="checkout whose livegan is measured")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": os.path.abspath(args.tree),
           "JACK_NO_START_SERVER": "1", "PYO_GUI_WX": "0"}
    tmp = tempfile.mkdtemp(prefix="livegan-automem-")
    big = os.path.join(tmp, "big.mid")
    size = write_big_automation(big, args.events)
    small = os.path.join(tmp, "small.mid")
    write_big_automation(small, 10)
    model = os.path.join(tmp, "tiny.ts")
    subprocess.run([sys.executable, "-c", "from livegan.testing.tiny import make_tiny_generator, tiny_meta\n"
                    "from train.export import save_loop_model\n"
                    f"save_loop_model(make_tiny_generator(), {model!r}, tiny_meta(), quiet=True)"],
                   env=env, cwd=tmp, check=True)
    py = sys.executable
    runs = {
        "baseline": [py, "-c", "import livegan.io.automation"],  # (first: the dict's order is the report's)
        "reader": [py, "-c", "from livegan.io.automation import read_automation\n"
                             f"ev = read_automation({big!r}, 48000)\nprint(sum(1 for _ in ev))"],
        "render": [py, "-m", "livegan", "render", "--automation", big, "--seconds", "2", "--model", model,
                   "-o", os.path.join(tmp, "out.wav")],
        "render10": [py, "-m", "livegan", "render", "--automation", small, "--seconds", "2", "--model", model,
                     "-o", os.path.join(tmp, "out10.wav")],
    }
    probe = subprocess.run([py, "-c", "import livegan; print(livegan.__file__)"], env=env, cwd=tmp,
                           capture_output=True, text=True).stdout.strip()
    print(f"livegan from {probe}: {args.events} CCs, file {size / 1e6:.2f} MB")
    for name in runs:
        mib, secs, rc = peak_rss_mib(runs[name], env, tmp)
        print(f"{name:9s} peak RSS {mib:7.0f} MiB  {secs:6.1f} s  rc {rc}")


if __name__ == "__main__":
    main()

"""Another part of livegan holding the GIL cannot delay the sound: ``livegan perform`` on JACK while
a thread of the control process runs a numba kernel without ``nogil`` for 100 ms, ten times.

With the audio process (the default) every callback starts within one period of the moment JACK
invoked it, however long the control process's GIL is held, and the take has every frame the engine
played. The debug path (``--debug-audio-thread``: the callback in the control process) must show the
stall in the same measure: its callback waits for the GIL. Measured numbers:
benchmarks/results/realtime.md.

This VM also delays a callback now and then for reasons that are not the GIL (a C client gets
xruns here too; see benchmarks/results/realtime.md). So the audio process gets up to ``TRIES`` runs
and must give one in which no callback started a period late; the debug path cannot: each of its ten
holds delays a callback by the hold's length, in every run.

Skips only where no JACK server can run (the skip says why).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HOLDS, HOLD_S, GAP_S = 10, 0.100, 0.4
SECONDS = 1.0 + HOLDS * (HOLD_S + GAP_S) + 2.0  # the show: a second, the holds with their gaps, two more
TRIES = 3  # runs the audio process gets for one without a late callback (the VM's own hiccups)

DRIVER = r'''
import sys, threading, time
from numba import njit

@njit  # no nogil: the GIL is held from the call to the return
def spin(n):
    s = 0.0
    for i in range(n):
        s += (i % 7) * 1e-9
    return s

HOLDS, HOLD_S, GAP_S = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
spin(1000)
runs = []
for _ in range(3):  # a kernel cannot read a clock: its length is calibrated, by the fastest of three
    t = time.perf_counter(); spin(10_000_000); runs.append((time.perf_counter() - t) / 10_000_000)
per = min(runs)  # a busy machine slows a calibration run and shortens the holds; it only lengthens a hold
from livegan.commands.perform import Show
started = threading.Event()
Show.hooks.append(lambda stage, show: stage == "play" and started.set())

def hog():
    started.wait()
    time.sleep(1.0)
    held = []
    for _ in range(HOLDS):
        t = time.perf_counter()
        spin(int(HOLD_S / per))
        held.append(time.perf_counter() - t)
        time.sleep(GAP_S)
    print("HELD " + " ".join(f"{h:.3f}" for h in held), file=sys.stderr, flush=True)

threading.Thread(target=hog, daemon=True).start()
from livegan.cli import main
sys.exit(main(sys.argv[4:]))
'''


def _perform_with_hog(tiny_model, jack_server, tmp_path, audio: str) -> tuple[dict, list[float], str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    stats = tmp_path / f"{audio}.json"
    cmd = [sys.executable, "-c", DRIVER, str(HOLDS), str(HOLD_S), str(GAP_S), "perform", "--model", str(tiny_model),
           "--device", "jack", "--blocksize", str(jack_server["period"]),
           "--seconds", str(SECONDS),
           *(["--debug-audio-thread"] if audio == "thread" else []), "--record", str(tmp_path / f"{audio}.wav"),
           "--stats-json", str(stats)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    held = [float(x) for ln in r.stderr.splitlines() if ln.startswith("HELD ") for x in ln.split()[1:]]
    return json.loads(stats.read_text()), held, r.stderr


@pytest.mark.parametrize("audio", ["process", "thread"])
def test_gil_held_100ms_ten_times_in_the_control_process(tiny_model, jack_server, tmp_path, audio):
    runs = []
    for i in range(TRIES if audio == "process" else 1):
        s, held, err = _perform_with_hog(tiny_model, jack_server, tmp_path / str(i), audio)
        assert len(held) == HOLDS and min(held) >= 0.6 * HOLD_S and sum(held) >= 0.9 * HOLDS * HOLD_S, \
            f"the hog did not hold the GIL as meant: {held}\n{err}"
        period_ms = 1e3 * s["blocksize"] / s["samplerate"]
        print(f"audio {audio}: start delay ms median {s['start_delay_ms_median']:.3f} p99.9 "
              f"{s['start_delay_ms_p999']:.3f} max {s['start_delay_ms_max']:.3f} (period {period_ms:.2f} ms), "
              f"late starts {s['late_starts']}, xruns {s['xruns']}, held {held}")
        runs.append(s)
        if audio == "thread":  # the debug path: the measure sees the stall that the load figure cannot
            assert s["start_delay_ms_max"] > 0.5 * HOLD_S * 1e3 and s["late_starts"] >= HOLDS // 2, s
        elif s["start_delay_ms_max"] < period_ms:
            take = round(SECONDS * s["samplerate"])  # every frame of the show, to its last
            assert s["frames_recorded"] == take <= s["frames_played"] and s["ring_drops"] == 0, s
            return
    if audio == "process":
        pytest.fail(f"no run of {TRIES} kept every callback start under a period: "
                    f"{[(r['start_delay_ms_max'], r['late_starts'], r['xruns']) for r in runs]}")

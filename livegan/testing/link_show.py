"""A performance following an Ableton Link session in real time, with a second peer (shared by a test
and ``benchmarks/link_follow.py``). Run it inside a private network namespace
(``livegan.testing.netns``): ``python -m livegan.testing.link_show OUT_DIR``.

The peer (``link_peer.py``, a plain LinkPython-extern script in a second process) joins at 120 BPM, goes to 133
BPM at 4 s and back to 120 at 8 s, stops the session's transport at 16 s and starts it at 17 s
(start/stop sync), and notes its own timeline. livegan runs the real ``LinkTempo``,
``LiveControl`` (with its performance log), ``EngineControls`` and ``Engine``; this loop plays the
audio callback in real time: block k's callback runs no earlier than T0 + k * block / rate, its
first frame is heard ``LATENCY_S`` after that ideal time (a sound card's output clock), and the
``FrameClock`` learns the mapping from the callback times only, as on stage. At 12 s livegan asks
for 126 BPM itself (``LiveControl.ask_tempo``), which the peer should hear.

OUT_DIR gets rows.npy (per block: heard time, engine beat, engine tempo, running), audio.npy,
perf.mid (the performance log) and peer.json (the peer's notes). ``phase_errors`` compares the
beat heard at the output with the peer's timeline; ``render_again`` re-renders perf.mid.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from livegan.control.follow import FrameClock
from livegan.control.link import join_link
from livegan.control.live import LiveControl
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.io.perflog import PerfLog
from livegan.performance import build
from livegan.testing import clock_sim

SR, BLOCK, LATENCY_S = 48000, 256, 0.004
PEER_PLAN = [(4.0, 133.0), (8.0, 120.0), (16.0, "stop"), (17.0, "start")]
ASK_AT, ASK_BPM = 12.0, 126.0
SECONDS = 19.0
SEGMENTS = [(0.0, 4.0, 120.0), (4.0, 8.0, 133.0), (8.0, 12.0, 120.0), (12.0, 16.0, 126.0), (17.0, 19.0, 126.0)]
QUANTUM = 4


def patch():
    """The generic patch following Link."""
    return replace(load_patch(default_patch_path()), clock="link")


def run(out_dir: str, seconds: float = SECONDS) -> None:
    """The show (see the module docstring); files into ``out_dir``. Control thread = this one."""
    warm = build(clock_sim.tiny_meta(), patch(), SR, 2, fx=False).engine  # the kernels compiled (a fresh
    warm.publish_loop(clock_sim.sine_loop(), 0)  # clone has no numba cache) before the clock, on an engine
    warm.process(np.zeros((BLOCK, 2), np.float32))  # of its own: the show's first blocks then keep time
    parts = build(clock_sim.tiny_meta(), patch(), SR, 2, fx=False)
    ec, engine = parts.controls, parts.engine
    engine.publish_loop(clock_sim.sine_loop(), 0)
    link = join_link(engine)  # as livegan perform --link
    peer = start_peer(link, seconds)
    try:
        ring = np.zeros((16, 2))
        calls = [0]
        fc = FrameClock(ring, lambda: calls[0], SR, latency_s=LATENCY_S)
        log = PerfLog(SR)
        live = LiveControl(ec, engine, sources=[link], perflog=log, frame_clock=fc)
        n = int(seconds * SR / BLOCK)
        audio = np.zeros((n * BLOCK, 2), np.float32)
        rows = np.zeros((n, 4))
        t0 = go(peer)
        for k in range(n):
            t_ideal = t0 + k * BLOCK / SR
            d = t_ideal - time.monotonic()
            if d > 0:
                time.sleep(d)
            if k == int(ASK_AT * SR / BLOCK):
                live.ask_tempo(ASK_BPM)
            live.step()
            ring[calls[0] & 15] = (time.monotonic(), k * BLOCK)  # the callback of block k starts
            engine.process(audio[k * BLOCK:(k + 1) * BLOCK])
            calls[0] += 1
            rows[k] = (t_ideal + LATENCY_S, engine.transport.beat_at(k * BLOCK), engine.transport.tempo,
                       float(engine.running))
        live.flush()
        save(out_dir, rows, finish(peer, t0), audio, log)
    finally:
        link.close()
        peer.kill()
        peer.wait()


def start_peer(link, seconds: float):
    """The peer process, once it and ``link`` (livegan's) have found each other."""
    peer = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "link_peer.py"),
                             json.dumps(PEER_PLAN), str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    ready = peer.stdout.readline().split()
    if ready[:1] != ["ready"] or int(ready[1]) < 1:
        peer.kill()
        raise RuntimeError(f"the Link peer found no session: {ready}")
    while link.peers < 1:
        time.sleep(0.01)
    time.sleep(0.5)  # the two timelines have met
    return peer


def go(peer) -> float:
    """T0 (shortly from now) to the peer: its plan starts then. -> T0."""
    t0 = time.monotonic() + 0.3
    peer.stdin.write(f"{t0!r}\n")
    peer.stdin.flush()
    return t0


def finish(peer, t0: float) -> dict:
    """The peer's notes (and T0)."""
    notes = json.loads(peer.stdout.readline())
    notes["t0"] = t0
    return notes


def save(out_dir: str, rows, notes: dict, audio=None, log=None) -> None:
    np.save(os.path.join(out_dir, "rows.npy"), rows)
    with open(os.path.join(out_dir, "peer.json"), "w") as f:
        json.dump(notes, f)
    if audio is not None:
        np.save(os.path.join(out_dir, "audio.npy"), audio)
        log.save(os.path.join(out_dir, "perf.mid"))


def _notes(out_dir: str):
    with open(os.path.join(out_dir, "peer.json")) as f:
        notes = json.load(f)
    return np.array(notes["notes"]), notes["t0"]


def phase_errors(out_dir: str) -> list:
    """Per tempo segment, over its second half (steady state): the engine's tempo error and the beat
    heard at livegan's output minus the peer's timeline at that moment (ms, modulo the bar).
    rows.npy: (heard time, engine beat heard then, engine tempo, running) per row."""
    rows = np.load(os.path.join(out_dir, "rows.npy"))
    notes, t0 = _notes(out_dir)
    th, eb, tempo = rows[:, 0], rows[:, 1], rows[:, 2]
    j = np.searchsorted(notes[:, 0], th, side="right") - 1
    ok = (j >= 0) & (j < len(notes) - 1)
    th, eb, tempo, j = th[ok], eb[ok], tempo[ok], j[ok]
    truth = notes[j, 1] + (th - notes[j, 0]) * notes[j, 2] / 60.0
    err_ms = ((eb - truth + QUANTUM / 2) % QUANTUM - QUANTUM / 2) * 60.0 / notes[j, 2] * 1e3
    out = []
    for a, b, bpm in SEGMENTS:
        m = (th - t0 >= 0.5 * (a + b)) & (th - t0 < b)
        if m.any():
            e = err_ms[m]
            out.append(dict(bpm=bpm, tempo_err_max=float(np.abs(tempo[m] - bpm).max()),
                            phase_err_mean_ms=float(np.abs(e).mean()), phase_err_max_ms=float(np.abs(e).max()),
                            phase_bias_ms=float(e.mean()), rows=int(m.sum())))
    return out


def peer_tempo_between(out_dir: str, a: float, b: float) -> np.ndarray:
    """The tempi of the peer's own timeline from ``a`` to ``b`` seconds after T0."""
    notes, t0 = _notes(out_dir)
    return notes[(notes[:, 0] >= t0 + a) & (notes[:, 0] < t0 + b), 2]


def seconds_since_t0(out_dir: str) -> np.ndarray:
    """Each row's heard time in seconds after T0."""
    return np.load(os.path.join(out_dir, "rows.npy"))[:, 0] - _notes(out_dir)[1]


def render_again(out_dir: str) -> tuple:
    """``livegan render``'s loop on perf.mid with the same model and patch -> (recorded, re-rendered)."""
    from livegan.io.automation import read_automation
    from livegan.offline import render

    class Model:
        meta = clock_sim.tiny_meta()

        def generate(self, z):
            return clock_sim.sine_loop()[None]  # (batch, channels, samples)

    recorded = np.load(os.path.join(out_dir, "audio.npy"))
    events = read_automation(os.path.join(out_dir, "perf.mid"), SR)
    _, audio = render(Model(), build(Model.meta, patch(), SR, 2, fx=False), events, recorded.shape[0],
                      blocksize=BLOCK)
    return recorded, audio


if __name__ == "__main__":
    run(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else SECONDS)

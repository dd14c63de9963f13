"""A performance following an external MIDI clock, simulated block by block (shared by a test and
``benchmarks/clock_follow.py``).

Time is simulated: the audio callback of block k starts at ``k * block / sr``
plus a random scheduling delay (0..``cb_jitter_s``) and its first frame is
heard ``latency_s`` later; clock bytes from the sender are delivered with
the block whose start follows them (as JACK MIDI does), stamped with that
block's start. The real ``MidiHandler``, ``ClockFollower``, ``FrameClock``,
``LiveControl``, ``EngineControls`` and ``Engine`` do the rest, so the
measured phase error is the whole chain's: the beat heard at the output
minus the clock's beat at the same moment.
"""
from __future__ import annotations

import numpy as np

from livegan.control.follow import PPQN, FrameClock
from livegan.control.live import LiveControl
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.io.midi import MidiHandler, MidiSource
from livegan.io.perflog import PerfLog
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_meta as base_meta

SR, BLOCK = 48000, 256


class _Input:
    def __init__(self):
        self.handler = MidiHandler()

    @property
    def clock(self):
        return self.handler.clock


def tiny_meta():
    return validate_meta(base_meta(format=1, name="t", sigmas=[0.5] * 4, training={}))


def sine_loop():
    t = np.arange(32768) / 16384
    return (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None]


def sender(plan, seconds):
    """plan: [(t, "start" | "stop" | "continue" | ("spp", sixteenths) | ("bpm", x))] -> sorted
    [(t, bytes)] with 24 PPQN clock ticks at the current tempo from t=0, and the true song
    position (beats) as a function of time (the running tempo map)."""
    out, t, bpm, running = [], 0.0, 120.0, False
    marks = sorted(plan, key=lambda p: p[0])
    truth = []  # (t, beats, running, bpm) at each tick
    mi = 0
    tick_pos = 0  # ticks of song position
    while t < seconds:
        while mi < len(marks) and marks[mi][0] <= t:
            what = marks[mi][1]
            if what == "start":
                out.append((t, [0xFA]))
                running, tick_pos = True, -1
            elif what == "continue":
                out.append((t, [0xFB]))
                running = True  # the next tick follows the stopped (or SPP) position
            elif what == "stop":
                out.append((t, [0xFC]))
                running = False
            elif what[0] == "spp":
                out.append((t, [0xF2, what[1] & 127, what[1] >> 7]))
                tick_pos = what[1] * 6 - 1  # the next tick is at the song position
            else:
                bpm = what[1]
            mi += 1
        out.append((t, [0xF8]))
        if running:
            tick_pos += 1
        truth.append((t, tick_pos / PPQN, running, bpm))
        t += 60.0 / bpm / PPQN
    return out, np.array([(a, b, float(c), d) for a, b, c, d in truth])


def simulate(plan, seconds, latency_s=0.004, cb_jitter_s=0.0015, seed=0, perflog=True):
    """Run the chain; returns dict(frames, beats heard (engine), clock beats (truth) at each block
    start's heard time, running flags, audio, log, engine)."""
    rng = np.random.default_rng(seed)
    meta = tiny_meta()
    patch = replace(load_patch(default_patch_path()), clock="midi")
    parts = build(meta, patch, SR, 2, fx=False)
    ec, engine = parts.controls, parts.engine
    engine.publish_loop(sine_loop(), 0)
    mi = _Input()
    mi.handler.clock.latency_s = BLOCK / SR / 2  # JACK MIDI: events arrive half a period late on average
    ring = np.zeros((16, 2))
    calls = [0]
    fc = FrameClock(ring, lambda: calls[0], SR, latency_s=latency_s)
    clock_now = [0.0]
    log = PerfLog(SR) if perflog else None
    live = LiveControl(ec, engine, sources=[MidiSource(mi), mi.clock], perflog=log, frame_clock=fc,
                       now=lambda: clock_now[0])
    msgs, truth = sender(plan, seconds)
    n_blocks = int(seconds * SR / BLOCK)
    audio = np.zeros((n_blocks * BLOCK, 2), np.float32)
    rows = []
    mi_i = 0
    for k in range(n_blocks):
        t_block = k * BLOCK / SR
        while mi_i < len(msgs) and msgs[mi_i][0] <= t_block:
            mi.handler.handle(msgs[mi_i][1], t_block)  # delivered with this cycle, stamped with its start
            mi_i += 1
        clock_now[0] = t_block + rng.uniform(0, 0.001)
        live.step()
        t_cb = t_block + rng.uniform(0, cb_jitter_s)
        ring[calls[0] & 15] = (t_cb, k * BLOCK)
        engine.process(audio[k * BLOCK:(k + 1) * BLOCK])
        calls[0] += 1
        # the beat heard at t_block + latency (the block's first frame) vs the clock's there
        th = t_block + latency_s
        j = np.searchsorted(truth[:, 0], th, side="right") - 1
        if j >= 0 and truth[j, 2] > 0:
            clock_beat = truth[j, 1] + (th - truth[j, 0]) * truth[j, 3] / 60.0
        else:
            clock_beat = np.nan
        rows.append((th, engine.transport.beat_at(k * BLOCK), clock_beat, truth[max(j, 0), 3], engine.transport.tempo,
                     float(engine.running)))
    live.flush()
    return dict(rows=np.array(rows), audio=audio, log=log, engine=engine, live=live)

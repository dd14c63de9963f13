"""Scheduler: when to generate the next loop, and for which boundary.

When the controls change, the scheduler picks the first quantize boundary G
(in beats) whose frame is at least ``lead`` frames away, waits until
``frame(G) - lead``, then takes the *latest* control state, generates, and
publishes the loop for G. ``lead`` is the measured generation time (max of
the recent ones) plus a margin, so the loop is ready before its boundary.
A loop that still arrives late is counted by the callback and starts on the
next boundary; the current loop keeps playing meanwhile.

``Scheduler`` is pure frame arithmetic shared by the live generator thread
(``GeneratorThread``) and the render loop (which calls ``poll`` at exact
frames and generates synchronously: deterministic).
"""
from __future__ import annotations

import threading
import time

import numpy as np

from livegan.faults import fault_text


class Scheduler:
    def __init__(self, engine, lead_frames: int):
        self.engine = engine
        self.lead = int(lead_frames)
        self.done_seq = -1  # control seq of the last generated loop
        self.plan_beat = None  # boundary (beats) of the pending plan
        self.next_frame = None  # the frame of the next decision (``poll``), None when none is planned

    def decision_frame(self, beat: int) -> int:
        return self.engine.transport.frame_of_beat(beat) - self.lead

    def poll(self, now: int):
        """-> target beat to generate for right now (-1 = asap), or None; sets ``next_frame``.

        Thread: generator (live) or render loop.
        """
        e = self.engine
        self.next_frame = None
        if e.controls.seq == self.done_seq:
            return None
        q = int(e.track["quant"])
        if q == 0:
            self.plan_beat = None
            return -1
        if self.plan_beat is None:
            b = e.transport.beat_at(now + self.lead)
            self.plan_beat = e.transport.next_grid_beat(b, q)
        dec = self.decision_frame(self.plan_beat)
        if now >= dec:
            g, self.plan_beat = self.plan_beat, None
            return g
        self.next_frame = dec
        return None


def generate_loop(model, engine, snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Control snapshot -> ((C, N) float32 loop, (latent_dim,) float32 z it came from): the z goes
    with the loop to ``publish_loop`` (a saved loop records it). Generator thread (never the callback)."""
    if len(snapshot) > 2 and snapshot[2] is not None:  # the model a hot swap gave these controls
        model = snapshot[2]
    z = np.asarray(engine.controls.z(engine.meta, snapshot), np.float32)[None, :]
    return model.generate(z)[0], z[0].copy()


class GeneratorThread(threading.Thread):
    """Generator thread: watches the controls, generates ahead of the boundary, publishes.

    A generation that fails (the model raises, or its loop is not finite, of the wrong shape or
    dtype: ``Engine.publish_loop`` checks it before it reaches a slot) is counted in
    ``engine.faults`` with a one-line text, the current loop keeps playing, and the next control
    change tries again. ``stop`` then ``join`` ends it; a forward() that never returns keeps it
    alive (the caller must then leave with ``os._exit``: see ``livegan.faults.call_with_deadline``).
    """

    def __init__(self, engine, model, margin_s: float = 0.1, block_frames: int = 256,
                 initial_gen_s: float | None = None, rt_priority: int | None = None):
        super().__init__(name="livegan-generator", daemon=True)
        self.engine, self.model = engine, model
        self.margin = int(margin_s * engine.sample_rate) + 2 * int(block_frames)
        est = initial_gen_s if initial_gen_s is not None else (
            max(model.generate_seconds[-4:]) if getattr(model, "generate_seconds", None) else 0.1)
        self.recent = [est] * 8
        self.sched = Scheduler(engine, self._lead())
        self.stop_event = threading.Event()
        self.error = None
        self.spare_frames: list[int] = []
        self.rt_priority = rt_priority  # set only when generation runs elsewhere (genproc)
        self.busy_since = None  # time.monotonic() when the generation in progress began (the watch reads it)

    def _lead(self) -> int:
        return int(max(self.recent) * self.engine.sample_rate) + self.margin

    def run(self):
        """Generator thread body."""
        e = self.engine
        if self.rt_priority is not None:
            from livegan.audio.output import raise_thread_priority

            raise_thread_priority(self.rt_priority)
        try:
            while not self.stop_event.is_set():
                now = e.transport.frame
                g = self.sched.poll(now)
                if g is None:
                    wait_frames = 64 if self.sched.next_frame is None else self.sched.next_frame - now
                    self.stop_event.wait(min(0.005, max(0.0005, wait_frames / e.sample_rate / 2)))
                    continue
                snap = e.controls.snapshot()
                state = getattr(e.controls, "snap_frame", None)
                self.sched.done_seq = snap[0]  # a failed generation is retried at the next control change
                self.busy_since = time.monotonic()
                published = False
                try:
                    self._generate(snap, g)
                    published = True
                except Exception as ex:  # the show goes on: the current loop keeps playing
                    e.faults.add(fault_text(ex))
                finally:
                    self.busy_since = None
                if state is not None:  # logged by the control thread: the render makes the same loop here
                    e.controls.made.append((state, g, self._taken_frame() if published else e.transport.frame))
        except BaseException as ex:  # surfaced by the main thread; audio keeps playing the last loop
            self.error = ex

    def _taken_frame(self) -> int:
        """The block frame at which the callback took the loop just published: the render publishes it
        there, so its engine meets the loop at the same frame, on time or late alike (the frame read after
        publishing may be a block later, past a boundary the live loop made). The transport's frame if the
        show ends first. Generator thread."""
        e = self.engine
        while e.track["seen"] != e.bank.pub[0]["seq"]:
            if self.stop_event.wait(0.0005):
                return int(e.transport.frame)
        return int(e.track["seen_frame"])

    def _generate(self, snap, g: int) -> None:
        """Generate one loop for boundary ``g`` and publish it. Generator thread."""
        e = self.engine
        t0 = time.perf_counter()
        loop, z = generate_loop(self.model, e, snap)
        dt = time.perf_counter() - t0
        e.record_gen_time(dt)
        self.recent = self.recent[1:] + [dt]
        self.sched.lead = self._lead()
        loop_s = e.meta.bars * e.meta.beats_per_bar * 60.0 / e.transport.tempo
        if dt > loop_s:  # counted, and still published: it is a good loop, only late
            e.faults.add(f"a generation took longer than a loop ({loop_s:.2f} s): loops arrive late")
        e.publish_loop(loop, g, z=z)
        if g >= 0:  # frames to spare between publishing and the boundary (negative: late)
            self.spare_frames.append(e.transport.frame_of_beat(g) - e.transport.frame)

    def stop(self):
        self.stop_event.set()


def stop_generator(gen, wait_s: float = 10.0) -> bool:
    """Stop the generator thread and wait for a generation in progress (a thread left inside torch
    at interpreter exit aborts the process: "terminate called without an active exception").
    True if it is still running after ``wait_s`` (a forward() that never returns). Main thread."""
    gen.stop()
    if gen.ident is None:
        return False
    gen.join(wait_s)
    return gen.is_alive()


def first_loop(model, engine, snap, path):
    """(loop, z) the show starts with (``generate_loop``), under a deadline: a model that raises,
    breaks the contract or never returns here stops the show before it starts, with one line. Main
    thread."""
    from livegan.errors import ModelFileError
    from livegan.faults import GenerationTimeout, call_with_deadline, checked_loop, fault_text, gen_timeout_s

    m = engine.meta

    def checked():
        loop, z = generate_loop(model, engine, snap)
        return checked_loop(loop, m.channels, m.loop_samples), z

    try:
        return call_with_deadline(checked, gen_timeout_s(), "the first loop's forward()")
    except Exception as e:
        if hasattr(model, "close"):  # a generator process stuck in forward(): killed, not left behind
            model.close()
        if isinstance(e, GenerationTimeout):
            raise ModelFileError(path, str(e)) from None
        raise ModelFileError(path, f"the first loop failed ({fault_text(e)})") from None

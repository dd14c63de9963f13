"""One generator thread for every track of a live set, by deadline.

Each track keeps what a one-model show's generator has (``GeneratorThread``: its ``Scheduler``, its
measured generation times, its faults, the ``livegan loop`` record of each loop it made), but no thread
of its own: ``SetGenerator`` polls every track's scheduler and, of those due, generates first for the
track whose boundary comes first (a loop for "at once" counts as due now). A track's lead covers the
whole queue: its own generation time plus the others' (all tracks may change on one bar), plus the margin.
A generation that fails or comes late touches only its own track: the other tracks' loops are made
in their turn, and that track's current loop plays on (its engine counts the late loop).

Thread: the generator thread (``run``); ``stop`` from the main thread.
"""
from __future__ import annotations

import threading
import time

from livegan.faults import fault_text
from livegan.generate.scheduler import GeneratorThread


class SetGenerator(threading.Thread):
    def __init__(self, engines, models, block_frames: int = 256):
        super().__init__(name="livegan-generator", daemon=True)
        self.stop_event = threading.Event()
        self.tracks = [GeneratorThread(e, m, block_frames=block_frames) for e, m in zip(engines, models)]
        for g in self.tracks:
            g.stop_event = self.stop_event  # a track waits for its publish with the set's stop
        self.error: BaseException | None = None
        self.busy_since: float | None = None
        self._set_leads()

    def _set_leads(self) -> None:
        """Every track's lead: the sum of the tracks' recent worst generation times, plus its margin."""
        queue = sum(max(g.recent) for g in self.tracks)
        for g in self.tracks:
            g.sched.lead = int(queue * g.engine.sample_rate) + g.margin

    def _due(self):
        """-> (track, target beat) due now with the earliest boundary, or (None, wait seconds)."""
        best, wait = None, 0.005
        for k, g in enumerate(self.tracks):
            e = g.engine
            now = e.transport.frame
            beat = g.sched.poll(now)
            if beat is not None:
                when = now if beat < 0 else e.transport.frame_of_beat(beat)
                if best is None or when < best[2]:
                    if best is not None:  # the one passed over is asked again next round
                        self.tracks[best[0]].sched.plan_beat = best[1] if best[1] >= 0 else None
                    best = (k, beat, when)
                else:
                    g.sched.plan_beat = beat if beat >= 0 else None
            elif g.sched.next_frame is not None:
                wait = min(wait, max(0.0005, (g.sched.next_frame - now) / e.sample_rate / 2))
        return (best[0], best[1]) if best is not None else (None, wait)

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                k, beat = self._due()
                if k is None:
                    self.stop_event.wait(beat)
                    continue
                self._one(self.tracks[k], int(beat))
                self._set_leads()
        except BaseException as ex:  # surfaced by the main thread; audio keeps playing
            self.error = ex

    def _one(self, g: GeneratorThread, beat: int) -> None:
        """Generate and publish track ``g``'s loop for ``beat``, as ``GeneratorThread.run`` does one."""
        e = g.engine
        snap = e.controls.snapshot()
        state = getattr(e.controls, "snap_frame", None)
        g.sched.done_seq = snap[0]  # a failed generation is retried at the track's next control change
        self.busy_since = time.monotonic()
        published = False
        try:
            g._generate(snap, beat)
            published = True
        except Exception as ex:  # this track's current loop keeps playing
            e.faults.add(fault_text(ex))
        finally:
            self.busy_since = None
        if state is not None:
            e.controls.made.append((state, beat, g._taken_frame() if published else e.transport.frame))

    def stop(self) -> None:
        self.stop_event.set()

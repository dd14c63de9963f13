"""Takes: recording toggled live, each take a WAV (or FLAC) with its performance log beside it, and
the take naming rule (a take never replaces a file).

Thread: main (the control thread); the audio itself is written by each take's ``Recorder`` thread.
"""
from __future__ import annotations

import os
import time

from livegan.errors import CLIError


def take_files(path: str) -> list:
    """Every file a take at ``path`` writes: the audio (and a FLAC take's WAV while it records), the
    performance log ``.mid`` and its journal."""
    from livegan.io.recorder import recording_path

    root = os.path.splitext(path)[0]
    return sorted({path, recording_path(path), root + ".mid", root + ".journal"})


def take_path(first: str | None, n: int) -> str:
    """Where take n (1-based) goes: OUT.wav, OUT-2.wav, ... after --record OUT.wav; else a time-stamped
    livegan-YYYYmmdd-HHMMSS.wav in the current folder. Never a name whose audio, ``.mid`` or journal
    exists: the next free number instead (a second ``--record OUT.wav`` gives OUT-2.wav)."""
    if first:
        root, ext = os.path.splitext(first)
        p = first if n == 1 else f"{root}-{n}{ext}"
        k = max(2, n)
    else:
        p = time.strftime("livegan-%Y%m%d-%H%M%S.wav")
        root, ext = os.path.splitext(p)
        k = 2
    while any(os.path.lexists(f) for f in take_files(p)):
        p = f"{root}-{k}{ext}"
        k += 1
    return p


class Takes:
    """Recording toggled live (space on the keyboard, a ``record`` button): each take is a WAV
    with its performance log beside it (``TAKE.mid``: every control event since the performance
    began, and a ``livegan take FRAME`` marker where a later take's audio starts, so ``livegan
    render --automation TAKE.mid`` re-renders exactly that take).

    A take starts and ends on a block boundary: the engine's take ring, which the take's recorder
    drains, is swapped in at a block start (``Engine.attach_ring``); between takes the engine writes
    into a small meter ring (the panel's level) that ``drain_meter`` empties. Thread: main (the control thread).
    """

    JOURNAL_EVERY_S = 0.05  # the performance log reaches the disk this often while a take records
    MIN_TAKE_S = 1.0  # a take lasts at least this long (of the show's frames): see ``ask``

    def __init__(self, engine, rate: int, channels: int, perflog, first: str | None, say):
        self.engine, self.rate, self.channels, self.perflog, self.first, self.say = \
            engine, rate, channels, perflog, first, say
        self.meter = (engine.ring, engine.rst)  # the engine's ring 0 (perform makes one for the meter)
        self.rec = None  # the Recorder of the take in progress
        self.journal = None  # its performance log's journal (livegan.io.journal)
        self.n = 0
        self.frames = 0  # recorded by finished takes
        self.drops = 0
        self.start_frame = 0
        self.warning = ""  # the last write problem, for the panel
        self.errors = []  # what could not be written, for the end of the performance
        self._warned = False
        self._next_flush = 0.0
        self._stop_at = None  # a stop asked before the take was MIN_TAKE_S long: the frame it happens at
        self.end_frame = None  # ``--seconds``: the frame the show ends on; a take holds no frame past it

    @property
    def active(self) -> bool:
        return self.rec is not None

    def warn(self, msg: str) -> None:
        """A write problem: on the panel at once (and on stderr without one); the show goes on."""
        self.warning = msg
        self.say(f"warning: {msg}")

    def start(self, running: bool = True) -> None:
        """A new take under the next free name. Before the stream starts (``running`` False) a bad
        path raises CLIError; during the show it is a warning and no take."""
        from livegan.io.journal import Journal, journal_path
        from livegan.io.recorder import Recorder

        self.n += 1
        path = take_path(self.first, self.n)
        try:
            rec = Recorder(path, self.rate, self.channels, ring=self.engine.take_ring).start()
        except CLIError as e:
            if not running:
                raise
            self.warn(str(e))
            return
        self.engine.attach_ring(1)
        self.rec, self._warned, self._stop_at = rec, False, None
        self.start_frame = 0  # before the stream starts: from frame 0
        if running:
            self._wait_attached()
            self.start_frame = self.engine.rec_start_frame
            self.say(f"recording take {self.n}: {path}")
        if self.end_frame is not None:  # cut on the show's last frame by count, not by when the show noticed
            rec.limit = max(0, self.end_frame - self.start_frame)
        if self.perflog is not None:
            try:
                self.journal = Journal(journal_path(path), self.perflog, self.start_frame)
            except OSError as e:
                self.warn(f"journal {journal_path(path)}: cannot be written ({e.strerror or e}); the take's "
                          f".mid is written only at its end")

    def poll(self) -> None:
        """A stop that waited (``ask``) happens; show a write error at once; append new events to the
        journal. Main thread, every tick."""
        if self._stop_at is not None and self.engine.transport.frame >= self._stop_at:
            self.stop()
        rec = self.rec
        if rec is None:
            return
        if rec.error is not None and not self._warned:
            self._warned = True
            self.warn(f"take {self.n}: writing {rec.wav_path} failed ({rec.error}); the show goes on, "
                      f"the take's audio ends there")
        j = self.journal
        now = time.monotonic()
        if j is not None and now >= self._next_flush:
            self._next_flush = now + self.JOURNAL_EVERY_S
            if j.error is None:
                j.flush()
                if j.error is not None:
                    self.warn(f"journal {j.path}: writing failed ({j.error}); the events are kept for the .mid")

    def _wait_attached(self) -> None:
        end = time.monotonic() + 1.0
        while not self.engine.ring_attached() and time.monotonic() < end:
            time.sleep(0.001)

    def stop(self, running: bool = True) -> None:
        """End the take: WAV closed, ``.mid`` written, journal removed. A write error is kept in
        ``errors`` (and said) and the rest still happens. ``running`` False: the stream has stopped
        (the teardown), so no callback is left to take the meter ring back and none is waited for."""
        rec = self.rec
        if rec is None:
            return
        self._stop_at = None
        self.engine.attach_ring(0)
        if running:
            self._wait_attached()  # the callback writes no more into the take's ring
        self.rec = None
        try:
            rec.close()
        except CLIError as e:
            self.errors.append(str(e))
            if not self._warned:
                self.warn(str(e))
        self.frames += rec.frames_written
        self.drops += rec.dropped
        mid = os.path.splitext(rec.path)[0] + ".mid"
        n = 0
        j, self.journal = self.journal, None
        if self.perflog is not None:
            try:
                n = _save_atomically(self.perflog, mid, self.start_frame)
            except OSError as e:
                kept = f"; its events are in {j.path}" if j is not None and j.error is None else ""
                self.errors.append(f"performance log {mid}: cannot be written ({e.strerror or e}){kept}")
                self.warn(self.errors[-1])
                mid = None
        if j is not None:
            try:
                j.close(remove=mid is not None)
            except OSError:
                pass
        log = f"performance log {mid}: {n} events" if mid is not None else "no performance log (see the warning)"
        self.say(f"take {self.n}: {rec.path} ({rec.frames_written / self.rate:.1f} s), {log}")

    def toggle(self) -> None:
        """A record press that starts a take or stops the one in progress (``ask``). Main thread."""
        self.ask(None)

    def ask(self, on: bool | None) -> None:
        """A record press from any source (the keyboard, a record button, OSC): start a take (True),
        stop it (False) or toggle (None). A take lasts at least ``MIN_TAKE_S`` of the show: a stop asked
        sooner happens when the take is that long (``poll``) and a start asked meanwhile cancels it
        (the take goes on). So a take starts at most once per ``MIN_TAKE_S`` however fast presses
        come, and a press never loses audio: starts are never delayed, only stops. Each take's log
        marks the frame it really began at (``livegan take FRAME``), so its re-render agrees. Main thread."""
        recording = self.rec is not None and self._stop_at is None  # what the presses so far asked for
        want = (not recording) if on is None else bool(on)
        if want and self.rec is None:
            self.start()
        elif want:
            self._stop_at = None
        elif recording:
            self._stop_at = self.start_frame + int(self.MIN_TAKE_S * self.rate)
            self.poll()  # a take already that long stops now

    def drain_meter(self) -> None:
        if self.rec is None:
            rst = self.meter[1][0]
            rst["read"] = rst["written"]

    def recorded_frames(self) -> int:
        return self.frames + (self.rec.frames_written if self.rec else 0)

    def dropped(self) -> int:
        return self.drops + (self.rec.dropped if self.rec else 0)


def _save_atomically(perflog, mid: str, take_start: int) -> int:
    """``PerfLog.save`` through ``MID.part``: a failed write leaves no partial ``.mid``."""
    part = mid + ".part"
    try:
        n = perflog.save(part, take_start=take_start)
        os.replace(part, mid)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
    return n

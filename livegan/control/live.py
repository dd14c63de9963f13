"""The control thread of ``livegan perform``: sources -> controller -> performance log; a tempo
source -> the engine's tempo and beat grid.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from livegan.audio.transport import MAX_BPM, MIN_BPM
from livegan.control.admission import EngineControls
from livegan.control.sources import ControlSource, Event, TempoSource, close_sources, midi_bytes

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.audio.engine import Engine


class LiveControl:
    """The control thread of ``livegan perform``: ``sources``, one list (``livegan.control.sources``:
    in ``livegan perform`` the computer keyboard, MIDI, the MIDI clock with ``clock = "midi"``, Ableton
    Link with ``clock = "link"``, OSC), polled in its order -> ``EngineControls``, every applied event
    into the performance log at the engine frame it took effect; the list's tempo source (at most one)
    gives its tempo and beat grid -> the engine and the delay, and livegan's own tempo (``ask_tempo``)
    goes to it (two-way).

    A source's own thread (the MIDI thread) only stores CCs (last value wins)
    and pushes notes and transport into a ring; ``step`` polls every source in
    the list's order, applies their events to the Controller (those the keyboard
    applied itself are only logged) and stages them as one batch
    (``EngineControls.sync``). The audio thread
    admits the batch at the start of its next block; a later ``step`` writes
    the batch's events into the performance log at that block's first frame,
    which is the frame ``livegan render`` applies them at, so the re-render
    sees the same control timeline, effect knobs and tempo included.
    ``flush`` logs what was never admitted (the stream stopped) at the frame
    the next block would have started. Thread: control (the main thread of
    ``livegan perform``, which also draws the panel and reads the keys);
    ``step`` every few milliseconds.
    """

    TEMPO_STEP = 0.05  # BPM: smaller clock-tempo wobbles are not passed on (nor logged) while free-running
    PLL_TAU_S = 0.4  # a beat-phase error is worked off over about this long...
    PLL_MAX = 0.02  # ...by a tempo nudge of at most 2 % (about a third of a semitone, only while catching up)
    PLL_EVERY_S = 0.05  # at most this often (each nudge is a tempo marker in the performance log)
    RESYNC_S = 0.015  # a larger phase error re-locates the grid instead (ducked, click-free)...
    RESYNC_EVERY_S = 1.0  # ...at most this often (right after a Start the clock's tempo is still settling)

    def __init__(self, ec: EngineControls, engine: Engine, sources=(), perflog=None, frame_clock=None, now=None):
        self.ec, self.engine, self.perflog = ec, engine, perflog
        self.sources = list(sources)  # ControlSources and at most one TempoSource, in the order polled
        self._polled = [s for s in self.sources if isinstance(s, ControlSource)]
        clocks = [s for s in self.sources if isinstance(s, TempoSource)]
        if len(clocks) > 1:
            raise ValueError(f"one tempo source at a time, got {len(clocks)}: {clocks}")
        self.tempo_source = clocks[0] if clocks else None  # the beat grid follows it; None: the patch's own tempo
        self.last = ""  # what the last event did, for the panel
        self.applied = 0
        self.transport = ""  # "start" / "stop" / "continue" from a source
        self.tempo = engine.transport.tempo  # the last tempo asked of the engine
        self.frame_clock = frame_clock  # livegan.control.follow.FrameClock: phase lock needs it
        self.now = now or time.monotonic
        self.need_locate = False  # a Start / Continue / resync waits for the clock's next position
        self.running = True  # what we asked of the engine's transport
        self._next_pll = 0.0
        self._last_locate = -1e9
        self.on_action = None  # callable(action) for button actions such as "record"
        self.on_find = None  # callable(path) -> one line: a search for that audio file (livegan.control.finder)
        self._pending: list = []  # (batch, [raw MIDI or ("tempo", bpm)]) waiting for admission
        self.warn = None  # callable(text): one line for the performer (a clock tempo held at the model's limit)
        self.note = None  # callable(text): one line for the performer that is no warning (a search's point)
        self._held = False  # the clock's tempo is above what the model can play here
        self._asked: float | None = None  # livegan's own tempo (``ask_tempo``), for the next step
        self.track = 0  # a set's track number (its loops' markers name it); 0: the one model

    def frame(self) -> int:
        return self.engine.transport.frame

    def start(self) -> None:
        """Each source's ``plug(self)``, once, after ``on_action`` and ``warn`` are set (OSC starts
        serving the patch played). Main thread, before the show."""
        for src in self.sources:
            if hasattr(src, "plug"):
                src.plug(self)

    def close(self) -> list:
        """Each source's ``close``; -> the warnings they gave. Main thread, at the end of the show."""
        return close_sources(self.sources)

    def stats(self) -> dict:
        """The sources' own counters (OSC's accepted and rejected messages), for the panel and
        ``--stats-json``. Any thread."""
        out = {}
        for src in self.sources:
            if hasattr(src, "stats"):
                out.update(src.stats())
        return out

    def _drain_log(self) -> None:
        """Batches the audio thread has admitted -> the performance log at their admission frame."""
        ec = self.ec
        while self._pending and ec.admitted >= self._pending[0][0]:
            b, msgs = self._pending.pop(0)
            self._write(int(ec.admit_frame[b % len(ec.admit_frame)]), msgs)
        made = getattr(ec, "made", None)
        while made:  # the generator's loops (each from an admitted batch, whose events are logged above)
            state, beat, frame = made.popleft()
            if self.perflog is not None:
                self.perflog.loop(frame, beat, state, self.track)

    def _write(self, frame: int, msgs) -> None:
        if self.perflog is None:
            return
        for m in msgs:
            if m[0] == "tempo":
                self.perflog.tempo(frame, m[1])
            elif m[0] == "locate":
                self.perflog.locate(frame, m[1], m[2])
            elif m[0] == "run":
                self.perflog.running(frame, m[1])
            elif m[0] == "base":
                self.perflog.base(frame, m[1], self.track)
            elif m[0] == "model":
                m[1].log(self.perflog, frame, self.track)
            else:
                self.perflog.log(frame, m)

    def flush(self) -> None:
        """At the end (stream stopped): log what was admitted, then the rest at the frame where
        the next block would have admitted it. Control thread."""
        self._drain_log()
        for _, msgs in self._pending:
            self._write(self.frame(), msgs)
        self._pending.clear()

    def step(self) -> None:
        """Poll the sources, apply their events, follow the tempo source, stage one batch. Control thread."""
        self._drain_log()
        msgs = []
        for src in self._polled:
            for ev in src.poll():
                m = midi_bytes(ev, self._knob_cc)
                if m is not None:  # (a tempo is logged as its marker by _apply)
                    msgs.append(m)
                if not ev.applied:
                    self._apply(ev, msgs)
        if self._asked is not None:
            self._own_tempo(self._asked, msgs)
        if self.tempo_source is not None:
            self._follow_clock(self.tempo_source, msgs)
        b = self.ec.sync(force=bool(msgs))  # keys reached the Controller directly: publish them too
        if msgs:
            self._pending.append((b, msgs))
        for a in self.ec.c.actions:  # button actions (record): the caller's
            if self.on_action is not None:
                self.on_action(a)
        self.ec.c.actions.clear()

    def ask_tempo(self, bpm: float) -> None:
        """livegan's own tempo (the performer's), applied by the next step: told to the tempo source
        (Ableton Link shares it with the session and the grid follows it back like a peer's change;
        a MIDI clock keeps the lead), or with none, staged and logged. Control thread."""
        self._asked = float(bpm)

    def _own_tempo(self, bpm: float, msgs) -> None:
        self._asked = None
        if self.tempo_source is not None:
            self.tempo_source.publish(bpm, self.engine.transport.beat_at(self.frame()), self.now())
            return
        bpm = round(min(self.engine.max_tempo, MAX_BPM, max(MIN_BPM, bpm)), 3)  # as the log keeps it
        if bpm != self.tempo:
            self.tempo = bpm
            self.ec.stage_tempo(bpm)
            msgs.append(("tempo", bpm))

    def _knob_cc(self, index: int) -> int:
        return self.ec.c.patch.knobs[index].cc

    def _apply(self, ev: Event, msgs) -> None:
        if ev.kind in ("cc", "knob"):
            cc = ev.a if ev.kind == "cc" else self._knob_cc(ev.a)
            self.last = self.ec.c.on_cc(cc, ev.b / 127.0) and f"CC {cc} = {ev.b}" or self.last
            self.applied += 1
        elif ev.kind == "note_on":
            self.last = self.ec.c.on_note(ev.a, ev.b) or self.last
            self.applied += 1
        elif ev.kind in ("start", "stop", "continue"):
            self.transport = ev.kind
            if self.tempo_source is not None:
                self._transport(ev.kind == "stop", msgs)
        elif ev.kind == "tempo":
            self._set_tempo(ev.b / 1000.0, msgs)
        elif ev.kind == "record" and self.on_action is not None:
            self.on_action("record_on" if ev.b else "record_off")
        elif ev.kind == "find":
            self.last = self.on_find(ev.data) if self.on_find is not None else "find: not in this show"
        elif ev.kind == "base":
            z, text = ev.data
            if self.ec.c.set_base(z):
                msgs.append(("base", z))
                self.applied += 1
            self.last = text
            if self.note is not None:
                self.note(text)
        elif ev.kind == "model":  # a model loaded off this thread (``livegan.swap.Swap``): from this batch on
            self.last = ev.data.install(self.ec)
            msgs.append(("model", ev.data))
            self.applied += 1
        # note_off: no effect, kept in the log for a DAW's eyes

    def _set_tempo(self, bpm: float, msgs) -> None:
        """A source's tempo (OSC), staged and logged as a tempo marker; with a tempo source it is asked
        of the source instead (a Link session takes it and the grid follows it back; a clock ignores it)."""
        if self.tempo_source is not None:
            self.ask_tempo(bpm)
            return
        bpm = round(self.engine.clamp_tempo(bpm), 3)  # the log keeps 3 decimals: render gets the same
        if bpm != self.tempo:
            self.tempo = bpm
            self.ec.stage_tempo(bpm)
            msgs.append(("tempo", bpm))
            self.last = f"tempo {bpm:g}"
            self.applied += 1

    def _transport(self, stop: bool, msgs) -> None:
        """Start / Continue: lock to the clock's position at its next tick; Stop: the loops duck out
        and the beat stands still."""
        if stop:
            self.need_locate = False
            if self.running:
                self.running = False
                self.ec.stage_running(False)
                msgs.append(("run", 0))
        else:
            self.need_locate = True

    def _heard_time(self, frame: float) -> float:
        fc = self.frame_clock
        return fc.time_of(frame) if fc is not None and fc.offset is not None else self.now()

    def _follow_clock(self, clk: TempoSource, msgs) -> None:
        """Tempo from the clock; with its transport running (after Start / Continue), the beat grid
        locked to its song position: a locate to get there, then a small tempo nudge (a phase-locked
        loop) keeps the beat heard at the output within a few ms of the clock's."""
        bpm = clk.tempo_bpm
        if bpm <= 0:
            return
        if self.frame_clock is not None:
            self.frame_clock.update()
        now = self.now()
        target = bpm
        locked = clk.running and self.running and not self.need_locate
        if self.need_locate and clk.running and clk.has_position:
            f = self.frame()  # this frame is at the output when the clock is at beats_at(its time)
            beat = round(clk.beats_at(self._heard_time(f)), 6)  # the log keeps 6 decimals
            self.ec.stage_locate(beat, f)
            msgs.append(("locate", beat, f))
            if not self.running:
                self.running = True
                self.ec.stage_running(True)
                msgs.append(("run", 1))
            self.need_locate = False
            self._last_locate = now
            self._next_pll = now + 0.1  # let the duck and the jump pass before measuring again
        elif locked and self.frame_clock is not None and self.frame_clock.offset is not None:
            if now < self._next_pll:
                return
            self._next_pll = now + self.PLL_EVERY_S
            fc = self.frame_clock
            err = clk.beats_at(now) - self.engine.transport.beat_at(fc.frame_at(now))
            if abs(err) * 60.0 / bpm > self.RESYNC_S and now - self._last_locate > self.RESYNC_EVERY_S:
                self.need_locate = True
                return
            nudge = 60.0 * err / self.PLL_TAU_S
            target = bpm + min(self.PLL_MAX * bpm, max(-self.PLL_MAX * bpm, nudge))
        lim = self.engine.max_tempo  # a fast clock with a high-rate model: held at the kernel's limit
        if bpm > lim and not self._held:
            self.last = (f"{getattr(clk, 'name', 'MIDI clock')} at {bpm:g} BPM is faster than this model can play "
                         f"at this output rate: held at {lim:g} BPM")
            if self.warn is not None:
                self.warn(self.last)
        self._held = bpm > lim
        bpm = round(min(lim, MAX_BPM, max(MIN_BPM, target)), 3)  # the log keeps 3 decimals: render gets the same
        step = 0.001 if locked else self.TEMPO_STEP
        if abs(bpm - self.tempo) >= step:
            self.tempo = bpm
            self.ec.stage_tempo(bpm)
            msgs.append(("tempo", bpm))

"""The control thread of a live set: the show's sources, routed to one ``LiveControl`` per track.

Each track has the one-model control path unchanged (a ``LiveControl`` on its own ``EngineControls``),
fed from a queue (``TrackQueue``) instead of the sources. ``SetControl.step`` polls the show's real
sources (keyboard, MIDI, OSC) once and routes every event:

- a CC or a note goes to the track whose ``channel`` is the message's channel (a channel no track has:
  counted in ``set_unrouted``, not applied); the computer keyboard's (already applied by ``SetKeys`` to
  the selected track's controller) go to the selected track, on its channel;
- a "knob" event (OSC's knob by number or name) goes to the track it names (``Event.track``);
- everything else (tempo, start / stop, record) goes to track 0, the one that owns the set's transport
  (``livegan.audio.set_engine``);
- a fader, mute, solo or scene event (OSC, the panel's keys, CC 7 on a track's channel where its patch
  leaves CC 7 free) goes to the mix desk (``livegan.control.set_mix``), which logs it as it takes effect.

Every event is logged on its track's channel (the channel its patch listens to), and each track's
loops as ``livegan loop BEAT FRAME TRACK``, in one performance log: ``livegan render --set`` routes
them back the same way. OSC ``/livegan/track/N/...`` (N from 1) is ``SetOsc``: the one-track address
mapped through track N's patch; an address without a track is track 1's.

Thread: control (the show's main thread).
"""
from __future__ import annotations

import math

import numpy as np

from livegan.control.live import LiveControl
from livegan.control.osc import RING, OscRejected, OscSource, osc_target
from livegan.control.sources import Event, close_sources


class TrackQueue:
    """A control source that gives what ``SetControl`` routed to one track."""

    def __init__(self):
        self.events: list = []

    def poll(self) -> list:
        out, self.events = self.events, []
        return out


class SetControl:
    """``LiveControl``'s face for the show (``step``, ``flush``, ``stats``, ``close``, ``start``) over
    one ``LiveControl`` per track. ``tracks``: [(EngineControls, Engine, channel 1..16)]."""

    def __init__(self, tracks, sources=(), perflog=None, frame_clock=None, info=None, levels=None):
        """``info``: [{"name", "mute", "solo"}] per track for the panel; ``levels``: (N, frames, 2) the
        tracks' last post-fader blocks (the mixer's, shared with the audio process), for their meters."""
        self.info, self.levels = info, levels
        self.sources = list(sources)
        self.queues = [TrackQueue() for _ in tracks]
        self.by_channel = {ch - 1: k for k, (_, _, ch) in enumerate(tracks)}
        self.channels = [ch - 1 for _, _, ch in tracks]
        self.lives = []
        for k, ((ec, engine, _), q) in enumerate(zip(tracks, self.queues)):
            live = LiveControl(ec, engine, sources=[q], perflog=perflog, frame_clock=frame_clock)
            live.track = k
            self.lives.append(live)
        self.lead = self.lives[0]
        self.ec, self.engine = self.lead.ec, self.lead.engine
        self.unrouted = 0
        self.selected = 0  # the track the computer keyboard plays (Tab moves it)
        self.on_find = None  # no search in a set yet (the keyboard's / key says so)
        self.swapper = None  # livegan.swap.Swapper: hot swaps (a "model" event with a path asks it for one)
        self.desk = self.scenes = None  # livegan.control.set_mix.MixDesk / Scenes (``mix_desk``)
        self.keyed: list = []  # the panel's mix and scene keys (``SetKeys``), for the next step
        self.mix_last = ""

    def mix_desk(self, desk, scenes=None) -> None:
        """The set's live mix (and scenes): fader, mute, solo and scene events go there."""
        from livegan.control.set_mix import fader_tracks

        self.desk, self.scenes = desk, scenes
        self.faders = fader_tracks([live.ec.c.patch for live in self.lives])

    # the one-model LiveControl's hooks, on track 0 (record, warnings, notes)
    def __setattr__(self, name, value):
        if name in ("on_action", "warn", "note", "on_find"):
            for live in self.lives:
                setattr(live, name, value)
        object.__setattr__(self, name, value)

    def start(self) -> None:
        for src in self.sources:
            if hasattr(src, "plug"):
                src.plug(self.lead)

    def close(self) -> list:
        return close_sources(self.sources)

    def stats(self) -> dict:
        out: dict = {"set_unrouted": self.unrouted}
        for src in self.sources:
            if hasattr(src, "stats"):
                out.update(src.stats())
        lines, faults, last = [], 0, None
        for k, live in enumerate(self.lives):
            e = live.engine.stats()
            out[f"track{k}_late_loops"] = e["late_loops"]
            out[f"track{k}_loops_generated"] = e["loops_generated"]
            out[f"track{k}_gen_faults"] = n = live.engine.faults.count
            faults += n
            if n and live.engine.faults.last:
                last = f"track {k + 1}: {live.engine.faults.last}"
            lines.append({**(self.info[k] if self.info else {}), "index": k, "keys": k == self.selected,
                          "loop": e["playing_loop"], "late": e["late_loops"], "level_db": self._level(k),
                          **(self.desk.panel(k) if self.desk is not None else {})})
        out["tracks"] = lines
        out["gen_faults"] = out["faults"] = faults  # every track's (the show's own counts are track 1's)
        out["last_gen_fault"] = out["fault"] = last
        if self.scenes is not None:
            out["scene"] = self.scenes.panel()
        return out

    def _level(self, k: int) -> float:
        """Track k's post-fader peak in its last block, in dBFS (a meter: a block being written may show)."""
        if self.levels is None:
            return -math.inf
        peak = float(np.max(np.abs(self.levels[k])))
        return 20.0 * math.log10(peak) if peak > 0 else -math.inf

    @property
    def last(self) -> str:
        return max([live.last for live in self.lives] + [self.mix_last], key=len, default="")

    def _mix(self, ev) -> bool:
        """A fader, mute, solo or scene event given to the mix desk (True), or not one (False)."""
        from livegan.control.set_mix import FADER_CC, cc_db, handle

        if self.desk is None:
            return False
        if ev.kind == "cc" and ev.a == FADER_CC and not ev.applied and self.by_channel.get(ev.channel) in self.faders:
            self.mix_last = self.desk.set(self.by_channel[ev.channel], gain_db=cc_db(ev.b))
            return True
        if ev.kind not in ("mix", "scene"):
            return False
        self.mix_last = handle(ev, self.desk, self.scenes)
        return True

    def route(self, ev) -> int | None:
        """The track an event is for (None: no track listens to its channel)."""
        if ev.applied:
            return ev.track
        if ev.kind in ("cc", "note_on", "note_off"):
            return self.by_channel.get(ev.channel)
        if ev.kind in ("knob", "model"):
            return ev.track
        return 0

    def step(self) -> None:
        keyed, self.keyed = self.keyed, []
        for ev in keyed:
            self._mix(ev)
        for src in self.sources:
            if not hasattr(src, "poll"):
                continue
            for ev in src.poll():
                if self._mix(ev):
                    continue
                if ev.applied:  # the computer keyboard played the selected track: logged on its channel
                    ev = ev._replace(channel=self.channels[self.selected], track=self.selected)
                k = self.route(ev)
                if ev.kind == "model" and isinstance(ev.data, str):  # a request: the swapper loads it
                    self._say(self.swapper.request(k, ev.data) if self.swapper else "model: no hot swap here")
                elif k is None:
                    self.unrouted += 1
                else:
                    self.queues[k].events.append(ev)
        for k, got in self.swapper.poll() if self.swapper is not None else ():
            if isinstance(got, str):  # a swap that failed: one line, the old model plays on
                self._say(got, warn=True)
            else:  # installed by the track's control path, in its next batch (``livegan.swap``)
                self.queues[k].events.append(Event("model", channel=self.channels[k], track=k, data=got))
                self._say(f"{got.where}: model {got.model.meta.name} is ready: it comes in on the next boundary")
        for live in self.lives:
            live.step()
        if self.desk is not None:
            self.desk.step()
            if self.scenes is not None:
                self.scenes.step()

    def _say(self, line: str, warn: bool = False) -> None:
        """One line for the panel (a warning goes to the show's notes too)."""
        self.lead.last = line
        hook = self.lead.warn if warn else self.lead.note
        if hook is not None:
            hook(line)

    def flush(self) -> None:
        for live in self.lives:
            live.flush()
        if self.desk is not None:
            self.desk.flush()

    def select(self, k: int) -> None:
        self.selected = k % len(self.lives)


class SetOsc(OscSource):
    """OSC for a set: ``/livegan/track/N/...`` is the one-track address through track N's patch (N from
    1); any other address is track 1's. OSC thread (``take``), as ``OscSource``."""

    def configure_set(self, patches, max_bpm: float) -> "SetOsc":
        self.patches = list(patches)
        self.configure(self.patches[0], max_bpm)
        return self

    def plug(self, live) -> None:
        self.warn = live.warn
        self.start(self.patches[0], live.engine.max_tempo)

    def take(self, address: str, args) -> None:
        parts = address.split("/") if isinstance(address, str) else []
        from livegan.control.set_mix import osc_mix

        try:
            ev = osc_mix(address, list(args), len(self.patches))  # a fader, mute, solo or scene
        except OscRejected as e:
            self._reject(e)
            return
        if ev is not None:
            if len(self._ring) >= RING:
                self._reject(OscRejected("range", f"{address}: more than {RING} presses between two control steps"))
            else:
                self._ring.append(ev)
                self.accepted += 1
            return
        if len(parts) < 5 or parts[:3] != ["", "livegan", "track"]:
            return super().take(address, args)
        try:
            k = int(parts[3]) - 1
            if not 0 <= k < len(self.patches):
                raise ValueError
        except ValueError:
            self._reject(OscRejected("range", f"{address[:64]}: the set has tracks 1-{len(self.patches)}"))
            return
        if parts[4:] == ["model"]:  # a hot swap (``livegan.swap``): the control thread asks the swapper
            if len(args) != 1 or not isinstance(args[0], str) or not args[0].strip() or len(args[0]) > 4096:
                self._reject(OscRejected("type", f"{address}: takes one string, a .ts file or builtin:NAME"))
                return
            if len(self._ring) >= RING:
                self._reject(OscRejected("range", f"{address}: more than {RING} presses between two control steps"))
                return
            self._ring.append(Event("model", track=k, data=args[0]))
            self.accepted += 1
            return
        inner = "/livegan/" + "/".join(parts[4:])
        try:
            t = osc_target(self.patches[k], inner, list(args), self.max_bpm, self.tempo)
        except OscRejected as e:
            self._reject(e)
            return
        if t.key is not None:
            self._latest[("track", k, *t.key)] = t.event._replace(track=k)  # sorts beside the one-track keys
        elif len(self._ring) >= RING:
            self._reject(OscRejected("range", f"{address}: more than {RING} presses between two control steps"))
            return
        else:
            self._ring.append(t.event._replace(track=k))
        self.accepted += 1

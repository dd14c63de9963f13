"""Control and tempo come in through one seam (``livegan.control.sources``): ``LiveControl`` takes one
list of sources. Any object with ``poll() -> [Event]`` is a control source, and a knob a source names
by index (as OSC does) acts and is logged exactly as the MIDI CC the patch gives that knob, so a show
played from it re-renders; the list's tempo source (one at most) is told livegan's own tempo change
and the engine's beat (two-way, as Ableton Link needs); a source's ``plug``, ``close`` and ``stats``
are called through the list alone, so a new source needs nothing else of the control path."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from livegan.control.follow import ClockFollower
from livegan.control.link import LinkTempo
from livegan.control.live import LiveControl
from livegan.control.osc import open_osc
from livegan.control.patch import default_patch_path, load_patch
from livegan.control.sources import ControlSource, Event, KeySource, TempoSource
from livegan.io.midi import MidiSource
from livegan.io.perflog import PerfLog
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_meta


class ListSource:
    """A control source that plays a list of events, one step's worth each poll."""

    def __init__(self, batches):
        self.batches = list(batches)

    def poll(self):
        return self.batches.pop(0) if self.batches else []


class RecordingTempo:
    """A tempo source at a fixed 120 BPM that records what it is told."""
    tempo_bpm, running, has_position = 120.0, False, False

    def __init__(self):
        self.told = []

    def beats_at(self, t):
        return 0.0

    def publish(self, bpm, beat, t):
        self.told.append((bpm, beat))


def _show(sources, tempo=None):
    meta = validate_meta(tiny_meta(format=1))
    parts = build(meta, load_patch(default_patch_path()), 48000, 2, fx=False)
    parts.engine.publish_loop(np.zeros((1, meta.loop_samples), np.float32), 0)
    log = PerfLog(48000)
    return parts, log, LiveControl(parts.controls, parts.engine, sources=[*sources] + ([tempo] if tempo else []),
                                   perflog=log)


def _play(parts, live, steps):
    out = np.zeros((256, 2), np.float32)
    for _ in range(steps):
        live.step()
        parts.engine.process(out)
    live.flush()


def test_a_knob_named_by_index_acts_and_logs_as_the_patch_cc():
    patch = load_patch(default_patch_path())
    k = next(i for i, kn in enumerate(patch.knobs) if kn.direction is not None)
    cc = patch.knobs[k].cc
    plan = [[], [Event("cc", 0, cc, 64)], [], [Event("cc", 0, cc, 100)], [Event("note_on", 0, 37, 90)]]
    by_index = [[Event("knob", 0, k, e.b) if e.kind == "cc" else e for e in step] for step in plan]
    a, log_a, live_a = _show([ListSource(plan)])
    b, log_b, live_b = _show([ListSource(by_index)])
    _play(a, live_a, 8)
    _play(b, live_b, 8)
    assert live_b.applied == live_a.applied == 3
    assert np.array_equal(log_b.rows(), log_a.rows())  # the same MIDI at the same frames: it re-renders
    assert [r[1:4] for r in log_b.rows().tolist()][:2] == [[0xB0, cc, 64], [0xB0, cc, 100]]
    assert np.array_equal(b.controls.c.z(), a.controls.c.z()) and b.controls.c.seed == a.controls.c.seed


def test_an_applied_event_is_logged_but_not_applied_twice():
    keys = KeySource()
    parts, log, live = _show([keys])
    keys.push([0x90, 40, 100])  # the keyboard already gave this note to the Controller
    _play(parts, live, 3)
    assert live.applied == 0 and parts.controls.c.seed == 0
    assert log.rows()[:, 1:4].tolist() == [[0x90, 40, 100]]


def test_a_tempo_source_is_told_livegans_own_tempo_and_the_engine_beat():
    tempo = RecordingTempo()
    parts, _, live = _show([], tempo=tempo)
    _play(parts, live, 20)
    assert tempo.told == []  # following is not telling: only livegan's own change is published
    live.ask_tempo(126.0)
    _play(parts, live, 20)
    assert len(tempo.told) == 1 and tempo.told[0][0] == 126.0
    assert abs(tempo.told[0][1] - 20 * 256 / 48000 * 2) < 1e-9  # the engine's beat then (120 BPM, 20 blocks)
    assert parts.engine.transport.tempo == 120.0  # the source keeps the lead


def test_without_a_tempo_source_livegans_own_tempo_plays_and_is_logged():
    parts, log, live = _show([])
    _play(parts, live, 4)
    live.ask_tempo(126.0)
    _play(parts, live, 4)
    assert parts.engine.transport.tempo == 126.0
    assert log.rows()[:, 1:].tolist() == [[0x100, 126000 >> 14, 126000 & 0x3FFF]]  # a tempo marker, re-rendered


def test_the_shipped_sources_meet_the_declared_interfaces():
    class FakeInput:
        from livegan.io.midi import MidiHandler
        handler = MidiHandler()

    assert isinstance(MidiSource(FakeInput()), ControlSource) and isinstance(KeySource(), ControlSource)
    assert isinstance(ClockFollower(), TempoSource)
    state = SimpleNamespace(setIsPlaying=lambda on, t: None, isPlaying=lambda: True, tempo=lambda: 120.0)
    stub = SimpleNamespace(clock=lambda: SimpleNamespace(micros=lambda: 0), captureAppSessionState=lambda: state,
                           commitAppSessionState=lambda s: None)  # no network: the interface is what counts
    link = LinkTempo(120.0, 4, link=stub)
    assert isinstance(link, TempoSource) and isinstance(link, ControlSource)
    assert not isinstance(object(), ControlSource) and not isinstance(object(), TempoSource)


class Plugged:
    """A new kind of source: it plugs in, counts, and closes with a warning, all through the list."""

    def __init__(self):
        self.live, self.closed, self.polls = None, False, 0

    def plug(self, live):
        self.live = live

    def poll(self):
        self.polls += 1
        return [Event("cc", 0, 20, 64)] if self.live is not None and self.polls == 1 else []

    def stats(self):
        return {"plugged_polls": 1}

    def close(self):
        self.closed = True
        return "plugged: closed"


def test_a_new_source_is_plugged_polled_counted_and_closed_through_the_list_alone():
    src = Plugged()
    parts, log, live = _show([KeySource(), src])
    live.start()
    _play(parts, live, 3)
    assert src.live is live and live.applied == 1 and log.rows()[:, 1:4].tolist() == [[0xB0, 20, 64]]
    assert live.stats() == {"plugged_polls": 1}
    assert live.close() == ["plugged: closed"] and src.closed


def test_one_tempo_source_at_a_time():
    clock = ClockFollower()
    parts, _, live = _show([clock])
    assert live.tempo_source is clock
    with pytest.raises(ValueError, match="one tempo source"):
        _show([clock, RecordingTempo()])


def test_osc_plugs_in_as_a_list_entry_and_leaves_the_tempo_to_a_clock_in_the_list():
    for clock, takes_tempo in ((None, True), (ClockFollower(), False)):
        osc = open_osc(0)
        try:
            parts, _, live = _show([osc] + ([clock] if clock else []))
            assert osc.patch is None
            live.start()
            assert osc.patch is parts.controls.c.patch and osc.tempo is takes_tempo
            assert live.stats() == {"osc_accepted": 0, "osc_rejected": 0}
        finally:
            assert live.close() == []

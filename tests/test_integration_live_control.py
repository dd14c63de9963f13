"""The control thread of a performance: MIDI bytes -> Controller -> engine, logged at engine frames.

``LiveControl.step`` is driven with bytes fed through the real ``MidiHandler``
(as the MIDI thread would) while the engine renders blocks: CCs and notes
reach the Controller and the performance log at the frame the engine had
reached; a patch with ``clock = "midi"`` makes the engine follow a 150 BPM
clock (and logs the tempo as a marker that ``livegan render`` reads back);
start/stop are logged; channel filtering follows the patch.
"""
from __future__ import annotations

import numpy as np
import pytest

from livegan.audio import dsp
from livegan.control.live import LiveControl
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.io.automation import read_automation
from livegan.io.midi import MidiHandler, MidiSource
from livegan.io.perflog import PerfLog, marker_bpm
from livegan.model import validate_meta
from livegan.performance import build


class FakeInput:
    """What LiveControl reads of a MidiInput: its handler and clock."""

    def __init__(self, channel=None):
        self.handler = MidiHandler(channel=channel)

    @property
    def clock(self):
        return self.handler.clock


def _setup(**patch_over):
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=8,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                              directions=np.eye(4, 8).tolist(), sigmas=[0.5] * 4, training={}))
    patch = replace(load_patch(default_patch_path()), **patch_over)
    parts = build(meta, patch, 48000, 2, fx=False)
    ec, engine, patch = parts.controls, parts.engine, parts.patch
    engine.publish_loop(np.zeros((1, 32768), np.float32), 0)
    mi = FakeInput(patch.channel)
    log = PerfLog(48000)
    live = LiveControl(ec, engine, sources=[MidiSource(mi)] + ([mi.clock] if patch.clock == "midi" else []),
                       perflog=log)
    return engine, ec, mi, log, live


def test_midi_reaches_controller_and_log_at_engine_frames(tmp_path):
    engine, ec, mi, log, live = _setup()
    out = np.zeros((256, 2), np.float32)
    h = mi.handler
    for _ in range(10):
        engine.process(out)
    h.handle([0xB0, 20, 30], 0.0)  # last value wins within one step: 30 is never seen
    h.handle([0xB0, 20, 64], 0.001)  # pick up knob 1 at its middle
    seq0 = ec.seq
    live.step()
    h.handle([0xB0, 20, 100], 0.002)
    live.step()
    assert ec.c.value[20] == pytest.approx(100 / 127)
    # staged, not yet admitted: the generator still sees the old point, nothing is logged
    assert ec.seq == seq0 and len(log) == 0
    engine.process(out)  # the next block admits both steps' batches at its first frame, 2560
    assert ec.seq > seq0 and np.array_equal(ec.snapshot()[1], ec.c.z())
    for _ in range(6):
        engine.process(out)
    h.handle([0x90, 37, 90], 0.1)
    h.handle([0x80, 37, 0], 0.2)
    h.handle([0xFA], 0.3)
    live.step()  # logs the CCs (admitted at 2560), stages the note
    assert ec.c.seed == 1
    engine.process(out)  # admitted at 4352
    live.step()
    rows = log.rows()
    assert rows[:, 0].tolist() == [2560, 2560, 4352, 4352, 4352]  # the frame each took effect at
    assert rows[:, 1].tolist() == [0xB0, 0xB0, 0x90, 0x80, 0xFA] and rows[:2, 3].tolist() == [64, 100]
    path = tmp_path / "p.mid"
    log.save(path)
    back = read_automation(str(path), 48000)
    assert [(f, m.type) for f, m in back] == [(2560, "control_change"), (2560, "control_change"),
                                              (4352, "note_on"), (4352, "note_off"), (4352, "start")]


def test_events_the_stream_never_admitted_are_flushed_at_its_last_frame():
    engine, ec, mi, log, live = _setup()
    out = np.zeros((256, 2), np.float32)
    engine.process(out)
    mi.handler.handle([0x90, 37, 90], 0.0)
    live.step()
    live.flush()  # the stream stopped before another block
    assert log.rows()[:, 0].tolist() == [256] and log.rows()[:, 1].tolist() == [0x90]


def test_midi_clock_drives_engine_tempo_and_is_logged(tmp_path):
    engine, ec, mi, log, live = _setup(clock="midi")
    out = np.zeros((256, 2), np.float32)
    dt = 60.0 / 150.0 / 24
    for i in range(96):  # one bar of 24 PPQN at 150 BPM
        mi.handler.handle([0xF8], 1.0 + i * dt)
    live.step()
    engine.process(out)
    live.step()
    assert engine.transport.tempo == pytest.approx(150.0, abs=0.01)
    tempos = [marker_bpm(m) for _, m in read_automation(_saved(log, tmp_path), 48000) if m.type == "marker"]
    assert tempos == [engine.transport.tempo]  # logged with the value the engine got (3 decimals)
    ev = engine.events()
    assert (ev[:, 1] == dsp.EV_TEMPO).sum() == 1
    live.step()  # a steady clock asks nothing more
    assert len(log) == 1


def test_internal_clock_patch_ignores_midi_clock():
    engine, ec, mi, log, live = _setup(clock="internal")
    for i in range(96):
        mi.handler.handle([0xF8], 1.0 + i * 0.01)
    live.step()
    engine.process(np.zeros((64, 2), np.float32))
    assert engine.transport.tempo == 120.0 and len(log) == 0


def test_patch_channel_filters_messages():
    engine, ec, mi, log, live = _setup(channel=2)
    mi.handler.handle([0x90, 37, 90], 0.0)  # channel 1: not ours
    mi.handler.handle([0x91, 38, 90], 0.0)  # channel 2
    live.step()
    engine.process(np.zeros((64, 2), np.float32))
    live.step()
    assert ec.c.seed == 2 and log.rows()[:, 1].tolist() == [0x91]


def _saved(log, tmp_path):
    p = tmp_path / "t.mid"
    log.save(p)
    return str(p)

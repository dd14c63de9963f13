"""With the patch's effects chain on, offline render stays bit-identical across block sizes and runs.

The chain runs in FIFO mode (a constant 128-frame latency), so a parameter
set at frame F reaches the same pyo buffer however ``render`` splits blocks.
The automation moves direction knobs, effect knobs (filter cutoff, drive,
delay mix, reverb mix), picks a seed and changes the tempo with a
``livegan tempo`` marker: everything the generic patch does.
"""
from __future__ import annotations

import mido
import numpy as np
import pytest

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.io.automation import Msg
from livegan.io.perflog import read_perflog
from livegan.model import load_model
from livegan.offline import render
from livegan.performance import build

SR = 48000
SECONDS = 2.5


def _cc(f, cc, v):
    return (int(f * SR), Msg("control_change", channel=0, control=cc, value=v))


EVENTS = [_cc(0.05, 20, 64), _cc(0.06, 20, 127), _cc(0.21, 93, 90), _cc(0.33, 74, 30), _cc(0.34, 12, 120),
          _cc(0.52, 91, 110), (int(0.61 * SR), Msg("note_on", channel=0, note=38, velocity=100)),
          (int(0.9 * SR), mido.MetaMessage("marker", text="livegan tempo 137.000")),
          _cc(1.1, 21, 63), _cc(1.11, 21, 5), _cc(1.40, 74, 127), _cc(1.77, 13, 40)]


@pytest.fixture(scope="module")
def model(tiny_model):
    return load_model(tiny_model, device="cpu", threads=1)


def _render(model, blocksize, events=EVENTS, seconds=SECONDS):
    patch = replace(load_patch(default_patch_path()), quantize="beat")
    parts = build(model.meta, patch, SR, 2)
    try:
        engine, audio = render(model, parts, events, int(seconds * SR), blocksize=blocksize)
    finally:
        parts.close()
    return engine, audio


@pytest.fixture(scope="module")
def reference(model):
    engine, audio = _render(model, 256)
    s = engine.stats()
    assert s["switches"] >= 3 and s["tempo"] == 137.0  # knobs, the seed and the tempo marker all acted
    return audio


@pytest.mark.parametrize("blocksize", [1, 64, 65, 1024, 4099])
def test_render_with_effects_identical_for_any_block_size(model, reference, blocksize):
    _, audio = _render(model, blocksize)
    diff = np.nonzero(np.any(audio != reference, axis=1))[0]
    assert diff.size == 0, f"block size {blocksize}: first differing frame {diff[:1]}, " \
                           f"max diff {np.max(np.abs(audio - reference))}"


def test_two_renders_with_effects_are_bit_identical(model, reference):
    _, again = _render(model, 256)
    assert again.tobytes() == reference.tobytes()
    assert np.max(np.abs(reference)) > 0.1


def test_effect_knob_reaches_the_chain(model):
    """CC 74 (filter cutoff) at 0 sets the lowpass to 40 Hz: the tiny model's 55-275 Hz sines fade."""
    _, dark = _render(model, 256, events=[_cc(0.0, 74, 127), _cc(0.0, 74, 0)], seconds=1.0)  # pick up, turn
    _, bright = _render(model, 256, events=[], seconds=1.0)

    def above_100hz(y):
        S = np.abs(np.fft.rfft(y[SR // 4:, 0])) ** 2
        return S[np.fft.rfftfreq(len(y) - SR // 4, 1 / SR) > 100].sum()
    assert above_100hz(dark) < 0.1 * above_100hz(bright)


def test_demo_automation_renders_through_the_generic_patch(model):
    """The bundled demo.mid (knob sweeps, seeds, filter, 120 -> 132 BPM marker at 16 s) plays through
    the default patch: the tempo change lands at 16 s exactly and loops switch on bars."""
    from importlib.resources import files

    from livegan.audio import dsp

    events = read_perflog(str(files("livegan") / "data" / "demo.mid"), SR)
    patch = load_patch(default_patch_path())
    parts = build(model.meta, patch, SR, 2)
    try:
        engine, audio = render(model, parts, events, 17 * SR, blocksize=512)
    finally:
        parts.close()
    ev = engine.events()
    tempo_frames = ev[ev[:, 1] == dsp.EV_TEMPO, 0].tolist()
    assert tempo_frames == [16 * SR] and engine.transport.tempo == 132.0
    switches = ev[ev[:, 1] == dsp.EV_SWITCH, 0]
    assert len(switches) >= 5 and all(f % (2 * SR) == 0 for f in switches)  # 2 s bars before 16 s
    assert np.isfinite(audio).all() and np.max(np.abs(audio)) > 0.05

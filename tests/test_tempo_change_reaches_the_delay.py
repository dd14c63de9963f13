"""A tempo change admitted at a block start (the shared control record: numpy numbers) retimes the
patch's tempo-synced delay in the same block, as a performance log's tempo marker does in a render
(a Python float). pyo takes only Python numbers: a numpy one raised inside the audio callback, which
stops the stream, so a followed clock (MIDI or Ableton Link) silenced a show with the generic patch."""
from __future__ import annotations

import numpy as np

from livegan.control.patch import default_patch_path, load_patch
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing.tiny import tiny_meta


def test_an_admitted_tempo_retimes_the_delay_in_that_block():
    patch = load_patch(default_patch_path())
    assert any(e.type == "delay" for e in patch.effects)
    parts = build(validate_meta(tiny_meta(format=1)), patch, 48000, 2)
    try:
        e, ec, fx = parts.engine, parts.controls, parts.fx
        e.publish_loop(np.zeros((1, e.meta.loop_samples), np.float32), 0)
        out = np.zeros((256, 2), np.float32)
        e.process(out)
        beats = fx.effects["delay"].params["beats"]
        ec.stage_tempo(133.0)
        ec.sync()
        e.process(out)  # admits the tempo at this block's first frame
        assert e.transport.tempo == 133.0 and fx.bpm == 133.0
        assert abs(fx.sig["delay.beats"].value - beats * 60.0 / 133.0) < 1e-12
    finally:
        parts.close()

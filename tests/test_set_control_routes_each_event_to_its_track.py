"""A live set's control thread (``SetControl``) routes every event to one track and logs it on that
track's channel: a CC on channel N moves only the track whose ``channel`` is N (a channel no track has
moves nothing and is counted), an OSC knob event goes to the track it names, the computer keyboard's
events go to the selected track (Tab) and are logged on its channel, and tempo goes to track 0 (the
set's transport). Proven on the tracks' own controllers and on the performance log's rows.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from livegan.control.set_control import SetControl
from livegan.control.sources import Event, KeySource
from livegan.io.perflog import PerfLog
from livegan.model import validate_meta
from livegan.performance import build
from livegan.testing.wiring import identity_patch

META = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                          latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                          directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))


class Feed:
    def __init__(self):
        self.events = []

    def poll(self):
        out, self.events = self.events, []
        return out


def _set():
    parts = [build(META, replace(identity_patch(META), channel=ch), 48000, 2, fx=False) for ch in (1, 3)]
    feed, keys, log = Feed(), KeySource(), PerfLog(48000)
    sc = SetControl([(p.controls, p.engine, ch) for p, ch in zip(parts, (1, 3))], sources=[keys, feed], perflog=log)
    return parts, sc, feed, keys, log


def _step(parts, sc):
    sc.step()
    out = np.zeros((0, 2), np.float32)
    for p in parts:
        p.engine.process(out)  # admitted at the next block, then logged
    sc.step()


def test_channel_knob_keys_and_tempo_each_reach_their_track():
    parts, sc, feed, keys, log = _set()
    z0 = [p.controls.c.z().copy() for p in parts]
    feed.events += [Event("cc", 2, 0, 127), Event("cc", 5, 0, 127)]  # channel 3 (track 1); channel 6 (none)
    _step(parts, sc)
    assert np.array_equal(parts[0].controls.c.z(), z0[0]) and not np.array_equal(parts[1].controls.c.z(), z0[1])
    assert sc.unrouted == 1
    feed.events.append(Event("knob", 0, 1, 0, track=0))  # OSC /livegan/track/1/knob/2
    _step(parts, sc)
    assert not np.array_equal(parts[0].controls.c.z(), z0[0])
    sc.select(1)  # Tab: the keys play track 1; KeyboardControl applies a key itself, then hands its bytes over
    z1 = parts[1].controls.c.z().copy()
    parts[1].controls.c.on_cc(1, 0.0)
    keys.push([0xB0, 1, 0])  # the keyboard writes channel 1's bytes whatever the track
    feed.events.append(Event("tempo", 0, 0, 150000))
    _step(parts, sc)
    assert not np.array_equal(parts[1].controls.c.z(), z1)
    rows = log.rows()
    ccs = [(int(s) & 0x0F, int(d1), int(d2)) for _, s, d1, d2 in rows if int(s) & 0xF0 == 0xB0 and s < 0x100]
    assert ccs == [(2, 0, 127), (0, 1, 0), (2, 1, 0)], ccs  # each on its track's channel; channel 6's not logged
    assert parts[0].engine.state["tempo_req"] == 150.0 and parts[1].engine.state["tempo_req"] != 150.0

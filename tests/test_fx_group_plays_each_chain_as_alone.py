"""A live set's effects (``FxGroup``: every track's chain on one pyo server) give each track the samples
its chain gives alone on a server of its own, which is how ``livegan render --set`` renders the tracks,
one after another: bit for bit, through odd block sizes, a knob change on two tracks and a tempo change
(the delay's beats follow it) at the same block. A track without effects passes untouched, undelayed.
"""
from __future__ import annotations

import numpy as np

from livegan.audio.fx import FxChain, FxGroup, default_effect

SR, N = 48000, 48000 * 3


def _full():
    es = [default_effect(t) for t in ("filter", "drive", "delay", "reverb")]
    es[0].params["cutoff"] = 2000.0
    return es


def _light():
    return [default_effect("delay"), default_effect("reverb")]


def _play(blocks, sizes, process, knob, tempo):
    """Feed each track's signal through ``process`` in blocks of ``sizes``; a knob change before block 50,
    a tempo change before block 80."""
    i = j = 0
    while i < N:
        m = min(int(sizes[j % len(sizes)]), N - i)
        j += 1
        if j == 50:
            knob()
        if j == 80:
            tempo()
        process([b[i:i + m] for b in blocks])
        i += m


def test_each_track_of_a_group_sounds_as_its_chain_alone():
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((N, 2)).astype(np.float32) * 0.2 for _ in range(3)]
    sizes = rng.integers(1, 700, 500)
    alone = []
    for fx, sig in ((_full, x[0]), (_light, x[2])):
        c = FxChain(fx(), SR, 2, 120.0)
        y = sig.copy()
        _play([y], sizes, lambda b, c=c: c.process(b[0]), lambda c=c: c.set_param("delay.feedback", 0.7),
              lambda c=c: c.set_tempo(133.0))
        c.close()
        alone.append(y)
        assert np.abs(y - sig).max() > 0.05  # the chain changes the sound

    g = FxGroup([(_full(), 120.0), None, (_light(), 120.0)], SR, 2)
    try:
        ys = [v.copy() for v in x]

        def knob():
            for c in (g.chains[0], g.chains[2]):
                c.set_param("delay.feedback", 0.7)

        _play(ys, sizes, g.process, knob, lambda: g.set_tempo(133.0))
    finally:
        g.close()
    assert np.array_equal(ys[0], alone[0]), np.abs(ys[0] - alone[0]).max()
    assert np.array_equal(ys[1], x[1])  # no effects: untouched, no latency
    assert np.array_equal(ys[2], alone[1]), np.abs(ys[2] - alone[1]).max()


def test_eight_tracks_on_one_server_each_as_alone():
    rng = np.random.default_rng(1)
    x = [rng.standard_normal((4096, 2)).astype(np.float32) * 0.2 for _ in range(8)]
    alone = []
    for k in (0, 7):  # the first and the last pair of the server's 16 channels
        c = FxChain(_light(), SR, 2, 120.0)
        y = x[k].copy()
        for a in range(0, 4096, 256):
            c.process(y[a:a + 256])
        c.close()
        alone.append(y)
    g = FxGroup([(_light(), 120.0)] * 8, SR, 2)
    try:
        ys = [v.copy() for v in x]
        for a in range(0, 4096, 256):
            g.process([y[a:a + 256] for y in ys])
    finally:
        g.close()
    assert np.array_equal(ys[0], alone[0]) and np.array_equal(ys[7], alone[1])
    assert not np.array_equal(ys[7], ys[0])  # each its own input

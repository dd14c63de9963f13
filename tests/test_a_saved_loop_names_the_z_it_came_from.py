"""A loop's z goes with the loop from ``generate_loop`` to ``publish_loop``: the engine keeps, under
each loop id, the z that loop was generated from, and none for a loop published without one, even
right after a generation whose loop was refused (its z must not stick to the next loop published)."""
from __future__ import annotations

import numpy as np
import pytest

from livegan.generate.scheduler import generate_loop
from livegan.model import GenerationFault, validate_meta
from livegan.testing.tiny import tiny_meta
from livegan.testing.wiring import identity_parts


class _Model:
    """A loop whose level is z's first value; ``bad`` makes the next loop the wrong length."""

    def __init__(self, meta):
        self.meta, self.bad = meta, False

    def generate(self, z):
        n = self.meta.loop_samples - (1 if self.bad else 0)
        return np.full((z.shape[0], self.meta.channels, n), 0.1 * z[0, 0], np.float32)


def test_each_loop_keeps_its_own_z_and_a_refused_loops_z_sticks_to_nothing():
    meta = validate_meta({**tiny_meta(), "format": 1})
    parts = identity_parts(meta)
    e, ec = parts.engine, parts.controls
    model = _Model(meta)
    out = np.zeros((256, 2), np.float32)

    loop, z1 = generate_loop(model, e, ec.snapshot())
    lid1 = e.publish_loop(loop, 0, z=z1)
    e.process(out)
    ec.cc(0, 127)  # direction 0 to its end: another z
    e.process(out)
    model.bad = True
    loop, z2 = generate_loop(model, e, ec.snapshot())
    assert not np.array_equal(z1, z2)
    with pytest.raises(GenerationFault):
        e.publish_loop(loop, -1, z=z2)
    lid2 = e.publish_loop(np.zeros((meta.channels, meta.loop_samples), np.float32), -1)  # no z: a test tone, say
    model.bad = False
    loop, z3 = generate_loop(model, e, ec.snapshot())
    lid3 = e.publish_loop(loop, -1, wait=lambda: e.process(out[:0]), z=z3)

    assert np.array_equal(e.loop_z[lid1], z1) and np.array_equal(e.loop_z[lid3], z3)
    assert lid2 not in e.loop_z

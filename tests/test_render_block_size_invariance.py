"""Offline render is independent of the block size and bit-identical from run to run.

Uses the real path: the tiny exported TorchScript model, automation with CCs
and a note, quantize 'beat' so several loops switch within 3 s.
"""
from __future__ import annotations

import numpy as np
import pytest

from livegan.io.automation import Msg
from livegan.model import load_model
from livegan.offline import render
from livegan.testing.wiring import identity_parts

SR = 48000
EVENTS = [(int(0.21 * SR), Msg("control_change", control=0, value=120)),
          (int(0.77 * SR), Msg("control_change", control=1, value=3)),
          (int(1.30 * SR), Msg("note_on", note=62, velocity=100)),
          (int(1.31 * SR), Msg("control_change", control=3, value=90)),
          (int(2.05 * SR), Msg("control_change", control=2, value=64))]


@pytest.fixture(scope="module")
def model(tiny_model):
    return load_model(tiny_model, device="cpu", threads=1)


@pytest.fixture(scope="module")
def reference(model):
    engine, audio = render(model, identity_parts(model.meta, SR, quantize="beat"), EVENTS, 3 * SR, blocksize=256)
    assert engine.stats()["switches"] >= 4  # the automation really switched loops
    return audio


@pytest.mark.parametrize("blocksize", [1, 64, 65, 1024, 4099])
def test_render_identical_for_any_block_size(model, reference, blocksize):
    _, audio = render(model, identity_parts(model.meta, SR, quantize="beat"), EVENTS, 3 * SR, blocksize=blocksize)
    assert np.array_equal(audio, reference), f"block size {blocksize}: max diff {np.max(np.abs(audio - reference))}"


def test_two_renders_of_the_same_automation_are_bit_identical(model, reference):
    _, again = render(model, identity_parts(model.meta, SR, quantize="beat"), EVENTS, 3 * SR, blocksize=256)
    assert again.tobytes() == reference.tobytes()
    assert np.max(np.abs(reference)) > 0.1  # not trivially silent

"""Generation in a child process (shared memory) returns exactly what the in-process model returns."""
from __future__ import annotations

import multiprocessing

import numpy as np

from livegan.generate.process import ProcessModel
from livegan.model import load_model, sample_latent


def test_process_model_output_equals_in_process_model(tiny_model):
    local = load_model(tiny_model, device="cpu", threads=1)
    remote = ProcessModel(tiny_model, device="cpu")
    try:
        z = sample_latent(local.meta, np.random.default_rng(5), 3)
        a = local.generate(z)
        b = remote.generate(z)
        b2 = remote.generate(z[:1])
        assert remote.meta.to_json_dict() == local.meta.to_json_dict()
        assert np.array_equal(a, b) and np.array_equal(a[:1], b2)
        assert len(remote.generate_seconds) == 2
    finally:
        remote.close()
    assert multiprocessing.active_children() == []  # close() leaves no child process behind

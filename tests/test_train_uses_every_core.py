"""Training uses every physical core unless told otherwise: no cap at two threads on a bigger machine."""
from __future__ import annotations

import dataclasses

import torch

from train import trainer
from train.presets import spectral


def test_threads_zero_means_every_physical_core_and_a_number_is_taken_as_given():
    before = torch.get_num_threads()
    try:
        trainer._open_process(dataclasses.replace(spectral(), threads=0), "cpu")
        assert torch.get_num_threads() == trainer.PHYSICAL_CORES
        trainer._open_process(dataclasses.replace(spectral(), threads=3), "cpu")
        assert torch.get_num_threads() == 3  # more than two: no cap
    finally:
        torch.set_num_threads(before)


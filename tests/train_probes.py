"""Stand-in networks for train-step tests: a G that always makes an impulse on sample 0 and a D that records
what it is shown, so a test can read where each loop D saw was rolled to."""
from __future__ import annotations

import numpy as np
import torch

from train.config import apply_overrides
from train.presets import wavegan
from train.state import Batches, TrainState

L = 1024


class ImpulseG(torch.nn.Module):
    """Always an impulse on sample 0: where D sees it tells how far the loop was rolled."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, z):
        y = torch.zeros(z.shape[0], 1, L)
        y[:, 0, 0] = 1.0
        return y * self.w


class RecordingD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.seen = []

    def forward(self, x, return_features=False):
        self.seen.append(x.detach().clone())
        return (x.flatten(1) * self.w).sum(1)


def impulse_state(seam_roll: bool) -> TrainState:
    p = apply_overrides(wavegan(), [f"seam_roll={seam_roll}", "shift_augment=false", "loss=bce",
                                    "n_critic=1", "batch_size=2", f"loop_samples={L}", "latent_dim=4"])
    g, d = ImpulseG(), RecordingD()
    return TrainState(p, g, d, torch.optim.SGD(g.parameters(), 0.0), torch.optim.SGD(d.parameters(), 0.0),
                      torch.zeros(1, 4), torch.device("cpu"), torch.Generator().manual_seed(0))


def real_impulses(n=2):
    x = np.zeros((n, 1, L), np.float32)
    x[:, 0, 0] = 1.0
    return Batches(x, 2, torch.Generator().manual_seed(1))

"""Named knobs (train/knobs.py): on a generator whose z axes are known to set a sine's pitch and level,
the fit finds those axes, keeps the knobs that move their property, and drops the ones that cannot; with
the Rayleigh fit too, where no gradient reaches the pitch (it is rounded to whole cycles) and the knob falls
back on the projected regression direction, which sees the steps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from livegan.testing.tiny import TINY
from train.knobs import fit_directions, fit_knobs, module_generator, spearman

SR, N = TINY["sample_rate"], TINY["loop_samples"]


class PitchAndLevel(torch.nn.Module):
    """z[0]: the pitch (460 to 1400 Hz, whole cycles per loop, so no click at the wrap), z[1]: the level in
    dB; z[2:] do nothing. Nothing below 150 Hz, no onsets, no noise: weight, density and noisiness
    cannot move."""

    def __init__(self):
        super().__init__()
        self.register_buffer("t", torch.arange(N, dtype=torch.float32) / N)

    def forward(self, z):
        hz = 800.0 * torch.pow(2.0, 0.8 * torch.tanh(z[:, :1] / 2))
        cycles = torch.round(hz * N / SR)
        gain = torch.pow(10.0, (-15.0 + 4.0 * torch.tanh(z[:, 1:2] / 2)) / 20)
        return (gain * torch.sin(2 * torch.pi * cycles * self.t[None, :]))[:, None, :]


@pytest.mark.parametrize("method", ["projected", "rayleigh"])
def test_the_fit_finds_the_axes_and_keeps_only_the_knobs_that_work(method):
    fits = {f.name: f for f in fit_knobs(module_generator(PitchAndLevel()), 8, "normal", SR, n_fit=256, n_seeds=6,
                                         method=method)}
    assert abs(fits["brightness"].direction[0]) > 0.95 and fits["brightness"].direction[0] > 0
    assert abs(fits["loudness"].direction[1]) > 0.95 and fits["loudness"].direction[1] > 0
    for name in ("brightness", "loudness"):
        assert fits[name].kept and fits[name].spearman >= 0.9 and fits[name].crosstalk <= 0.5, fits[name]
    for name in ("weight", "density", "noisiness"):
        assert not fits[name].kept, fits[name]


def test_cross_talk_is_projected_out_of_correlated_descriptors():
    # b is a + c: the raw gradient of a has a part along b's gradient; a's knob must not move b's fit
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 6))
    d = dict(brightness=z[:, 0] + 0.5 * z[:, 1], weight=z[:, 0] + z[:, 1] + 0.5 * z[:, 2],
             loudness=z[:, 3], noisiness=z[:, 4], density=z[:, 5] + 0.8 * z[:, 0])
    dirs, r2, _ = fit_directions(z, d)
    names = list(d)
    grads = np.stack([np.linalg.lstsq(z, d[k], rcond=None)[0] for k in names], 1)  # (D, M)
    for m, name in enumerate(names):
        moves = dirs[m] @ grads
        assert moves[m] > 0.1
        assert np.all(np.abs(np.delete(moves, m)) < 1e-4), (name, moves)


def test_spearman_reads_rank_order():
    x = np.arange(9.0)
    assert spearman(x, x ** 3) == 1.0 and spearman(x, -x) == -1.0 and spearman(x, np.ones(9)) == 0.0

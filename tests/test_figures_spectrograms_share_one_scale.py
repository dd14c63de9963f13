"""Spectrogram figures compare by eye: one colour scale 80 dB deep for every panel, pairs titled by loop,
and in the per-set grid every frequency axis runs to 22.05 kHz so a low-rate set's empty top shows."""
from __future__ import annotations

import numpy as np
import pytest

from train import figures


def _noise(n, sr, db=-20.0, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, sr // 2)) * 10 ** (db / 20)  # (n, 1, 0.5 s)


def _panels(fig):
    return [ax for ax in fig.axes if ax.images]


def test_pairs_show_each_training_loop_beside_its_nearest_on_one_scale(drawn, tmp_path):
    train, gen = _noise(3, 22050, -10), _noise(5, 22050, -40, seed=1)
    figures.spectrogram_pairs_png(train, gen, [4, 0, 2], 22050, str(tmp_path / "s.png"), n=2)
    assert (tmp_path / "s.png").is_file()
    panels = _panels(drawn[0])
    assert [ax.get_title() for ax in panels] == ["training 0", "generated 4 (nearest)",
                                                 "training 1", "generated 0 (nearest)"]
    lo, hi = panels[0].images[0].get_clim()
    assert hi - lo == figures.SPEC_RANGE_DB and all(ax.images[0].get_clim() == (lo, hi) for ax in panels)
    assert all(ax.get_ylim() == (0, 11.025) for ax in panels)  # kHz, to the loops' Nyquist
    assert panels[0].get_xlim() == (0, 0.5)  # seconds


def test_grid_puts_every_set_on_a_22_khz_axis_so_a_low_rate_top_shows_empty(drawn, tmp_path):
    sets = {"training": (_noise(2, 44100), 44100), "wavegan": (_noise(1, 16384), 16384)}
    figures.spectrogram_grid_png(sets, str(tmp_path / "g.png"), n=4)
    panels = _panels(drawn[0])
    assert [ax.get_title() for ax in panels] == ["training 0", "wavegan 0", "training 1"]  # rows = most loops
    assert all(ax.get_ylim() == (0, 22.05) for ax in panels)
    assert panels[1].images[0].get_extent()[3] == pytest.approx(8.192)  # its image stops at its Nyquist
    assert len({ax.images[0].get_clim() for ax in panels}) == 1

"""The spectral preset exports in a playing form laid out for speed (``SpectralPlayer``: phase rows
reordered, layer scales folded in); what it plays must be the trained generator's loops."""
from __future__ import annotations

import dataclasses

import torch

from train import archs
from train.config import apply_overrides, check
from train.models import ExportedGenerator
from train.presets import spectral
from train.spectral import SpectralGenerator, SpectralPlayer

SMALL = ["sample_rate=8192", "loop_samples=16384", "hop=64", "n_fft=256", "model_dim=8", "d_ffts=64,256",
         "d_width=4"]


def trained_like(anchor_count: int) -> SpectralGenerator:
    """A small generator whose every weight is random, layer scales and anchor timelines included (a fresh
    one has zero timelines and equal layer scales, which would hide a mistake in folding them)."""
    p = apply_overrides(spectral(), SMALL)
    check(p)
    torch.manual_seed(anchor_count)
    g = SpectralGenerator(dataclasses.replace(p, anchors=anchor_count))
    with torch.no_grad():
        for t in g.parameters():
            t.copy_(torch.randn_like(t) * 0.3)
    return g.eval()


def test_the_playing_form_renders_the_generators_loops():
    for n in (0, 5):
        g = trained_like(n)
        player = archs.get("spectral").playing_form(g)
        assert isinstance(player, SpectralPlayer)
        z = torch.randn(3, g.dense.in_features)
        with torch.no_grad():
            want = g(z)
            got = player(z)
            scripted = torch.jit.script(ExportedGenerator(player))(z)
        scale = want.abs().max()
        assert torch.allclose(got, want, atol=1e-5 * scale, rtol=1e-4), (n, (got - want).abs().max())
        assert torch.allclose(scripted, torch.clamp(want, -1.0, 1.0), atol=1e-5 * scale, rtol=1e-4)


def test_other_generators_export_as_they_are():
    g = torch.nn.Linear(2, 2)
    assert archs.get("wavegan").playing_form(g) is g and archs.get("dcgan").playing_form(g) is g

"""G's upsampling: transposed convs (the paper's) leave a checkerboard of uneven kernel overlap;
resize + conv does not, and trains and exports the same way."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from train.config import apply_overrides, check
from train.models import ExportedGenerator, Generator
from train.presets import paper
from train.state import Batches, make_state
from train.waveform import waveform_step


def _flat_input_response(upsample: str) -> np.ndarray:
    """G with every conv weight equal and a constant head: any ripple in the output is the upsampler's."""
    p = apply_overrides(paper(), ["batchnorm=false", f"upsample={upsample}"])
    g = Generator(p).eval()
    with torch.no_grad():
        for name, t in g.named_parameters():
            t.fill_(0.0 if name.startswith("dense.weight") or name.endswith("bias") else 0.05)
        g.dense.bias.fill_(1.0)  # head = 1 everywhere
        return g(torch.zeros(1, p.latent_dim))[0, 0].numpy()


def test_transposed_convs_ripple_on_a_flat_input_and_resize_conv_does_not():
    mid = slice(1000, 3000)  # away from the zero-padded ends
    ripple = {up: np.ptp(_flat_input_response(up)[mid]) for up in ("transposed", "nearest", "linear")}
    assert ripple["transposed"] > 0.01
    assert ripple["nearest"] < 1e-6 and ripple["linear"] < 1e-6


@pytest.mark.parametrize("upsample", ["nearest", "linear"])
def test_resize_conv_generator_trains_and_scripts(upsample):
    p = apply_overrides(paper(), [f"upsample={upsample}", "n_val=2"])
    loops = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 1, 4096)).astype(np.float32)
    s = make_state(p, torch.device("cpu"))
    for _ in range(2):
        out = waveform_step(s, Batches(loops, 4, torch.Generator().manual_seed(0)))
    assert np.isfinite(out["loss_g"])
    ts = torch.jit.script(ExportedGenerator(s.g_plain.eval()))
    assert ts(torch.zeros(2, p.latent_dim)).shape == (2, 1, 4096)


def test_resize_conv_needs_an_odd_kernel():
    with pytest.raises(ValueError, match="odd kernel"):
        check(apply_overrides(paper(), ["upsample=linear", "kernel=4"]))
    with pytest.raises(ValueError, match="upsample must be"):
        check(apply_overrides(paper(), ["upsample=bicubic"]))


@pytest.mark.parametrize("upsample", ["nearest", "linear"])
def test_resize_conv_generator_is_circular_so_its_loops_have_no_seam_of_their_own(upsample):
    """Rolling the generator's first feature map by one step rolls the loop by stride**layers samples:
    no sample is an edge, so nothing marks the wrap (transposed / zero-padded convs fail this)."""
    p = apply_overrides(paper(), [f"upsample={upsample}"])
    g = Generator(p).eval()
    h = g.head(torch.rand(2, p.latent_dim) * 2 - 1)  # (2, top, 128)
    with torch.no_grad():
        y, y_rolled = g.body(h), g.body(torch.roll(h, 1, dims=-1))
    step = p.stride ** p.n_layers
    assert torch.allclose(torch.roll(y, step, dims=-1), y_rolled, atol=1e-5)
    if upsample == "linear":
        gt = Generator(apply_overrides(paper(), ["upsample=transposed"])).eval()
        with torch.no_grad():
            a, b = gt.body(h), gt.body(torch.roll(h, 1, dims=-1))
        assert not torch.allclose(torch.roll(a, step, dims=-1), b, atol=1e-5)

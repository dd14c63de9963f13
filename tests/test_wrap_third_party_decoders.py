"""``livegan wrap``: third-party TorchScript decoders (a RAVE / nn~ style ``decode``, a plain ``forward``),
built here to those conventions, become loop models that ``livegan info`` accepts, whose loops wrap as
smoothly as they run inside, and whose knobs move the sound; a file that is no decoder is one line."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import run_cli

from livegan.errors import CLIError, ModelFileError
from livegan.model import load_model, seed_z
from train.wrap import wrap_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SR = 16000  # 1 bar of 4/4 at 120 BPM = 32000 samples
BAR = 32000


class RaveLike(torch.nn.Module):
    """nn~ conventions as RAVE exports them: ``decode_params`` [in_channels, in_ratio, out_channels,
    out_ratio], ``decode_input_labels``, ``sr``; ``decode(z[B, D, T]) -> [B, 1, T * ratio]``: each latent
    dimension sets the pitch and level of a sine whose phase runs on across frames (audio continuous
    inside, but no whole number of cycles per bar: a plain cut would click)."""

    def __init__(self, latent: int = 4, ratio: int = 256, noise: float = 0.0):
        super().__init__()
        self.sr = SR
        self.ratio = ratio
        self.noise = noise
        self.register_buffer("decode_params", torch.tensor([latent, ratio, 1, 1]))
        self.decode_input_labels = [f"(signal) Latent dimension {i}" for i in range(latent)]
        self.register_buffer("base", 110.0 * (1.0 + torch.arange(latent, dtype=torch.float32)))  # (D,) Hz

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, D, T) -> (B, 1, T * ratio)
        zs = torch.repeat_interleave(z, self.ratio, dim=2)  # (B, D, N)
        freq = self.base[None, :, None] * torch.pow(2.0, 0.5 * torch.tanh(zs))  # (B, D, N) Hz
        phase = 2.0 * math.pi * torch.cumsum(freq / self.sr, dim=2)
        y = (0.2 * torch.sigmoid(zs) * torch.sin(phase)).sum(1, keepdim=True)  # (B, 1, N)
        if self.noise > 0:
            y = y + self.noise * torch.randn_like(y)
        return torch.tanh(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # RAVE's forward is audio -> audio
        return x


class PlainGen(torch.nn.Module):
    """A plain generator: ``forward(z[B, D]) -> [B, N]`` (2.5 s at 16 kHz), one sine per latent mix."""

    def __init__(self, latent: int = 6, n: int = 40000):
        super().__init__()
        self.latent_dim = latent
        self.sample_rate = SR
        g = torch.Generator().manual_seed(3)
        self.register_buffer("w", torch.linalg.qr(torch.randn(latent, latent, generator=g))[0])  # (D, D) orthogonal
        self.register_buffer("base", 97.0 * (1.0 + torch.arange(latent, dtype=torch.float32)))  # (D,) Hz
        self.register_buffer("t", torch.arange(n, dtype=torch.float32) / SR)  # (N,) s

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, N)
        f = self.base * torch.pow(2.0, 0.3 * (z @ self.w))  # (B, D) Hz
        return 0.15 * torch.sin(2.0 * math.pi * f[:, :, None] * self.t).sum(1)


class ImageNet(torch.nn.Module):
    """Not a decoder: names a latent size, but forward() is an image convolution."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 8
        self.register_buffer("weight", torch.randn(4, 3, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.conv2d(x, self.weight)


class Printing(RaveLike):
    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        print("hello from the model")
        return torch.repeat_interleave(z[:, :1], self.ratio, dim=2)


class NanRave(RaveLike):
    """A decode() that renders NaN (a decoder with broken weights)."""

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.repeat_interleave(z[:, :1], self.ratio, dim=2) * float("nan")


class NanPlain(PlainGen):
    """A forward() that renders NaN."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, N)
        return (z @ self.w).sum(1, keepdim=True) * self.t * float("nan")


@pytest.fixture(scope="module")
def decoders(tmp_path_factory):
    d = tmp_path_factory.mktemp("decoders")
    made = {"rave": RaveLike(), "plain": PlainGen(), "noisy": RaveLike(noise=1e-3), "image": ImageNet(),
            "printing": Printing(), "nan_rave": NanRave(), "nan_plain": NanPlain()}
    for name, module in made.items():
        torch.jit.save(torch.jit.script(module.eval()), str(d / f"{name}.ts"))
    (d / "bytes.ts").write_bytes(b"\x00not a model" * 100)
    return d


@pytest.fixture(scope="module")
def wrapped(decoders, tmp_path_factory):
    """Each convention wrapped once through the library call: name -> (path, report)."""
    out = tmp_path_factory.mktemp("wrapped")
    return {name: (out / f"{name}.ts", wrap_model(decoders / f"{name}.ts", out / f"{name}.ts", quiet=True,
                                                  renders=64, knobs=False))
            for name in ("rave", "plain")}


@pytest.mark.parametrize("name,convention,latent_dim", [("rave", "decode", 8), ("plain", "forward", 6)])
def test_cli_wraps_each_convention_into_a_model_info_accepts(decoders, tmp_path, name, convention, latent_dim):
    out = tmp_path / "loop.ts"
    knobs = [] if name == "plain" else ["--no-knobs"]  # one convention pays for the fit, and shows it runs
    r = run_cli("wrap", decoders / f"{name}.ts", "-o", out, "--pca-renders", "32", *knobs, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "seam at the wrap" in r.stdout and ("named knobs:" in r.stdout) == (not knobs)
    r = run_cli("info", out, "--runs", "2", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["sample_rate"], d["loop_samples"], d["bpm"], d["bars"], d["beats_per_bar"]) == (SR, BAR, 120.0, 1, 4)
    assert d["latent_dim"] == latent_dim and d["training"]["convention"] == convention


def test_rave_knobs_follow_the_models_latent_order(wrapped):
    meta = load_model(wrapped["rave"][0], device="cpu").meta
    want = np.eye(8, dtype=np.float32)  # centre dimensions 0..3, then swing dimensions 0..3
    np.testing.assert_array_equal(meta.directions, want)


@pytest.mark.parametrize("name", ["rave", "plain"])
def test_wrapped_loops_wrap_as_smoothly_as_they_run_inside(wrapped, name):
    report = wrapped[name][1]
    assert report["seam_wrap"] <= 1.5 * report["seam_inside"], report


@pytest.mark.parametrize("name", ["rave", "plain"])
def test_without_the_crossfade_the_same_decoder_clicks_at_the_wrap(decoders, tmp_path, name):
    """The seam property is the crossfade's doing: cut plainly, these decoders click."""
    report = wrap_model(decoders / f"{name}.ts", tmp_path / "cut.ts", quiet=True, renders=32, fade_ms=0.0,
                        knobs=False)
    assert report["seam_wrap"] > 1.5 * report["seam_inside"], report


@pytest.mark.parametrize("name", ["rave", "plain"])
def test_every_knob_moves_the_sound(wrapped, name):
    m = load_model(wrapped[name][0], device="cpu")
    base = seed_z(5, m.meta.latent_dim, m.meta.latent_dist)
    zs = np.stack([base] + [base + 2.0 * s * d for d, s in zip(m.meta.directions, m.meta.sigmas)])
    y = m.generate(zs)  # (1 + K, C, L)
    moved = np.sqrt(((y[1:] - y[:1]) ** 2).mean(axis=(1, 2))) / np.sqrt((y[0] ** 2).mean())
    assert len(moved) >= 6 and np.all(moved > 0.05), moved


def test_a_decoder_that_draws_noise_is_refused(decoders, tmp_path):
    with pytest.raises(CLIError, match="deterministic"):
        wrap_model(decoders / "noisy.ts", tmp_path / "x.ts", quiet=True)
    assert not (tmp_path / "x.ts").exists()


def test_a_decoder_off_the_op_allow_list_is_refused_naming_the_op(decoders, tmp_path):
    with pytest.raises(ModelFileError, match="'print'"):
        wrap_model(decoders / "printing.ts", tmp_path / "x.ts", quiet=True)


@pytest.mark.parametrize("name,says", [("image", "no decoder"), ("bytes", "cannot read its code")])
def test_a_file_that_is_no_decoder_is_one_line(decoders, tmp_path, name, says):
    r = run_cli("wrap", decoders / f"{name}.ts", "-o", tmp_path / "x.ts", "--sample-rate", SR)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("livegan wrap: error:") and says in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "x.ts").exists()


@pytest.mark.parametrize("name", ["nan_rave", "nan_plain"])
def test_a_decoder_that_renders_nan_is_one_line_saying_so(decoders, tmp_path, name):
    """decode(): NaN read as "not deterministic" (NaN != NaN); forward(): a LinAlgError traceback from the PCA."""
    r = run_cli("wrap", decoders / f"{name}.ts", "-o", tmp_path / "x.ts", "--pca-renders", "32")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert r.stderr.startswith("livegan wrap: error:") and r.stderr.count("\n") == 1, r.stderr
    assert "non-finite output" in r.stderr and f"{name}.ts" in r.stderr
    assert not (tmp_path / "x.ts").exists()


def test_forward_shorter_than_a_bar_names_the_tempo_that_fits(decoders, tmp_path):
    with pytest.raises(CLIError, match=r"--bpm 97 or more"):
        wrap_model(decoders / "plain.ts", tmp_path / "x.ts", quiet=True, bpm=60.0, knobs=False)


def test_a_wrapped_decoder_plays_the_demo_automation(wrapped, tmp_path):
    out = tmp_path / "show.wav"
    r = run_cli("render", "--automation", os.path.join(ROOT, "livegan", "data", "demo.mid"), "--model",
                wrapped["rave"][0], "--seconds", 6, "-o", out)
    assert r.returncode == 0, r.stderr
    audio, rate = sf.read(str(out), dtype="float32")
    assert rate == 48000 and audio.shape == (6 * 48000, 2) and np.max(np.abs(audio)) > 0.05


@pytest.mark.parametrize("sr,bpm", [(16002, 400.0), (48004, 400.0)])
def test_the_loop_length_at_the_tempo_limits_gives_a_tempo_in_the_range(sr, bpm):
    """--bpm 400 at 16002 Hz rounds the bar to 9601 samples, 400.008 BPM: the model check refused the file."""
    from livegan.model import MAX_BPM, MIN_BPM
    from train.wrap import _fit

    loop, _ = _fit("x.ts", sr, bpm, 1, 4, 10.0)
    assert MIN_BPM <= 4 * 60.0 * sr / loop <= MAX_BPM and abs(loop - 4 * 60.0 / bpm * sr) <= 1

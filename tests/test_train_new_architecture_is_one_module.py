"""A new training architecture is one module plus a preset: a toy one, registered here, trains, resumes,
reports and exports through the real commands with no edit to the trainer or export; its own preset field
is refused to the other architectures and theirs to it; and a checkpoint written before the seam (every
architecture's field in every preset) still resumes and exports."""
from __future__ import annotations

import dataclasses
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from livegan.cli import main
from livegan.model import LoopModel, read_meta
from livegan.testing.synth import write_loop_folder
from train import archs
from train.config import Preset, field
from train.presets import PRESETS
from train.state import TrainState, frozen, sample_z

L = 4096


@dataclass
class ToyPreset(Preset):
    wobble: float = field("model", 0.5, (0, 1))  # the toy architecture's own field
    seen_loops: int = field("model", 0, (0, None))  # set from the data (``fitted``)


class ToyG(nn.Module):
    def __init__(self, p: ToyPreset):
        super().__init__()
        self.c, self.n = p.channels, p.loop_samples
        self.dense = nn.Linear(p.latent_dim, p.channels * p.loop_samples)
        self.wobble = p.wobble

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.dense(z).view(z.shape[0], self.c, self.n)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.head(z)) * self.wobble


class ToyD(nn.Module):
    def __init__(self, p: ToyPreset):
        super().__init__()
        self.out = nn.Linear(p.channels * p.loop_samples, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x.flatten(1)).squeeze(1)


class ToyPlayer(nn.Module):
    """The toy's playing form: export must write this, not ToyG."""

    def __init__(self, g: ToyG):
        super().__init__()
        self.g = g

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.g(z)


class ToyArch(archs.Arch):
    name = "toy"
    preset_class = ToyPreset

    def __init__(self):
        self.starts = []  # the ``fresh`` of each start: one per training session

    def build_generator(self, p):
        return ToyG(p)

    def build_discriminator(self, p):
        return ToyD(p)

    def fitted(self, p, loops, resume):
        return p if p.seen_loops == len(loops) else dataclasses.replace(p, seen_loops=len(loops))

    def start(self, s, loops, fresh):
        self.starts.append(fresh)
        s.extra["level"] = float(np.abs(loops).mean())

    def step(self, s: TrainState, batches) -> dict:
        real = batches().to(s.device)
        fake = s.g(sample_z(s.p, real.shape[0], s.gen).to(s.device))
        loss_d = F.softplus(-s.d(real)).mean() + F.softplus(s.d(fake.detach())).mean()
        s.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        s.opt_d.step()
        with frozen(s.d_plain) as d:
            loss_g = F.softplus(-d(fake)).mean()
        s.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        s.opt_g.step()
        s.step += 1
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "level": s.extra["level"]}

    def playing_form(self, g):
        return ToyPlayer(g).eval()


def toy() -> ToyPreset:
    return ToyPreset(name="toy", arch="toy", sample_rate=2048, loop_samples=L, latent_dim=8, batch_size=2,
                     loss="bce", n_critic=1, n_val=8, preview_every=1, keep_every=1, checkpoint_every=1)


@pytest.fixture
def toy_arch(monkeypatch):
    arch = ToyArch()
    monkeypatch.setitem(archs.ARCHS, "toy", arch)
    monkeypatch.setitem(PRESETS, "toy", toy)
    return arch


@pytest.fixture(scope="module")
def loop_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loops")
    write_loop_folder(folder, 3, sr=22050, kinds=("bass",))
    return folder


def test_a_registered_architecture_trains_resumes_and_exports_through_the_commands(toy_arch, loop_folder, tmp_path):
    run, out = tmp_path / "run", tmp_path / "toy.ts"
    base = ["train", str(loop_folder), "--preset", "toy", "--out", str(run), "--device", "cpu", "--set", "wobble=0.25"]
    assert main(base + ["--steps", "2"]) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["preset"]["arch"] == "toy" and ck["preset"]["wobble"] == 0.25 and ck["preset"]["seen_loops"] == 3
    assert ck["history"]["level"] and len(ck["history"]["level"]) == 2  # the architecture's own curve is kept
    assert (run / "report.html").is_file()

    assert main(base + ["--steps", "3", "--resume"]) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 3 and len(ck["history"]["loss_d"]) == 3
    assert toy_arch.starts == [True, False]  # the data-driven init runs on a new run only

    assert main(["export", str(run), "-o", str(out)]) == 0
    meta = read_meta(out)
    assert (meta.sample_rate, meta.loop_samples, meta.latent_dim) == (2048, L, 8)
    with zipfile.ZipFile(out) as z:
        code = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".py") and "/code/" in n)
    assert "class ToyPlayer" in code  # the architecture's playing form is what was written
    y = LoopModel(str(out), device="cpu", threads=1).generate(np.zeros((2, 8), np.float32))
    assert y.shape == (2, 1, L) and np.max(np.abs(y)) <= 0.25


def test_an_architectures_own_fields_are_refused_to_the_others(toy_arch, loop_folder, tmp_path, capsys):
    for preset, pair, owner in (("toy", "hop=441", "spectral"), ("wavegan", "wobble=0.1", "toy"),
                                ("paper", "rec_weight=1", "spectral")):
        args = ["train", str(loop_folder), "--preset", preset, "--out", str(tmp_path / preset), "--set", pair]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert pair.split("=")[0] in err and repr(owner) in err and "Traceback" not in err, err


def test_trainer_and_export_name_no_architecture():
    for name in ("trainer", "export", "state", "models", "checkpoint", "report", "selection"):
        src = (Path(__file__).parent.parent / "train" / f"{name}.py").read_text()
        hit = re.search(r"\.arch\s*[!=]=|[\"'](spectral|wavegan|dcgan)[\"']|import .*spectral", src)
        assert hit is None, f"train/{name}.py branches on an architecture: {hit.group(0)!r}"


@pytest.mark.parametrize("preset", ["paper", "spectral"])
def test_a_checkpoint_written_before_the_seam_still_resumes_and_exports(preset, loop_folder, tmp_path):
    """Before the seam every preset stored every architecture's field; another architecture's, at its
    default, is dropped on reading."""
    run = tmp_path / "run"
    base = ["train", str(loop_folder), "--preset", preset, "--out", str(run), "--device", "cpu",
            "--set", "report=false", "--set", "preview_every=0", "--set", "model_dim=2", "--set", "batch_size=2",
            "--set", "n_val=8", "--set", "select_every=0"]
    if preset == "spectral":
        base += ["--set", "sample_rate=8000", "--set", "loop_samples=16000", "--set", "hop=80", "--set", "n_fft=160",
                 "--set", "d_ffts=64,256", "--set", "d_width=4", "--set", "rec_only_steps=1"]
    assert main(base + ["--steps", "1"]) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    for arch in archs.ARCHS.values():  # what every old checkpoint held: all fields, the others' at defaults
        for f in dataclasses.fields(arch.preset_class):
            ck["preset"].setdefault(f.name, f.default)
    torch.save(ck, run / "checkpoint.pt")
    assert main(base + ["--steps", "2", "--resume"]) == 0
    assert main(["export", str(run), "-o", str(tmp_path / "m.ts")]) == 0
    assert read_meta(tmp_path / "m.ts").training["steps"] == 2

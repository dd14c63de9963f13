"""--resume rebuilds the model and its objective from the checkpoint and takes only the run fields (how long,
what is written along the way) from the command line: every Preset field says which kind it is."""
from __future__ import annotations

import dataclasses

from train import archs
from train.config import KINDS, names_of, resumed
from train.presets import paper, paper_plus, spectral


def test_every_field_has_one_kind():
    for arch in archs.ARCHS.values():  # every architecture's preset class, its own fields included
        kinds = {f.name: f.metadata.get("kind") for f in dataclasses.fields(arch.preset_class)}
        assert set(kinds.values()) <= set(KINDS)
        assert sorted(sum((names_of(k, arch.preset_class) for k in KINDS), ())) == sorted(kinds)


def test_resume_takes_model_and_objective_from_the_checkpoint_and_run_fields_from_the_command_line():
    saved = dataclasses.asdict(dataclasses.replace(paper_plus(), steps=100, seed=7, lr=2e-4, model_dim=5))
    given = dataclasses.replace(paper(), steps=300, select_every=50, seed=1, lr=1e-3, model_dim=2, n_val=3)
    p = resumed(saved, given)
    for name in names_of("run"):
        assert getattr(p, name) == getattr(given, name), name
    for name in names_of("model") + names_of("objective"):
        assert getattr(p, name) == saved[name], name
    assert (p.steps, p.select_every, p.seed, p.lr, p.model_dim, p.n_val) == (300, 50, 7, 2e-4, 5, saved["n_val"])


def test_a_spectral_run_resumes_with_its_own_fields_from_the_checkpoint():
    saved = dataclasses.asdict(dataclasses.replace(spectral(), steps=100, hop=147, ema=0.9))
    p = resumed(saved, dataclasses.replace(paper(), steps=300))  # --resume given another preset's fields
    assert (type(p), p.steps, p.hop, p.ema, p.arch) == (type(spectral()), 300, 147, 0.9, "spectral")

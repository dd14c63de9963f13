"""The loop-model file: export checks itself, load validates everything, broken files fail cleanly."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import run_cli

from livegan.model import META_NAME, ModelFileError, load_model, read_meta, sample_latent
from livegan.testing.tiny import TINY, make_tiny_generator, tiny_meta
from train.export import save_loop_model


def test_export_roundtrip_metadata_and_fixed_seed_output(tiny_model):
    m = load_model(tiny_model, device="cpu")
    assert m.meta.to_json_dict()["directions"] == tiny_meta()["directions"]
    assert (m.meta.sample_rate, m.meta.loop_samples, m.meta.channels) == (16384, 32768, 1)
    z = sample_latent(m.meta, np.random.default_rng(7), 3)
    ref = make_tiny_generator()(torch.from_numpy(z)).numpy()
    out = m.generate(z)
    assert out.dtype == np.float32 and out.shape == (3, 1, TINY["loop_samples"])
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_info_prints_metadata_and_time_per_loop(tiny_model):
    r = run_cli("info", tiny_model, "--runs", "3")
    assert r.returncode == 0, r.stderr
    assert "tiny-sines" in r.stdout and "16384 Hz" in r.stdout and "ms per loop" in r.stdout
    r = run_cli("info", tiny_model, "--runs", "3", "--json")
    d = json.loads(r.stdout)
    assert d["loop_samples"] == 32768 and d["seconds_per_loop"] > 0 and d["n_directions"] == 4


def _save_raw(module, path, meta: dict | None, extra_text: str | None = None):
    """Save a TorchScript file bypassing export's checks, to build broken files on purpose."""
    extra = {}
    if meta is not None:
        extra[META_NAME] = json.dumps(meta)
    if extra_text is not None:
        extra[META_NAME] = extra_text
    torch.jit.save(torch.jit.script(module), str(path), _extra_files=extra)
    return path


def _good_meta():
    m = tiny_meta()
    m["format"] = 1
    return m


class _Shorter(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(z.shape[0], 1, 32767)


class _NaN(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full((z.shape[0], 1, 32768), float("nan"))


class _Loud(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full((z.shape[0], 1, 32768), 3.0)


def _broken_files(tmp_path, tiny_model):
    good = tiny_model.read_bytes()
    cases = {}
    p = tmp_path / "noise.ts"
    p.write_bytes(np.random.default_rng(0).bytes(5000))
    cases["not TorchScript"] = (p, "not a TorchScript")
    p = tmp_path / "truncated.ts"
    p.write_bytes(good[: len(good) // 2])
    cases["truncated"] = (p, "truncated")
    cases["missing metadata"] = (_save_raw(make_tiny_generator(), tmp_path / "nometa.ts", None),
                                 "no embedded livegan.json")
    cases["metadata not JSON"] = (_save_raw(make_tiny_generator(), tmp_path / "badjson.ts", None, "{oops"),
                                  "not valid JSON")
    m = _good_meta()
    del m["latent_dim"]
    cases["missing field"] = (_save_raw(make_tiny_generator(), tmp_path / "nofield.ts", m), "'latent_dim' is missing")
    m = _good_meta()
    m["sample_rate"] = "fast"
    cases["wrong type"] = (_save_raw(make_tiny_generator(), tmp_path / "type.ts", m), "'sample_rate'")
    m = _good_meta()
    m["bpm"] = 97.0
    cases["tempo inconsistent"] = (_save_raw(make_tiny_generator(), tmp_path / "bpm.ts", m), "'bpm'")
    m = _good_meta()
    m["latent_dist"] = "cauchy"
    cases["bad latent_dist"] = (_save_raw(make_tiny_generator(), tmp_path / "dist.ts", m), "'latent_dist'")
    m = _good_meta()
    m["sigmas"] = [1.0]
    cases["sigmas count"] = (_save_raw(make_tiny_generator(), tmp_path / "sig.ts", m), "'sigmas'")
    m = _good_meta()
    m["format"] = 99
    cases["future format"] = (_save_raw(make_tiny_generator(), tmp_path / "fmt.ts", m), "'format'")
    cases["wrong output shape"] = (_save_raw(_Shorter(), tmp_path / "short.ts", _good_meta()), "shape")
    cases["NaN output"] = (_save_raw(_NaN(), tmp_path / "nan.ts", _good_meta()), "NaN")
    cases["out of range"] = (_save_raw(_Loud(), tmp_path / "loud.ts", _good_meta()), "[-1, 1]")
    cases["missing file"] = (tmp_path / "nowhere.ts", "no such file")
    return cases


def test_each_broken_file_raises_one_error_naming_file_and_problem(tmp_path, tiny_model):
    for what, (path, needle) in _broken_files(tmp_path, tiny_model).items():
        with pytest.raises(ModelFileError) as ei:
            load_model(path, device="cpu")
        msg = str(ei.value)
        assert str(path) in msg, what
        assert needle in msg, f"{what}: {msg}"
        assert "\n" not in msg, what


def test_info_on_broken_files_exits_2_with_one_line_and_no_traceback(tmp_path, tiny_model):
    cases = _broken_files(tmp_path, tiny_model)
    for what in ("not TorchScript", "truncated", "missing metadata", "wrong type", "wrong output shape",
                 "NaN output"):
        path, needle = cases[what]
        r = run_cli("info", path, "--runs", "1")
        assert r.returncode == 2, (what, r.stdout, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, (what, r.stderr)
        assert str(path) in lines[0] and needle in lines[0], (what, lines[0])
        assert "Traceback" not in r.stderr


def test_export_refuses_generator_whose_shape_disagrees_with_metadata(tmp_path):
    with pytest.raises(ModelFileError, match="shape"):
        save_loop_model(_Shorter(), tmp_path / "x.ts", tiny_meta(), quiet=True)
    assert not (tmp_path / "x.ts").exists()


def test_read_meta_needs_no_torch_forward(tiny_model):
    meta = read_meta(tiny_model)
    assert meta.bars * meta.beats_per_bar * 60 / meta.bpm == pytest.approx(meta.seconds)

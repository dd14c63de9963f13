"""A model file is code: its TorchScript is checked against an op allow-list before it is loaded,
so a file whose ops read or write files, print, fork or reach custom ops is refused with one line
naming the op, and nothing in it runs; every model the project itself exports passes."""
from __future__ import annotations

import dataclasses
import io
import json
import pickle
import zipfile

import pytest
import torch
from conftest import run_cli

from livegan.model import META_NAME, default_model_path
from livegan.model_code import ModelCodeError, check_model_code
from livegan.testing.faulty_models import FromFile
from livegan.testing.tiny import make_tiny_generator, tiny_meta
from train import archs
from train.models import ExportedGenerator
from train.presets import PRESETS


def _meta() -> str:
    return json.dumps({**tiny_meta(), "format": 1})


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_from_file_model_is_refused_by_info_and_reads_or_writes_nothing(tmp_path):
    marker = tmp_path / "created-by-the-model"
    path = tmp_path / "evil.ts"
    torch.jit.save(torch.jit.script(FromFile(str(marker))), str(path), _extra_files={META_NAME: _meta()})
    r = run_cli("info", path)
    assert r.returncode == 2
    line = _one_line(r.stderr)
    assert str(path) in line and "from_file" in line
    assert not marker.exists()


def test_custom_namespace_op_is_refused(tmp_path):
    lib = torch.library.Library("livegan_test", "DEF")
    lib.define("leak(Tensor x) -> Tensor")
    lib.impl("leak", lambda x: x, "CompositeExplicitAutograd")

    class UsesCustomOp(torch.nn.Module):
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return torch.ops.livegan_test.leak(torch.zeros(z.shape[0], 1, 32768))

    path = tmp_path / "custom.ts"
    torch.jit.save(torch.jit.script(UsesCustomOp()), str(path), _extra_files={META_NAME: _meta()})
    r = run_cli("info", path)  # the op is not registered there: refused by the check, not by torch
    assert r.returncode == 2
    assert "ops.livegan_test.leak" in _one_line(r.stderr)


def test_builtin_model_passes_the_op_check():
    check_model_code(default_model_path())


def _playing(p):
    """What export writes for preset ``p``: its architecture's generator in its playing form."""
    arch = archs.get(p.arch)
    return arch.playing_form(arch.build_generator(p).eval())


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("upsample", ["transposed", "nearest", "linear"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_every_preset_and_generator_option_exports_code_that_passes(preset, upsample, batchnorm, tmp_path):
    p = dataclasses.replace(PRESETS[preset](), model_dim=2, upsample=upsample, batchnorm=batchnorm)
    path = tmp_path / "g.ts"
    torch.jit.save(torch.jit.script(ExportedGenerator(_playing(p))), str(path))
    check_model_code(str(path))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_traced_generators_pass_too(preset, tmp_path):
    """train.export traces a module that does not script: traced code uses lower-level ops."""
    p = dataclasses.replace(PRESETS[preset](), model_dim=2)
    path = tmp_path / "g.ts"
    traced = torch.jit.trace(ExportedGenerator(_playing(p)), torch.zeros(2, p.latent_dim), check_trace=False)
    torch.jit.save(traced, str(path))
    check_model_code(str(path))


def _tiny_archive(tmp_path) -> bytes:
    path = tmp_path / "tiny.ts"
    torch.jit.save(torch.jit.script(make_tiny_generator()), str(path), _extra_files={META_NAME: _meta()})
    return path.read_bytes()


def _rewrite(data: bytes, out, edit_code=None, replace=None, add=None):
    """Copy a TorchScript zip, editing the forward() code, replacing an entry, or adding one."""
    edited = 0
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if edit_code and info.filename.endswith(".py") and b"class TinyGen(" in body:  # name may be mangled
                body = edit_code(body.decode()).encode()
                edited += 1
            if replace and info.filename.endswith(replace[0]):
                body = replace[1]
            dst.writestr(info.filename, body)
        if add:
            dst.writestr(*add)
    assert edited == (1 if edit_code else 0)
    return out


INJECTED = {  # a statement put first in forward(), and what the refusal must name
    "print": ('print("\\x1b[2J")', "print"),
    "save": ('torch.save(z, "/tmp/livegan-x")', "torch.save"),
    "aten-from-file": ('_9 = ops.aten.from_file("/etc/passwd", False, 8)', "ops.aten.from_file"),
    "torch-ops": ("_9 = torch.ops.aten.relu(z)", "torch.ops"),
    "fork": ("_9 = fork(self.forward, z)", "fork"),
    "custom-class": ("_9 = __torch__.torch.classes.myns.Thing", "__torch__.torch.classes"),
    "getattr-op": ('_9 = getattr(z, "from_file")', "from_file"),
    "method-op": ("_9 = z.from_file", "from_file"),
    "unknown-op": ("_9 = torch.cholesky(z)", "torch.cholesky"),
    "undefined-class": ("_9 = __torch__.elsewhere.Thing", "__torch__.elsewhere.Thing"),
    "import": ("import os", "imports"),
    "getattr-computed": ('_9 = getattr(z, "fr" + "om_file")', "computed name"),
    "deep-nesting": ("_9 = " + "-" * 900 + "1", "nested too deeply"),
    "deeper-nesting": ("_9 = " + "-" * 100000 + "1", "cannot be checked"),
    "ops-alias": ("_9 = ops", "'ops' as a value"),
    "ops-getattr": ('_9 = getattr(ops, "forward")', "'ops' as a value"),
    # text the two lexers (Python's, checked here, and TorchScript's) could read differently
    "comment": ("# a comment", "comment"),
    "single-quoted": ("_9 = 'a'", "string literal"),
    "triple-quoted": ('_9 = """a"""', "string literal"),
    "carriage-return": ("_9 = 1\r", "control character"),
    "continuation": ("_9 = 1 + \\\n      2", "backslash"),
    "non-ascii-name": ("_9 = \uff50rint", "non-ASCII"),
}


@pytest.mark.parametrize("case", sorted(INJECTED))
def test_code_using_an_op_off_the_allow_list_is_refused_naming_it(case, tmp_path):
    stmt, named = INJECTED[case]

    def edit(code):
        head, sep, rest = code.partition("-> Tensor:\n")
        return head + sep + "    " + stmt + "\n" + rest

    path = _rewrite(_tiny_archive(tmp_path), tmp_path / "x.ts", edit_code=edit)
    with pytest.raises(ModelCodeError, match="refused") as e:
        check_model_code(str(path))
    assert named in str(e.value)


def test_unedited_rewritten_archive_passes(tmp_path):
    """The rewriting above changes nothing by itself: the refusals come from the injected code."""
    check_model_code(str(_rewrite(_tiny_archive(tmp_path), tmp_path / "x.ts", edit_code=lambda c: c)))


def test_pickled_object_that_is_not_a_tensor_or_module_is_refused(tmp_path):
    import os

    payload = pickle.dumps(os.system, protocol=2)  # a GLOBAL opcode naming os.system
    path = _rewrite(_tiny_archive(tmp_path), tmp_path / "x.ts", replace=("/data.pkl", payload))
    with pytest.raises(ModelCodeError, match=r"system"):
        check_model_code(str(path))


def test_a_second_entry_with_the_same_name_is_refused(tmp_path):
    data = _tiny_archive(tmp_path)
    name = next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(".py"))
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate it is asked to write
        path = _rewrite(data, tmp_path / "x.ts", add=(name, 'class TinyGen(Module):\n  x : int\n'))
    with pytest.raises(ModelCodeError, match="same name"):
        check_model_code(str(path))

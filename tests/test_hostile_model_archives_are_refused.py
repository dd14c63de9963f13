"""A model file whose archive is rearranged to slip code past the op allow-list is refused, with one
line and before anything in it runs, by every command that loads a model a user hands it: info,
render, wrap, export's reload and perform.

Every archive below carries (or rides beside) a forward() that maps, and so creates, a marker file;
each is refused with a line naming the file and the reason, and the marker never appears. The first
case is the bypass that once worked: torch finds records by a case-insensitive name, the check read
them by exact name, so ``Code/`` and ``.PKL`` entries were loaded but never checked.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import warnings
import zipfile

import pytest
import torch

from livegan.cli import main
from livegan.model import META_NAME
from livegan.model_code import ModelCodeError, check_model_code
from livegan.model_graph import check_loaded_code
from livegan.testing.faulty_models import FromFile
from livegan.testing.tiny import make_tiny_generator, tiny_meta

_DEMO_MID = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "livegan", "data", "demo.mid")


class _System:
    """Unpickled by Python's pickle, this would run a shell command: the pickle names os.system."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _save(module, path) -> bytes:
    torch.jit.save(torch.jit.script(module), str(path),
                   _extra_files={META_NAME: json.dumps({**tiny_meta(), "format": 1})})
    return path.read_bytes()


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _zip(entries) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it is asked to write
        for name, body in entries:
            zf.writestr(name, body)
    return buf.getvalue()


def _renamed(entries, code=False, pickles=False):
    out = []
    for name, body in entries:
        if code:
            name = name.replace("/code/", "/Code/")
        if pickles and name.endswith(".pkl"):
            name = name[:-4] + ".PKL"
        out.append((name, body))
    return out


def _replaced(entries, suffix, body):
    return [(n, body if n.endswith(suffix) else b) for n, b in entries]


def _header_renamed(data: bytes) -> bytes:
    """The local header of the first code entry names it differently from the central directory."""
    i = data.index(b"PK\x03\x04")
    while not data[i + 30:i + 30 + int.from_bytes(data[i + 26:i + 28], "little")].endswith(b".py"):
        i = data.index(b"PK\x03\x04", i + 4)
    n = int.from_bytes(data[i + 26:i + 28], "little")
    name = bytearray(data[i + 30:i + 30 + n])
    name[-1] ^= 0x20  # same length, other case of its last letter
    return data[:i + 30] + bytes(name) + data[i + 30 + n:]


def _commented(data: bytes) -> bytes:
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.comment = b"a comment"
    return buf.getvalue()


def _miscounted(data: bytes) -> bytes:
    """The end record counts one entry fewer than the directory holds (a reader trusting the count
    would miss the last entry)."""
    end = bytearray(data[-22:])
    for at in (8, 10):
        end[at:at + 2] = (int.from_bytes(end[at:at + 2], "little") - 1).to_bytes(2, "little")
    return data[:-22] + bytes(end)


def _corpus(evil: bytes, tiny: bytes, marker: str) -> dict:
    """name -> (archive bytes, words the refusal must say)."""
    ev, ti = _entries(evil), _entries(tiny)
    top = ti[0][0].split("/", 1)[0]
    reduce_pkl = pickle.dumps(_System(marker), protocol=2)
    return {
        "case-renamed-code-and-pickles": (_zip(_renamed(ev, code=True, pickles=True)), "unexpected archive entry"),
        "case-renamed-code": (_zip(_renamed(ev, code=True)), "unexpected archive entry"),
        "case-renamed-pickles": (_zip(_renamed(ti, pickles=True)), "unexpected archive entry"),
        "duplicate-entry": (_zip(ti + [(n, next(b for m, b in ev if m.endswith(".py"))) for n, _ in ti
                                       if n.endswith(".py")]), "same name"),
        "names-differing-in-case": (_zip(ti + [(f"{top}/extra/LIVEGAN.JSON", b"{}")]), "differ only in case"),
        "nested-archive": (_zip(ti + [(f"{top}/extra/model.ts", evil), (f"{top}/data/model.ts", evil)]),
                           "unexpected archive entry"),
        "debug-pkl-with-reduce": (_zip(_replaced(ti, ".debug_pkl", reduce_pkl)), "system"),
        "constants-pkl-with-reduce": (_zip(_replaced(ti, "/constants.pkl", reduce_pkl)), "system"),
        "data-pkl-with-stack-global": (_zip(_replaced(ti, "/data.pkl", pickle.dumps(_System(marker), protocol=4))),
                                       "STACK_GLOBAL"),
        "extra-top-folder": (_zip(ti + [("other/" + n.split("/", 1)[1], b) for n, b in ev]),
                             "outside the archive's folder"),
        "entry-without-a-folder": (_zip(ti + [("code.py", b"x")]), "outside the archive's folder"),
        "dot-dot-entry": (_zip(ti + [(f"{top}/code/../code/__torch__/x.py", b"")]), "unexpected archive entry"),
        "no-code": (_zip([(n, b) for n, b in ti if "/code/" not in n]), "has no code"),
        "header-names-another-entry": (_header_renamed(evil), "cannot read"),
        "bytes-before-the-archive": (b"\0" * 64 + evil, "bytes before its archive"),
        "zip-comment": (_commented(evil), "zip comment"),
        "end-record-miscounts": (_miscounted(evil), "end record counts"),
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    marker = d / "created-by-the-model"
    evil = _save(FromFile(str(marker)), d / "evil.ts")
    tiny = _save(make_tiny_generator(), d / "tiny.ts")
    files = {}
    for name, (data, words) in _corpus(evil, tiny, str(marker)).items():
        path = d / f"{name}.ts"
        path.write_bytes(data)
        files[name] = (path, words)
    return files, marker


@pytest.fixture(autouse=True)
def _no_marker_yet(corpus):
    """Each test starts with no marker, so a marker seen is this test's command's doing."""
    corpus[1].unlink(missing_ok=True)


CASES = [
    "case-renamed-code-and-pickles", "case-renamed-code", "case-renamed-pickles", "duplicate-entry",
    "names-differing-in-case", "nested-archive", "debug-pkl-with-reduce", "constants-pkl-with-reduce",
    "data-pkl-with-stack-global", "extra-top-folder", "entry-without-a-folder", "dot-dot-entry", "no-code",
    "header-names-another-entry", "bytes-before-the-archive", "zip-comment", "end-record-miscounts"]


def _one_line(err: str, path) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert str(path) in lines[0], lines[0]
    return lines[0]


def _commands(path, out):
    return {
        "info": ["info", str(path)],
        "render": ["render", "--model", str(path), "--automation", _DEMO_MID, "--seconds", "1",
                   "-o", str(out / "r.wav")],
        "wrap": ["wrap", str(path), "-o", str(out / "w.ts"), "--sample-rate", "16384", "--latent-dim", "8"],
    }


@pytest.mark.parametrize("case", CASES)
def test_the_archive_check_refuses_it_naming_why(case, corpus):
    files, marker = corpus
    path, words = files[case]
    with pytest.raises((ModelCodeError, zipfile.BadZipFile)) as e:
        check_model_code(str(path))
    if words != "cannot read":
        assert words in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["info", "render", "wrap"])
@pytest.mark.parametrize("case", CASES)
def test_every_command_refuses_it_in_one_line_and_nothing_runs(case, command, corpus, tmp_path, capsys):
    files, marker = corpus
    path, words = files[case]
    rc = main(_commands(path, tmp_path)[command])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert words in _one_line(err, path)
    assert not marker.exists()
    assert not any(p.suffix in (".wav", ".ts") for p in tmp_path.iterdir()), list(tmp_path.iterdir())


def test_export_refuses_what_its_writer_produced_before_it_runs(corpus, tmp_path, monkeypatch):
    """export reloads the file it wrote through the same gate: a writer that produced the renamed archive
    (here torch.jit.save itself, replaced) gets one refusal, and the model in it never runs."""
    from livegan.errors import ModelFileError
    from train.export import save_loop_model

    files, marker = corpus
    hostile = files["case-renamed-code-and-pickles"][0].read_bytes()

    def writes_the_hostile_archive(module, f, _extra_files=None):
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as fh:
                fh.write(hostile)
        else:
            f.write(hostile)

    monkeypatch.setattr(torch.jit, "save", writes_the_hostile_archive)
    with pytest.raises(ModelFileError, match="unexpected archive entry"):
        save_loop_model(make_tiny_generator(), tmp_path / "out.ts", tiny_meta(), quiet=True)
    assert not marker.exists()


def test_perform_refuses_it_before_the_show(corpus, jack_server, tmp_path):
    from conftest import run_cli

    files, marker = corpus
    path, words = files["case-renamed-code-and-pickles"]
    r = run_cli("perform", "--model", path, "--seconds", "1", "--record", tmp_path / "take.wav",
                env_extra={"TERM": "dumb"}, input="")
    assert r.returncode == 2, r.stderr
    assert words in _one_line(r.stderr, path)
    assert not marker.exists() and not (tmp_path / "take.wav").exists()


def test_the_graph_check_refuses_what_the_archive_check_would_miss(corpus, tmp_path, monkeypatch, capsys):
    """The second gate, on its own: with the archive check switched off, the renamed archive loads, and
    the walk over what torch compiled (calls inlined, every method of every submodule) refuses it
    before any method runs."""
    import livegan.model_graph as model_graph

    files, marker = corpus
    monkeypatch.setattr(model_graph, "check_model_code", lambda path: None)
    path = files["case-renamed-code-and-pickles"][0]
    assert main(["info", str(path)]) == 2
    line = _one_line(capsys.readouterr().err, path)
    assert "aten::from_file" in line and "forward" in line
    assert not marker.exists()


class _Wrapper(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner(z)


class _Prints(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        print("from the model")
        return z


@pytest.mark.parametrize("module, named", [(_Wrapper(FromFile("/nonexistent/x")), "aten::from_file"),
                                           (_Wrapper(_Prints()), "prim::Print")])
def test_the_graph_check_sees_ops_in_submodules(module, named):
    with pytest.raises(ModelCodeError, match=named):
        check_loaded_code(torch.jit.script(module))


def test_the_graph_check_passes_the_builtin_model():
    from livegan.model import default_model_path

    check_loaded_code(torch.jit.load(default_model_path()))

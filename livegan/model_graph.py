"""What torch compiled from a loaded model file, checked against the op allow-list before it runs.

The archive check (``livegan.model_code``) reads the serialized code before the load; this walks what
the load produced: every method of the module and of every submodule (property getters are methods
too), with calls inlined, each node's op against the same allow-list, and no value of a C++ class type.

``load_checked`` is the one way a model file is loaded, these checks around ``torch.jit.load``.

Thread: main.
"""
from __future__ import annotations

import contextlib
import warnings
import zipfile

from livegan.errors import ModelFileError, first_line
from livegan.model_archive import ModelCodeError
from livegan.model_code import ATEN, PRIM, check_model_code

# prim nodes a loaded generator's graphs may hold besides PRIM's ops: control flow, constants, attribute
# reads and writes, containers. Print, fork, with-blocks, Python ops and calls left after inlining (a
# C++ class's method, an interface) are not among them.
GRAPH_PRIM = PRIM | frozenset("""
Constant GetAttr SetAttr If Loop ListConstruct ListUnpack TupleConstruct TupleUnpack DictConstruct
CreateObject isinstance TupleSlice ListIndex StringIndex unchecked_unwrap_optional tolist id
""".split())


def _graph_refusal(graph) -> str | None:
    """The first node of ``graph`` (calls inlined) off the allow-list, as text; None if all pass."""
    def walk(block):
        for node in block.nodes():
            kind = node.kind()
            ns, _, op = kind.partition("::")
            if not ((ns == "aten" and op in ATEN) or (ns == "prim" and op in GRAPH_PRIM)):
                return f"the op {kind}"
            for v in list(node.inputs()) + list(node.outputs()):
                t = str(v.type())
                if "__torch__.torch.classes" in t:
                    return f"the C++ class {t}"
            for b in node.blocks():
                found = walk(b)
                if found:
                    return found
        return None
    return walk(graph)


def check_loaded_code(module) -> None:
    """Raise ModelCodeError naming the first op off the allow-list in what torch compiled for ``module``
    (a loaded ScriptModule): every method of it and of every submodule, calls inlined. Runs nothing."""
    import torch

    for prefix, sub in module.named_modules():
        for name in sub._c._method_names():
            graph = sub._c._get_method(name).graph.copy()
            torch._C._jit_pass_inline(graph)
            found = _graph_refusal(graph)
            if found:
                where = f"{prefix}.{name}" if prefix else name
                raise ModelCodeError(f"runs {found} in {where}(); refused (livegan loads only models whose "
                                     "code uses an allow-list of math ops)")


@contextlib.contextmanager
def jit_quiet():
    """torch.jit calls without torch's DeprecationWarning: TorchScript is the model file's container
    (docs/model-file.md), and torch >= 2.10 marks jit deprecated but keeps it. Scoped to the calls
    that need it, so importing livegan leaves the process's warning filters alone."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
        yield


def check_code(path: str) -> None:
    """Refuse, before torch.jit.load, a file whose archive or TorchScript is off the allow-list
    (``livegan.model_code``): a model file is code, and its ops could read, write or print."""
    try:
        check_model_code(path)
    except ModelCodeError as e:
        raise ModelFileError(path, str(e)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise ModelFileError(path, f"cannot read its code ({e})") from None


def load_checked(path: str, device: str = "cpu", extra_files: dict | None = None):
    """The one way a model file is loaded: the archive is checked, torch loads it, and what torch
    compiled is checked again, before any of its methods can be called. -> the ScriptModule (eval)."""
    import torch

    check_code(path)
    try:
        with jit_quiet():
            module = torch.jit.load(path, map_location=device, _extra_files=extra_files or {})
    except Exception as e:  # torch raises RuntimeError/ValueError with long C++ traces
        raise ModelFileError(path, f"not a loadable TorchScript model ({first_line(e)})") from None
    try:
        check_loaded_code(module)
    except ModelCodeError as e:
        raise ModelFileError(path, str(e)) from None
    return module.eval()

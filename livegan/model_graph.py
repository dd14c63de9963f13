"""What torch compiled from a loaded model file, checked against the op allow-list before it runs.

The archive check (``livegan.model_code``) reads the serialized code before the load; this walks what
the load produced: every method of the module and of every submodule (property getters are methods
too), with calls inlined, each node's op against the same allow-list, and no value of a C++ class type.

Thread: main (``livegan.model.load_checked`` runs it right after ``torch.jit.load``).
"""
from __future__ import annotations

from livegan.model_archive import ModelCodeError
from livegan.model_code import ATEN, PRIM


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

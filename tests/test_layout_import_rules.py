"""The layout keeps its shape: the folders are the threads and the stages, and the import rules that
make them so hold (docs/architecture.md, "Layout").

- ``livegan/audio`` (the audio thread) imports nothing from ``control``, ``io``, ``commands`` or
  ``testing``, and never torch; ``livegan/control`` imports nothing from ``io`` (``io`` imports
  ``control``: the MIDI thread's clock follower, the panel's keyboard);
- ``train/`` imports from livegan only the model contract (its deadlines too: ``livegan.faults``), the errors,
  the pure DSP kernels and the one rule for writing an output file (``livegan.files``: the standard library and
  the errors)
  (``python -m train`` is the one console script's other name, so ``train/__main__.py`` calls the CLI);
- ``livegan/commands/*`` is imported by nothing but ``livegan/cli.py``;
- ``livegan/testing`` is imported by nothing in the instrument;
- no import cycle among the project's modules (function-local imports included), nor among its
  packages (``livegan/control`` may import ``livegan/io`` or the other way, never both: a cycle of
  folders is a cycle of stages even where no two modules import each other);
- no module over 350 lines and no function over 80, except the engine's numba block kernel.

Imports are read from the source (``ast``), so every import counts: module level, inside a
function, or under ``if TYPE_CHECKING``.
"""
from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("livegan", "train")
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 80
LONG_FUNCTIONS_ALLOWED = {("livegan/audio/dsp.py", "engine_block")}  # one numba kernel: the callback's arithmetic
TRAIN_MAY_IMPORT = ("livegan.model", "livegan.errors", "livegan.faults", "livegan.audio.dsp", "livegan.files")


def _modules(root=ROOT, packages=PACKAGES):
    """{dotted module name: path relative to root} for every .py file of the packages."""
    out = {}
    for pkg in packages:
        for folder, dirs, files in os.walk(os.path.join(root, pkg)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for f in sorted(files):
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, f), root)
                    name = rel[:-3].replace(os.sep, ".")
                    out[name[:-len(".__init__")] if name.endswith(".__init__") else name] = rel
    return out


def _imports(path: str, module: str):
    """[(line, imported dotted name)] of one source file, relative imports resolved."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    is_pkg = path.endswith("__init__.py")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                parts = parts if is_pkg else parts[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]  # `from pkg import module`
    return found


def _project_imports(root=ROOT):
    """{module: [(line, imported project module)]}: imports of the project's own modules, each named
    by the longest project module it refers to."""
    mods = _modules(root)
    graph = {}
    for name, rel in mods.items():
        deps = []
        for line, imp in _imports(os.path.join(root, rel), name):
            parts = imp.split(".")
            for k in range(len(parts), 0, -1):
                cand = ".".join(parts[:k])
                if cand in mods:
                    if cand != name and (k == len(parts) or cand != parts[0]):
                        deps.append((line, cand))
                    break
        graph[name] = sorted(set(deps))
    return mods, graph


def _all_imports(root=ROOT):
    mods = _modules(root)
    return mods, {name: _imports(os.path.join(root, rel), name) for name, rel in mods.items()}


def rule_violations(root=ROOT) -> list[str]:
    """One line per import that breaks a layout rule: 'path:line: module imports X (rule)'."""
    mods, imports = _all_imports(root)
    bad = {}  # (path, line, rule) -> the first import named there (`from a.b import c` reads as a.b and a.b.c)
    for name, found in imports.items():
        rel = mods[name]
        for line, imp in found:
            top = imp.split(".")[0]
            where = (rel, line, name, imp)
            if name.startswith("livegan.audio"):
                if top == "torch":
                    bad.setdefault(where[:2] + ("the audio thread never touches torch",), where)
                for banned in ("livegan.control", "livegan.io", "livegan.commands", "livegan.testing"):
                    if imp == banned or imp.startswith(banned + "."):
                        bad.setdefault(where[:2] + (f"audio/ must not import {banned.split('.')[1]}/",), where)
            if name.startswith("livegan.control") and (imp == "livegan.io" or imp.startswith("livegan.io.")):
                bad.setdefault(where[:2] + ("control/ must not import io/ (io/ imports control/)",), where)
            if name.startswith("train") and name != "train.__main__" and top == "livegan" and imp != "livegan":
                if not any(imp == ok or imp.startswith(ok + ".") for ok in TRAIN_MAY_IMPORT):
                    bad.setdefault(where[:2] + (f"train/ imports only {', '.join(TRAIN_MAY_IMPORT)}",), where)
            if imp.startswith("livegan.commands.") and not name.startswith("livegan.commands") \
                    and name != "livegan.cli":
                bad.setdefault(where[:2] + ("commands are imported by livegan.cli only",), where)
            if imp.startswith("livegan.commands.") and name.startswith("livegan.commands.") \
                    and imp.split(".")[2] != name.split(".")[2]:
                bad.setdefault(where[:2] + ("one command does not import another",), where)
            if (imp == "livegan.testing" or imp.startswith("livegan.testing.")) \
                    and not name.startswith("livegan.testing"):
                bad.setdefault(where[:2] + ("livegan/testing is for tests, benchmarks and scripts",), where)
    return sorted(f"{rel}:{line}: {name} imports {imp} ({rule})"
                  for (rel, line, rule), (_, _, name, imp) in bad.items())


def _cycles(adj: dict) -> list[list[str]]:
    """Strongly connected components of more than one node of a graph {node: [node]} (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):  # recursive: a few hundred modules, a dozen packages
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(adj):
        if v not in index:
            visit(v)
    return out


def import_cycles(root=ROOT) -> list[list[str]]:
    """Strongly connected components of more than one module in the project's import graph."""
    _, graph = _project_imports(root)
    return _cycles({m: sorted({d for _, d in deps}) for m, deps in graph.items()})


def package_of(module: str) -> str:
    """The folder a module belongs to (``livegan.control.live`` -> ``livegan.control``, ``train.step`` ->
    ``train``); a module at livegan's top (``livegan.cli``, ``livegan.model``) stands for itself: that
    folder is the whole instrument, not one stage."""
    parts = module.split(".")
    if parts[0] == "livegan":
        return ".".join(parts[:2])
    return parts[0]


def package_cycles(root=ROOT) -> list[str]:
    """One line per cycle among the packages: the packages, then each import that crosses between them
    ('livegan.control.sources:68 -> livegan.io.midi')."""
    _, graph = _project_imports(root)
    adj, where = {}, {}
    for m, deps in graph.items():
        for line, d in deps:
            a, b = package_of(m), package_of(d)
            if a != b:
                adj.setdefault(a, set()).add(b)
                where.setdefault((a, b), {})[(m, line)] = d  # `from pkg import mod`: the module named last
    out = []
    for comp in _cycles({a: sorted(bs) for a, bs in adj.items()}):
        crossing = [f"{m}:{line} -> {d}" for a in comp for b in comp for (m, line), d in where.get((a, b), {}).items()]
        out.append(f"{' <-> '.join(comp)}: {'; '.join(crossing)}")
    return out


def size_violations(root=ROOT) -> list[str]:
    mods = _modules(root)
    bad = []
    for rel in sorted(mods.values()):
        src = open(os.path.join(root, rel), encoding="utf-8").read()
        n = src.count("\n")
        if n > MAX_MODULE_LINES:
            bad.append(f"{rel}: {n} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(src, rel)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and (rel, node.name) not in LONG_FUNCTIONS_ALLOWED:
                    bad.append(f"{rel}:{node.lineno}: {node.name}() is {length} lines (at most {MAX_FUNCTION_LINES})")
    return bad


def test_import_rules_hold():
    assert rule_violations() == []


def test_no_import_cycle():
    assert import_cycles() == []


def test_no_import_cycle_between_packages():
    assert package_cycles() == []


def test_modules_and_functions_stay_short():
    assert size_violations() == []


def test_every_folder_says_which_thread_or_stage_it_is():
    missing = []
    for rel in _modules().values():
        if rel.endswith("__init__.py"):
            doc = ast.get_docstring(ast.parse(open(os.path.join(ROOT, rel), encoding="utf-8").read()))
            if not doc or len(doc.split()) < 12:
                missing.append(rel)
    assert missing == []


# ---- the checks themselves catch what they are for (a rule that cannot fail proves nothing)

def _tree(tmp_path, files: dict):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize("rel, text, rule", [
    ("livegan/audio/engine.py", "import torch\n", "never touches torch"),
    ("livegan/audio/engine.py", "def f():\n    from livegan.control.live import LiveControl\n",
     "must not import control/"),
    ("livegan/audio/fx.py", "from livegan.io import midi\n", "must not import io/"),
    ("train/step.py", "from livegan.control.mapping import morph\n", "train/ imports only"),
    ("livegan/io/journal.py", "from livegan.commands.render import read_automation\n", "imported by livegan.cli only"),
    ("livegan/commands/demo.py", "from livegan.commands import render\n", "does not import another"),
    ("livegan/control/live.py", "from livegan.testing.synth import sine_loop\n", "livegan/testing is for tests"),
    ("livegan/control/live.py", "def f():\n    from livegan.io.midi import MidiSource\n",
     "control/ must not import io/"),
])
def test_a_broken_rule_is_named(tmp_path, rel, text, rule):
    base = {f"{p}/__init__.py": '"""x"""\n' for p in ("livegan", "livegan/audio", "livegan/io", "livegan/control",
                                                       "livegan/commands", "livegan/testing", "train")}
    base.update({"livegan/cli.py": "from livegan.commands import render\n", "livegan/commands/render.py": "",
                 "livegan/control/live.py": "", "livegan/control/mapping.py": "", "livegan/io/midi.py": "",
                 "livegan/testing/synth.py": "", "livegan/model.py": "",
                 "train/step.py": "from livegan import model\n"})
    root = _tree(tmp_path, base)
    assert rule_violations(root) == []
    _tree(tmp_path, {rel: text})
    bad = rule_violations(root)
    assert len(bad) == 1 and rule in bad[0] and bad[0].startswith(rel + ":"), bad


def test_an_import_cycle_is_found(tmp_path):
    root = _tree(tmp_path, {"livegan/__init__.py": "", "livegan/a.py": "from livegan import b\n",
                            "livegan/b.py": "def f():\n    import livegan.c\n",
                            "livegan/c.py": "from livegan.a import x\n",
                            "livegan/d.py": "import livegan.a\n", "train/__init__.py": ""})
    assert import_cycles(root) == [["livegan.a", "livegan.b", "livegan.c"]]


def test_a_package_cycle_is_found_where_no_two_modules_import_each_other(tmp_path):
    root = _tree(tmp_path, {"livegan/__init__.py": "", "livegan/control/__init__.py": "", "livegan/io/__init__.py": "",
                            "livegan/control/a.py": "def f():\n    from livegan.io import b\n",
                            "livegan/io/b.py": "", "livegan/io/c.py": "from livegan.control.d import x\n",
                            "livegan/control/d.py": "from livegan import model\n", "livegan/model.py": "",
                            "livegan/cli.py": "import livegan.io.c\n", "train/__init__.py": "",
                            "train/step.py": "from livegan.model import x\n"})
    assert import_cycles(root) == []
    assert package_cycles(root) == ["livegan.control <-> livegan.io: livegan.control.a:2 -> livegan.io.b; "
                                    "livegan.io.c:1 -> livegan.control.d"]


def test_a_long_module_or_function_is_named(tmp_path):
    long_fn = "def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES
    root = _tree(tmp_path, {"livegan/__init__.py": "", "livegan/ok.py": "def g():\n    return 1\n",
                            "livegan/long.py": "\n" * (MAX_MODULE_LINES + 1), "livegan/fn.py": long_fn,
                            "train/__init__.py": ""})
    assert size_violations(root) == [f"livegan/fn.py:1: f() is {MAX_FUNCTION_LINES + 1} lines (at most "
                                     f"{MAX_FUNCTION_LINES})", f"livegan/long.py: {MAX_MODULE_LINES + 1} lines "
                                     f"(at most {MAX_MODULE_LINES})"]

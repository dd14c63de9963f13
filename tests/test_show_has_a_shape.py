"""``livegan perform``'s ``Show`` has a shape: every attribute it will ever hold is declared in its
``__init__`` (none appears later in a stage or from outside, so closing it needs no ``getattr`` or
``hasattr`` on it), its stages run as ``open``/``connect``/``play``/``close``, and as a context manager
it closes whatever was opened, even when a stage fails, running ``Show.hooks`` as each stage begins."""
from __future__ import annotations

import ast
import socket
from types import SimpleNamespace

import pytest

from livegan import show as perform
from livegan.errors import CLIError
from livegan.show import Show

SOURCE = perform.__file__


def _declared_and_assigned():
    tree = ast.parse(open(SOURCE, encoding="utf-8").read())
    show = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Show")
    init = next(n for n in show.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")

    def targets(node, names):
        out = []
        for n in ast.walk(node):
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    for e in ast.walk(t):
                        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id in names:
                            out.append((e.attr, n.lineno))
        return out

    declared = {a for a, _ in targets(init, {"self"})}
    return declared, targets(tree, {"self", "show"}), tree


def test_every_attribute_of_a_show_is_declared_in_init():
    declared, assigned, _ = _declared_and_assigned()
    late = [f"{SOURCE}:{line}: {a}" for a, line in assigned if a not in declared]
    assert late == [] and len(declared) >= 25


def test_closing_needs_no_getattr_or_hasattr_on_the_show():
    _, _, tree = _declared_and_assigned()
    probes = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
              and n.func.id in ("getattr", "hasattr") and n.args and isinstance(n.args[0], ast.Name)
              and n.args[0].id in ("self", "show")]
    assert probes == []


def _args(**over):
    base = dict(model=None, patch=None, midi=None, device=None, record=None, stats_json=None, osc=None, osc_host=None,
                samplerate=None, blocksize=None, latency="low", seconds=None, loops_dir=None, link=False,
                debug_audio_thread=False)
    return SimpleNamespace(**{**base, **over})


@pytest.fixture
def stages(monkeypatch):
    seen = []
    monkeypatch.setattr(Show, "hooks", [lambda stage, show: seen.append(stage)])
    return seen


def test_a_show_whose_open_fails_is_closed_by_the_context_manager(stages, tmp_path):
    with pytest.raises(CLIError, match="--record"):
        with Show(_args(record=str(tmp_path / "take.txt"))) as show:
            show.open()
            show.connect()
    assert stages == ["open", "close"] and not show.playing and show.errors == []


def test_the_osc_port_a_failed_open_bound_is_free_again(stages, tmp_path):
    with pytest.raises(CLIError, match="no-such-output"):
        with Show(_args(osc=0, device="no-such-output")) as show:
            show.open()
    assert show.osc is not None and stages == ["open", "close"]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((show.osc.host, show.osc.port))  # the port was let go
    finally:
        s.close()

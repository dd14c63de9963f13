"""Text from files reaches the terminal only as literal text: model metadata loses its control
characters once, at validation, so `info`, the perform banner, the panel and render all print clean
strings; patch text on the live panel has its rich markup escaped."""
from __future__ import annotations

import json
import unicodedata

import numpy as np
import pytest
import torch
from conftest import run_cli

from livegan.model import META_NAME, ModelFileError, validate_meta
from livegan.testing.tiny import make_tiny_generator, tiny_meta

EVIL = "\x1b]0;pwned\x07\x1b[2Jevil\x9b31m\u202ename\nnext"


def _controls(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cf") and c != "\n"]


def _strings(v):
    """Every string (keys included) in a JSON-like tree."""
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def _raw(**over):
    return {**tiny_meta(**over), "format": 1}


def test_metadata_strings_lose_control_characters_and_keep_their_text():
    meta = validate_meta(_raw(name=EVIL, training={"preset": "\x1b[31mred", "steps": 2,
                                                   "runs": ["\x07a", {"k\x1b": "v\x1b[0m"}]}))
    assert not _controls(meta.name) and "\n" not in meta.name
    assert "pwned" in meta.name and "evil" in meta.name and "next" in meta.name
    assert not any(_controls(t) for t in _strings(meta.training))
    assert meta.training["preset"] == "[31mred" and meta.training["steps"] == 2
    assert meta.training["runs"] == ["a", {"k": "v[0m"}]


def test_a_name_that_is_only_control_characters_is_refused():
    with pytest.raises(ModelFileError, match="'name'"):
        validate_meta(_raw(name="\x1b\x07\x1b"))


def test_info_prints_no_escape_sequence_from_the_model_file(tmp_path):
    path = tmp_path / "evil-name.ts"
    meta = _raw(name=EVIL, training={"preset": "\x1b[2J\x1b[31mcleared"})
    torch.jit.save(torch.jit.script(make_tiny_generator()), str(path), _extra_files={META_NAME: json.dumps(meta)})
    for args in ((), ("--json",)):
        r = run_cli("info", path, "--runs", "1", *args)
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\x9b" not in r.stdout
        assert "pwned" in r.stdout and "cleared" in r.stdout


def _panel_text(patch_toml: str, tmp_path) -> str:
    from rich.console import Console

    from livegan.control.controller import Controller
    from livegan.control.keyboard import KeyboardControl
    from livegan.control.patch import check_against_model, load_patch
    from livegan.io.panel import panel

    path = tmp_path / "p.toml"
    path.write_text(patch_toml)
    patch, _ = check_against_model(load_patch(path), 4)
    dirs = np.eye(4, 8, dtype=np.float32)
    c = Controller(patch, dirs, np.ones(4, np.float32), "uniform")
    kb = KeyboardControl(c)
    kb.last = "[/red] said [b]"
    console = Console(record=True, width=160, force_terminal=True, color_system=None)
    console.print(panel({"playing": "[/x]", "next": 3, "clock": "[i]"}, c, kb))
    return console.export_text()


def test_panel_shows_patch_text_with_markup_literally(tmp_path):
    names = ["[/oops]", "[b]bold[/b]", "x[/]"]
    toml = 'name = "p"\n[midi]\nport = "virtual"\n' + "".join(
        f'[[knob]]\ncc = {20 + i}\ndirection = {i + 1}\nname = {json.dumps(n)}\n' for i, n in enumerate(names))
    text = _panel_text(toml, tmp_path)
    for n in names:
        assert n in text
    assert "[/red] said [b]" in text and "loop [/x] -> 3" in text and "([i])" in text


def test_panel_strips_control_characters_from_patch_text(tmp_path):
    toml = 'name = "p"\n[midi]\nport = "virtual"\n[[knob]]\ncc = 20\ndirection = 1\nname = "a\\u001b[2Jb"\n'
    text = _panel_text(toml, tmp_path)
    assert "\x1b[2J" not in text and "a[2Jb" in text


def test_patch_names_lose_control_characters_at_load(tmp_path):
    from livegan.control.patch import load_patch

    path = tmp_path / "p.toml"
    path.write_text('name = "show\\u001b]0;pwned\\u0007"\n[midi]\nport = "virtual"\n'
                    '[[knob]]\ncc = 20\ndirection = 1\nname = "k\\u001b[2J"\n')
    patch = load_patch(path)
    assert patch.name == "show]0;pwned" and patch.knobs[0].name == "k[2J"


def test_perform_names_an_unfinished_take_with_its_escape_sequences_shown_not_played(jack_server, tiny_model,
                                                                                      tmp_path):
    """A journal beside the take is named on stderr ("found an unfinished take"); its file name is text
    from the disk, so an escape sequence in it is written out (\\x1b), not sent to the terminal."""
    name = "\x1b]0;pwned\x07\x1b[2Jold.journal"
    (tmp_path / name).write_bytes(b"livegan journal 1 rate 48000 take 0\n")
    r = run_cli("perform", "--model", tiny_model, "--record", tmp_path / "take.wav", "--seconds", "1",
                env_extra={"JACK_NO_START_SERVER": "1"})
    assert r.returncode == 0, r.stderr
    found = [ln for ln in r.stderr.splitlines() if "unfinished take" in ln]
    assert len(found) == 1 and "\\x1b]0;pwned\\x07\\x1b[2Jold.journal" in found[0], r.stderr
    assert not _controls(r.stderr + r.stdout)

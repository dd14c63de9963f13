"""Writing patches: ``save_patch`` (``livegan learn``, tests) and the TOML text behind it.

Reading and validating is ``livegan.control.patch``; a written patch is re-read
through it before the file is replaced. Thread: main.
"""
from __future__ import annotations

import os
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from livegan.audio.fx import EFFECTS
from livegan.control.patch import Patch, parse_patch


def _toml_value(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_toml_value(i) for i in x) + "]"
    raise TypeError(f"cannot write {x!r} to TOML")


def patch_to_dict(p: Patch) -> dict:
    d: dict[str, Any] = {"name": p.name,
         "midi": {"port": p.port, "channel": "omni" if p.channel is None else p.channel,
                  "takeover": p.takeover},
         "transport": {"tempo": "model" if p.tempo is None else p.tempo, "quantize": p.quantize,
                       "crossfade_ms": p.crossfade_ms, "clock": p.clock},
         "notes": {"seeds": p.seed_notes, "snapshots": p.snapshot_notes}}
    if p.morph_cc is not None:
        d["morph"] = {"cc": p.morph_cc, "from": p.morph_pads[0], "to": p.morph_pads[1]}
    d["effect"] = []
    for e in p.effects:
        t: dict[str, Any] = {"type": e.type, "bypass": e.bypass}
        if EFFECTS[e.type].modes:
            t["mode"] = e.mode
        t.update(e.params)
        d["effect"].append(t)
    d["knob"] = []
    for k in p.knobs:
        t = {"cc": k.cc}
        if k.direction_name is not None:  # a model's named knob: its name, whatever index it resolved to
            t["direction"] = k.direction_name
        elif k.direction is not None:
            t["direction"] = k.direction + 1
        else:
            t["effect"] = k.effect
        t["range"] = list(k.range)
        if k.takeover:
            t["takeover"] = k.takeover
        if k.name:
            t["name"] = k.name
        d["knob"].append(t)
    d["button"] = [{"cc": b.cc, "action": b.action} for b in p.buttons]
    return d


def dumps_patch(p: Patch) -> str:
    """TOML text for a patch (a small writer: the schema has only scalars, lists and tables)."""
    d = patch_to_dict(p)
    lines = [f"name = {_toml_value(d['name'])}", ""]
    for sect in ("midi", "transport", "notes", "morph"):
        if sect in d:
            lines.append(f"[{sect}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in d[sect].items()]
            lines.append("")
    for arr in ("effect", "knob", "button"):
        for t in d[arr]:
            lines.append(f"[[{arr}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in t.items()]
            lines.append("")
    return "\n".join(lines)


def save_patch(p: Patch, path) -> None:
    """Write ``p`` to ``path`` under a temporary name, read it back, and move it into place only if it
    loads as the same text (``livegan.files.output_file``). Replaces ``path``: ``livegan learn``
    edits the patch it loaded (its job is to rewrite that file), and tests write their own patches."""
    from livegan.files import output_file

    path = os.fspath(path)
    text = dumps_patch(p)
    parse_patch(tomllib.loads(text), path)  # never write a file we could not load
    with output_file(path, "patch", force=True) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
        with open(tmp) as f:
            if f.read() != text:
                raise OSError(f"{path}: the written patch did not read back the same")

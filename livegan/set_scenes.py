"""A set file's scenes (``[[scene]]`` tables, ``docs/sets.md``): what every track plays when one is recalled.

A scene has a ``name`` and, per track (a sub-table named by the track's name), any of ``seed`` (a whole
number: the seed's point), ``z`` (a list of floats: a point saved live), ``knobs`` (a table: a direction
number from 0 or a named knob's name -> sigmas, moved from that point), ``gain`` (dB) and ``mute``. A
track the scene does not name keeps what it plays. Every problem is one ``SetError`` line naming the file,
the scene (its index from 0 and its name), the track and the field, e.g.
``my.set.toml: scene[1] (verse).bass.gain: must be a number in [-60.0, 12.0], got 40``.
What needs the models (a z's size, a knob's name) is checked where they are loaded (``check_scenes``).

``scene_text`` writes one scene as a ``[[scene]]`` table, put in the set file's text when a scene is made
live (``replace_scene``: the file's own text and comments kept, the file replaced atomically).

Thread: main (or the control thread for ``append_scene``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from livegan.errors import CLIError
from livegan.model import printable

MAX_SCENES = 64
MAX_LATENT = 4096  # a point's most floats (as a ``livegan base`` marker holds: ``livegan.io.markers``)
SCENE_TRACK_KEYS = {"seed", "z", "knobs", "gain", "mute"}
KNOB_SIGMAS = (-8.0, 8.0)


@dataclass
class ScenePart:
    """One track in a scene: what it changes (None: kept as it is)."""
    seed: int | None = None
    z: list[float] | None = None
    knobs: dict = field(default_factory=dict)  # direction number (int) or named knob (str) -> sigmas
    gain_db: float | None = None
    mute: bool | None = None


@dataclass
class Scene:
    name: str
    parts: dict[int, ScenePart] = field(default_factory=dict)  # track index -> its part
    where: str = ""  # "scene[1] (verse)"


def _part(v, raw, where: str, gain_range) -> ScenePart:
    v.keys(raw, where, SCENE_TRACK_KEYS)
    p = ScenePart()
    if "seed" in raw:
        p.seed = v.int_in(raw["seed"], f"{where}.seed", 0, (1 << 31) - 1)
    if "z" in raw:
        z = raw["z"]
        if not isinstance(z, list) or not 1 <= len(z) <= MAX_LATENT:
            v.bad(f"{where}.z", f"must be a list of 1-{MAX_LATENT} numbers (a point), got {printable(repr(z))[:60]}")
        for i, x in enumerate(z):
            v.num_in(x, f"{where}.z[{i}]", -1e6, 1e6)
        p.z = [float(x) for x in z]
        if p.seed is not None:
            v.bad(f"{where}.z", "a scene's track plays a seed or a point z, not both")
    knobs = raw.get("knobs", {})
    v.keys(knobs, f"{where}.knobs", set(knobs) if isinstance(knobs, dict) else set())
    for name, x in knobs.items():
        key = int(name) if name.isdigit() else name
        p.knobs[key] = v.num_in(x, f"{where}.knobs.{name}", *KNOB_SIGMAS)
    if "gain" in raw:
        p.gain_db = v.num_in(raw["gain"], f"{where}.gain", *gain_range)
    if "mute" in raw:
        p.mute = v.boolean(raw["mute"], f"{where}.mute")
    return p


def parse_scenes(v, raw, names: list[str], gain_range) -> list[Scene]:
    """The ``[[scene]]`` tables (``raw``, None: none) of a set whose tracks are ``names``; ``v`` the set's Validator."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        v.bad("scene", "must be [[scene]] tables, one per scene")
    if len(raw) > MAX_SCENES:
        v.bad("scene", f"has {len(raw)} scenes; a set has at most {MAX_SCENES}")
    scenes: list[Scene] = []
    for i, t in enumerate(raw):
        key = f"scene[{i}]"
        if not isinstance(t, dict):
            v.bad(key, f"must be a table ([[scene]]), got {printable(repr(t))[:60]}")
        name = t.get("name", f"{i + 1}")
        if not isinstance(name, str) or not name.strip() or len(name) > 32:
            v.bad(f"{key}.name", f"must be a name of 1-32 characters, got {printable(repr(name))[:40]}")
        s = Scene(name=printable(name), where=f"{key} ({printable(name)})")
        for tname, part in t.items():
            if tname == "name":
                continue
            if tname not in names:
                v.bad(f"{s.where}.{printable(tname)[:32]}",
                      f"no track is called that (the set's tracks: {', '.join(names)})")
            if not isinstance(part, dict):
                v.bad(f"{s.where}.{tname}", f"must be a table ([scene.{tname}]), got {printable(repr(part))[:40]}")
            s.parts[names.index(tname)] = _part(v, part, f"{s.where}.{tname}", gain_range)
        scenes.append(s)
    return scenes


def check_scenes(s, metas) -> None:
    """What needs the models: each z's size, each knob's direction number or name (``metas`` per track).
    One CLIError line naming the set file, the scene, the track and the field."""
    for sc in s.scenes:
        for k, p in sc.parts.items():
            meta, where = metas[k], f"{s.path}: {sc.where}.{s.tracks[k].name}"
            if p.z is not None and len(p.z) != meta.latent_dim:
                raise CLIError(f"{where}.z: has {len(p.z)} numbers; track {s.tracks[k].name}'s model's points "
                               f"have {meta.latent_dim}")
            names = [kn.name for kn in meta.knobs]
            n_dir = len(meta.directions)
            for key in p.knobs:
                if (isinstance(key, int) and not key < n_dir) or (isinstance(key, str) and key not in names):
                    raise CLIError(f"{where}.knobs.{key}: the model has directions 0-{n_dir - 1}"
                                   + (f" and the named knobs {', '.join(names)}" if names else " and no named knobs"))


def scene_text(name: str, parts: dict[str, dict]) -> str:
    """One ``[[scene]]`` table: ``parts`` track name -> {"z": floats, "gain": dB, "mute": bool} (any of)."""
    lines = ["", "[[scene]]", f"name = {_toml_str(name)}"]
    for tname, p in parts.items():
        lines.append(f"[scene.{tname}]")
        if "z" in p:
            lines.append("z = [" + ", ".join(repr(float(x)) for x in p["z"]) + "]")
        if "gain" in p:
            lines.append(f"gain = {float(p['gain'])!r}")
        if "mute" in p:
            lines.append(f"mute = {'true' if p['mute'] else 'false'}")
    return "\n".join(lines) + "\n"


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


_HEADER = re.compile(r"\s*\[")  # a table's header line
_SCENE = re.compile(r"\s*\[\[\s*scene\s*\]\]")
_PART = re.compile(r"\s*\[\s*scene\s*\.")


def replace_scene(path: str, index: int, text: str) -> None:
    """Put the ``[[scene]]`` table ``text`` in the set file ``path`` as its scene ``index`` (from 0): appended
    after the file's own text when the file has that many scenes, else in place of that scene's table (from
    its ``[[scene]]`` line to the next table that is not one of its ``[scene.TRACK]`` parts). The rest of the
    text, comments included, is kept as it is; the file is replaced at once (a temporary file beside it,
    moved into place), so a crash leaves the old file or the new one."""
    from livegan.files import move_into_place, temp_beside

    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    heads = [i for i, line in enumerate(lines) if _SCENE.match(line)]
    if index < len(heads):
        a = end = heads[index]
        end += 1
        while end < len(lines) and not (_HEADER.match(lines[end]) and not _PART.match(lines[end])):
            end += 1
        lines[a:end] = [text.lstrip("\n")]
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(text)
    tmp = temp_beside(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("".join(lines))
            f.flush()
            os.fsync(f.fileno())
        move_into_place(tmp, path, "set file", force=True)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)

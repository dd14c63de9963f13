"""Patches: ``patches/*.toml`` say how a controller plays a model.

A patch names the MIDI port and channel, maps CCs to latent directions (range
in sigmas) or to effect parameters, says how knobs take over (``jump`` or
``pickup``), which notes pick seeds and which are snapshot pads, which CC
morphs between two snapshots, the tempo / quantize / crossfade, and the
effects chain. Every problem raises ``PatchError`` naming the file, the key
and what is wrong, e.g. ``patches/x.toml: knob[2].cc: must be an integer in
[0, 127], got 300``.

Directions are numbered from 1 in the file (``direction = 1`` is the strongest
direction, as the learn prompt says) and from 0 in ``Knob.direction``. A knob may
instead name one of the model's named knobs (``direction = "brightness"``, the
``knobs`` field of its ``livegan.json``): ``Knob.direction_name`` holds the name, and
``check_against_model`` resolves it to an index past the model's numbered directions
(``livegan.control.controller.Controller`` reads indices ``>= K`` as named directions).

Effects and their parameters come from the registry ``livegan.audio.fx.EFFECTS``;
writing a patch is ``livegan.control.patch_write``.

Threads: main only (loaded before any stream starts).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from livegan.audio.fx import EFFECTS, Effect
from livegan.control.validator import Validator as _V
from livegan.control.validator import read_toml
from livegan.errors import PatchError
from livegan.model import MAX_BPM, MIN_BPM, is_int, is_num, printable
from livegan.model_knobs import KNOB_NAME

TAKEOVER = ("jump", "pickup")
QUANTIZE = ("none", "beat", "bar", "2bars", "4bars", "8bars")
CLOCK = ("internal", "midi", "link")  # link: Ableton Link (livegan.control.link)

MAX_PATCH_BYTES = 1 << 20  # a patch is a page of text; a bigger file is something else
ACTIONS = ("save", "record", "random_seed", "save_loop") + tuple(f"bypass.{t}" for t in EFFECTS)


@dataclass
class Knob:
    cc: int  # 0..127
    direction: int | None = None  # 0-based latent direction (>= K: a named one), None for an effect knob
    effect: str | None = None  # "filter.cutoff" etc.
    range: tuple[float, float] = (-2.0, 2.0)  # sigmas for a direction, param units for an effect
    takeover: str | None = None  # None: the patch's default
    name: str = ""  # shown on the panel
    direction_name: str | None = None  # a model's named knob (``direction = "brightness"``), else None


@dataclass
class Button:
    cc: int
    action: str  # one of ACTIONS


@dataclass
class Patch:
    name: str = "generic"
    path: str = "<patch>"
    port: str = ""  # name substring, index as a string, "virtual", or "" (ask on the CLI)
    channel: int | None = None  # 1..16; None = omni
    takeover: str = "pickup"
    knobs: list[Knob] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    seed_notes: list[int] = field(default_factory=list)  # note -> a new base z (seed = note index)
    snapshot_notes: list[int] = field(default_factory=list)  # pads: empty = save, full = recall
    morph_cc: int | None = None
    morph_pads: tuple[int, int] = (1, 2)  # 1-based pad numbers morphed from -> to
    tempo: float | None = None  # None: the model's bpm
    quantize: str = "bar"
    crossfade_ms: float = 40.0
    clock: str = "internal"
    effects: list[Effect] = field(default_factory=list)


def patches_dir() -> str:
    """The shipped patches: package data (``livegan/patches``), so an installed livegan has them too;
    the checkout's top-level ``patches`` is a link to the same folder."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "patches")


def default_patch_path() -> str:
    """The generic patch, used when no --patch is given."""
    return os.path.join(patches_dir(), "generic.toml")


# ---------------------------------------------------------------- validation

def _parse_knob(v: _V, raw, key, n_fx_types) -> Knob:
    v.keys(raw, key, {"cc", "direction", "effect", "range", "takeover", "name"})
    if "cc" not in raw:
        v.bad(f"{key}.cc", "is missing")
    cc = v.int_in(raw["cc"], f"{key}.cc", 0, 127)
    has_dir, has_fx = "direction" in raw, "effect" in raw
    if has_dir == has_fx:
        v.bad(key, "needs exactly one of 'direction' or 'effect'")
    direction = effect = named = None
    if has_dir and isinstance(raw["direction"], str):  # a named knob: resolved when the patch meets the model
        named = raw["direction"]
        if not KNOB_NAME.fullmatch(named):
            v.bad(f"{key}.direction", "must be a direction number or a knob name (lower-case letters, digits "
                                      f"and _, a letter first, at most 32), got {named!r}")
        rng = raw.get("range", [-2.0, 2.0])
    elif has_dir:
        direction = v.int_in(raw["direction"], f"{key}.direction", 1, 4096) - 1
        rng = raw.get("range", [-2.0, 2.0])
    else:
        effect = raw["effect"]
        parts = effect.split(".") if isinstance(effect, str) else []
        if len(parts) != 2 or parts[0] not in EFFECTS or parts[1] not in EFFECTS[parts[0]].params:
            opts = ", ".join(f"{t}.{p}" for t, spec in EFFECTS.items() for p in spec.params)
            v.bad(f"{key}.effect", f"must be one of {opts}, got {effect!r}")
        if parts[0] not in n_fx_types:
            v.bad(f"{key}.effect", f"maps '{parts[0]}' but the [[effect]] chain has no {parts[0]}")
        lo, hi = EFFECTS[parts[0]].params[parts[1]][:2]
        rng = raw.get("range", [lo, hi])
    if (not isinstance(rng, list) or len(rng) != 2 or not all(is_num(x) for x in rng)
            or rng[0] == rng[1]):
        v.bad(f"{key}.range", f"must be two different numbers [low, high], got {rng!r}")
    if has_dir and max(abs(rng[0]), abs(rng[1])) > 10:
        v.bad(f"{key}.range", f"is in sigmas and must stay within [-10, 10], got {rng!r}")
    if has_fx:
        lo, hi = EFFECTS[parts[0]].params[parts[1]][:2]
        for x in rng:
            if not lo <= x <= hi:
                v.bad(f"{key}.range", f"must stay within {effect}'s [{lo}, {hi}], got {rng!r}")
    takeover = raw.get("takeover")
    if takeover is not None:
        v.choice(takeover, f"{key}.takeover", TAKEOVER)
    name = raw.get("name", "")
    if not isinstance(name, str):
        v.bad(f"{key}.name", f"must be a string, got {name!r}")
    return Knob(cc=cc, direction=direction, effect=effect, range=(float(rng[0]), float(rng[1])),
                takeover=takeover, name=printable(name),  # shown on the panel: no control characters
                direction_name=named)


def _parse_effect(v: _V, raw, key) -> Effect:
    v.keys(raw, key, {"type", "bypass", "mode"} | {p for spec in EFFECTS.values() for p in spec.params})
    if "type" not in raw:
        v.bad(f"{key}.type", "is missing")
    t = v.choice(raw["type"], f"{key}.type", tuple(EFFECTS))
    spec = EFFECTS[t]
    params = {}
    for p, val in raw.items():
        if p in ("type", "bypass", "mode"):
            continue
        if p not in spec.params:
            v.bad(f"{key}.{p}", f"is not a parameter of {t} (has: {', '.join(spec.params)})")
        params[p] = v.num_in(val, f"{key}.{p}", spec.params[p].lo, spec.params[p].hi)
    for p, par in spec.params.items():
        params.setdefault(p, par.default)
    bypass = raw.get("bypass", False)
    if not isinstance(bypass, bool):
        v.bad(f"{key}.bypass", f"must be true or false, got {bypass!r}")
    mode = raw.get("mode", Effect.mode)
    if "mode" in raw:
        if not spec.modes:
            v.bad(f"{key}.mode", f"only a {' or '.join(n for n, s in EFFECTS.items() if s.modes)} has a mode")
        v.choice(mode, f"{key}.mode", spec.modes)
    return Effect(type=t, bypass=bypass, params=params, mode=mode)


def _parse_midi(v: _V, p: Patch, midi) -> None:
    v.keys(midi, "midi", {"port", "channel", "takeover"})
    port = midi.get("port", "")
    if is_int(port):
        port = str(port)
    if not isinstance(port, str):
        v.bad("midi.port", f"must be a name substring, an index or \"virtual\", got {port!r}")
    p.port = port
    ch = midi.get("channel", "omni")
    p.channel = None if ch == "omni" else v.int_in(ch, "midi.channel", 1, 16) if is_int(ch) else \
        v.bad("midi.channel", f"must be an integer in [1, 16] or \"omni\", got {ch!r}")
    p.takeover = v.choice(midi.get("takeover", "pickup"), "midi.takeover", TAKEOVER)


def _parse_transport(v: _V, p: Patch, tr) -> None:
    v.keys(tr, "transport", {"tempo", "quantize", "crossfade_ms", "clock"})
    tempo = tr.get("tempo", "model")
    p.tempo = None if tempo == "model" else v.num_in(tempo, "transport.tempo", int(MIN_BPM), int(MAX_BPM)) \
        if is_num(tempo) else v.bad("transport.tempo", f"must be a number in [{MIN_BPM:g}, {MAX_BPM:g}] or \"model\", "
                                                       f"got {tempo!r}")
    p.quantize = v.choice(tr.get("quantize", "bar"), "transport.quantize", QUANTIZE)
    p.crossfade_ms = v.num_in(tr.get("crossfade_ms", 40.0), "transport.crossfade_ms", 4, 2000)
    p.clock = v.choice(tr.get("clock", "internal"), "transport.clock", CLOCK)


def _array(v: _V, raw, key) -> list:
    arr = raw.get(key, [])
    if not isinstance(arr, list):
        v.bad(key, f"must be an array of tables ([[{key}]])")
    return arr


def _parse_buttons(v: _V, buttons_raw, types) -> list[Button]:
    buttons = []
    for i, b in enumerate(buttons_raw):
        key = f"button[{i}]"
        v.keys(b, key, {"cc", "action"})
        for f in ("cc", "action"):
            if f not in b:
                v.bad(f"{key}.{f}", "is missing")
        cc = v.int_in(b["cc"], f"{key}.cc", 0, 127)
        act = v.choice(b["action"], f"{key}.action", ACTIONS)
        if act.startswith("bypass.") and act.split(".")[1] not in types:
            v.bad(f"{key}.action", f"bypasses '{act.split('.')[1]}' but the [[effect]] chain has none")
        buttons.append(Button(cc=cc, action=act))
    return buttons


def _ccs_in_use(v: _V, p: Patch) -> dict:
    """CC -> the knob or button using it; two controls on one CC is an error."""
    seen: dict[int, str] = {}
    groups: list[tuple[str, Sequence[Knob | Button]]] = [("knob", p.knobs), ("button", p.buttons)]
    for what, controls in groups:
        for i, c in enumerate(controls):
            if c.cc in seen:
                v.bad(f"{what}[{i}].cc", f"CC {c.cc} is already used by {seen[c.cc]}")
            seen[c.cc] = f"{what}[{i}]"
    return seen


def _parse_notes(v: _V, p: Patch, notes) -> None:
    v.keys(notes, "notes", {"seeds", "snapshots"})
    p.seed_notes = v.notes(notes.get("seeds", []), "notes.seeds")
    p.snapshot_notes = v.notes(notes.get("snapshots", []), "notes.snapshots")
    both = set(p.seed_notes) & set(p.snapshot_notes)
    if both:
        v.bad("notes.snapshots", f"note {min(both)} is also a seed note")


def _parse_morph(v: _V, p: Patch, morph, seen) -> None:
    v.keys(morph, "morph", {"cc", "from", "to"})
    if "cc" not in morph:
        v.bad("morph.cc", "is missing")
    p.morph_cc = v.int_in(morph["cc"], "morph.cc", 0, 127)
    if p.morph_cc in seen:
        v.bad("morph.cc", f"CC {p.morph_cc} is already used by {seen[p.morph_cc]}")
    n = len(p.snapshot_notes)
    if n < 2:
        v.bad("morph", "needs at least two snapshot pads in notes.snapshots")
    a = v.int_in(morph.get("from", 1), "morph.from", 1, n)
    b = v.int_in(morph.get("to", 2), "morph.to", 1, n)
    if a == b:
        v.bad("morph.to", f"must differ from morph.from ({a})")
    p.morph_pads = (a, b)


def parse_patch(raw: dict, path="<patch>") -> Patch:
    """Validate a TOML dict; raise PatchError naming the key (checked in file order, the first problem wins)."""
    v = _V(path)
    v.keys(raw, "", {"name", "midi", "transport", "knob", "button", "notes", "morph", "effect"})
    p = Patch(path=str(path))
    name = raw.get("name", os.path.splitext(os.path.basename(str(path)))[0])
    if not isinstance(name, str) or not name.strip():
        v.bad("name", f"must be a non-empty string, got {name!r}")
    p.name = printable(name)  # printed by perform and render: no control characters
    _parse_midi(v, p, raw.get("midi", {}))
    _parse_transport(v, p, raw.get("transport", {}))
    p.effects = [_parse_effect(v, e, f"effect[{i}]") for i, e in enumerate(_array(v, raw, "effect"))]
    types = [e.type for e in p.effects]
    for t in set(types):
        if types.count(t) > 1:
            v.bad("effect", f"has {t} twice; each effect type may appear once")
    p.knobs = [_parse_knob(v, k, f"knob[{i}]", set(types)) for i, k in enumerate(_array(v, raw, "knob"))]
    p.buttons = _parse_buttons(v, _array(v, raw, "button"), types)
    seen = _ccs_in_use(v, p)
    _parse_notes(v, p, raw.get("notes", {}))
    if raw.get("morph") is not None:
        _parse_morph(v, p, raw["morph"], seen)
    return p


def load_patch(path) -> Patch:
    """Read and validate one patch file; PatchError (a CLIError) names file, key, problem."""
    path = os.fspath(path)
    return parse_patch(read_toml(path, PatchError, MAX_PATCH_BYTES, "a patch"), path)


def missing_name(path: str, i: int, k: Knob, names: Sequence[str]) -> str:
    """One warning line: knob ``i`` of the patch at ``path`` names a direction the model lacks."""
    has = f"has {', '.join(names)}" if names else "has no named knobs"
    return f"{path}: knob[{i}].direction: is '{k.direction_name}' but the model {has}; CC {k.cc} is ignored"


def check_against_model(patch: Patch, n_directions: int, names: Sequence[str] = ()) -> tuple[Patch, list[str]]:
    """Resolve named knobs against the model's ``names`` (``ModelMeta.knobs`` in order: a name is
    direction ``n_directions + its index``) and drop knobs for directions or names the model lacks
    (an 8-fader patch plays a 4-direction model). The patch itself is not changed.

    Returns (patch with those knobs resolved or dropped, one warning line per dropped knob).
    """
    keep, warnings = [], []
    for i, k in enumerate(patch.knobs):
        if k.direction_name is not None and k.direction_name in names:
            keep.append(replace(k, direction=n_directions + list(names).index(k.direction_name)))
        elif k.direction_name is not None:
            warnings.append(missing_name(patch.path, i, k, names))
        elif k.direction is not None and k.direction >= n_directions:
            warnings.append(f"{patch.path}: knob[{i}].direction: is {k.direction + 1} but the model has "
                            f"{n_directions} directions; CC {k.cc} is ignored")
        else:
            keep.append(k)
    return replace(patch, knobs=keep), warnings


__all__ = ["Patch", "Knob", "Button", "PatchError", "load_patch", "parse_patch", "default_patch_path",
           "patches_dir", "check_against_model", "replace"]

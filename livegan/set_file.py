"""Set files: several models playing as tracks under one clock (``docs/sets.md``).

A set file is TOML: a ``[master]`` table (``limiter``, ``gain`` in dB), one ``[[track]]`` table per
track (``name``, ``model``, optional ``patch``, ``channel``, ``gain``, ``pan``, ``mute``, ``solo``) and
optional ``[[scene]]`` tables (``livegan.set_scenes``).
Paths are relative to the set file. Every problem raises ``SetError`` naming the file, the track (its
index in the file, from 0, and its name once known) and the field, e.g.
``my.set.toml: track[1] (bass).channel: channel 2 is already track[0] (drums)'s``. The models and
patches named are checked here (they exist; a patch is valid); a model's contract is checked where
it is loaded (``livegan.set_render``), naming the track too.

In a set each track listens to its own MIDI channel only: a patch's ``midi.channel`` (or "omni") is
replaced by the track's ``channel`` (``track_patch``).

Thread: main only (loaded before anything plays).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from livegan.control.patch import Patch, default_patch_path, load_patch
from livegan.control.validator import Validator, read_toml
from livegan.errors import CLIError, SetError
from livegan.model import printable
from livegan.set_scenes import parse_scenes

MAX_TRACKS = 16  # one per MIDI channel
MAX_SET_BYTES = 1 << 20  # a set is a page of text
NAME_RE = re.compile(r"[a-z0-9_-]{1,32}")
GAIN_DB = (-60.0, 12.0)  # a fader's range; below -60 dB use mute
BUILTIN = {"beats": "default.ts", "bass": "bass.ts"}  # builtin:NAME -> file in livegan/models
TRACK_KEYS = {"name", "model", "patch", "channel", "gain", "pan", "mute", "solo"}


@dataclass
class Track:
    name: str
    model: str  # the .ts file's path (a builtin resolved)
    patch: Patch  # as loaded (its own midi.channel still in it; ``track_patch`` replaces it)
    channel: int  # 1..16: the MIDI channel that addresses this track
    gain_db: float = 0.0
    pan: float = 0.0  # -1 left .. 1 right, equal power, unity at 0
    mute: bool = False
    solo: bool = False
    patch_path: str | None = None  # None: the generic patch
    where: str = ""  # "track[1] (bass)": how errors name it


@dataclass
class SetFile:
    path: str
    name: str
    tracks: list[Track] = field(default_factory=list)
    limiter: bool = True  # the master peak limiter (``livegan.audio.mixer``)
    gain_db: float = 0.0  # master gain
    scenes: list = field(default_factory=list)  # ``livegan.set_scenes.Scene``s, in the file's order


def track_patch(track: Track) -> Patch:
    """The track's patch as the set plays it: listening to the track's channel only."""
    return replace(track.patch, channel=track.channel)


def _model_path(v: Validator, raw, key: str, folder: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        v.bad(key, f"must be a .ts file, builtin:beats or builtin:bass, got {raw!r}")
    if raw.startswith("builtin:"):
        which = raw.split(":", 1)[1]
        if which not in BUILTIN:
            v.bad(key, f"no built-in model {which!r} (there is: {', '.join('builtin:' + b for b in BUILTIN)})")
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", BUILTIN[which])
        if not os.path.isfile(path):
            v.bad(key, "the built-in model is not installed in this copy of livegan")
        return path
    path = os.path.join(folder, raw)
    if os.path.isdir(path):
        v.bad(key, f"{path} is a folder, not a .ts file")
    if not os.path.isfile(path):
        v.bad(key, f"{path}: no such file")
    return path


def _patch(v: Validator, raw, key: str, folder: str) -> tuple[Patch, str | None]:
    if raw is None:
        return load_patch(default_patch_path()), None
    if not isinstance(raw, str) or not raw.strip():
        v.bad(key, f"must be a patch .toml file, got {raw!r}")
    path = os.path.join(folder, raw)
    try:
        return load_patch(path), path
    except CLIError as e:  # the patch's own line (file, key, problem), said as this track's
        v.bad(key, str(e))
    raise AssertionError  # v.bad raised


def _track(v: Validator, raw, i: int, folder: str, channels: dict, names: dict) -> Track:
    key = f"track[{i}]"
    if not isinstance(raw, dict):
        v.bad(key, f"must be a table ([[track]]), got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        v.bad(f"{key}.name", f"must be 1-32 characters of a-z, 0-9, _ and -, got {printable(repr(name))}")
    where = f"{key} ({name})"
    v.keys(raw, where, TRACK_KEYS)
    if name in names:
        v.bad(f"{where}.name", f"is also {names[name]}'s name; each track needs its own")
    if "model" not in raw:
        v.bad(f"{where}.model", "is missing")
    model = _model_path(v, raw["model"], f"{where}.model", folder)
    patch, patch_path = _patch(v, raw.get("patch"), f"{where}.patch", folder)
    channel = v.int_in(raw.get("channel", i + 1), f"{where}.channel", 1, 16)
    if channel in channels:
        v.bad(f"{where}.channel", f"channel {channel} is already {channels[channel]}'s; each track needs its own")
    channels[channel] = names[name] = where
    return Track(name=name, model=model, patch=patch, channel=channel, patch_path=patch_path, where=where,
                 gain_db=v.num_in(raw.get("gain", 0.0), f"{where}.gain", *GAIN_DB),
                 pan=v.num_in(raw.get("pan", 0.0), f"{where}.pan", -1.0, 1.0),
                 mute=v.boolean(raw.get("mute", False), f"{where}.mute"),
                 solo=v.boolean(raw.get("solo", False), f"{where}.solo"))


def parse_set(raw: dict, path: str = "<set>") -> SetFile:
    """Validate a set file's TOML dict (paths relative to ``path``'s folder); SetError names the first problem."""
    v = Validator(path, SetError)
    folder = os.path.dirname(os.path.abspath(path))
    v.keys(raw, "", {"name", "master", "track", "scene"})
    name = raw.get("name", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not name.strip():
        v.bad("name", f"must be a non-empty string, got {name!r}")
    s = SetFile(path=str(path), name=printable(name))
    master = raw.get("master", {})
    v.keys(master, "master", {"limiter", "gain"})
    s.limiter = v.boolean(master.get("limiter", True), "master.limiter")
    s.gain_db = v.num_in(master.get("gain", 0.0), "master.gain", *GAIN_DB)
    tracks = raw.get("track")
    if tracks is None:
        v.bad("track", "a set needs at least one [[track]] table")
    if not isinstance(tracks, list) or not tracks:
        v.bad("track", "must be [[track]] tables, one per track")
    if len(tracks) > MAX_TRACKS:
        v.bad("track", f"has {len(tracks)} tracks; a set has at most {MAX_TRACKS} (one per MIDI channel)")
    channels: dict[int, str] = {}
    names: dict[str, str] = {}
    s.tracks = [_track(v, t, i, folder, channels, names) for i, t in enumerate(tracks)]
    s.scenes = parse_scenes(v, raw.get("scene"), [t.name for t in s.tracks], GAIN_DB)
    return s


def load_set(path) -> SetFile:
    """Read and validate one set file; SetError (a CLIError, one line) names the file, the track and the field."""
    path = os.fspath(path)
    return parse_set(read_toml(path, SetError, MAX_SET_BYTES, "a set file"), path)

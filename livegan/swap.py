"""Hot swap: a live set's track changes its model during the show (``docs/sets.md``, "Hot swap").

A request (OSC ``/livegan/track/N/model PATH``, the panel's ``W`` key) names a ``.ts`` file (relative to
the set file's folder) or ``builtin:NAME``, resolved as the set file resolves a track's ``model``. A
loader thread of its own (``Swapper``) loads it (``livegan.model.load_model``: the contract check and the
warm-up's forward passes) and checks that the track's engine can play it (``fit_problem``: the loop bank
and the bar grid stay the track's), so neither the audio process nor the generator thread ever waits for
a load. A file that fails is one line (``Swapper.poll``), and the old model plays on. One load per
track at a time: a second request for a track whose load is under way is refused with one line.

A loaded model reaches the control thread as a ``Swap``; ``Swap.install`` (control thread) gives the
track a new ``Controller`` rebuilt from the track's patch for the new model's meta (``swapped_controller``:
knob positions, pick-up state, seed, pads and base point carried over) which names the model
(``Controller.model``): ``EngineControls.sync`` puts it in each batch's snapshot, and
``livegan.generate.scheduler.generate_loop`` generates from the snapshot's model. So the generator
switches at the first batch made after the install, whose new version plans a loop for the track's
next launch boundary (crossfaded as usual), and the batch's admission frame is where the performance
log has the swap: ``livegan model TRACK SHA256 PATHHEX`` (``livegan.io.model_marker``). ``livegan render
--set`` (``RenderSwaps``) installs the same controller there.

Threads: ``Swapper.request`` any (its lock); the loader its own; the rest control thread or render loop.
"""
from __future__ import annotations

import hashlib
import os
import threading

from livegan.errors import CLIError, ModelFileError, SetError, first_line
from livegan.io.model_marker import log_model, marker_model


def resolve(spec: str, folder: str, where: str) -> tuple[str, str]:
    """-> (the file to load, what the log names): a ``builtin:NAME`` is logged as such, a file by its
    absolute path. One ``SetError`` line (``where: model: ...``) for a name that is no model file."""
    from livegan.control.validator import Validator
    from livegan.set_file import _model_path

    spec = str(spec).strip()
    path = os.path.abspath(_model_path(Validator(where, SetError), spec, "model", folder))
    return path, (spec if spec.startswith("builtin:") else path)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fit_problem(meta, held) -> str | None:
    """Why the track whose engine was built for ``held`` (a ``ModelMeta``) cannot play ``meta``, or None.
    The engine, its loop bank and its transport stay the track's: the loop's shape and the meter must match
    (the same loop shape at the same output rate also means the same tempo range)."""
    if meta.beats_per_bar != held.beats_per_bar:
        return (f"{meta.beats_per_bar} beats per bar, but the set's bar grid has {held.beats_per_bar}: "
                "one bar grid needs one meter")
    have = (meta.channels, meta.loop_samples, meta.bars)
    want = (held.channels, held.loop_samples, held.bars)
    if have != want:
        return (f"its loop is {have[0]} channel(s) x {have[1]} samples over {have[2]} bar(s); the track's loop "
                f"bank holds {want[0]} x {want[1]} over {want[2]}: a hot swap keeps the track's engine")
    return None


def swapped_controller(old, patch, model):
    """A ``Controller`` for ``model`` from the track's ``patch`` (its named knobs, if the generic patch, are
    the new model's), in ``old``'s state: every knob keeps its position and pick-up state (a knob that now
    moves another direction moves it from where it stands), effect bypasses stay; the seed stays, and so
    do the base point, the pads' snapshots and a morph when the latent has the same size (else the base
    is the seed's point for the new latent and the pads are empty). Its version is the old one's + 1: a
    new loop is planned. Control thread or render loop."""
    from livegan.control.admission import controller_for

    c, _, _ = controller_for(patch, model.meta, seed=old.seed)
    for cc in c.knobs:
        if cc in old.value:
            c.value[cc], c.engaged[cc], c.phys[cc] = old.value[cc], old.engaged[cc], old.phys[cc]
    c.bypass.update({k: v for k, v in old.bypass.items() if k in c.bypass})
    if c.latent_dim == old.latent_dim and len(c.snapshots) == len(old.snapshots):
        c.base = old.base.copy()
        c.snapshots = [None if s is None else s.copy() for s in old.snapshots]
        c.morph_t = old.morph_t
    c.save_held = old.save_held
    c.version = old.version + 1
    c.model = model
    return c


class Swap:
    """A model loaded and checked for track ``track``, for the control thread to install."""

    def __init__(self, track: int, where: str, model, logged: str, sha: str, patch):
        self.track, self.where, self.model, self.logged, self.sha, self.patch = track, where, model, logged, sha, patch

    def install(self, ec) -> str:
        """The track's controls play the new model from their next batch. Control thread."""
        ec.c = swapped_controller(ec.c, self.patch, self.model)
        return f"{self.where}: model {self.model.meta.name} comes in on the next boundary"

    def log(self, perflog, frame: int, track: int) -> None:
        log_model(perflog, frame, track, self.logged, self.sha)


class Swapper:
    """The hot swaps of a live set. ``tracks``: [(where, patch as the set plays it, the meta the track's
    engine was built for)]; ``folder``: where relative paths start (the set file's); ``models``: the set's
    models by path (a file already loaded is not loaded again); ``loader(path)``: ``load_model``."""

    def __init__(self, tracks, folder: str, models=None, loader=None):
        self.tracks, self.folder = list(tracks), folder
        self.models = dict(models or {})
        self.loader = loader or (lambda p: __import__("livegan.model", fromlist=["load_model"]).load_model(p))
        self._lock = threading.Lock()
        self._loading: dict[int, str] = {}  # track -> the spec being loaded
        self._done: list = []  # (track, Swap or one line), for ``poll``
        self.threads: list[threading.Thread] = []

    def request(self, k: int, spec: str) -> str:
        """Start loading ``spec`` for track ``k`` (from 0); -> one line for the panel. Any thread."""
        if not 0 <= k < len(self.tracks):
            return f"model: the set has tracks 1-{len(self.tracks)}"
        where = self.tracks[k][0]
        with self._lock:
            if k in self._loading:
                return f"{where}: {self._loading[k]} is still loading: this swap ({spec}) is refused"
            self._loading[k] = spec
        t = threading.Thread(target=self._load, args=(k, spec), name=f"livegan-swap-{k}", daemon=True)
        self.threads.append(t)
        t.start()
        return f"{where}: loading {spec}"

    def _load(self, k: int, spec: str) -> None:
        """The loader thread: resolve, load (checked, warmed), check the fit; the result for ``poll``."""
        where, patch, held = self.tracks[k]
        try:
            path, logged = resolve(spec, self.folder, where)
            digest = sha256(path)
            model = self.models.get(path) or self.loader(path)
            problem = fit_problem(model.meta, held)
            if problem:
                raise ModelFileError(path, problem)
            self.models[path] = model
            out: object = Swap(k, where, model, logged, digest, patch)
        except (CLIError, ModelFileError, OSError) as e:
            out = f"{where}: model {first_line(e, None)}: the old model plays on"
        except Exception as e:  # a loader's surprise is still one line, and the show goes on
            out = f"{where}: model {spec}: {first_line(e, None)}: the old model plays on"
        with self._lock:
            self._done.append((k, out))
            del self._loading[k]

    def join(self, wait_s: float = 30.0) -> None:
        """Wait for the loads under way (the show's end). Main thread."""
        for t in self.threads:
            t.join(wait_s)

    def poll(self) -> list:
        """-> [(track, Swap or the one line of a swap that failed)] finished since the last poll. Control thread."""
        with self._lock:
            out, self._done = self._done, []
        return out


class RenderSwaps:
    """One track's hot swaps in ``livegan render --set``: at a ``livegan model`` marker (``set_render``
    routes it to its track only) the controls get ``swapped_controller``, as live; ``models``: the logged
    path -> its loaded model (``render_models``). Render loop."""

    def __init__(self, patch, models: dict):
        self.patch, self.models = patch, models

    def apply(self, msg, controls) -> bool:
        got = marker_model(msg.text) if getattr(msg, "type", None) == "marker" else None
        if got is None or got[2] not in self.models:
            return False
        controls.c = swapped_controller(controls.c, self.patch, self.models[got[2]])
        controls.sync()
        return True


def render_models(s, events, models: dict, say) -> list:
    """Each track's {logged path: model} for the hot swaps a log holds (None: no swap), every file loaded
    before anything renders (``models``: the set's own, by path, reused). A file that is gone, is no model
    or does not fit the track is one ``CLIError`` line naming the set, the track and the file; a file
    whose SHA-256 is not the logged one is a warning (the render may differ)."""
    from livegan.io.perflog import _MARKER
    from livegan.model import load_model

    texts = (events.markers[int(d)] for d in events.data[events.status == _MARKER]) if hasattr(
        events, "status") else (m.text for _, m in events if getattr(m, "type", None) == "marker")
    out: list = [None] * len(s.tracks)
    held = {k: models[t.model].meta for k, t in enumerate(s.tracks)}
    models = {os.path.abspath(p): m for p, m in models.items()}  # (a copy: the set's summary counts its own)
    for got in filter(None, map(marker_model, texts)):
        k, sha, logged = got
        if k >= len(s.tracks):
            say(f"the log swaps a model on track {k + 1}; the set has {len(s.tracks)} tracks: ignored")
            continue
        t = s.tracks[k]
        where = f"{s.path}: {t.where}: the log's hot swap"
        if logged in (out[k] or {}):
            continue
        try:
            path, _ = resolve(logged, os.path.dirname(os.path.abspath(s.path)), where)
            if sha256(path) != sha:
                say(f"{t.where}: {path} is not the file the take swapped in (its SHA-256 differs): the render "
                    "may differ")
            model = models[path] if path in models else load_model(path, threads=1)
            problem = fit_problem(model.meta, held[k])
            if problem:
                raise ModelFileError(path, problem)
        except SetError as e:
            raise CLIError(f"{where} names {e.problem}") from None
        except (CLIError, ModelFileError, OSError) as e:
            raise CLIError(f"{where}: {first_line(e, None)}") from None
        models[path] = model
        out[k] = {**(out[k] or {}), logged: model}
    return out


class ModelPrompt:
    """The panel's ``W`` key in a set: type (or drop) a model file for the track the keys play, Enter
    loads it (``Swapper.request``), Esc cancels, Backspace deletes; Ctrl-C quits. UI thread."""

    KEY = "W"

    def __init__(self):
        self.typing: str | None = None  # what is typed, None when no path is being typed

    def handle(self, key: str, k: int, swapper, name: str) -> str:
        head = f"model for track {k + 1} ({name})"
        if self.typing is None:  # the W key
            self.typing = ""
            return f"{head}: type a .ts file or builtin:NAME, Enter loads it, Esc cancels: _"
        if key == "\x03":
            self.typing = None
            return "quit"
        if key in ("\r", "\n"):
            spec, self.typing = self.typing.strip(), None
            return swapper.request(k, spec) if spec else f"{head}: cancelled"
        if key == "\x1b":
            self.typing = None
            return f"{head}: cancelled"
        t = self.typing
        self.typing = t[:-1] if key in ("\x7f", "\x08") else t + key if key.isprintable() and len(t) < 4096 else t
        return f"{head}: {self.typing[-60:]}_"


def swapper_for(s, parts, models) -> Swapper:
    """A live set's ``Swapper``: ``s`` its ``SetFile``, ``parts`` each track's built parts, ``models`` each
    track's model (by track)."""
    from livegan.set_file import track_patch

    tracks = [(f"track {k + 1} ({t.name})", track_patch(t), p.engine.meta)
              for k, (t, p) in enumerate(zip(s.tracks, parts))]
    return Swapper(tracks, os.path.dirname(os.path.abspath(s.path)),
                   {os.path.abspath(t.model): m for t, m in zip(s.tracks, models)})

"""The engine's control state: a Controller's latent point and effect knobs,
staged by the control thread and admitted by the audio thread at a block's first frame.
"""
from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

import numpy as np

from livegan.audio.admit import ADMIT_RING, Admitter
from livegan.audio.arena import Arena
from livegan.control.controller import Controller
from livegan.control.patch import Patch

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.audio.engine import Engine
    from livegan.model import ModelMeta

# ---------------------------------------------------------------- the engine side


class EngineControls:
    """A ``Controller`` as the engine's control state, and its effect knobs on an ``FxChain``.

    It meets the engine's ``livegan.audio.engine.Controls`` protocol (``livegan.performance.build``
    wires it): the generator reads ``seq`` and ``snapshot()`` = (seq, z); ``z`` returns that z and notes
    (engine frame, seq) in ``generated`` (loop ids count generations, so loop
    id i was made from the control state ``generated[i]`` at that frame: the
    control timeline that a re-render must reproduce). ``frame_fn`` gives the
    frame (set it to the engine transport's).

    **Admission.** A control change takes effect at one frame that both the live
    performance and its re-render agree on: the start of an audio block. The
    control thread stages each change as one *batch* (``sync``: the z snapshot,
    the effect parameters, bypasses and tempo) into the staged record of an
    ``livegan.audio.admit.Admitter``; at the start of every block the audio side's
    admitter applies it (tempo to the transport, SigTo targets to the chain) and
    notes the block's first frame in ``admit_frame[batch % ADMIT_RING]``. The
    generator then generates from that batch's z. The control thread logs each
    batch's events at that frame, and ``livegan render`` applies them at the
    same frame, so effect knobs, latent knobs and tempo changes re-render
    sample-exactly. The record and counters are arena arrays: the audio side may
    be this process (``admit``, called by the engine) or the audio process (its
    own ``Admitter`` on the same shared arrays, ``remote_fx``: the chain is there).
    Unbound (no engine), ``sync`` admits at once.

    Threads: ``message``, ``cc``, ``note``, ``stage_tempo`` and ``sync`` run
    on the control thread (the main thread live, the render loop offline);
    ``admit`` on the audio thread (it allocates nothing when no batch is
    waiting); ``snapshot`` and ``z`` on the generator thread. No locks.
    """

    def __init__(self, controller: Controller, fx=None, arena=None, remote_fx: bool = False):
        self.c = controller
        self.fx = fx
        self.fx_on = fx is not None or remote_fx  # knobs of effects are staged for a chain (here or there)
        self.engine: Engine | None = None  # set by bind(): from then on the engine's blocks admit batches
        self.channel = None if controller.patch.channel is None else controller.patch.channel - 1
        self.admitter = Admitter(arena or Arena(), controller.patch.effects)
        self.admitter.bind(None, fx)
        self.admit_frame = self.admitter.admit_frame
        self._snaps: list[Any] = [None] * ADMIT_RING  # batch % ADMIT_RING -> its z snapshot (control thread writes)
        self.batch = 0  # batches staged (control thread)
        # (batch, snapshot, fx params, bypass, tempo, locate (n, beat, frame), running)
        self._staged: tuple[int, tuple, dict, dict, float | None, tuple[int, float, int], bool] = (
            0, (controller.version, controller.z()), {}, {}, None, (0, 0.0, 0), True)
        self._snaps[0] = self._staged[1]
        self._tempo: float | None = None  # tempo asked for by stage_tempo (control thread)
        self._loc = (0, 0.0, 0)  # locates asked for by stage_locate
        self._run = True
        self.generated: list[tuple[int, int]] = []  # (frame, seq) per generated loop (generator thread)
        self.snap_frame = 0  # the frame the last ``snapshot``'s batch was admitted at (generator thread)
        # (state frame, target beat, frame) per loop the generator thread made or tried: the control
        # thread logs each as a ``livegan loop`` marker (``LiveControl``), so the render makes the same loops
        self.made: collections.deque = collections.deque(maxlen=ADMIT_RING)
        self.frame_fn = lambda: -1
        self.sync(force=True)

    def bind(self, engine: Engine) -> None:
        """The engine that admits batches from now on, and whose transport frame ``generated`` notes
        (``livegan.performance.build`` calls it once the engine exists). Main thread."""
        self.engine = engine
        self.admitter.bind(engine, self.fx)
        self.frame_fn = lambda: engine.transport.frame

    @property
    def admitted(self) -> int:
        """Batches the audio side has admitted (any thread)."""
        return self.admitter.admitted

    @property
    def seq(self) -> int:
        """Changes whenever a new loop is wanted (the admitted z's version). Generator thread."""
        return self.snapshot()[0]

    def z(self, meta: ModelMeta, snapshot) -> np.ndarray:
        """Generator thread: the z of a snapshot made by ``sync``."""
        self.generated.append((int(self.frame_fn()), int(snapshot[0])))
        return snapshot[1]

    def snapshot(self):
        """(seq, z (D,) float32) as last admitted (at frame ``snap_frame``). Generator thread."""
        b = self.admitter.admitted
        self.snap_frame = max(0, int(self.admit_frame[b % ADMIT_RING]))  # written before ``admitted``
        return self._snaps[b % ADMIT_RING]

    def message(self, msg) -> str | None:
        """A mido-like message (control_change / note_on); other types and channels are ignored."""
        t = getattr(msg, "type", None)
        if self.channel is not None and getattr(msg, "channel", self.channel) != self.channel:
            return None
        if t == "control_change":
            return self.cc(int(msg.control), int(msg.value))
        if t == "note_on":
            return self.note(int(msg.note), int(msg.velocity))
        return None

    def cc(self, cc: int, value: int) -> str | None:
        changed = self.c.on_cc(cc, value / 127.0)
        self.sync()
        return f"CC {cc} = {value}" if changed else None

    def note(self, note: int, velocity: int) -> str | None:
        what = self.c.on_note(note, velocity)
        self.sync()
        return what

    def base(self, z) -> str | None:
        """A found point (a ``livegan base`` marker) becomes the base z; None where the Controller
        ignores it (another model's size)."""
        took = self.c.set_base(z)
        self.sync()
        return "found point" if took else None

    def stage_tempo(self, bpm: float) -> None:
        """A tempo for the engine and the delay, admitted with the next batch. Control thread."""
        if self.engine is not None:
            self.engine._check_tempo(float(bpm))  # a bad tempo fails here, not on the audio thread
        self._tempo = float(bpm)

    def stage_locate(self, beat: float, frame: int) -> None:
        """Beat ``beat`` at engine frame ``frame``: the grid moves there (ducked) with the next batch."""
        self._loc = (self._loc[0] + 1, float(beat), int(frame))

    def stage_running(self, running: bool) -> None:
        """Stop or run the transport with the next batch (external clock stop / start)."""
        self._run = bool(running)

    def sync(self, force: bool = False) -> int:
        """Stage the Controller's state as a new batch if it changed (or ``force``); returns the
        batch number that holds the current state. Control thread."""
        c = self.c
        st = self._staged
        snap, fxp, byp = st[1:4]
        if c.version != snap[0]:
            snap = (c.version, c.z(), getattr(c, "model", None))  # a hot-swapped model (``livegan.swap``)
        if self.fx_on:
            fxp, byp = c.fx_params(), dict(c.bypass)
        if (force or snap is not st[1] or fxp != st[2] or byp != st[3] or self._tempo != st[4]
                or self._loc != st[5] or self._run != st[6]):
            self.batch += 1
            self._staged = (self.batch, snap, fxp, byp, self._tempo, self._loc, self._run)
            self._snaps[self.batch % ADMIT_RING] = snap  # before the record names the batch
            self.admitter.stage(self.batch, self._tempo, self._loc, self._run, fxp, byp)
        if self.engine is None:
            self.admitter.admit_at(int(self.frame_fn()))
        return self.batch

    # -- audio thread
    def admit(self, state) -> None:
        """Engine block start: apply a newly staged batch at this block's first frame (``state["frame"]``)."""
        self.admitter.admit(state)


def controller_for(patch: Patch, meta: ModelMeta, seed: int = 0,
                   named: int | None = None) -> tuple[Controller, Patch, list]:
    """A Controller for a model: the generic patch on a model with named knobs plays the first ``named``
    of them first (None: all; ``livegan.control.named``), knobs on named directions are resolved, and
    knobs for directions or names the model lacks are dropped (with warnings)."""
    from livegan.control.named import generic_for_model
    from livegan.control.patch import check_against_model

    names = tuple(k.name for k in meta.knobs)
    patch, warnings = check_against_model(generic_for_model(patch, names[:named]), int(meta.directions.shape[0]),
                                          names)
    return (Controller(patch, meta.directions, meta.sigmas, meta.latent_dist, seed=seed, named=meta.knobs),
            patch, warnings)

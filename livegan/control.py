"""Knobs -> latent point and effect parameters: pure functions plus one small state object.

The functions at the top are pure and tested directly: knob value -> offset in
sigmas, pick-up / jump takeover, seed -> base z, morph between two snapshots,
and the latent point ``z = base + sum_k offset_k * sigma_k * direction_k``.

``Controller`` holds the performer's state (base z, knob values, snapshots)
and turns MIDI events into it. ``EngineControls`` hands its latent point to
the engine's generator and its effect knobs to the effects chain;
``LiveControl`` is the control loop of ``livegan perform``. Thread: the
control thread (the main thread of ``perform``, ``render`` and ``learn``);
never the audio callback, which only reads the numbers it publishes.
"""
from __future__ import annotations

import math

import numpy as np

from livegan.patch import FX_PARAMS, Patch

PICKUP_EPS = 1.5 / 127  # a knob "meets" its value within 1.5 MIDI steps


# ---------------------------------------------------------------- pure functions

def knob_to_range(v01: float, lo: float, hi: float) -> float:
    """Knob position in [0, 1] -> value in [lo, hi] (linear)."""
    v = min(1.0, max(0.0, v01))
    return lo + v * (hi - lo)


def range_to_knob(x: float, lo: float, hi: float) -> float:
    """Inverse of knob_to_range, clipped to [0, 1]."""
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def neutral_knob(lo: float, hi: float) -> float:
    """Knob position whose offset is 0 (or the end nearest 0 when 0 is outside the range)."""
    return range_to_knob(0.0, lo, hi)


def fx_knob_to_param(v01: float, lo: float, hi: float, curve: str) -> float:
    """Knob -> effect parameter; 'log' params (cutoff) move exponentially between lo and hi."""
    v = min(1.0, max(0.0, v01))
    if curve == "log" and lo > 0 and hi > 0:
        return lo * (hi / lo) ** v
    return lo + v * (hi - lo)


def takeover(mode: str, value: float, engaged: bool, prev_phys: float, phys: float,
             eps: float = PICKUP_EPS) -> tuple[float, bool]:
    """One knob move under a takeover mode -> (new value, engaged).

    ``jump``: the value follows the knob at once. ``pickup``: a disengaged knob
    changes nothing until its physical position meets or crosses the value,
    so recalling a snapshot never makes the sound leap when a knob is touched.
    ``prev_phys`` is NaN when the knob has not been seen since it disengaged.
    """
    if mode == "jump" or engaged:
        return phys, True
    met = abs(phys - value) <= eps
    if not met and not math.isnan(prev_phys):
        met = (prev_phys - value) * (phys - value) <= 0.0  # crossed it between two messages
    return (phys, True) if met else (value, False)


def seed_z(seed: int, latent_dim: int, dist: str) -> np.ndarray:
    """A base latent point for a seed: the same seed always gives the same z (float32)."""
    rng = np.random.default_rng(int(seed))
    if dist == "normal":
        return rng.standard_normal(latent_dim).astype(np.float32)
    return rng.uniform(-1.0, 1.0, latent_dim).astype(np.float32)


def latent_point(base: np.ndarray, directions: np.ndarray, sigmas: np.ndarray,
                 offsets_sigma: np.ndarray, dist: str) -> np.ndarray:
    """z = base + sum_k offset_k * sigma_k * direction_k; uniform latents stay in [-1, 1].

    base (D,), directions (K, D), sigmas (K,), offsets_sigma (K,) -> (D,) float32.
    """
    z = base.astype(np.float32) + (offsets_sigma * sigmas).astype(np.float32) @ directions.astype(np.float32)
    if dist == "uniform":
        np.clip(z, -1.0, 1.0, out=z)
    return z


def morph(za: np.ndarray, zb: np.ndarray, t: float, dist: str) -> np.ndarray:
    """Point between two snapshots at t in [0, 1]: slerp for a normal latent (keeps the norm
    typical of the prior), lerp for a uniform one. t=0 is za, t=1 is zb exactly."""
    t = min(1.0, max(0.0, float(t)))
    if dist == "normal":
        na, nb = np.linalg.norm(za), np.linalg.norm(zb)
        if na > 1e-8 and nb > 1e-8:
            cos = float(np.clip(np.dot(za / na, zb / nb), -1.0, 1.0))
            omega = math.acos(cos)
            if omega > 1e-4:
                s = math.sin(omega)
                return ((math.sin((1 - t) * omega) / s) * za + (math.sin(t * omega) / s) * zb).astype(np.float32)
    return ((1 - t) * za + t * zb).astype(np.float32)


# ---------------------------------------------------------------- state

class Controller:
    """Performer state driven by MIDI: base z, direction and effect knobs, snapshot pads, morph.

    Thread: the control thread only (see module docstring). ``version`` rises
    on every change of z, so the generator knows when to render a new loop.
    """

    def __init__(self, patch: Patch, directions: np.ndarray, sigmas: np.ndarray, latent_dist: str,
                 seed: int = 0):
        self.patch = patch
        self.directions = np.asarray(directions, np.float32)  # (K, D)
        self.sigmas = np.asarray(sigmas, np.float32)  # (K,)
        self.dist = latent_dist
        self.latent_dim = self.directions.shape[1]
        self.base = seed_z(seed, self.latent_dim, latent_dist)
        self.seed = seed
        self.knobs = {k.cc: k for k in patch.knobs}
        self.value = {k.cc: (neutral_knob(*k.range) if k.direction is not None else
                             self._fx_default_knob(k)) for k in patch.knobs}
        self.engaged = {cc: (self.knobs[cc].takeover or patch.takeover) == "jump"
                        for cc in self.knobs}
        self.phys = {cc: math.nan for cc in self.knobs}
        self.snapshots: list[np.ndarray | None] = [None] * len(patch.snapshot_notes)
        self.morph_t: float | None = None  # None until the morph control moves
        self.save_held = False
        self.bypass = {e.type: e.bypass for e in patch.effects}
        self.actions: list[str] = []  # "record" etc. for the caller to act on (drained by it)
        self.version = 0

    def _fx_default_knob(self, k) -> float:
        """Knob position that gives the patch's own value for this effect parameter."""
        t, p = k.effect.split(".")
        x = next(e for e in self.patch.effects if e.type == t).params[p]
        lo, hi = k.range
        if FX_PARAMS[t][p][3] == "log" and lo > 0 and hi > 0:
            return min(1.0, max(0.0, math.log(x / lo) / math.log(hi / lo)))
        return range_to_knob(x, lo, hi)

    # -- inputs
    def on_cc(self, cc: int, v01: float) -> bool:
        """A knob or button moved (value in [0, 1]). Returns True if state changed."""
        if cc in self.knobs:
            k = self.knobs[cc]
            mode = k.takeover or self.patch.takeover
            new, eng = takeover(mode, self.value[cc], self.engaged[cc], self.phys[cc], v01)
            self.phys[cc] = v01
            self.engaged[cc] = eng
            if new != self.value[cc]:
                self.value[cc] = new
                if k.direction is not None:
                    self.version += 1
                return True
            return False
        if cc == self.patch.morph_cc:
            self.morph_t = v01
            if self._morph_ends() is not None:
                self.version += 1
                return True
            return False
        for b in self.patch.buttons:
            if b.cc == cc:
                down = v01 >= 0.5
                if b.action == "save":
                    self.save_held = down
                elif down and b.action.startswith("bypass."):
                    t = b.action.split(".")[1]
                    self.bypass[t] = not self.bypass[t]
                elif down and b.action == "random_seed":  # reproducible, so a re-render picks the same seed
                    self.set_seed(int(np.random.default_rng([self.seed, self.version]).integers(1 << 31)))
                elif down:
                    self.actions.append(b.action)
                return True
        return False

    def on_note(self, note: int, velocity: int) -> str | None:
        """Note on: a seed note sets a new base z; a pad saves (empty or save held) or recalls.

        Returns what happened ("seed 3", "save 1", "recall 1") or None.
        """
        if velocity == 0:
            return None
        if note in self.patch.seed_notes:
            self.set_seed(self.patch.seed_notes.index(note))
            return f"seed {self.seed}"
        if note in self.patch.snapshot_notes:
            i = self.patch.snapshot_notes.index(note)
            if self.save_held or self.snapshots[i] is None:
                self.snapshots[i] = self.z()
                return f"save {i + 1}"
            self.recall(i)
            return f"recall {i + 1}"
        return None

    def set_seed(self, seed: int) -> None:
        self.seed = seed
        self.base = seed_z(seed, self.latent_dim, self.dist)
        self.morph_t = None
        self.version += 1

    def recall(self, i: int) -> None:
        """Snapshot i becomes the base; direction knobs go neutral and must be picked up again."""
        self.base = self.snapshots[i].copy()
        self.morph_t = None
        for cc, k in self.knobs.items():
            if k.direction is not None:
                self.value[cc] = neutral_knob(*k.range)
                self.engaged[cc] = (k.takeover or self.patch.takeover) == "jump"
                self.phys[cc] = math.nan
        self.version += 1

    # -- outputs
    def offsets_sigma(self) -> np.ndarray:
        """(K,) offsets in sigmas from the direction knobs (directions without a knob: 0)."""
        off = np.zeros(self.directions.shape[0], np.float32)
        for cc, k in self.knobs.items():
            if k.direction is not None and k.direction < len(off):
                off[k.direction] += knob_to_range(self.value[cc], *k.range)
        return off

    def _morph_ends(self):
        if self.morph_t is None:
            return None
        a, b = self.patch.morph_pads
        za, zb = self.snapshots[a - 1], self.snapshots[b - 1]
        if za is None or zb is None:
            return None
        return za, zb

    def z(self) -> np.ndarray:
        """The current latent point (D,) float32."""
        base = self.base
        ends = self._morph_ends()
        if ends is not None:
            base = morph(ends[0], ends[1], self.morph_t, self.dist)
        return latent_point(base, self.directions, self.sigmas, self.offsets_sigma(), self.dist)

    def fx_params(self) -> dict:
        """{"filter.cutoff": Hz, ...}: effect parameters set by knobs (others keep the patch's)."""
        out = {}
        for cc, k in self.knobs.items():
            if k.effect is not None:
                t, p = k.effect.split(".")
                curve = FX_PARAMS[t][p][3]
                out[k.effect] = fx_knob_to_param(self.value[cc], k.range[0], k.range[1], curve)
        return out


# ---------------------------------------------------------------- the engine side

class EngineControls:
    """A ``Controller`` as the engine's control state, and its effect knobs on an ``FxChain``.

    Pass it as ``Engine(controls=ec, z_fn=ec.z_fn)``: the generator reads
    ``seq`` and ``snapshot()`` = (seq, z); ``z_fn`` returns that z and notes
    (engine frame, seq) in ``generated`` (loop ids count generations, so loop
    id i was made from the control state ``generated[i]`` at that frame: the
    control timeline that a re-render must reproduce). ``frame_fn`` gives the
    frame (set it to the engine transport's).

    Threads: ``message``, ``cc``, ``note`` and ``sync`` run on the control
    thread (the main thread live, the render loop offline). ``sync`` computes z
    there and replaces the snapshot tuple whole before bumping ``seq``, so the
    generator thread (``snapshot``) never sees a half-made state and needs no
    lock. Effect parameters go to the chain's SigTo targets (float writes).
    """

    def __init__(self, controller: Controller, fx=None):
        self.c = controller
        self.fx = fx
        self.channel = None if controller.patch.channel is None else controller.patch.channel - 1
        self._snap = (controller.version, controller.z())
        self.seq = controller.version
        self._fx_sent: dict = {}
        self._bypass_sent: dict = {}
        self.generated: list[tuple[int, int]] = []  # (frame, seq) per generated loop (generator thread)
        self.frame_fn = lambda: -1
        self.sync()

    def z_fn(self, meta, snapshot) -> np.ndarray:
        """Generator thread: the z of a snapshot made by ``sync``."""
        self.generated.append((int(self.frame_fn()), int(snapshot[0])))
        return snapshot[1]

    def snapshot(self):
        """(seq, z (D,) float32). Generator thread."""
        return self._snap

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

    def sync(self) -> None:
        """Publish a changed z to the generator and changed effect settings to the chain."""
        c = self.c
        if c.version != self.seq:
            self._snap = (c.version, c.z())
            self.seq = c.version
        if self.fx is None:
            return
        for name, v in c.fx_params().items():
            if self._fx_sent.get(name) != v:
                self.fx.set_param(name, v)
                self._fx_sent[name] = v
        for t, b in c.bypass.items():
            if self._bypass_sent.get(t) != b:
                self.fx.set_bypass(t, b)
                self._bypass_sent[t] = b


def controller_for(patch: Patch, meta, seed: int = 0) -> tuple[Controller, Patch, list]:
    """A Controller for a model: knobs for directions the model lacks are dropped (with warnings)."""
    from livegan.patch import check_against_model

    patch, warnings = check_against_model(patch, int(meta.directions.shape[0]))
    return Controller(patch, meta.directions, meta.sigmas, meta.latent_dist, seed=seed), patch, warnings


class LiveControl:
    """The control thread of ``livegan perform``: MIDI and keys -> ``EngineControls``, every
    applied event into the performance log at the engine frame it took effect, and (when the
    patch says ``clock = "midi"``) the MIDI clock's tempo -> ``engine.set_tempo``.

    The MIDI thread only stores CCs (last value wins) and pushes notes and
    transport into a ring; ``step`` takes them from there. An event is logged
    with the frame the engine had reached when the Controller saw it, which is
    the frame ``livegan render`` applies it at: the re-render sees the same
    control timeline. Thread: control (the main thread of ``livegan perform``,
    which also draws the panel); ``step`` every few milliseconds.
    """

    TEMPO_STEP = 0.05  # BPM: smaller clock-tempo wobbles are not passed on (nor logged)

    def __init__(self, ec: EngineControls, engine, midi_in=None, perflog=None, clock_follow: bool = False,
                 fx=None):
        self.ec, self.engine, self.midi_in, self.perflog, self.fx = ec, engine, midi_in, perflog, fx
        self.clock_follow = clock_follow and midi_in is not None
        self.seen = np.zeros((16, 128), np.int64)
        self._total = -1
        self.last = ""  # what the last event did, for the panel
        self.applied = 0
        self.transport = ""  # "start" / "stop" / "continue" from a MIDI clock source
        self.tempo = engine.transport.tempo  # the last tempo asked of the engine

    def frame(self) -> int:
        return self.engine.transport.frame

    def log(self, msg) -> None:
        """Raw MIDI bytes into the performance log at the current engine frame."""
        if self.perflog is not None:
            self.perflog.log(self.frame(), msg)

    def step(self) -> None:
        from livegan.midi import CONTINUE, NOTE_OFF, NOTE_ON, START, STOP

        if self.midi_in is not None:
            h = self.midi_in.handler
            if h.knobs.total != self._total:
                self._total = h.knobs.total
                for ch, cc, v01 in h.knobs.changed_since(self.seen):
                    v = int(round(v01 * 127))
                    self.log([0xB0 | ch, cc, v])
                    self.last = self.ec.cc(cc, v) or self.last
                    self.applied += 1
            for _, kind, ch, d1, d2 in h.events.pop_all():
                if kind == NOTE_ON:
                    self.log([0x90 | ch, d1, d2])
                    self.last = self.ec.note(d1, d2) or self.last
                    self.applied += 1
                elif kind == NOTE_OFF:
                    self.log([0x80 | ch, d1, d2])
                elif kind in (START, STOP, CONTINUE):
                    self.log([{START: 0xFA, STOP: 0xFC, CONTINUE: 0xFB}[kind]])
                    self.transport = {START: "start", STOP: "stop", CONTINUE: "continue"}[kind]
            if self.clock_follow:
                self._follow_clock()
        self.ec.sync()  # keys reach the Controller directly (same thread): publish what they changed
        self.ec.c.actions.clear()  # button actions (record) have no live meaning yet

    def _follow_clock(self) -> None:
        from livegan.clock import MAX_BPM, MIN_BPM

        clk = self.midi_in.clock
        bpm = clk.tempo_bpm
        if bpm <= 0:
            return
        bpm = round(min(MAX_BPM, max(MIN_BPM, bpm)), 3)  # the log keeps 3 decimals: render gets the same
        if abs(bpm - self.tempo) >= self.TEMPO_STEP:
            self.tempo = bpm
            self.engine.set_tempo(bpm)
            if self.fx is not None:
                self.fx.set_tempo(bpm)
            if self.perflog is not None:
                self.perflog.tempo(self.frame(), bpm)

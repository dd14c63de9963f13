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

ADMIT_RING = 1024  # admission frames kept per batch number (the control thread drains far sooner)


class EngineControls:
    """A ``Controller`` as the engine's control state, and its effect knobs on an ``FxChain``.

    Pass it as ``Engine(controls=ec, z_fn=ec.z_fn)``: the generator reads
    ``seq`` and ``snapshot()`` = (seq, z); ``z_fn`` returns that z and notes
    (engine frame, seq) in ``generated`` (loop ids count generations, so loop
    id i was made from the control state ``generated[i]`` at that frame: the
    control timeline that a re-render must reproduce). ``frame_fn`` gives the
    frame (set it to the engine transport's).

    **Admission.** A control change takes effect at one frame that both the live
    performance and its re-render agree on: the start of an audio block. The
    control thread stages each change as one immutable *batch* (``sync``: the
    z snapshot, the effect parameters, bypasses and tempo, replaced whole as a
    single tuple); the engine calls ``admit(ist)`` at the start of every
    ``process`` and, when a new batch is staged, applies it there (z to the
    generator, SigTo targets to the chain, tempo to the transport) and writes
    the block's first frame into ``admit_frame[batch % ADMIT_RING]``. The
    control thread logs each batch's events at that frame, and ``livegan
    render`` applies them at the same frame, so effect knobs, latent knobs and
    tempo changes re-render sample-exactly. Unbound (no engine), ``sync``
    admits at once.

    Threads: ``message``, ``cc``, ``note``, ``stage_tempo`` and ``sync`` run
    on the control thread (the main thread live, the render loop offline);
    ``admit`` on the audio thread (it allocates nothing when no batch is
    waiting); ``snapshot`` and ``z_fn`` on the generator thread. No locks: one
    reference write publishes a batch, plain writes admit it.
    """

    def __init__(self, controller: Controller, fx=None):
        self.c = controller
        self.fx = fx
        self.engine = None  # set by bind(): from then on the engine's blocks admit batches
        self.channel = None if controller.patch.channel is None else controller.patch.channel - 1
        self._snap = (controller.version, controller.z())
        self.seq = controller.version
        self.batch = 0  # batches staged (control thread)
        self.admitted = 0  # batches admitted (audio thread)
        self.admit_frame = np.zeros(ADMIT_RING, np.int64)
        # (batch, snapshot, fx params, bypass, tempo, locate (n, beat, frame), running)
        self._staged = (0, self._snap, {}, {}, None, (0, 0.0, 0), True)
        self._tempo = None  # tempo asked for by stage_tempo (control thread)
        self._loc = (0, 0.0, 0)  # locates asked for by stage_locate
        self._run = True
        self._fx_set: dict = {}  # what the chain was given (audio thread once bound)
        self._bypass_set: dict = {}
        self._tempo_set = None
        self._loc_set = 0
        self._run_set = True
        self.generated: list[tuple[int, int]] = []  # (frame, seq) per generated loop (generator thread)
        self.frame_fn = lambda: -1
        self.sync(force=True)

    def bind(self, engine) -> None:
        """The engine that admits batches (called by ``Engine.__init__``). Main thread."""
        self.engine = engine
        self.frame_fn = lambda: engine.transport.frame

    def z_fn(self, meta, snapshot) -> np.ndarray:
        """Generator thread: the z of a snapshot made by ``sync``."""
        self.generated.append((int(self.frame_fn()), int(snapshot[0])))
        return snapshot[1]

    def snapshot(self):
        """(seq, z (D,) float32) as last admitted. Generator thread."""
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
            snap = (c.version, c.z())
        if self.fx is not None:
            fxp, byp = c.fx_params(), dict(c.bypass)
        if (force or snap is not st[1] or fxp != st[2] or byp != st[3] or self._tempo != st[4]
                or self._loc != st[5] or self._run != st[6]):
            self.batch += 1
            self._staged = (self.batch, snap, fxp, byp, self._tempo, self._loc, self._run)  # one reference write
        if self.engine is None:
            self._apply(self._staged, int(self.frame_fn()))
        return self.batch

    # -- audio thread
    def admit(self, ist) -> None:
        """Engine block start: apply a newly staged batch at this block's first frame."""
        st = self._staged
        if st[0] != self.admitted:
            from livegan.dsp import I_FRAME

            self._apply(st, ist[I_FRAME])

    def _apply(self, st, frame) -> None:
        b, snap, fxp, byp, tempo, loc, run = st
        if self.engine is not None:
            if loc[0] != self._loc_set:
                self._loc_set = loc[0]
                self.engine.locate(loc[1], loc[2])
            if run != self._run_set:
                self._run_set = run
                self.engine.set_running(run)
        if tempo is not None and tempo != self._tempo_set:
            self._tempo_set = tempo
            if self.engine is not None:
                self.engine.set_tempo(tempo)  # read by this block's kernel: applies from this frame
            if self.fx is not None:
                self.fx.set_tempo(tempo)
        if self.fx is not None:
            for name, v in fxp.items():
                if self._fx_set.get(name) != v:
                    self.fx.set_param(name, v)
                    self._fx_set[name] = v
            for t, on in byp.items():
                if self._bypass_set.get(t) != on:
                    self.fx.set_bypass(t, on)
                    self._bypass_set[t] = on
        self._snap = snap
        self.seq = snap[0]
        a = self.admitted
        while a < b:  # usually one batch per block
            a += 1
            self.admit_frame[a % ADMIT_RING] = frame
        self.admitted = b


def controller_for(patch: Patch, meta, seed: int = 0) -> tuple[Controller, Patch, list]:
    """A Controller for a model: knobs for directions the model lacks are dropped (with warnings)."""
    from livegan.patch import check_against_model

    patch, warnings = check_against_model(patch, int(meta.directions.shape[0]))
    return Controller(patch, meta.directions, meta.sigmas, meta.latent_dist, seed=seed), patch, warnings


class LiveControl:
    """The control thread of ``livegan perform``: MIDI and keys -> ``EngineControls``, every
    applied event into the performance log at the engine frame it took effect, and (when the
    patch says ``clock = "midi"``) the MIDI clock's tempo -> the engine and the delay.

    The MIDI thread only stores CCs (last value wins) and pushes notes and
    transport into a ring; ``step`` takes them from there, together with the
    keys ``log`` was given since the last step, applies them to the Controller
    and stages them as one batch (``EngineControls.sync``). The audio thread
    admits the batch at the start of its next block; a later ``step`` writes
    the batch's events into the performance log at that block's first frame,
    which is the frame ``livegan render`` applies them at, so the re-render
    sees the same control timeline, effect knobs and tempo included.
    ``flush`` logs what was never admitted (the stream stopped) at the frame
    the next block would have started. Thread: control (the main thread of
    ``livegan perform``, which also draws the panel and reads the keys);
    ``step`` every few milliseconds.
    """

    TEMPO_STEP = 0.05  # BPM: smaller clock-tempo wobbles are not passed on (nor logged) while free-running
    PLL_TAU_S = 0.4  # a beat-phase error is worked off over about this long...
    PLL_MAX = 0.02  # ...by a tempo nudge of at most 2 % (about a third of a semitone, only while catching up)
    PLL_EVERY_S = 0.05  # at most this often (each nudge is a tempo marker in the performance log)
    RESYNC_S = 0.015  # a larger phase error re-locates the grid instead (ducked, click-free)...
    RESYNC_EVERY_S = 1.0  # ...at most this often (right after a Start the clock's tempo is still settling)

    def __init__(self, ec: EngineControls, engine, midi_in=None, perflog=None, clock_follow: bool = False,
                 frame_clock=None, now=None):
        self.ec, self.engine, self.midi_in, self.perflog = ec, engine, midi_in, perflog
        self.clock_follow = clock_follow and midi_in is not None
        self.seen = np.zeros((16, 128), np.int64)
        self._total = -1
        self.last = ""  # what the last event did, for the panel
        self.applied = 0
        self.transport = ""  # "start" / "stop" / "continue" from a MIDI clock source
        self.tempo = engine.transport.tempo  # the last tempo asked of the engine
        self.frame_clock = frame_clock  # livegan.midiclock.FrameClock: phase lock needs it
        self.now = now or __import__("time").monotonic
        self.need_locate = False  # a Start / Continue / resync waits for the clock's next position
        self.running = True  # what we asked of the engine's transport
        self._next_pll = 0.0
        self._last_locate = -1e9
        self.on_action = None  # callable(action) for button actions such as "record"
        self._keys: list = []  # raw MIDI of key presses since the last step (same thread)
        self._pending: list = []  # (batch, [raw MIDI or ("tempo", bpm)]) waiting for admission
        self.warn = None  # callable(text): one line for the performer (a clock tempo held at the model's limit)
        self._held = False  # the clock's tempo is above what the model can play here

    def frame(self) -> int:
        return self.engine.transport.frame

    def log(self, msg) -> None:
        """A key press's raw MIDI bytes: logged with the next batch. Control thread."""
        self._keys.append(list(msg))

    def _drain_log(self) -> None:
        """Batches the audio thread has admitted -> the performance log at their admission frame."""
        ec = self.ec
        while self._pending and ec.admitted >= self._pending[0][0]:
            b, msgs = self._pending.pop(0)
            self._write(int(ec.admit_frame[b % len(ec.admit_frame)]), msgs)

    def _write(self, frame: int, msgs) -> None:
        if self.perflog is None:
            return
        for m in msgs:
            if m[0] == "tempo":
                self.perflog.tempo(frame, m[1])
            elif m[0] == "locate":
                self.perflog.locate(frame, m[1], m[2])
            elif m[0] == "run":
                self.perflog.running(frame, m[1])
            else:
                self.perflog.log(frame, m)

    def flush(self) -> None:
        """At the end (stream stopped): log what was admitted, then the rest at the frame where
        the next block would have admitted it. Control thread."""
        self._drain_log()
        for _, msgs in self._pending:
            self._write(self.frame(), msgs)
        self._pending.clear()

    def step(self) -> None:
        from livegan.midi import CONTINUE, NOTE_OFF, NOTE_ON, START, STOP

        self._drain_log()
        msgs, self._keys = self._keys, []
        if self.midi_in is not None:
            h = self.midi_in.handler
            if h.knobs.total != self._total:
                self._total = h.knobs.total
                for ch, cc, v01 in h.knobs.changed_since(self.seen):
                    v = int(round(v01 * 127))
                    msgs.append([0xB0 | ch, cc, v])
                    self.last = self.ec.c.on_cc(cc, v / 127.0) and f"CC {cc} = {v}" or self.last
                    self.applied += 1
            for _, kind, ch, d1, d2 in h.events.pop_all():
                if kind == NOTE_ON:
                    msgs.append([0x90 | ch, d1, d2])
                    self.last = self.ec.c.on_note(d1, d2) or self.last
                    self.applied += 1
                elif kind in (START, STOP, CONTINUE):
                    msgs.append([{START: 0xFA, STOP: 0xFC, CONTINUE: 0xFB}[kind]])
                    self.transport = {START: "start", STOP: "stop", CONTINUE: "continue"}[kind]
                    if self.clock_follow:
                        self._transport(kind == STOP, msgs)
                elif kind == NOTE_OFF:  # no effect, kept in the log for a DAW's eyes
                    msgs.append([0x80 | ch, d1, d2])
            if self.clock_follow:
                self._follow_clock(msgs)
        b = self.ec.sync(force=bool(msgs))  # keys reached the Controller directly: publish them too
        if msgs:
            self._pending.append((b, msgs))
        for a in self.ec.c.actions:  # button actions (record): the caller's
            if self.on_action is not None:
                self.on_action(a)
        self.ec.c.actions.clear()

    def _transport(self, stop: bool, msgs) -> None:
        """Start / Continue: lock to the clock's position at its next tick; Stop: the loops duck out
        and the beat stands still."""
        if stop:
            self.need_locate = False
            if self.running:
                self.running = False
                self.ec.stage_running(False)
                msgs.append(("run", 0))
        else:
            self.need_locate = True

    def _heard_time(self, frame: float) -> float:
        fc = self.frame_clock
        return fc.time_of(frame) if fc is not None and fc.offset is not None else self.now()

    def _follow_clock(self, msgs) -> None:
        """Tempo from the clock; with its transport running (after Start / Continue), the beat grid
        locked to its song position: a locate to get there, then a small tempo nudge (a phase-locked
        loop) keeps the beat heard at the output within a few ms of the clock's."""
        from livegan.clock import MAX_BPM, MIN_BPM

        clk = self.midi_in.clock
        bpm = clk.tempo_bpm
        if bpm <= 0:
            return
        if self.frame_clock is not None:
            self.frame_clock.update()
        now = self.now()
        target = bpm
        locked = clk.running and self.running and not self.need_locate
        if self.need_locate and clk.running and clk.position_ticks >= 0:
            f = self.frame()  # this frame is at the output when the clock is at beats_at(its time)
            beat = round(clk.beats_at(self._heard_time(f)), 6)  # the log keeps 6 decimals
            self.ec.stage_locate(beat, f)
            msgs.append(("locate", beat, f))
            if not self.running:
                self.running = True
                self.ec.stage_running(True)
                msgs.append(("run", 1))
            self.need_locate = False
            self._last_locate = now
            self._next_pll = now + 0.1  # let the duck and the jump pass before measuring again
        elif locked and self.frame_clock is not None and self.frame_clock.offset is not None:
            if now < self._next_pll:
                return
            self._next_pll = now + self.PLL_EVERY_S
            fc = self.frame_clock
            err = clk.beats_at(now) - self.engine.transport.beat_at(fc.frame_at(now))
            if abs(err) * 60.0 / bpm > self.RESYNC_S and now - self._last_locate > self.RESYNC_EVERY_S:
                self.need_locate = True
                return
            nudge = 60.0 * err / self.PLL_TAU_S
            target = bpm + min(self.PLL_MAX * bpm, max(-self.PLL_MAX * bpm, nudge))
        lim = self.engine.max_tempo  # a fast clock with a high-rate model: held at the kernel's limit
        if bpm > lim and not self._held:
            self.last = (f"MIDI clock at {bpm:g} BPM is faster than this model can play at this output rate: "
                         f"held at {lim:g} BPM")
            if self.warn is not None:
                self.warn(self.last)
        self._held = bpm > lim
        bpm = round(min(lim, MAX_BPM, max(MIN_BPM, target)), 3)  # the log keeps 3 decimals: render gets the same
        step = 0.001 if locked else self.TEMPO_STEP
        if abs(bpm - self.tempo) >= step:
            self.tempo = bpm
            self.ec.stage_tempo(bpm)
            msgs.append(("tempo", bpm))

"""The engine: one ``process(out)`` that mixes the loop bank into an output block, for the live
callback and for offline render alike.

Threads: ``process`` runs on the audio callback (or the render loop) and allocates nothing: the numba
kernels on preallocated arrays, ``fx.process`` and ``controls.admit``. ``publish_loop`` and
``record_gen_time`` run on the generator thread (or the render loop); the setters (tempo, locate,
running, quantize, crossfade) on any thread, read at the next block; ``stats``/``events`` are lock-free
reads. What the engine needs from its control state is the ``Controls`` protocol below.
"""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from livegan.audio import dsp
from livegan.audio.bank import LoopBank
from livegan.audio.state import ENGINE, LIMITER, PUB, RING, TRACK, rows
from livegan.audio.transport import MAX_BPM, MIN_BPM, Transport, quantum_beats
from livegan.faults import GenFaults, checked_loop

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.model import ModelMeta

LOOP_Z_KEPT = 64  # z of the newest loops kept by id: far more than the bank's slots, so a playing loop's is kept


def tempo_limit(meta: ModelMeta, sample_rate: int, step: bool = False) -> float:
    """The fastest tempo (BPM, to 3 decimals, rounded down) at which the kernel can read ``meta``'s
    loops at ``sample_rate``: faster reads more than ``dsp.MAX_STEP`` source samples per output frame,
    which the slot guards and the interpolator are not sized for. With ``step``: the read step per BPM.
    Any thread."""
    per_bpm = (meta.loop_samples / (meta.bars * meta.beats_per_bar)) / (60.0 * sample_rate)
    return per_bpm if step else math.floor(dsp.MAX_STEP / per_bpm * 1000.0) / 1000.0


def start_tempo_problem(meta: ModelMeta, sample_rate: int, tempo, where: str) -> str | None:
    """One line saying why ``meta`` cannot start at ``tempo`` (None: the model's bpm) at
    ``sample_rate``, or None when it can. ``where`` names the setting (a patch field). Main thread."""
    lim = tempo_limit(meta, sample_rate)
    bpm = float(meta.bpm if tempo is None else tempo)
    if bpm <= lim:
        return None
    if tempo is None:
        need = int(math.ceil(sample_rate * bpm / lim))
        return (f"model '{meta.name}' ({meta.sample_rate} Hz at {meta.bpm:g} BPM) cannot play at a {sample_rate} Hz "
                f"output (at most {lim:g} BPM there): use an output rate of at least {need} Hz")
    return (f"{where} {bpm:g} BPM is too fast for model '{meta.name}' ({meta.sample_rate} Hz) at a {sample_rate} Hz "
            f"output: at most {lim:g} BPM")


class Controls(Protocol):
    """The control state an ``Engine`` plays from (``livegan.control.admission.EngineControls``). No locks:
    the control thread publishes by plain writes, the readers take the latest value."""

    seq: int  # changes whenever a new loop is wanted; generator thread reads it

    def snapshot(self) -> tuple:
        """The control state a loop is generated from; its first item is ``seq``. Generator thread."""

    def z(self, meta: ModelMeta, snapshot) -> np.ndarray:
        """The (latent_dim,) float32 z ``snapshot`` means for ``meta``. Generator thread (or the render loop)."""

    def admit(self, state) -> None:
        """Apply control changes staged since the last block at this block's first frame
        (``state["frame"]``, ``state`` the engine's ``state.ENGINE`` row). Audio thread, at the start
        of every ``process``: must not allocate, lock or wait. Subclassing this protocol inherits this
        no-op."""


def new_state(loop_samples: int, loop_beats: int, sample_rate: int, bpm: float):
    """-> (est, tst): one ``ENGINE`` and one ``TRACK`` row, the kernel's state before the first block:
    nothing playing or scheduled, frame 0, running at ``bpm``, recording into no ring; quantum and
    crossfade length are set after (``Engine.set_quantize``, ...)."""
    est, tst = rows(ENGINE), rows(TRACK)
    s, tk = est[0], tst[0]
    tk["cur"] = tk["fade"] = tk["sched"] = -1
    tk["n"] = loop_samples
    tk["loop_beats"] = loop_beats
    tk["spb"] = loop_samples / loop_beats
    s["sr"] = sample_rate
    s["tempo"] = s["tempo_req"] = bpm
    s["fpb"] = sample_rate * 60.0 / bpm
    s["gain"] = 1.0
    s["duck_step"] = 1.0 / max(1.0, dsp.DUCK_MS * 1e-3 * sample_rate)
    s["run_req"] = 1
    s["rec_want"] = s["rec_seen"] = -1
    return est, tst


def limiter_state(dbfs: float, release_ms: float, sample_rate: int) -> np.ndarray:
    """-> lst, one ``LIMITER`` row: at unity gain, its threshold at ``dbfs``, releasing over ``release_ms``."""
    lst = rows(LIMITER)
    lst["gain"] = 1.0
    lst["threshold"] = 10.0 ** (dbfs / 20.0)
    lst["release"] = np.exp(-1.0 / (release_ms * 1e-3 * sample_rate))
    return lst


def warm_up(channels_model: int = 1, channels_out: int = 2) -> None:
    """Compile every real-time kernel for the engine's exact types (``new_state``, float32 blocks)
    before any stream starts: a numba function compiles on its first call. Main thread."""
    n = 256
    est, tst = new_state(n, 4, 48000, 120.0)
    tst["quant"] = 4
    tst["fade_len"] = 16
    slots = np.zeros((2, channels_model, n + 2 * dsp.PAD), np.float32)
    out = np.zeros((64, channels_out), np.float32)
    pub = rows(PUB)
    pub["seq"] = 2  # slot 0 published: the switch path compiles too
    log = np.zeros((16, 4), np.int64)
    dsp.engine_block(out, slots, np.zeros(2, np.int64), np.zeros(2, np.int64), est, tst, pub, dsp.TABLE, log)
    dsp.limiter(out, limiter_state(-0.2, 50.0, 48000))
    dsp.ring_write(np.zeros((128, channels_out), np.float32), rows(RING), out)


class Engine:
    """The loop player. ``controls`` (``Controls``) says which loop to generate next and admits
    control changes at block starts; ``fx``, if set, has ``process(block (frames, channels) float32)``
    and runs in place after the mix, before the limiter, on the audio thread (same rules as
    ``process``). Built with its controls and effects by ``livegan.performance.build``."""

    def __init__(self, meta: ModelMeta, controls: Controls, sample_rate: int = 48000, channels: int = 2,
                 quantize: str = "bar", crossfade_ms: float = 40.0, tempo: float | None = None, fx=None,
                 n_slots: int = 6, limiter_dbfs: float = -0.3, limiter_release_ms: float = 80.0,
                 log_size: int = 16384, record_ring_frames: int = 0, take_ring_frames: int = 0, arena=None):
        from livegan.audio.arena import Arena

        a = self.arena = arena or Arena()  # kept: the arrays live as long as their mapping
        self.meta = meta
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.fx = fx
        self.bank = LoopBank(n_slots, meta.channels, meta.loop_samples, arena=a)
        bpm = float(meta.bpm if tempo is None else tempo)
        self._check_tempo(bpm)
        # the kernels take the arrays (est, tst, lst); Python reads and writes their rows by name
        # (``state``, ``track``: structured scalars that write through to the arena)
        self.est = a.array("engine.state", 1, ENGINE)
        self.tst = a.array("engine.tracks", 1, TRACK)  # one row per track: one track for now
        self.state, self.track = self.est[0], self.tst[0]
        self.log = a.array("engine.log", (log_size, 4), np.int64)
        self.lst = a.array("engine.limiter", 1, LIMITER)
        # the record rings: 0 the meter's (or a caller's), 1 a take's; ``state["rec_want"]`` says
        # which the callback writes into (set by attach_ring), ``rec_frame`` from which frame
        self.rings = [(a.array(f"engine.ring{i}", (max(1, int(n)), self.channels), np.float32),
                       a.array(f"engine.rst{i}", 1, RING))
                      for i, n in enumerate((record_ring_frames, take_ring_frames))]
        self.ring: np.ndarray | None
        self.ring, self.rst = self.rings[0] if record_ring_frames else (None, self.rings[0][1])
        self.transport = Transport(self.state, meta.beats_per_bar)
        self.crossfade_ms = float(crossfade_ms)
        self.quantize = quantize
        if a.fresh:
            self.est[:], self.tst[:] = new_state(meta.loop_samples, meta.bars * meta.beats_per_bar,
                                                 self.sample_rate, bpm)
            self.lst[:] = limiter_state(limiter_dbfs, limiter_release_ms, self.sample_rate)
            if record_ring_frames:
                self.state["rec_want"] = self.state["rec_seen"] = 0
            self.set_quantize(quantize)
        self._recs = [r if (i or record_ring_frames) else None for i, r in enumerate(self.rings)]
        self._want, self._rec = None, None  # the ring the callback last took, and its (ring, rst)
        self.controls = controls
        self.loops_generated = 0
        self.gen_seconds = np.zeros(65536, np.float64)  # ring of generation times (generator thread)
        self.faults = GenFaults()  # generations that failed: the current loop kept playing
        self.loop_z: dict[int, np.ndarray] = {}  # loop id -> its z, the last LOOP_Z_KEPT (a saved loop names it)

    # ---- configuration (any thread) -------------------------------------------------
    def _check_tempo(self, bpm: float) -> None:
        if not (MIN_BPM <= bpm <= MAX_BPM):
            raise ValueError(f"tempo must be in [{MIN_BPM:g}, {MAX_BPM:g}] BPM, got {bpm:g}")
        if bpm > self.max_tempo:
            step = tempo_limit(self.meta, self.sample_rate, step=True) * bpm
            raise ValueError(f"tempo {bpm:g} BPM reads this model {step:.2f}x faster than the output rate "
                             f"(limit {dsp.MAX_STEP:g}x, {self.max_tempo:g} BPM): use a higher output rate or "
                             "a lower tempo")

    @property
    def max_tempo(self) -> float:
        """The fastest tempo this model plays at at this output rate (``tempo_limit``)."""
        return min(MAX_BPM, tempo_limit(self.meta, self.sample_rate))

    def clamp_tempo(self, bpm: float) -> float:
        """``bpm`` moved into what this engine can play: [MIN_BPM, ``max_tempo``]. Any thread."""
        return min(self.max_tempo, max(MIN_BPM, float(bpm)))

    def set_tempo(self, bpm: float) -> None:
        """New tempo from the next block on, phase-continuous. Any thread (MIDI clock, UI)."""
        bpm = float(bpm)
        self._check_tempo(bpm)
        self.state["tempo_req"] = bpm

    def locate(self, beat: float, frame: int | None = None) -> None:
        """Move the beat grid so that ``beat`` falls on ``frame`` (default: the next block's first
        frame): the loops duck out over ``dsp.DUCK_MS``, the grid jumps, they come back in. Audio
        thread (``EngineControls.admit``) or the render loop; the request is two plain writes, the
        counter last."""
        s = self.state
        s["loc_beat"] = float(beat)
        s["loc_frame"] = int(s["frame"] if frame is None else frame)
        s["loc_req"] += 1

    def set_running(self, running: bool) -> None:
        """Stop (duck out, the beat stands still) or run (duck back in). Any thread."""
        self.state["run_req"] = 1 if running else 0

    @property
    def running(self) -> bool:
        return bool(self.state["run_req"])

    def set_quantize(self, quantize: str) -> None:
        """Any thread."""
        self.quantize = quantize
        self.track["quant"] = quantum_beats(quantize, self.meta.beats_per_bar)
        self.set_crossfade_ms(self.crossfade_ms)

    def set_crossfade_ms(self, ms: float) -> None:
        """Crossfade length (>= 4 ms, at most half a quantum at the current tempo). Any thread."""
        ms = max(4.0, float(ms))
        self.crossfade_ms = ms
        frames = int(round(ms * 1e-3 * self.sample_rate))
        q = int(self.track["quant"])
        if q > 0:
            frames = min(frames, int(q * self.state["fpb"] / 2))
        self.track["fade_len"] = max(1, frames)

    def attach_ring(self, which: int) -> None:
        """Record into ring ``which`` (0: the meter's, 1: a take's; -1: none) from the next block on.
        Main thread, before or while the stream runs: a take starts (and the previous ring gets its
        last frame) exactly at a block boundary; ``ring_attached()`` says when the callback has taken
        it and ``rec_start_frame`` from which frame."""
        self.state["rec_want"] = int(which)

    def ring_attached(self) -> bool:
        """True once the callback writes into the ring last attached (any thread)."""
        return self.state["rec_seen"] == self.state["rec_want"]

    @property
    def rec_start_frame(self) -> int:
        """The first frame written into the ring now attached."""
        return int(self.state["rec_frame"])

    def live_ring(self):
        """(ring, rst) the callback writes into now (the meter's or a take's; (None, rst) when none):
        the panel's level reads it. Any thread."""
        w = int(self.state["rec_seen"])
        return self._recs[w] if w >= 0 and self._recs[w] is not None else (None, self.rst)

    @property
    def take_ring(self):
        """(ring, rst) of ring 1, the one a take records from (a ``Recorder`` drains it)."""
        return self.rings[1]

    # ---- audio thread ------------------------------------------------------------
    def process(self, out: np.ndarray) -> None:
        """Fill ``out`` (frames, channels) float32 C-contiguous; audio callback or render loop. Never allocates,
        locks, logs or waits: admission, the mix kernel, ``fx.process``, the limiter, the record ring copy."""
        rec = self.play(out)
        if rec is not None:
            dsp.ring_write(rec[0], rec[1], out)

    def play(self, out: np.ndarray):
        """``process`` without the ring copy: -> the (ring, rst) for this block, or None (a set records its mix)."""
        rec = self.play_dry(out)
        if self.fx is not None:
            self.fx.process(out)
        dsp.limiter(out, self.lst)
        return rec

    def play_dry(self, out: np.ndarray):
        """``play`` up to its effects: admission and the loops (a set runs every track's chain at once)."""
        s = self.state
        self.controls.admit(s)  # staged control changes take effect at this block's first frame
        w = s["rec_want"]
        if w != self._want:  # (one shared read a block while no ring changes)
            if s["rec_seen"] != w:  # a new ring (a new take) starts with this block
                s["rec_frame"] = s["frame"]
                s["rec_seen"] = w
            self._want, self._rec = w, (self._recs[w] if w >= 0 else None)
        rec = self._rec
        b = self.bank
        dsp.engine_block(out, b.slots, b.state, b.loop_id, self.est, self.tst, b.pub, dsp.TABLE, self.log)
        return rec

    def drop_fx(self) -> None:
        """Play on without the effects chain (it raised in the callback); its admission goes too. Audio thread."""
        self.fx = None
        adm: Any = getattr(self.controls, "admitter", self.controls)  # EngineControls, or an Admitter
        if getattr(adm, "fx", None) is not None:
            adm.fx = None

    # ---- generator thread --------------------------------------------------------
    def publish_loop(self, loop: np.ndarray, target_beat: int, wait=None, z: np.ndarray | None = None) -> int:
        """Put a (C, N) loop in a free slot and schedule it for ``target_beat`` (-1: asap); ``z``,
        the latent it was generated from (``generate_loop``), is kept under its loop id (``loop_z``).

        Waits (``wait()``, e.g. a short sleep; render passes a zero-frame
        ``process``) while the callback has not yet taken the previous record,
        so a published slot is never lost. Generator thread or render loop.
        """
        b = self.bank
        while self.track["seen"] != b.pub[0]["seq"]:
            (wait or (lambda: time.sleep(0.001)))()
        loop = checked_loop(loop, b.channels, b.n)  # before a slot is taken: a bad loop never reaches one
        slot = b.acquire()
        b.fill(slot, loop)
        lid = b.publish(slot, int(target_beat), int(self.track["cur"]))
        if z is not None:
            self.loop_z[lid] = z
            self.loop_z.pop(lid - LOOP_Z_KEPT, None)
        return lid

    def record_gen_time(self, seconds: float) -> None:
        """Generator thread."""
        self.gen_seconds[self.loops_generated % self.gen_seconds.shape[0]] = seconds
        self.loops_generated += 1

    # ---- any thread --------------------------------------------------------------
    def events(self) -> np.ndarray:
        """Logged events, oldest first: rows (frame, kind, slot, loop id); kinds in ``livegan.audio.dsp``."""
        n = int(self.state["log_n"])
        cap = self.log.shape[0]
        if n <= cap:
            return self.log[:n].copy()
        i = n % cap
        return np.concatenate([self.log[i:], self.log[:i]])

    def gen_times(self) -> np.ndarray:
        n = min(self.loops_generated, self.gen_seconds.shape[0])
        return self.gen_seconds[:n].copy()

    def stats(self) -> dict:
        """Plain numbers, read without locks (UI thread or at exit)."""
        g = self.gen_times()
        s, tk = self.state, self.track
        return {
            "frame": int(s["frame"]), "tempo": float(s["tempo"]),
            "loops_generated": int(self.loops_generated), "switches": int(tk["switches"]),
            "late_loops": int(tk["late"]), "superseded": int(tk["superseded"]),
            "gen_ms_median": float(np.median(g) * 1e3) if g.size else None,
            "gen_ms_p99": float(np.percentile(g, 99) * 1e3) if g.size else None,
            "frames_recorded": sum(int(r[0]["written"]) for _, r in self.rings),
            "ring_drops": sum(int(r[0]["dropped"]) for _, r in self.rings),
            "gen_faults": int(self.faults.count), "last_gen_fault": self.faults.last or None,
            "playing_loop": int(self.bank.loop_id[tk["cur"]]) if tk["cur"] >= 0 else None,
        }

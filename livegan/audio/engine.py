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
from typing import Protocol

import numpy as np

from livegan.audio import dsp
from livegan.audio.bank import LoopBank
from livegan.audio.transport import MAX_BPM, MIN_BPM, Transport, quantum_beats


def tempo_limit(meta, sample_rate: int, step: bool = False) -> float:
    """The fastest tempo (BPM, to 3 decimals, rounded down) at which the kernel can read ``meta``'s
    loops at ``sample_rate``: faster reads more than ``dsp.MAX_STEP`` source samples per output frame,
    which the slot guards and the interpolator are not sized for. With ``step``: the read step per BPM.
    Any thread."""
    per_bpm = (meta.loop_samples / (meta.bars * meta.beats_per_bar)) / (60.0 * sample_rate)
    return per_bpm if step else math.floor(dsp.MAX_STEP / per_bpm * 1000.0) / 1000.0


def start_tempo_problem(meta, sample_rate: int, tempo, where: str) -> str | None:
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
    """The control state an ``Engine`` plays from (``livegan.control.admission.EngineControls``).

    No locks: the control thread publishes by plain writes, the readers take the latest value.
    """

    seq: int  # changes whenever a new loop is wanted; generator thread reads it

    def snapshot(self) -> tuple:
        """The control state a loop is generated from; its first item is ``seq``. Generator thread."""

    def z(self, meta, snapshot) -> np.ndarray:
        """The (latent_dim,) float32 z ``snapshot`` means for ``meta``. Generator thread (or the render loop)."""

    def admit(self, ist: np.ndarray) -> None:
        """Apply control changes staged since the last block at this block's first frame
        (``ist[dsp.I_FRAME]``). Audio thread, at the start of every ``process``: must not allocate,
        lock or wait. Subclassing this protocol inherits this no-op."""


class GenFaults:
    """Generations that failed (raised, broke the output contract, or took longer than a loop).

    ``add`` runs on the generator thread (or the render loop); the main thread reads ``count``,
    ``last`` and ``texts`` (each distinct one-line text once, in order of first appearance, at
    most ``MAX_TEXTS``): list appends and int writes, no lock.
    """

    MAX_TEXTS = 16

    def __init__(self):
        self.count = 0
        self.last = ""
        self.texts: list[str] = []

    def add(self, text: str) -> None:
        self.last = text
        if text not in self.texts and len(self.texts) < self.MAX_TEXTS:
            self.texts.append(text)
        self.count += 1


def checked_loop(loop, channels: int, loop_samples: int) -> np.ndarray:
    """A generated loop as a bank slot may take it: (channels, loop_samples) float, finite,
    clamped to [-1, 1]. Raises ``GenerationFault`` (one line) otherwise. Generator thread or render loop."""
    from livegan.faults import GenerationFault

    a = loop if isinstance(loop, np.ndarray) else None
    if a is None:
        raise GenerationFault(f"the model returned {type(loop).__name__}, not an array")
    if a.shape != (channels, loop_samples):
        raise GenerationFault(f"the model returned a loop of shape {a.shape}, not {(channels, loop_samples)}")
    if a.dtype.kind != "f":  # (a model's float64 is refused in LoopModel.generate; code may hand float64 here)
        raise GenerationFault(f"the model returned {a.dtype} samples, not float32")
    if not np.isfinite(a).all():
        raise GenerationFault("the model returned a loop with NaN or Inf")
    return np.clip(a, -1.0, 1.0).astype(np.float32, copy=False)


def new_state(loop_samples: int, loop_beats: int, sample_rate: int, bpm: float):
    """-> (ist, fst): the kernel's state before the first block: nothing playing or scheduled, frame 0,
    running at ``bpm``; quantum and crossfade length are set after (``Engine.set_quantize``, ...)."""
    ist = np.zeros(dsp.N_IST, np.int64)
    fst = np.zeros(dsp.N_FST, np.float64)
    ist[dsp.I_CUR] = ist[dsp.I_FADE] = ist[dsp.I_SCHED] = -1
    ist[dsp.I_N] = loop_samples
    ist[dsp.I_LOOP_BEATS] = loop_beats
    fst[dsp.F_SR] = sample_rate
    fst[dsp.F_SPB] = loop_samples / loop_beats
    fst[dsp.F_TEMPO] = fst[dsp.F_TEMPO_REQ] = bpm
    fst[dsp.F_FPB] = sample_rate * 60.0 / bpm
    fst[dsp.F_GAIN] = 1.0
    fst[dsp.F_DUCK_STEP] = 1.0 / max(1.0, dsp.DUCK_MS * 1e-3 * sample_rate)
    ist[dsp.I_RUN_REQ] = 1
    return ist, fst


def limiter_state(dbfs: float, release_ms: float, sample_rate: int) -> np.ndarray:
    """-> lst: the limiter at unity gain, its threshold at ``dbfs``, releasing over ``release_ms``."""
    lst = np.zeros(dsp.N_LST, np.float64)
    lst[dsp.L_GAIN] = 1.0
    lst[dsp.L_THRESHOLD] = 10.0 ** (dbfs / 20.0)
    lst[dsp.L_RELEASE] = np.exp(-1.0 / (release_ms * 1e-3 * sample_rate))
    return lst


def warm_up(channels_model: int = 1, channels_out: int = 2) -> None:
    """Compile every real-time kernel for the engine's exact types (``new_state``, float32 blocks)
    before any stream starts: a numba function compiles on its first call. Main thread."""
    n = 256
    ist, fst = new_state(n, 4, 48000, 120.0)
    ist[dsp.I_QUANT] = 4
    ist[dsp.I_FADE_LEN] = 16
    slots = np.zeros((2, channels_model, n + 2 * dsp.PAD), np.float32)
    out = np.zeros((64, channels_out), np.float32)
    pub = np.zeros(dsp.N_PUB, np.int64)
    pub[dsp.P_SEQ] = 2  # slot 0 published: the switch path compiles too
    log = np.zeros((16, 4), np.int64)
    dsp.engine_block(out, slots, np.zeros(2, np.int64), np.zeros(2, np.int64), ist, fst, pub, dsp.TABLE, log)
    dsp.limiter(out, limiter_state(-0.2, 50.0, 48000))
    dsp.ring_write(np.zeros((128, channels_out), np.float32), np.zeros(dsp.N_RST, np.int64), out)


class Engine:
    """The loop player. ``controls`` (``Controls``) says which loop to generate next and admits
    control changes at block starts; ``fx``, if set, has ``process(block (frames, channels) float32)``
    and runs in place after the mix, before the limiter, on the audio thread (same rules as
    ``process``). Built with its controls and effects by ``livegan.performance.build``."""

    def __init__(self, meta, controls: Controls, sample_rate: int = 48000, channels: int = 2,
                 quantize: str = "bar", crossfade_ms: float = 40.0, tempo: float | None = None, fx=None,
                 n_slots: int = 6, limiter_dbfs: float = -0.3, limiter_release_ms: float = 80.0,
                 log_size: int = 16384, record_ring_frames: int = 0):
        self.meta = meta
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.fx = fx
        self.bank = LoopBank(n_slots, meta.channels, meta.loop_samples)
        bpm = float(meta.bpm if tempo is None else tempo)
        self._check_tempo(bpm)
        self.ist, self.fst = new_state(meta.loop_samples, meta.bars * meta.beats_per_bar, self.sample_rate, bpm)
        self.transport = Transport(self.ist, self.fst, meta.beats_per_bar)
        self.crossfade_ms = 40.0
        self.set_quantize(quantize)
        self.set_crossfade_ms(crossfade_ms)
        self.controls = controls
        self.log = np.zeros((log_size, 4), np.int64)
        self.lst = limiter_state(limiter_dbfs, limiter_release_ms, self.sample_rate)
        self.ring = None
        self.rst = np.zeros(dsp.N_RST, np.int64)
        if record_ring_frames:
            self.ring = np.zeros((int(record_ring_frames), self.channels), np.float32)
        self._rec = None if self.ring is None else (self.ring, self.rst)  # what the callback writes into
        self._rec_seen = self._rec
        self.rec_start_frame = 0  # first frame written into the current ring
        self.loops_generated = 0
        self.gen_seconds = np.zeros(65536, np.float64)  # ring of generation times (generator thread)
        self.faults = GenFaults()  # generations that failed: the current loop kept playing

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
        self.fst[dsp.F_TEMPO_REQ] = bpm

    def locate(self, beat: float, frame: int | None = None) -> None:
        """Move the beat grid so that ``beat`` falls on ``frame`` (default: the next block's first
        frame): the loops duck out over ``dsp.DUCK_MS``, the grid jumps, they come back in. Audio
        thread (``EngineControls.admit``) or the render loop; the request is two plain writes, the
        counter last."""
        self.fst[dsp.F_LOC_BEAT] = float(beat)
        self.ist[dsp.I_LOC_FRAME] = int(self.ist[dsp.I_FRAME] if frame is None else frame)
        self.ist[dsp.I_LOC_REQ] += 1

    def set_running(self, running: bool) -> None:
        """Stop (duck out, the beat stands still) or run (duck back in). Any thread."""
        self.ist[dsp.I_RUN_REQ] = 1 if running else 0

    @property
    def running(self) -> bool:
        return bool(self.ist[dsp.I_RUN_REQ])

    def set_quantize(self, quantize: str) -> None:
        self.quantize = quantize
        self.ist[dsp.I_QUANT] = quantum_beats(quantize, self.meta.beats_per_bar)
        self.set_crossfade_ms(self.crossfade_ms)

    def set_crossfade_ms(self, ms: float) -> None:
        """Crossfade length (>= 4 ms, at most half a quantum at the current tempo). Any thread."""
        ms = max(4.0, float(ms))
        self.crossfade_ms = ms
        frames = int(round(ms * 1e-3 * self.sample_rate))
        q = int(self.ist[dsp.I_QUANT])
        if q > 0:
            frames = min(frames, int(q * self.fst[dsp.F_FPB] / 2))
        self.ist[dsp.I_FADE_LEN] = max(1, frames)

    def attach_ring(self, ring: np.ndarray, rst: np.ndarray) -> None:
        """Let the recorder own the ring arrays; the callback copies each block into them. Main thread,
        before or while the stream runs: the pair is swapped as one reference, so a take starts (and
        the previous ring gets its last frame) exactly at a block boundary; ``ring_attached()`` says
        when the callback has taken it and ``rec_start_frame`` from which frame."""
        self.ring, self.rst = ring, rst
        self._rec = (ring, rst)

    def ring_attached(self) -> bool:
        """True once the callback writes into the ring last attached (any thread)."""
        return self._rec_seen is self._rec

    # ---- audio thread ------------------------------------------------------------
    def process(self, out: np.ndarray) -> None:
        """Fill ``out`` (frames, channels) float32 C-contiguous. Audio callback or render loop.

        Never allocates, locks, logs or waits: control admission, the mix kernel, the optional
        ``fx.process(out)``, the limiter kernel, and a copy into the record ring.
        """
        self.controls.admit(self.ist)  # staged control changes take effect at this block's first frame
        rec = self._rec
        if rec is not self._rec_seen:  # a new ring (a new take) starts with this block
            self.rec_start_frame = int(self.ist[dsp.I_FRAME])
            self._rec_seen = rec
        b = self.bank
        dsp.engine_block(out, b.slots, b.state, b.loop_id, self.ist, self.fst, b.pub, dsp.TABLE, self.log)
        if self.fx is not None:
            self.fx.process(out)
        dsp.limiter(out, self.lst)
        if rec is not None:
            dsp.ring_write(rec[0], rec[1], out)

    # ---- generator thread --------------------------------------------------------
    def publish_loop(self, loop: np.ndarray, target_beat: int, wait=None) -> int:
        """Put a (C, N) loop in a free slot and schedule it for ``target_beat`` (-1: asap).

        Waits (``wait()``, e.g. a short sleep; render passes a zero-frame
        ``process``) while the callback has not yet taken the previous record,
        so a published slot is never lost. Generator thread or render loop.
        """
        b = self.bank
        while self.ist[dsp.I_SEEN] != b.pub[dsp.P_SEQ]:
            (wait or (lambda: time.sleep(0.001)))()
        loop = checked_loop(loop, b.channels, b.n)  # before a slot is taken: a bad loop never reaches one
        slot = b.acquire()
        b.fill(slot, loop)
        lid = b.publish(slot, int(target_beat), int(self.ist[dsp.I_CUR]))
        return lid

    def record_gen_time(self, seconds: float) -> None:
        """Generator thread."""
        self.gen_seconds[self.loops_generated % self.gen_seconds.shape[0]] = seconds
        self.loops_generated += 1

    # ---- any thread --------------------------------------------------------------
    def events(self) -> np.ndarray:
        """Logged events, oldest first: rows (frame, kind, slot, loop id); kinds in ``livegan.audio.dsp``."""
        n = int(self.ist[dsp.I_LOG_N])
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
        return {
            "frame": int(self.ist[dsp.I_FRAME]), "tempo": float(self.fst[dsp.F_TEMPO]),
            "loops_generated": int(self.loops_generated), "switches": int(self.ist[dsp.I_SWITCHES]),
            "late_loops": int(self.ist[dsp.I_LATE]), "superseded": int(self.ist[dsp.I_SUPERSEDED]),
            "gen_ms_median": float(np.median(g) * 1e3) if g.size else None,
            "gen_ms_p99": float(np.percentile(g, 99) * 1e3) if g.size else None,
            "frames_recorded": int(self.rst[dsp.R_WRITTEN]), "ring_drops": int(self.rst[dsp.R_DROPPED]),
            "gen_faults": int(self.faults.count), "last_gen_fault": self.faults.last or None,
            "playing_loop": int(self.bank.loop_id[self.ist[dsp.I_CUR]]) if self.ist[dsp.I_CUR] >= 0 else None,
        }

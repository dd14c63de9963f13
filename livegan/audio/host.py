"""The audio process: the sounddevice callback, ``Engine.process``, the pyo effects chain and the
writing side of the record rings, alone in a process of their own.

A Python callback must hold the GIL to run. In one process, any thread that holds it (the panel's
redraw, MIDI callbacks, the generator's Python glue, an import, a numba kernel without ``nogil``)
delays the sound by as long as it holds it, and the callback's own load figure cannot see that
wait. Here the callback's process has no other thread that computes: its main thread sleeps in a
pipe read (GIL released) until told to start or stop. Everything else of the performance (torch,
MIDI, the clock, control logic, the panel, the recorder's writer) stays in the control process and
meets the audio process only in shared memory (``livegan.audio.arena``): the loop bank's slots and
publish record, the engine's state, the staged control record (``livegan.audio.admit``), the
record rings and the output's counters. The engine code is the same code ``livegan render`` runs.

``AudioProcess`` is an ``OutputBackend`` (``livegan.audio.output``): the control process uses it as
it would use an ``AudioOutput``. If the control process dies, the pipe closes and the audio process
stops its stream and exits.

Threads: ``AudioProcess`` methods run on the control process's main thread; ``_child_main`` is
the audio process's main thread (the callback runs on PortAudio's thread there).
"""
from __future__ import annotations

import multiprocessing as mp
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from livegan.errors import CLIError

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.model import ModelMeta

META_FIELDS = ("name", "sample_rate", "loop_samples", "channels", "bars", "beats_per_bar", "bpm")
START_S = 120.0  # the child's imports and kernel warm-up on a slow, busy machine
CLOSE_S = 10.0  # a live child's stream stop and its reply
KILL_S = 2.0  # after SIGKILL, the child's end (the kernel's, not the child's doing: a frozen child ends too)


def _child_main(spec: dict, conn) -> None:
    """The audio process: build the engine on the shared arrays, open the stream, then wait."""
    import faulthandler
    import gc
    import signal

    faulthandler.enable()  # a crash in a C library says where, on the show's stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the control process's to handle
    try:
        out, chain = _opener(spec)(spec)
    except CLIError as e:
        conn.send(("error", str(e)))
        return
    except Exception as e:  # one line for the performer, whatever failed
        conn.send(("error", f"the audio process could not start ({type(e).__name__}: {e})"))
        return
    conn.send(("ready", out.device_name, out.output_latency))
    gc.collect()
    gc.freeze()
    gc.disable()  # no collector pass can start inside the callback
    try:
        while True:
            msg = conn.recv()  # the only other thing this process does: the GIL is free meanwhile
            if msg == "start":
                try:
                    out.start()
                    conn.send(("started",))
                except CLIError as e:
                    conn.send(("error", str(e)))
            else:
                break
    except (EOFError, OSError):  # the control process is gone: the sound stops with it
        pass
    finally:
        try:
            out.close()
        finally:
            if chain is not None:
                chain.close()
        try:
            conn.send(("closed",))
        except (BrokenPipeError, OSError):
            pass


def _opener(spec: dict):
    """What builds the audio process's engine: ``_child_open``, or the function ``spec["open"]`` names
    ("module:function", e.g. a set's ``livegan.audio.set_host.child_open_set``)."""
    if "open" not in spec:
        return _child_open
    import importlib

    module, name = spec["open"].split(":")
    return getattr(importlib.import_module(module), name)


def _child_open(spec: dict):
    from livegan.audio.admit import Admitter
    from livegan.audio.arena import Arena
    from livegan.audio.engine import Engine, warm_up
    from livegan.audio.output import AudioOutput

    arena = Arena.attach(spec["arena"])
    meta = cast("ModelMeta", SimpleNamespace(**spec["meta"]))  # the fields the engine reads (META_FIELDS)
    chain = None
    if spec["effects"]:
        from livegan.audio.fx import FxChain

        chain = FxChain(spec["effects"], spec["rate"], spec["channels"], bpm=spec["fx_bpm"])
    adm = Admitter(arena, spec["patch_effects"])  # the staged record's layout: the patch's, chain or not
    # this process plays and admits; the controls a generator reads (seq, snapshot, z) are the main process's
    engine = Engine(meta, adm, fx=chain, arena=arena, **spec["engine"])  # type: ignore[arg-type]
    adm.bind(engine, chain)
    adm.adopt()
    out = AudioOutput(engine, device=spec["device"], samplerate=spec["rate"], blocksize=spec["blocksize"],
                      latency=spec["latency"], channels=spec["channels"], arena=arena)
    warm_up(meta.channels, spec["channels"])
    return out, chain


class AudioProcess:
    """An ``OutputBackend`` whose callback runs in a child process (see the module docstring).

    ``parts`` is what ``livegan.performance.build`` wired on a shared ``arena`` with ``remote_fx``;
    ``effects_on``: the audio process builds the patch's effects chain. Opening fails with one
    ``CLIError`` line as ``AudioOutput`` does (the device's problem, said by the child). Main thread.
    """

    def __init__(self, parts, arena, device: int, samplerate: int, blocksize: int, latency="low",
                 channels: int = 2, effects_on: bool = True, stat_blocks: int = 1 << 20):
        from livegan.audio.output import Counters

        e = parts.engine
        self.engine = e
        self.samplerate, self.blocksize, self.channels = int(samplerate), int(blocksize), int(channels)
        self.period = self.blocksize / self.samplerate
        self.stalled = False  # set by the show's watch when the stream stopped calling back
        self.counters = Counters(arena, stat_blocks)  # before the specs are taken: the child maps them too
        self.loads, self.delays = self.counters.loads, self.counters.delays
        self.xrun_calls, self.cb_ring = self.counters.xrun_calls, self.counters.cb_ring
        self._launch(self._spec(parts, arena, device, latency, effects_on))

    def _spec(self, parts, arena, device, latency, effects_on: bool) -> dict:
        """What the audio process builds its engine from (plain values: it crosses a spawn)."""
        e = parts.engine
        effects = list(parts.patch.effects) if effects_on else []
        return dict(arena=arena.specs(), meta={k: getattr(e.meta, k) for k in META_FIELDS}, effects=effects,
                    patch_effects=list(parts.patch.effects),
                    fx_bpm=float(parts.patch.tempo or e.meta.bpm), rate=self.samplerate, channels=self.channels,
                    device=device, blocksize=self.blocksize, latency=latency,
                    engine=dict(sample_rate=e.sample_rate, channels=e.channels, quantize=e.quantize,
                                crossfade_ms=e.crossfade_ms, tempo=e.transport.tempo, n_slots=e.bank.slots.shape[0],
                                log_size=e.log.shape[0],
                                record_ring_frames=e.rings[0][0].shape[0] if e.ring is not None else 0,
                                take_ring_frames=e.rings[1][0].shape[0]))

    def _launch(self, spec: dict) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that may hold a PortAudio stream or torch threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child_main, args=(spec, child), name="livegan-audio", daemon=True)
        self._proc.start()
        child.close()
        reply = self._reply(START_S, "start")
        self.device_name, self._latency = reply[1], float(reply[2])

    def _reply(self, wait_s: float, what: str):
        if not self._conn.poll(wait_s):
            self._kill()
            raise CLIError(f"the audio process did not {what} within {wait_s:g} s")
        try:
            reply = self._conn.recv()
        except (EOFError, OSError):
            self._kill()
            raise CLIError(f"the audio process ended before it could {what} (exit code {self._proc.exitcode})") \
                from None
        if reply[0] == "error":
            self._kill()
            raise CLIError(reply[1])
        return reply

    def _kill(self, wait_s: float = 2.0) -> None:
        """The child ended: ``wait_s`` for it to end by itself, then SIGKILL."""
        self._proc.join(timeout=wait_s)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=KILL_S)

    def start(self) -> "AudioProcess":
        self._conn.send("start")
        self._reply(10.0, "start its stream")
        return self

    def close(self) -> None:
        """Stop the stream (the child drains nothing: the control process owns the files). Returns
        once no callback runs any more. A stream found stalled (``stalled``, set by the show's watch: a
        frozen or wedged child, which would answer no close) is killed at once, without waiting."""
        stalled = self.stalled
        try:
            self._conn.send("close")
            if not stalled and self._conn.poll(CLOSE_S):
                self._conn.recv()
        except (BrokenPipeError, EOFError, OSError):
            pass
        self._kill(0.0 if stalled else 2.0)
        self._conn.close()

    @property
    def alive(self) -> bool:
        """False once the audio process has ended (closed, or crashed). Any thread."""
        return self._proc.is_alive()

    def exit_text(self) -> str:
        """How the audio process ended, in words (a signal by name)."""
        import signal

        code = self._proc.exitcode
        if code is None:
            return "still running"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    @property
    def calls(self) -> int:
        return int(self.counters.ost["calls"])

    @property
    def xruns(self) -> int:
        return int(self.counters.ost["xruns"])

    @property
    def output_latency(self) -> float:
        return self._latency

    def load_stats(self, skip: int = 0) -> dict:
        return self.counters.stats(self.period, skip)

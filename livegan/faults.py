"""Generation faults and deadlines: what a model's ``forward()`` may do wrong, and the deadline that
keeps a forward() that never returns from hanging the load or the start of a show.

Used by the model loader (``livegan.model``), the generator thread (``livegan.generate``),
the engine's loop check (``checked_loop``) and fault count (``GenFaults``) and the offline render.
Imports nothing of livegan's but the errors.
"""
from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time

import numpy as np

GEN_TIMEOUT_S = 30.0  # a warm-up (or the first loop of a show) that takes longer: the model is taken to hang
_running: list = []  # the "done" events of deadline threads that may still run (one left running: abandoned)
_running_lock = threading.Lock()  # a deadline thread may start another (wrap's self-check loads a model)


class GenerationFault(Exception):
    """One generation broke the contract (raised, returned NaN, the wrong shape or dtype); one-line message."""


class GenerationTimeout(GenerationFault):
    """forward() did not return within its deadline; the thread running it was abandoned."""


def fault_text(e: BaseException, limit: int = 200) -> str:
    """One printable line for an exception from a model: a TorchScript error's last line (its Python
    exception) rather than its trace; control characters replaced (a model's message is untrusted)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    line = lines[-1] if len(lines) > 1 and "TorchScript" in lines[0] else lines[0]
    line = line.removeprefix("builtins.")
    return "".join(c if c.isprintable() else "?" for c in line)[:limit]


def gen_timeout_s() -> float:
    """The deadline for a warm-up or a first loop: ``GEN_TIMEOUT_S``, or ``LIVEGAN_GEN_TIMEOUT_S`` seconds."""
    try:
        v = float(os.environ.get("LIVEGAN_GEN_TIMEOUT_S", GEN_TIMEOUT_S))
    except ValueError:
        return GEN_TIMEOUT_S
    return v if math.isfinite(v) and v > 0 else GEN_TIMEOUT_S


def call_with_deadline(fn, seconds: float, what: str, tick=None, tick_s: float = 0.5):
    """``fn()`` on a daemon thread: its result or its exception, or ``GenerationTimeout`` after
    ``seconds`` (or a KeyboardInterrupt meanwhile). A torch op cannot be interrupted, so the thread
    is then left running (``abandoned()``) and the process must leave with ``os._exit`` (the CLI
    does): at interpreter exit a thread still inside torch aborts the process. ``tick()``, if
    given, is called every ``tick_s`` while waiting (a progress bar's clock). Thread: main."""
    box = {}
    done = threading.Event()  # not ``is_alive``: a join interrupted by Ctrl-C can mark a running thread stopped

    def run():  # the deadline thread
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the caller
            box["error"] = e
        finally:
            done.set()
    with _deferred_ctrl_c() as interrupted:  # Ctrl-C: KeyboardInterrupt as the block ends, the thread left running
        with _running_lock:  # before it starts
            _running[:] = [d for d in _running if not d.is_set()] + [done]
        threading.Thread(target=run, name="livegan-deadline", daemon=True).start()
        now = time.monotonic()
        end, next_tick = now + seconds, now + tick_s
        while not done.is_set() and not interrupted and now < end:
            done.wait(min(0.1, end - now))
            now = time.monotonic()
            if tick is not None and now >= next_tick and not done.is_set():
                next_tick = now + tick_s
                tick()
    if not done.is_set():
        raise GenerationTimeout(f"{what} did not return within {seconds:g} s (a forward() that never returns?)")
    if "error" in box:
        raise box["error"]
    return box["value"]


@contextlib.contextmanager
def _deferred_ctrl_c():
    """On the main thread with Python's own Ctrl-C handler: while the block runs, Ctrl-C is only noted
    (the yielded list grows; the handler takes no lock), and KeyboardInterrupt is raised as the block
    ends. Raised anywhere in the block (inside a progress bar's lock, or ``_running_lock``) it could
    leave that lock held, and the command's cleanup would wait for it forever."""
    said: list = []
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield said
        return
    old = signal.signal(signal.SIGINT, lambda *_: said.append(1))
    try:
        yield said
    finally:
        signal.signal(signal.SIGINT, old)
    if said:
        raise KeyboardInterrupt


def abandoned() -> bool:
    """Whether a deadline thread is still running a forward() (then leave with ``os._exit``). Any thread."""
    with _running_lock:
        return any(not done.is_set() for done in _running)


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

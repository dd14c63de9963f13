"""Generation in a child process, loops handed back through shared memory.

``ProcessModel(path)`` looks like a ``LoopModel`` (``.meta``, ``.generate(z)``,
``.generate_seconds``) but runs torch in a separate process, so the process
that calls it never holds the GIL for torch or its Python glue. The child writes
each (B, C, N) float32 result into a shared-memory block; only z and a few
numbers cross the pipe.

``livegan perform`` does not use it: its audio callback runs in an audio process
of its own, which no GIL of the control process can delay, so generation stays
on a thread there. ``benchmarks/realtime.py --gen process`` measures this form
(its callback shares the process with the generator).

Threads/processes: ``generate`` is called on the caller's generator thread (it
blocks on the pipe, GIL released); ``_child_main`` is the child process's main
thread.
"""
from __future__ import annotations

import multiprocessing as mp
import time
from multiprocessing import shared_memory

import numpy as np

from livegan.errors import ModelFileError
from livegan.faults import GenerationFault, gen_timeout_s
from livegan.model import read_meta

MAX_BATCH = 4


def _child_main(path, device, shm_name, conn):
    """Child process: load the model, then serve generate requests until told to stop."""
    import os

    from livegan.faults import abandoned, fault_text
    from livegan.model import load_model

    try:
        model = load_model(path, device=device, threads=1)
    except Exception as e:
        conn.send(("error", e.problem if isinstance(e, ModelFileError) else str(e)))
        if abandoned():  # a warm-up that never returned: a thread inside torch would abort the exit
            os._exit(1)
        return
    shm = shared_memory.SharedMemory(name=shm_name)
    m = model.meta
    buf = np.ndarray((MAX_BATCH, m.channels, m.loop_samples), np.float32, buffer=shm.buf)
    conn.send(("ready", model.device))
    while True:
        msg = conn.recv()
        if msg is None:
            break
        t0 = time.perf_counter()
        try:
            y = model.generate(msg)
            if y.ndim != 3 or y.shape[1:] != buf.shape[1:] or y.shape[0] != msg.shape[0]:
                raise GenerationFault(f"the model returned a loop of shape {tuple(y.shape)[1:]}, "
                                      f"not {tuple(buf.shape[1:])}")
        except Exception as e:  # the child lives on: the next request is tried afresh
            conn.send(("fault", fault_text(e), time.perf_counter() - t0))
            continue
        buf[:y.shape[0]] = y
        conn.send(("done", y.shape[0], time.perf_counter() - t0))
    del buf
    shm.close()


class ProcessModel:
    def __init__(self, path, device: str = "auto"):
        self.meta = read_meta(path)
        self.path = str(path)
        m = self.meta
        nbytes = MAX_BATCH * m.channels * m.loop_samples * 4
        self._shm = shared_memory.SharedMemory(create=True, size=nbytes)
        self._buf = np.ndarray((MAX_BATCH, m.channels, m.loop_samples), np.float32, buffer=self._shm.buf)
        ctx = mp.get_context("spawn")  # never fork a process that holds a PortAudio stream
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child_main, args=(self.path, device, self._shm.name, child),
                                 name="livegan-genproc", daemon=True)
        self._proc.start()
        wait = gen_timeout_s() + 60.0  # + the child's start-up (imports, spawn) on a busy machine
        if not self._conn.poll(wait):  # a warm-up that never ends: the child is killed, one line
            self.close()
            raise ModelFileError(self.path, f"the generator process's warm-up did not finish within {wait:g} s "
                                            "(a forward() that never returns?)")
        kind, info = self._conn.recv()
        if kind == "error":
            self.close()
            raise ModelFileError(self.path, f"generator process could not load it ({info})")
        self.device = info
        self.generate_seconds: list[float] = []

    def generate(self, z: np.ndarray) -> np.ndarray:
        """(B, D) -> (B, C, N) float32 copy. Generator thread; blocks on the pipe with the GIL released."""
        z = np.ascontiguousarray(z, np.float32)
        if z.shape[0] > MAX_BATCH:
            raise ValueError(f"batch {z.shape[0]} > {MAX_BATCH}")
        try:
            self._conn.send(z)
            kind, b, dt = self._conn.recv()
        except (EOFError, OSError) as e:  # the child died (or was stopped): no loop from it any more
            raise GenerationFault(f"the generator process is gone ({type(e).__name__})") from None
        self.generate_seconds.append(dt)
        if kind == "fault":
            raise GenerationFault(b)
        return self._buf[:b].copy()

    def close(self) -> None:
        """Stop the child and free the shared block; a second call does nothing. Main thread."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        try:
            if self._proc.is_alive():
                self._conn.send(None)
                self._proc.join(timeout=5)
        except (BrokenPipeError, OSError):
            pass
        if self._proc.is_alive():
            self._proc.terminate()
        del self._buf
        self._shm.close()
        self._shm.unlink()

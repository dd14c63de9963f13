"""Where the real-time state lives: named numpy arrays, in this process or in shared memory.

The engine, its loop bank and the output's counters take every array they share between threads
from an ``Arena``. ``Arena()`` hands out plain arrays (one process: ``livegan render``, the tests,
``--debug-audio-thread``); ``Arena(shared=True)`` puts each array in its own shared-memory block, and
``Arena.attach(arena.specs())`` in another process maps the same blocks, so the audio process and
the control process read and write one state. Only plain numbers cross: no lock, no pickle, no
message per block.

An attached arena is not ``fresh``: its owner has already initialised every array, so code that
builds on it must not write initial values again.

Threads: ``array`` on the main thread while the parts are built; the arrays themselves are read and
written by whichever threads their owners document.
"""
from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np


class Arena:
    def __init__(self, shared: bool = False, _attach: dict | None = None):
        self.shared = shared or _attach is not None
        self.fresh = _attach is None  # False: the arrays were made and initialised by another process
        self._attach = _attach or {}
        self._shm: dict[str, shared_memory.SharedMemory] = {}
        self._specs: dict[str, tuple] = {}

    @classmethod
    def attach(cls, specs: dict) -> "Arena":
        """The arrays another process's shared arena made (``specs()``), mapped here."""
        return cls(_attach=dict(specs))

    def array(self, name: str, shape, dtype, fill=0) -> np.ndarray:
        """The array called ``name``: new (filled with ``fill``) in a fresh arena, the owner's in an
        attached one (its shape and dtype must match: a mismatch is a programming error)."""
        shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        dtype = np.dtype(dtype)
        if not self.shared:
            return np.full(shape, fill, dtype)
        if not self.fresh:
            block, want_shape, want_dtype = self._attach[name]
            if (tuple(want_shape), np.dtype(want_dtype)) != (shape, dtype):  # a record's field names count
                raise ValueError(f"arena array {name}: {want_shape} {want_dtype} shared, {shape} {dtype} asked for")
            shm = shared_memory.SharedMemory(name=block)  # (a spawned child shares its owner's resource tracker)
        else:
            nbytes = max(1, int(np.prod(shape)) * dtype.itemsize)
            shm = shared_memory.SharedMemory(create=True, size=nbytes)
        a = np.ndarray(shape, dtype, buffer=shm.buf)
        if self.fresh:
            a[...] = fill
        self._shm[name] = shm
        self._specs[name] = (shm.name, shape, dtype)  # the dtype itself: a record's field names cross too
        return a

    def specs(self) -> dict:
        """name -> (block name, shape, dtype): what ``Arena.attach`` needs in another process."""
        return dict(self._specs)

    def close(self) -> None:
        """Unmap every block (and remove it, in the arena that made it). Main thread, after every
        reader has stopped: arrays handed out must not be used afterwards."""
        for shm in self._shm.values():
            try:
                shm.close()
            except BufferError:  # a view still exported: the mapping goes with the process
                pass
            if self.fresh:
                try:
                    shm.unlink()
                except FileNotFoundError:
                    pass
        self._shm.clear()


"""Model files that misbehave on purpose, for the tests that prove the show survives them.

Each is the fixture's sine generator (``livegan.testing.tiny.make_tiny_generator``'s sound) scripted with a
call counter: the first ``after`` calls of ``forward`` are good (the load's warm-up makes 2, the
loop ``perform`` plays from frame 0 is call 3), later calls misbehave as ``kind`` says:

- ``raise``: a RuntimeError inside TorchScript (a multi-line TorchScript trace in Python)
- ``nan``: a loop of NaN
- ``shape``: half a loop
- ``dtype``: float64 instead of float32
- ``slow``: right, but about ``slow_s`` seconds late (a busy loop of tensor ops: TorchScript has no sleep)
- ``hang``: never returns (tensor ops in a loop that never ends)

The files are written the way ``train.export.save_loop_model`` writes them (TorchScript plus
``livegan.json``) but without its self-check, which would call ``forward`` and spend the good calls.
(No ``from __future__ import annotations`` here: TorchScript reads the class annotations.)
"""
import json
import time

import torch

from livegan.model import jit_quiet
from livegan.testing.midi_sender import seed_note_plan, start_sender
from livegan.testing.tiny import TINY, tiny_meta

KINDS = {"raise": 1, "nan": 2, "shape": 3, "dtype": 4, "slow": 5, "hang": 6}


class FaultyGen(torch.nn.Module):
    calls: int
    after: int
    kind: int
    spin: int

    def __init__(self, kind: int, after: int, n: int, spin: int):
        super().__init__()
        self.calls, self.after, self.kind, self.spin = 0, after, kind, spin
        self.register_buffer("t", torch.arange(n, dtype=torch.float32) / n)  # (N,) loop phase
        self.register_buffer("base", torch.tensor([110.0, 220.0, 330.0, 440.0]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, 1, N)
        self.calls += 1
        cycles = torch.round(self.base[None, :] * (1.0 + 0.25 * z[:, :4]))  # (B, 4)
        amp = 0.2 + 0.05 * z[:, 4:8]
        y = (amp[:, :, None] * torch.sin(2.0 * torch.pi * cycles[:, :, None] * self.t[None, None, :])).sum(
            dim=1, keepdim=True)  # (B, 1, N)
        if self.calls <= self.after:
            return y
        if self.kind == 1:
            raise RuntimeError("faulty model: generation failed on purpose")
        if self.kind == 2:
            return y * float("nan")
        if self.kind == 3:
            return y[:, :, : y.shape[2] // 2]
        if self.kind == 4:
            return y.double()
        x = torch.ones(256, 256) * (1.0 + 0.0 * z.sum())  # depends on z: TorchScript cannot fold the loop away
        i = 0
        while i < self.spin or self.kind == 6:  # kind 6 (hang): never leaves
            x = torch.tanh(x @ x * 0.01)
            i += 1
        return y + 0.0 * x.mean()


class FromFile(torch.nn.Module):
    """A model file's hostile forward(): maps (and with shared=True creates) the file at ``path``, so a
    marker there shows it ran (the op allow-list tests, tests/test_hostile_model_archives_are_refused.py)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        t = torch.from_file(self.path, True, 64)
        return torch.zeros(z.shape[0], 1, 32768) + 0.0 * t.float().sum()


def spin_per_second() -> int:
    """How many iterations of ``FaultyGen``'s busy loop this machine runs in one second."""
    x = torch.ones(256, 256)
    torch.set_num_threads(1)  # as the engine runs it
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 0.2:
        for _ in range(10):
            x = torch.tanh(x @ x * 0.01)
        n += 10
    return int(n / (time.perf_counter() - t0))


def save_faulty(path, kind: str, after: int = 3, slow_s: float = 1.0, **meta_over) -> str:
    """Write a faulty model file to ``path`` (meta: the tiny fixture's, with ``meta_over``)."""
    spin = int(slow_s * spin_per_second()) if kind == "slow" else 0
    m = FaultyGen(KINDS[kind], after, meta_over.get("loop_samples", TINY["loop_samples"]), spin)
    meta = tiny_meta(name=f"faulty-{kind}", **meta_over)
    meta.update(format=1)
    with jit_quiet():
        torch.jit.save(torch.jit.script(m), str(path), _extra_files={"livegan.json": json.dumps(meta)})
    return str(path)


def perform_with_seed_notes(model, tmp_path, client: str, args=(), every_s: float = 0.3, notes_s: float = 30.0,
                            term_after_s: float | None = None, env_extra=None, timeout: float = 90.0,
                            then=None, timing: dict | None = None):
    """``livegan perform --model MODEL --midi virtual ARGS`` while a second process plays a new seed
    note into it every ``every_s`` (each note asks the scheduler for a new loop). With
    ``term_after_s``: SIGTERM that long after perform says its stream starts; with ``then``
    (signal, seconds): that signal too, that long after the SIGTERM (a second Ctrl-C, say); ``timing``
    gets ``exit_s``, the seconds from the SIGTERM to the exit. A perform still running ``timeout``
    seconds on gets SIGABRT (Python's fault handler prints its threads' stacks) and fails with
    what it printed. Returns (rc, stderr text). Needs a JACK server (the ``jack_server`` fixture)."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    env = {**os.environ, "LIVEGAN_MIDI_CLIENT": client, "JACK_NO_START_SERVER": "1", "PYTHONFAULTHANDLER": "1",
           **(env_extra or {})}
    cmd = [sys.executable, "-m", "livegan", "perform", "--model", str(model), "--midi", "virtual", *map(str, args)]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, env=env, cwd=tmp_path)
    lines, started = [], threading.Event()

    def read():
        for line in p.stderr:
            lines.append(line)
            if " on 'system' at " in line:
                started.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ctl = start_sender(f"{client}ctl", client, seed_note_plan(every_s), env, start_from_stdin=False,
                       repeat_every=8 * every_s, repeat_for=notes_s)
    try:
        if term_after_s is not None and started.wait(60):
            time.sleep(term_after_s)
            p.send_signal(signal.SIGTERM)
            t_term = time.monotonic()
            if then is not None:
                time.sleep(then[1])
                p.send_signal(then[0])
        try:
            rc = p.wait(timeout=timeout)
            t_exit = time.monotonic()
        except subprocess.TimeoutExpired:  # say what perform printed before it stuck, and where it is stuck
            p.send_signal(signal.SIGABRT)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            reader.join(5)
            raise AssertionError(f"perform still running after {timeout} s (SIGTERM sent: "
                                 f"{term_after_s is not None and started.is_set()}):\n" + "".join(lines)) from None
    finally:
        for q in (p, ctl):
            if q.poll() is None:
                q.kill()
                q.wait()
    reader.join(5)
    if timing is not None and term_after_s is not None and started.is_set():
        timing["exit_s"] = t_exit - t_term
    return rc, "".join(lines)

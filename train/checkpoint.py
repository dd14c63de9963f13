"""The checkpoint format: ``RUN_DIR/checkpoint.pt``, data only (tensors and plain values), written by
``save`` and read back by ``load``, which refuses anything else with one line naming the file.

It holds the preset as a dict (``asdict``), the networks and optimisers, the fixed validation z, the
step, wall time, loss history, the best-scored generator (``select_every``), the moving average of G
(``g_ema``, the spectral preset's exported generator; None without ``ema``) and the RNG state.
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import warnings

import numpy as np
import torch

from train.config import from_dict, saved_fields
from train.state import TrainState

CKPT = "checkpoint.pt"


class CheckpointError(ValueError):
    """A checkpoint file that is not one ``save`` wrote; the message names the file."""


def _plain(x, where: str = "checkpoint"):
    """``x`` as tensors and plain Python values only, so that ``torch.load(weights_only=True)``
    reads it back: a checkpoint is data, and loading it must never run code (never unpickle objects)."""
    if x is None or isinstance(x, (bool, int, float, str, torch.Tensor)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, dict):
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v, where) for v in x)
    raise TypeError(f"{where} holds a {type(x).__name__}: checkpoints store only tensors and plain values")


def save(s: TrainState, run_dir: str) -> str:
    """Write the checkpoint through ``checkpoint.pt.part``, renamed at the end: a crash mid-save leaves the
    previous checkpoint, and a failed write (a full disk) is one OSError naming the file and leaves no
    ``.part``. Serialised in memory first: torch's own file writer fails with C++ errors mid-file."""
    path = os.path.join(run_dir, CKPT)
    buf = io.BytesIO()
    torch.save(_plain({"preset": dataclasses.asdict(s.p), "g": s.g_plain.state_dict(), "d": s.d_plain.state_dict(),
                       "opt_g": s.opt_g.state_dict(), "opt_d": s.opt_d.state_dict(), "z_val": s.z_val,
                       "step": s.step, "seconds": s.seconds, "history": s.history, "best": s.best,
                       "gen": s.gen.get_state(), "g_ema": None if s.g_ema is None else s.g_ema.state_dict()}), buf)
    try:
        with open(path + ".part", "wb") as f:
            f.write(buf.getbuffer())
        os.replace(path + ".part", path)
    except OSError as e:
        if os.path.exists(path + ".part"):
            os.remove(path + ".part")
        kept = "; the previous checkpoint is kept" if os.path.isfile(path) else ""
        raise OSError(e.errno, f"cannot be written ({e.strerror or e}){kept}", path) from None
    return path


def load(run_dir: str, map_location="cpu") -> dict:
    """The run's checkpoint as a dict, read as data only (``weights_only=True``: tensors and plain
    values, no code). A file that is truncated, not a checkpoint, or holds Python objects raises
    CheckpointError with one line naming it, and nothing in it runs."""
    path = os.path.join(run_dir, CKPT)
    try:
        with warnings.catch_warnings():  # garbage that looks like a newer pickle protocol warns first
            warnings.simplefilter("ignore")
            ck = torch.load(path, map_location=map_location, weights_only=True)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read it ({e.strerror or e})") from None
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError... with many-line texts
        if "Weights only load failed" in str(e):  # what torch says when the pickle names any code
            code = re.search(r"GLOBAL (\S+)", str(e))
            what = f" ({code.group(1)})" if code else ""
            raise CheckpointError(f"{path}: holds a Python object{what}, which a livegan checkpoint never does; "
                                  "refused without loading it") from None
        raise CheckpointError(f"{path}: not a readable livegan checkpoint (truncated, or not written by "
                              "`livegan train`)") from None
    _check(ck, path)
    return ck


_CKPT_FIELDS = {"preset": dict, "g": dict, "d": dict, "opt_g": dict, "opt_d": dict, "z_val": torch.Tensor,
                "step": int, "seconds": (int, float), "history": dict, "gen": torch.Tensor}


def _check(ck, path: str) -> None:
    """Every field resume and export read has the type ``save`` wrote, and the preset's
    fields are its architecture's preset's (a data-only file can still be the wrong data)."""
    if not isinstance(ck, dict):
        raise CheckpointError(f"{path}: not a livegan checkpoint (holds a {type(ck).__name__}, not a dict)")
    for k, t in _CKPT_FIELDS.items():
        if not isinstance(ck.get(k), t):
            raise CheckpointError(f"{path}: not a livegan checkpoint (field '{k}' is missing or has the wrong type)")
    for k in ("best", "g_ema"):
        if not isinstance(ck.get(k), (dict, type(None))):
            raise CheckpointError(f"{path}: not a livegan checkpoint (field '{k}' has the wrong type)")
    fields = saved_fields(ck["preset"])
    for k, v in ck["preset"].items():
        if k not in fields:
            raise CheckpointError(f"{path}: its preset has a field '{k}' this livegan does not know")
        want = type(fields[k].default)
        if not (isinstance(v, want) or (want is float and isinstance(v, int) and not isinstance(v, bool))):
            raise CheckpointError(f"{path}: its preset field '{k}' has the wrong type ({type(v).__name__})")
    try:
        from_dict(ck["preset"])  # an architecture this livegan has, and only that architecture's fields
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: its preset: {e}") from None


SNAPSHOTS = ("best", "last")


def snapshot(ck: dict, which: str = "best") -> tuple[dict, dict]:
    """A checkpoint's generator weights and what they are: ``"best"`` is the generator kept
    by ``select_every`` (the last one where the run kept none), ``"last"`` the one at the last step (its
    moving average where the preset keeps one, ``ema``).
    Returns (state dict, {"snapshot": "best" | "last", "step": int, "fd": float | None})."""
    if which not in SNAPSHOTS:
        raise ValueError(f"snapshot must be one of {', '.join(SNAPSHOTS)}, got {which!r}")
    best = ck.get("best")
    if which == "best" and best is not None:
        return best["g"], {"snapshot": "best", "step": int(best["step"]), "fd": float(best["fd"])}
    fd = None
    h = ck.get("history", {})
    if h.get("select_step") and h["select_step"][-1] == ck["step"]:
        fd = float(h["select_fd"][-1])
    return ck.get("g_ema") or ck["g"], {"snapshot": "last", "step": int(ck["step"]), "fd": fd}


def restore(s: TrainState, ck: dict) -> None:
    s.g_plain.load_state_dict(ck["g"])
    s.d_plain.load_state_dict(ck["d"])
    s.opt_g.load_state_dict(ck["opt_g"])
    s.opt_d.load_state_dict(ck["opt_d"])
    s.z_val, s.step, s.seconds, s.history = ck["z_val"], ck["step"], ck["seconds"], ck["history"]
    s.best = ck.get("best")
    if s.g_ema is not None:
        s.g_ema.load_state_dict(ck.get("g_ema") or ck["g"])
    if s.rank == 0:
        s.gen.set_state(ck["gen"])

"""Train: ``livegan train DATA_DIR --preset NAME --out RUN_DIR``.

``train_step`` updates D (``n_critic`` times) then G and returns named
losses. Everything a run needs lives in one ``TrainState``; the checkpoint
stores the preset as a dict so the run can be rebuilt from it alone.
Multi-GPU / multi-process: launch with ``torchrun`` and the networks are
wrapped in DistributedDataParallel (gloo on CPU, nccl on CUDA).
"""
from __future__ import annotations

import copy
import dataclasses
import gc
import json
import os
import re
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist

from train import losses
from train.models import Discriminator, Generator, build
from train.presets import Preset, apply_overrides, check, get_preset

CKPT = "checkpoint.pt"


@dataclass
class TrainState:
    p: Preset
    g: torch.nn.Module  # Generator, or DDP(Generator)
    d: torch.nn.Module  # Discriminator, or DDP(Discriminator)
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    z_val: torch.Tensor  # (n_val, latent_dim) fixed validation z, drawn at start
    device: torch.device
    gen: torch.Generator  # this process's RNG for z, shifts and batches (CPU)
    step: int = 0
    seconds: float = 0.0  # training wall time so far (over resumes)
    history: dict = field(default_factory=lambda: {"step": [], "loss_d": [], "loss_g": []})
    rank: int = 0
    world: int = 1
    best: dict | None = None  # {"step", "fd", "counts", "g": state dict}: the best-scored generator (select_every)

    @property
    def g_plain(self) -> Generator:
        return getattr(self.g, "module", self.g)

    @property
    def d_plain(self) -> Discriminator:
        return getattr(self.d, "module", self.d)


def sample_z(p: Preset, n: int, gen: torch.Generator) -> torch.Tensor:
    if p.latent_dist == "uniform":
        return torch.rand(n, p.latent_dim, generator=gen) * 2.0 - 1.0  # U[-1, 1)
    return torch.randn(n, p.latent_dim, generator=gen)


def shift_augment(p: Preset, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Roll each loop of (B, C, L) by a random whole number of 1/shift_quantum beats."""
    positions = p.bars * p.beats_per_bar * p.shift_quantum
    q = p.loop_samples / positions
    k = torch.randint(0, positions, (x.shape[0],), generator=gen)
    return roll_each(x, torch.round(k * q).long())


def roll_each(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Roll loop i of (B, C, L) circularly by shifts[i] samples (as torch.roll would); differentiable."""
    b, c, length = x.shape
    idx = torch.arange(length).view(1, length) - (shifts % length).view(b, 1)  # (B, L) in (-L, L)
    idx = torch.where(idx < 0, idx + length, idx)  # cheaper than a remainder over B x L int64s
    return torch.gather(x, 2, idx.to(x.device).unsqueeze(1).expand(b, c, length))


def diff_augment(p: Preset, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """DiffAugment for loops, differentiable, drawn per loop: (B, C, L) -> (B, C, L).

    Applied to real and fake alike each time D sees them (Zhao et al. 2020), so D cannot memorise a
    handful of training loops sample for sample, and G is not taught the transforms (they happen
    to its output too). ``translate``: circular roll by up to +-translate * L samples; ``cutout``:
    one stretch of cutout * L samples set to silence.
    """
    if p.translate <= 0 and p.cutout <= 0:
        return x
    b, _, length = x.shape
    if p.translate > 0:
        m = int(p.translate * length)
        x = roll_each(x, torch.randint(-m, m + 1, (b,), generator=gen))
    if p.cutout > 0:
        w = int(p.cutout * length)
        start = torch.randint(0, length, (b, 1), generator=gen)  # (B, 1)
        d = torch.arange(length).view(1, length) - start  # (B, L) in (-L, L): (d mod L) < w is cut
        keep = ((d >= w) | ((d < 0) & (d >= w - length))).to(x.device, x.dtype)  # (B, L)
        x = x * keep.unsqueeze(1)
    return x


@contextmanager
def frozen(m: torch.nn.Module):
    """No gradient for ``m``'s parameters inside the block (G learns through D: D's gradients would be
    computed for nothing; exact, since the D step clears them before its own backward anyway)."""
    params = [q for q in m.parameters() if q.requires_grad]
    for q in params:
        q.requires_grad_(False)
    try:
        yield m
    finally:
        for q in params:
            q.requires_grad_(True)


def _roll(x: torch.Tensor, shift: int) -> torch.Tensor:
    return torch.roll(x, shift, dims=-1) if shift else x


def train_step(s: TrainState, batches) -> dict:
    """One G update after ``n_critic`` D updates. ``batches()`` returns a real (B, C, L) batch."""
    p, gen = s.p, s.gen
    for i in range(p.n_critic):
        real = batches()
        if p.shift_augment:
            real = shift_augment(p, real, gen)
        real = real.to(s.device)
        z = sample_z(p, real.shape[0], gen).to(s.device)
        if p.reuse_fake and i == p.n_critic - 1:
            fake_for_g = s.g(z)  # (B, C, L), kept with its graph for G's step
            fake = fake_for_g.detach()
        else:
            with torch.no_grad():
                fake = s.g(z)  # (B, C, L)
        shift = int(torch.randint(0, p.loop_samples, (1,), generator=gen)) if p.seam_roll else 0
        real, fake = _roll(real, shift), _roll(fake, shift)  # same roll: a click at the wrap shows
        real, fake = diff_augment(p, real, gen), diff_augment(p, fake, gen)
        if p.loss == "bce" and p.joint_batch:  # batch norm cannot tell real from fake by batch statistics
            logit = s.d(torch.cat([real, fake]))  # (2B / pack,): no pack mixes real and fake
            n = real.shape[0] // p.pack
            loss_d = losses.bce_d(logit[:n], logit[n:], p.real_label)
        elif p.loss == "bce":
            loss_d = losses.bce_d(s.d(real), s.d(fake), p.real_label)
        else:
            loss_d = losses.wgan_d(s.d(real), s.d(fake))
            loss_d = loss_d + p.gp_weight * losses.gradient_penalty(s.d, real, fake)
        s.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        s.opt_d.step()

    if p.reuse_fake:
        fake = fake_for_g
    else:
        fake = s.g(sample_z(p, p.batch_size, gen).to(s.device))
    shift = int(torch.randint(0, p.loop_samples, (1,), generator=gen)) if p.seam_roll else 0
    fake = diff_augment(p, _roll(fake, shift), gen)
    with frozen(s.d_plain) as d:  # G's step: gradients flow through D to G, none into D (nor DDP's sync)
        if p.feature_matching > 0:
            real = diff_augment(p, batches().to(s.device), gen)
            score, f_fake = d(fake, return_features=True)
            with torch.no_grad():
                _, f_real = d(_roll(real, shift), return_features=True)
        elif p.joint_batch:
            real = diff_augment(p, batches().to(s.device), gen)
            score = d(torch.cat([_roll(real, shift), fake]))[real.shape[0] // p.pack:]  # (B / pack,) the fakes' scores
        else:
            score = d(fake)
    loss_g = losses.bce_g(score) if p.loss == "bce" else losses.wgan_g(score)
    if p.feature_matching > 0:
        loss_g = loss_g + p.feature_matching * losses.feature_matching(f_real, f_fake)
    s.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    s.opt_g.step()
    s.step += 1
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}  # a CPU-GPU sync point


class Batches:
    """Epoch-style batches: a fresh permutation per epoch; with replacement if N < batch size."""

    def __init__(self, loops: np.ndarray, batch: int, gen: torch.Generator):
        self.x = torch.from_numpy(loops)  # (N, C, L)
        self.batch, self.gen = batch, gen
        self.order, self.pos = torch.empty(0, dtype=torch.long), 0

    def __call__(self) -> torch.Tensor:
        n = self.x.shape[0]
        if n < self.batch:
            return self.x[torch.randint(0, n, (self.batch,), generator=self.gen)]
        if self.pos + self.batch > len(self.order):
            self.order, self.pos = torch.randperm(n, generator=self.gen), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return self.x[idx]


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("--device cuda asked for, but CUDA is not available here")
        return torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("--device mps asked for, but MPS is not available here")
    if name not in ("cpu", "mps"):
        raise ValueError(f"unknown device {name!r}: use cuda, mps, cpu or auto")
    return torch.device(name)


def check_networks(p: Preset) -> None:
    """Raise ValueError if G and D cannot be built from ``p`` or G's loops are not (C, loop_samples):
    both are built at model_dim 1 (the layout is the same at any width) and run once on a CPU batch."""
    try:
        with torch.random.fork_rng(devices=[]):  # the run's seeds stay as they were
            g, d = build(dataclasses.replace(p, model_dim=1))
            y = g(torch.zeros(2 * p.pack, p.latent_dim))  # (2 * pack, C, L)
            d(y)
    except (RuntimeError, ValueError, IndexError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValueError(f"preset {p.name!r}: these settings build no working networks ({first})") from None
    if tuple(y.shape[1:]) != (p.channels, p.loop_samples):
        raise ValueError(f"preset {p.name!r}: G makes loops of shape {tuple(y.shape[1:])}, "
                         f"not (channels, loop_samples) = ({p.channels}, {p.loop_samples})")


def make_state(p: Preset, device: torch.device, rank: int = 0, world: int = 1) -> TrainState:
    torch.manual_seed(p.seed)  # same init on every rank (DDP also broadcasts it)
    g, d = build(p)
    g, d = g.to(device), d.to(device)
    gen = torch.Generator().manual_seed(p.seed)
    z_val = sample_z(p, p.n_val, gen)
    gen.manual_seed(p.seed * 7919 + 1 + rank)  # each rank its own z, shifts and batches
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        g, d = DDP(g, device_ids=ids), DDP(d, device_ids=ids)
    return TrainState(p, g, d, _adam(g.parameters(), p), _adam(d.parameters(), p), z_val, device, gen,
                      rank=rank, world=world)


def _adam(params, p: Preset) -> torch.optim.Adam:
    """Adam with the fused kernel where this torch has one for the device (the paper preset's
    tiny steps are dominated by the optimiser's per-tensor overhead: measured 15-25 % faster
    per step on CPU); otherwise the multi-tensor (foreach) one. Same algorithm either way."""
    params = list(params)
    kw = dict(lr=p.lr, betas=(p.beta1, p.beta2), eps=p.eps)
    try:
        return torch.optim.Adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):  # torch < 2.4 on CPU, or a device without the kernel
        return torch.optim.Adam(params, foreach=True, **kw)


class CheckpointError(ValueError):
    """A checkpoint file that is not one ``save_checkpoint`` wrote; the message names the file."""


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


def save_checkpoint(s: TrainState, run_dir: str) -> str:
    path = os.path.join(run_dir, CKPT)
    torch.save(_plain({"preset": dataclasses.asdict(s.p), "g": s.g_plain.state_dict(), "d": s.d_plain.state_dict(),
                       "opt_g": s.opt_g.state_dict(), "opt_d": s.opt_d.state_dict(), "z_val": s.z_val,
                       "step": s.step, "seconds": s.seconds, "history": s.history, "best": s.best,
                       "gen": s.gen.get_state()}), path + ".part")
    os.replace(path + ".part", path)  # a crash mid-save leaves the previous checkpoint
    return path


def load_checkpoint(run_dir: str, map_location="cpu") -> dict:
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
    _check_checkpoint(ck, path)
    return ck


_CKPT_FIELDS = {"preset": dict, "g": dict, "d": dict, "opt_g": dict, "opt_d": dict, "z_val": torch.Tensor,
                "step": int, "seconds": (int, float), "history": dict, "gen": torch.Tensor}


def _check_checkpoint(ck, path: str) -> None:
    """Every field resume and export read has the type save_checkpoint wrote, and the preset's
    fields are Preset's (a data-only file can still be the wrong data)."""
    if not isinstance(ck, dict):
        raise CheckpointError(f"{path}: not a livegan checkpoint (holds a {type(ck).__name__}, not a dict)")
    for k, t in _CKPT_FIELDS.items():
        if not isinstance(ck.get(k), t):
            raise CheckpointError(f"{path}: not a livegan checkpoint (field '{k}' is missing or has the wrong type)")
    if not isinstance(ck.get("best"), (dict, type(None))):
        raise CheckpointError(f"{path}: not a livegan checkpoint (field 'best' has the wrong type)")
    fields = {f.name: f for f in dataclasses.fields(Preset)}
    for k, v in ck["preset"].items():
        if k not in fields:
            raise CheckpointError(f"{path}: its preset has a field '{k}' this livegan does not know")
        want = type(getattr(Preset(), k))
        if not (isinstance(v, want) or (want is float and isinstance(v, int) and not isinstance(v, bool))):
            raise CheckpointError(f"{path}: its preset field '{k}' has the wrong type ({type(v).__name__})")


SNAPSHOTS = ("best", "last")


def snapshot(ck: dict, which: str = "best") -> tuple[dict, dict]:
    """A checkpoint's generator weights and what they are: ``"best"`` is the generator kept
    by ``select_every`` (the last one where the run kept none), ``"last"`` the one at the last step.
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
    return ck["g"], {"snapshot": "last", "step": int(ck["step"]), "fd": fd}


def restore(s: TrainState, ck: dict) -> None:
    s.g_plain.load_state_dict(ck["g"])
    s.d_plain.load_state_dict(ck["d"])
    s.opt_g.load_state_dict(ck["opt_g"])
    s.opt_d.load_state_dict(ck["opt_d"])
    s.z_val, s.step, s.seconds, s.history = ck["z_val"], ck["step"], ck["seconds"], ck["history"]
    s.best = ck.get("best")
    if s.rank == 0:
        s.gen.set_state(ck["gen"])


@torch.no_grad()
def render(g: Generator, z: torch.Tensor, device, chunk: int = 25) -> np.ndarray:
    """Generator in eval mode (as exported): (N, latent) -> (N, C, L) numpy."""
    was = g.training
    g.eval()
    out = [g(z[i:i + chunk].to(device)).float().cpu() for i in range(0, z.shape[0], chunk)]
    g.train(was)
    return torch.cat(out).numpy()


def write_preview(y: np.ndarray, p: Preset, step: int, run_dir: str, keep: bool) -> None:
    """WAV grid of rendered loops ``y`` (n_val, C, L) one after another, and a waveform PNG of the first 16."""
    import soundfile as sf

    folder = os.path.join(run_dir, "previews")
    os.makedirs(folder, exist_ok=True)
    grid = np.concatenate(list(y), axis=-1).T  # (n_val * L, C)
    sf.write(os.path.join(folder, "latest.wav"), grid, p.sample_rate, subtype="PCM_16")
    if keep:
        tag = f"step{step:06d}"
        sf.write(os.path.join(folder, f"{tag}.wav"), grid, p.sample_rate, subtype="PCM_16")
        from train.report import waveform_grid_png

        waveform_grid_png(y[:16], p.sample_rate, os.path.join(folder, f"{tag}.png"), f"step {step}")


REACH_MIN_Z = 3  # fixed z a training loop needs to count as reached (a fresh draw of as many misses it ~e^-3 = 5 %)


def reach_counts(n_loops: int, n_val: int) -> bool:
    """Whether ``n_val`` fixed z are enough to count how many of ``n_loops`` training loops they reach."""
    return n_val >= REACH_MIN_Z * n_loops


def reached(counts, n_val: int) -> int | None:
    """How many training loops at least ``REACH_MIN_Z`` of the ``n_val`` fixed z have as their nearest, from the
    per-loop counts; None where there are too few fixed z per training loop to tell (``reach_counts``)."""
    if not reach_counts(len(counts), n_val):
        return None
    return sum(c >= REACH_MIN_Z for c in counts)


def select_key(counts, fd: float, n_val: int) -> tuple:
    """Order of snapshots for export, smaller first: more training loops reached, then lower Fréchet distance.

    FD alone misses a loop that few z reach: its frames are a small share of the pooled statistics (a seed
    whose lowest-FD snapshot had counts [18 1 77 4] exported 3 of 4 loops). A loop reached by one z of 100
    is missed by a fresh draw of 100 z about e^-1 = 37 % of the time, by three about 5 %."""
    r = reached(counts, n_val)
    return (0 if r is None else -r, fd)


class Previewer:
    """Previews and snapshot selection, off the training thread.

    At every ``preview_every`` step the fixed z are rendered (WAV grid, and a PNG for kept ones); at every
    ``select_every`` step their loops are also scored against the training loops (``select_key``: how many
    training loops they reach, then the Fréchet distance of log-mel frames, ``train.metrics``) and the
    best-scored generator so far is kept in ``s.best`` (what ``livegan export`` writes by default). The
    work runs on one background thread on a copy of G's weights, so it never changes training: the paper
    preset's small step is bound to one core by per-op overhead (two torch threads step no faster than
    one), and rendering 100 loops 500 times took ~7 % of its run on the training thread. At most one job
    is in flight; its results are applied on the training thread (``collect``), so ``s`` is only ever
    written there.
    """

    def __init__(self, s: TrainState, run_dir: str, loops: np.ndarray, background: bool = True):
        self.s, self.run_dir = s, run_dir
        self.g = copy.deepcopy(s.g_plain)  # the copy jobs render from; reloaded before each job
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="livegan-preview") if background else None
        self.job = None
        self.frames_t = None
        if s.p.select_every:
            from train import metrics

            ft = metrics.features(loops, s.p.sample_rate)  # (N, T, M) once, not per evaluation
            self.frames_t, self.vectors_t = ft.reshape(-1, metrics.N_MELS), ft.reshape(len(ft), -1)
        for key in ("select_step", "select_fd", "select_counts"):
            s.history.setdefault(key, [])

    def due(self, step: int) -> tuple[bool, bool]:
        p = self.s.p
        return (bool(p.preview_every) and step % p.preview_every == 0,
                bool(p.select_every) and step % p.select_every == 0)

    def submit(self, step: int, preview: bool, select: bool) -> None:
        if not (preview or select):
            return
        self.collect()  # the previous job is done with self.g
        p = self.s.p
        self.g.load_state_dict(self.s.g_plain.state_dict())
        keep = preview and (step // p.preview_every) % max(1, p.keep_every) == 0
        args = (step, preview, keep, select)
        if self.pool is None:
            self._apply(self._work(*args))
        else:
            self.job = self.pool.submit(self._work, *args)

    def _work(self, step: int, preview: bool, keep: bool, select: bool) -> dict | None:
        y = render(self.g, self.s.z_val, self.s.device)  # (n_val, C, L)
        if preview:
            write_preview(y, self.s.p, step, self.run_dir, keep)
        if not select:
            return None
        from train import metrics

        fg = metrics.features(y, self.s.p.sample_rate)
        fd = metrics.frechet(self.frames_t, fg.reshape(-1, metrics.N_MELS))
        nearest = metrics._dist(fg.reshape(len(fg), -1), self.vectors_t).argmin(1)
        counts = np.bincount(nearest, minlength=len(self.vectors_t)).tolist()
        g_state = {k: v.detach().clone() for k, v in self.g.state_dict().items()}
        return {"step": step, "fd": fd, "counts": counts, "g": g_state}

    def _apply(self, res: dict | None) -> None:
        if res is None:
            return
        h = self.s.history
        h["select_step"].append(res["step"])
        h["select_fd"].append(res["fd"])
        h["select_counts"].append(res["counts"])
        key = select_key(res["counts"], res["fd"], len(self.s.z_val))
        if self.s.best is None or key < self._best_key():
            self.s.best = {"step": res["step"], "fd": res["fd"], "counts": res["counts"], "g": res["g"]}

    def _best_key(self) -> tuple:
        b, h = self.s.best, self.s.history
        counts = b.get("counts")
        if counts is None and b["step"] in h["select_step"]:  # a checkpoint from before counts were kept in best
            counts = h["select_counts"][h["select_step"].index(b["step"])]
        return select_key(counts, b["fd"], len(self.s.z_val)) if counts is not None else (0, b["fd"])

    def collect(self) -> None:
        """Wait for the job in flight (if any) and apply its result; its errors are raised here."""
        job, self.job = self.job, None
        if job is not None:
            self._apply(job.result())

    def close(self) -> None:
        """Score the last step too (if selection is on and it was not just scored), then wait."""
        self.collect()
        scored = self.s.history["select_step"]
        if self.s.p.select_every and (not scored or scored[-1] != self.s.step):
            self.submit(self.s.step, preview=False, select=True)
            self.collect()
        if self.pool is not None:
            self.pool.shutdown()


RUN_CONTROL = ("steps", "max_seconds", "threads", "preview_every", "keep_every", "select_every", "checkpoint_every",
               "report")


def train(data_dir, p: Preset, run_dir, device: str = "auto", resume: bool = False, fit=None,
          quiet: bool = False) -> TrainState:
    """Prepare, train, preview, checkpoint, report. Returns the final state."""
    from train.data import prepare

    check(p)
    check_networks(p)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if dev.type == "cpu":
        torch.set_num_threads(max(1, min(p.threads, 2) // world))
        torch.backends.mkldnn.enabled = p.cpu_onednn
    torch.set_flush_denormal(True)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    run_dir = os.fspath(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    ck = None
    if resume:
        if not os.path.isfile(os.path.join(run_dir, CKPT)):
            raise FileNotFoundError(f"{run_dir}: --resume given, but there is no {CKPT} to resume from")
        ck = load_checkpoint(run_dir)
        # The model, data and optimiser settings come from the checkpoint; how long
        # and how this run goes on (RUN_CONTROL) comes from this command line.
        p = dataclasses.replace(Preset(**ck["preset"]), **{k: getattr(p, k) for k in RUN_CONTROL})
        check(p)
    elif os.path.isfile(os.path.join(run_dir, CKPT)):
        raise FileExistsError(f"{run_dir} already holds a run ({CKPT}); pass --resume or another --out")

    if rank == 0:
        loops = prepare(data_dir, p, run_dir, fit=fit, quiet=quiet)
    if world > 1:
        dist.barrier()  # rank 0 has written the cache
    if rank != 0:
        loops = prepare(data_dir, p, run_dir, fit=fit, quiet=True)
    if rank == 0:
        with open(os.path.join(run_dir, "preset.json"), "w") as f:
            json.dump(dataclasses.asdict(p), f, indent=1)

    s = make_state(p, dev, rank, world)
    if ck is not None:
        restore(s, ck)
    s.data_summary = {"loops": int(loops.shape[0]), "source": os.path.abspath(data_dir)}
    batches = Batches(loops, p.batch_size, s.gen)
    # A second CPU thread only helps where training runs one torch thread: with more, the preview's
    # OpenMP team and the training's share the cores and each spins waiting for the other (measured:
    # paper-plus 26 steps/s with previews beside 2 training threads, 70 beside 1, 55 in line).
    background = dev.type != "cpu" or torch.get_num_threads() == 1
    previewer = Previewer(s, run_dir, loops, background=background) if rank == 0 else None
    bar = None
    if rank == 0 and not quiet:
        from tqdm import tqdm

        bar = tqdm(total=p.steps, initial=s.step, unit="step", dynamic_ncols=True, mininterval=0.5,
                   desc=f"{p.name} ({world} proc)" if world > 1 else p.name, file=sys.stderr)
    t_start = time.perf_counter() - s.seconds
    step0, sec0 = s.step, s.seconds
    stop = False
    while s.step < p.steps and not stop:
        out = train_step(s, batches)
        s.seconds = time.perf_counter() - t_start
        s.history["step"].append(s.step)
        s.history["loss_d"].append(out["loss_d"])
        s.history["loss_g"].append(out["loss_g"])
        if bar is not None:
            bar.update(1)
            if s.step % 25 == 0:
                bar.set_postfix(D=f"{out['loss_d']:.3f}", G=f"{out['loss_g']:.3f}", refresh=False)
        if p.max_seconds > 0:
            flag = torch.tensor([float(s.seconds >= p.max_seconds)])
            if world > 1:
                dist.broadcast(flag, 0)  # every rank stops at the same step
            stop = bool(flag.item())
        if previewer is not None:
            previewer.submit(s.step, *previewer.due(s.step))
            if p.checkpoint_every and s.step % p.checkpoint_every == 0:
                previewer.collect()  # the checkpoint holds the best generator up to this step
                save_checkpoint(s, run_dir)
    if bar is not None:
        bar.close()
    if rank == 0:
        previewer.close()
        save_checkpoint(s, run_dir)
        rate = (s.step - step0) / max(s.seconds - sec0, 1e-9)  # this session's throughput
        if not quiet:
            print(f"trained {s.step} steps in {s.seconds:.1f} s ({rate:.2f} steps/s) -> {run_dir}")
        with open(os.path.join(run_dir, "train_time.json"), "w") as f:
            json.dump({"steps": s.step, "seconds": s.seconds, "steps_per_s": rate, "world": world,
                       "device": str(dev), "loops": int(loops.shape[0])}, f)
        if p.report:
            from train.report import write_report

            write_report(run_dir, loops=loops, quiet=quiet)
    if world > 1:
        close_ddp(s)
    return s


def close_ddp(s: TrainState) -> None:
    """Tear the process group down on this rank (main thread, after its last collective).

    The DDP wrappers sit in reference cycles, so without a collection their reducers keep the gloo process
    group and its work alive into the interpreter's finalisation, where freeing them can abort a rank
    ("terminate called without an active exception"). They are dropped and collected here, then all ranks
    meet once more and destroy the group."""
    s.g, s.d = s.g_plain, s.d_plain
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


def cli_train(args) -> int:
    from livegan.errors import CLIError
    from train.data import NoUsableAudio

    try:
        p = get_preset(args.preset)
        overrides = list(args.set)
        if args.steps is not None:
            overrides.append(f"steps={args.steps}")
        if args.fit is not None:
            overrides.append(f"fit={args.fit}")
        p = apply_overrides(p, overrides)
        check(p)
        train(args.data_dir, p, args.out, device=args.device, resume=args.resume)
    except (KeyError, ValueError, NoUsableAudio, OSError) as e:
        raise CLIError(str(e).strip("'\"")) from None
    return 0

"""Train: ``livegan train DATA_DIR --preset NAME --out RUN_DIR``: prepare, train, preview, checkpoint, report.

The loop around the step of the preset's architecture (``train.archs``): process and device setup,
``--resume`` (model and objective from the checkpoint, run fields from this command line: ``train.config``),
the previews and snapshot selection (``train.selection``), checkpoints (``train.checkpoint``) and the
report at the end.
Multi-GPU / multi-process: launch with ``torchrun``.
"""
from __future__ import annotations

import dataclasses
import gc
import json
import os
import sys
import time

import torch
import torch.distributed as dist

from livegan.errors import CLIError, first_line, user_input
from train import archs, checkpoint
from train.config import Preset, apply_overrides, check, resumed
from train.models import check_networks
from train.presets import get_preset
from train.selection import Previewer
from train.state import Batches, TrainState, make_state

PHYSICAL_CORES = torch.get_num_threads()  # torch's default before anything sets it: the physical cores


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
            raise ValueError(f"--device {name} asked for, but CUDA is not available here")
        n, index = torch.cuda.device_count(), name.partition(":")[2]
        k = local_rank if name == "cuda" else int(index) if index.isdigit() else -1
        if not 0 <= k < n:
            raise ValueError(f"--device {name} asked for, but this machine has {n} CUDA device(s): cuda:0 to "
                             f"cuda:{n - 1}")
        return torch.device("cuda", k)
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("--device mps asked for, but MPS is not available here")
    if name not in ("cpu", "mps"):
        raise ValueError(f"unknown device {name!r}: use cuda, mps, cpu or auto")
    return torch.device(name)


def _open_process(p: Preset, device: str) -> tuple[torch.device, int, int]:
    """This process's device, rank and world size (torchrun's environment); torch threads and the
    process group set up for them."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dev = resolve_device(device, int(os.environ.get("LOCAL_RANK", "0")))
    if dev.type == "cpu":
        torch.set_num_threads(max(1, (p.threads or PHYSICAL_CORES) // world))
        torch.backends.mkldnn.enabled = p.cpu_onednn
    torch.set_flush_denormal(True)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dev, rank, world


def _open_run(run_dir: str, p: Preset, resume: bool) -> tuple[Preset, dict | None]:
    """The preset this run goes on with and the checkpoint it resumes from (None for a new run)."""
    os.makedirs(run_dir, exist_ok=True)
    there = os.path.isfile(os.path.join(run_dir, checkpoint.CKPT))
    if not resume:
        if there:
            raise FileExistsError(f"{run_dir} already holds a run ({checkpoint.CKPT}); pass --resume or another --out")
        return p, None
    if not there:
        raise FileNotFoundError(f"{run_dir}: --resume given, but there is no {checkpoint.CKPT} to resume from")
    ck = checkpoint.load(run_dir)
    p = resumed(ck["preset"], p)
    check(p)
    return p, ck


def _prepare(data_dir, p: Preset, run_dir: str, fit, quiet: bool, rank: int, world: int, resume: bool):
    """The training loops, prepared (and cached) by rank 0 first, then read by the other ranks, and the
    preset fitted to them by its architecture (the spectral preset's anchors: one per loop)."""
    from train.data import prepare

    if rank == 0:
        loops = prepare(data_dir, p, run_dir, fit=fit, quiet=quiet)
    if world > 1:
        dist.barrier()  # rank 0 has written the cache
    if rank != 0:
        loops = prepare(data_dir, p, run_dir, fit=fit, quiet=True)
    p = archs.get(p.arch).fitted(p, loops, resume)
    if rank == 0:
        _write_json(os.path.join(run_dir, "preset.json"), dataclasses.asdict(p), indent=1)
    return loops, p


def _write_json(path: str, obj, indent=None) -> None:
    """A small run file, whole or not at all: a failed write (a full disk) is one OSError naming it."""
    try:
        with open(path + ".part", "w") as f:
            json.dump(obj, f, indent=indent)
        os.replace(path + ".part", path)
    except OSError as e:
        if os.path.exists(path + ".part"):
            os.remove(path + ".part")
        raise OSError(e.errno, f"cannot be written ({e.strerror or e})", path) from None


def _progress_bar(s: TrainState, quiet: bool):
    if s.rank != 0 or quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=s.p.steps, initial=s.step, unit="step", dynamic_ncols=True, mininterval=0.5,
                desc=f"{s.p.name} ({s.world} proc)" if s.world > 1 else s.p.name, file=sys.stderr)


def _loop(s: TrainState, batches: Batches, previewer: Previewer | None, run_dir: str, bar) -> None:
    """Train until ``steps`` (or ``max_seconds``, the same step on every rank); rank 0 previews, scores
    and checkpoints along the way."""
    p = s.p
    t_start = time.perf_counter() - s.seconds
    stop = False
    arch = archs.get(p.arch)
    while s.step < p.steps and not stop:
        out = arch.step(s, batches)
        s.seconds = time.perf_counter() - t_start
        s.history["step"].append(s.step)
        for k, v in out.items():  # loss_d, loss_g and the architecture's own curves (the spectral "rec")
            s.history.setdefault(k, []).append(v)
        if bar is not None:
            bar.update(1)
            if s.step % 25 == 0:
                bar.set_postfix(D=f"{out['loss_d']:.3f}", G=f"{out['loss_g']:.3f}", refresh=False)
        if p.max_seconds > 0:
            flag = torch.tensor([float(s.seconds >= p.max_seconds)], device=s.device)  # nccl broadcasts GPU tensors
            if s.world > 1:
                dist.broadcast(flag, 0)  # every rank stops at the same step
            stop = bool(flag.item())
        if previewer is not None:
            previewer.submit(s.step, *previewer.due(s.step))
            if p.checkpoint_every and s.step % p.checkpoint_every == 0:
                previewer.collect()  # the checkpoint holds the best generator up to this step
                checkpoint.save(s, run_dir)


def _finish(s: TrainState, previewer: Previewer, run_dir: str, loops, since: tuple[int, float], quiet: bool) -> None:
    """Rank 0 at the end: last score, checkpoint, ``train_time.json`` and the report."""
    previewer.close()
    checkpoint.save(s, run_dir)
    rate = (s.step - since[0]) / max(s.seconds - since[1], 1e-9)  # this session's throughput
    if not quiet:
        print(f"trained {s.step} steps in {s.seconds:.1f} s ({rate:.2f} steps/s) -> {run_dir}")
    _write_json(os.path.join(run_dir, "train_time.json"), {"steps": s.step, "seconds": s.seconds, "steps_per_s": rate,
                "world": s.world, "device": str(s.device), "loops": int(loops.shape[0])})
    if s.p.report:
        from train.report import write_report

        write_report(run_dir, loops=loops, quiet=quiet)


def train(data_dir, p: Preset, run_dir, device: str = "auto", resume: bool = False, fit=None,
          quiet: bool = False) -> TrainState:
    """Prepare, train, preview, checkpoint, report. Returns the final state. A bad preset, device, run
    folder or data folder is a ``CLIError`` (one line); past those checks an error is a bug."""
    from train.data import NoUsableAudio

    with user_input(KeyError, ValueError, OSError, NoUsableAudio):
        check(p)
        check_networks(p)
        dev, rank, world = _open_process(p, device)
        run_dir = os.fspath(run_dir)
        p, ck = _open_run(run_dir, p, resume)
        loops, p = _prepare(data_dir, p, run_dir, fit, quiet, rank, world, ck is not None)
    s = make_state(p, dev, rank, world)
    archs.get(p.arch).start(s, loops, fresh=ck is None)
    if ck is not None:
        checkpoint.restore(s, ck)
    batches = Batches(loops, p.batch_size, s.gen)
    # A second CPU thread only helps where training runs one torch thread: with more, the preview's
    # OpenMP team and the training's share the cores and each spins waiting for the other
    # (benchmarks/results/train.md).
    background = dev.type != "cpu" or torch.get_num_threads() == 1
    previewer = Previewer(s, run_dir, loops, background=background) if rank == 0 else None
    bar = _progress_bar(s, quiet)
    since = (s.step, s.seconds)
    _loop(s, batches, previewer, run_dir, bar)
    if bar is not None:
        bar.close()
    if rank == 0:
        _finish(s, previewer, run_dir, loops, since, quiet)
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
    with user_input():  # an unknown preset or field, a value out of range
        p = get_preset(args.preset)
        overrides = list(args.set)
        if args.steps is not None:
            overrides.append(f"steps={args.steps}")
        if args.fit is not None:
            overrides.append(f"fit={args.fit}")
        p = apply_overrides(p, overrides)
        check(p)
    try:
        train(args.data_dir, p, args.out, device=args.device, resume=args.resume)
    except OSError as e:  # a file of the run that cannot be written (a full disk): the user can fix that
        if e.filename is None:
            raise
        raise CLIError(f"{e.filename}: {e.strerror or e}") from e
    except RuntimeError as e:  # torch.OutOfMemoryError, or the CPU allocator's "can't allocate memory"
        if not isinstance(e, torch.OutOfMemoryError) and "can't allocate memory" not in str(e):
            raise
        raise CLIError(f"out of memory ({first_line(e, 120)}): lower batch_size ({p.batch_size}) or "
                       f"model_dim ({p.model_dim}) with --set") from None
    return 0

"""Export a generator as a livegan loop-model file that checks itself.

``save_loop_model`` is the one writer of the contract in ``livegan/model.py``:
script (or trace) the module, embed ``livegan.json``, reload the file, check
that the metadata round-trips, that a fixed seed renders the same before and
after saving, that the output shape is exact, and time one loop.
"""
from __future__ import annotations

import datetime
import io
import json
import os

import numpy as np
import torch

import train.presets  # noqa: F401  (registers the built-in architectures a checkpoint may name)
from livegan.errors import ModelFileError, first_line
from livegan.model import FORMAT_VERSION, META_NAME, LoopModel, jit_quiet, sample_latent, validate_meta
from train import archs, checkpoint
from train.config import check, from_dict
from train.directions import NonFiniteOutput, ganspace
from train.knobs import add_knobs, module_generator
from train.models import ExportedGenerator, build_generator, check_networks


def to_script(module: torch.nn.Module, example_z: torch.Tensor):
    with jit_quiet():
        try:
            return torch.jit.script(module)
        except Exception:  # modules with Python-only code paths still trace fine for a fixed graph
            return torch.jit.trace(module, example_z, check_trace=False)


def _write(buf: io.BytesIO, tmp: str, path: str) -> None:
    """The serialised model into ``tmp``; a failed write (a full disk) is one ModelFileError naming
    ``path``. Serialised in memory first: torch's file writer aborts the process when a write fails."""
    try:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
    except OSError as e:
        raise ModelFileError(path, f"cannot be written ({e.strerror or e})") from None


def save_loop_model(module: torch.nn.Module, path, meta: dict, seed: int = 0, quiet: bool = False,
                    force: bool = False, inputs=(), check=None) -> dict:
    """Save ``module`` to ``path`` with ``meta`` (every contract field but ``format``).

    The file is written under a temporary name beside ``path``, checked there, and moved into place only
    once every check passed (``livegan.files.output_file``): a file that fails its check, or a full
    disk, leaves what was at ``path`` untouched. An existing ``path`` is replaced only with ``force``, and
    never when it is one of ``inputs`` ((path, what) pairs): CLIError. ``check(tmp_path, report)``: the
    caller's own check of the written file, before the move.

    Returns a report dict: path, bytes, seconds_per_loop, max_abs_diff.
    Raises ModelFileError if the written file does not pass its own check.
    """
    from livegan.files import output_file

    path = os.fspath(path)
    meta = dict(meta)
    meta.setdefault("format", FORMAT_VERSION)
    meta.setdefault("directions", [])
    meta.setdefault("sigmas", [])
    meta.setdefault("training", {})
    meta["training"].setdefault("exported", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    checked = validate_meta(json.loads(json.dumps(meta)), path)  # JSON round-trip: what the file will hold

    module = module.to("cpu").eval()
    rng = np.random.default_rng(seed)
    z = torch.from_numpy(sample_latent(checked, rng, 4))
    with torch.inference_mode():
        before = module(z).detach().float().numpy()
    want = (4, checked.channels, checked.loop_samples)
    if before.shape != want:
        raise ModelFileError(path, f"generator returns shape {before.shape}, metadata says {want}")
    if not np.isfinite(before).all():
        raise ModelFileError(path, "the model gives non-finite output (NaN or Inf); nothing written")

    buf = io.BytesIO()
    scripted = to_script(module, z)
    with jit_quiet():
        torch.jit.save(scripted, buf, _extra_files={META_NAME: json.dumps(meta)})
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with output_file(path, "output", force, inputs) as tmp:
        _write(buf, tmp, path)
        try:
            loaded = LoopModel(tmp, device="cpu", threads=None)  # validates metadata, shape, NaN, range
            if loaded.meta.to_json_dict() != checked.to_json_dict():
                raise ModelFileError(path, "metadata did not round-trip through the saved file")
            after = loaded.generate(z.numpy())
            diff = float(np.max(np.abs(after - before)))
            if not np.allclose(after, before, atol=1e-5, rtol=1e-4):
                raise ModelFileError(path, f"saved model renders differently from the original (max diff {diff:.3g})")
            t = loaded.time_per_loop(runs=10)
            report = {"path": path, "bytes": os.path.getsize(tmp), "seconds_per_loop": t, "max_abs_diff": diff}
            if check is not None:
                check(tmp, report)
        except ModelFileError as e:  # the checks read the temporary file: the error names the output
            if e.path != tmp:
                raise
            raise ModelFileError(path, e.problem) from None
    if not quiet:
        print(f"exported {path}: {report['bytes'] / 1e6:.2f} MB, shape (B, {checked.channels}, "
              f"{checked.loop_samples}) @ {checked.sample_rate} Hz, {t * 1e3:.2f} ms per loop on CPU, "
              f"self-check max diff {diff:.2e}")
    return report


def run_inputs(run_dir) -> list:
    """What ``export_run`` reads from a run folder, as (path, what) pairs its output must never be."""
    run_dir = os.fspath(run_dir)
    return [(os.path.join(run_dir, checkpoint.CKPT), f"the run's checkpoint in {run_dir}"),
            (os.path.join(run_dir, "train_time.json"), f"the run's train_time.json in {run_dir}")]


def export_run(run_dir, path, n_directions: int = 16, quiet: bool = False, which: str = "best",
               force: bool = False, knobs: bool = True) -> dict:
    """Export a run folder's generator with GANSpace directions; returns save_loop_model's report.
    An existing ``path`` is replaced only with ``force``, never when it is a file of the run it reads.

    ``which``: "best" (default) is the generator the run kept (``select_every``: most training loops reached
    by the fixed z, then lowest FD), or the last
    where it kept none; "last" is the generator at the last step."""
    from livegan.files import check_target
    from train.knob_report import run_page_wanted, write_run_page

    run_dir = os.fspath(run_dir)
    check_target(path, "output", force, run_inputs(run_dir))  # before the checkpoint is read
    page = knobs and run_page_wanted(run_dir, force, quiet)  # the run's knob page: before the fit, too
    if not os.path.isfile(os.path.join(run_dir, checkpoint.CKPT)):
        raise FileNotFoundError(f"{run_dir}: no {checkpoint.CKPT} here (is it a folder written by `livegan train`?)")
    ck = checkpoint.load(run_dir)
    where = os.path.join(run_dir, checkpoint.CKPT)
    p = from_dict(ck["preset"])
    try:  # the checks resume runs: a preset out of range would build networks of any size (819 GB)
        check(p)
        check_networks(p)
    except ValueError as e:
        raise checkpoint.CheckpointError(f"{where}: its preset cannot be exported ({e})") from None
    weights, snap = checkpoint.snapshot(ck, which)
    try:
        g = build_generator(p, weights)
    except RuntimeError as e:  # load_state_dict: a page of size mismatches, or an allocation that fails
        why = next((ln.strip() for ln in str(e).splitlines() if "size mismatch" in ln or "key" in ln), first_line(e))
        raise checkpoint.CheckpointError(
            f"{where}: its generator weights do not fit its preset ({why[:160]})") from None
    try:
        dirs, sigmas = ganspace(g, p.latent_dim, p.latent_dist, k=n_directions)
    except NonFiniteOutput as e:
        raise checkpoint.CheckpointError(f"{where}: {e} (its {snap['snapshot']} generator's weights)") from None
    summary = {}
    tt = os.path.join(run_dir, "train_time.json")
    if os.path.isfile(tt):
        with open(tt) as f:
            summary = json.load(f)
    meta = dict(name=f"{p.name}-{os.path.basename(os.path.abspath(run_dir))}", sample_rate=p.sample_rate,
                loop_samples=p.loop_samples, channels=p.channels, latent_dim=p.latent_dim,
                latent_dist=p.latent_dist, bpm=p.bars * p.beats_per_bar * 60.0 * p.sample_rate / p.loop_samples,
                bars=p.bars, beats_per_bar=p.beats_per_bar, directions=dirs.tolist(), sigmas=sigmas.tolist(),
                training={"preset": p.name, "steps": int(ck["step"]), "seconds": round(float(ck["seconds"]), 1),
                          "snapshot": snap["snapshot"], "snapshot_step": snap["step"], "snapshot_fd": snap["fd"],
                          "loops": summary.get("loops"), "date": datetime.date.today().isoformat(),
                          "directions": "GANSpace: PCA of G's first activations (its head), regressed to z"})
    if not quiet:
        fd = f", FD {snap['fd']:.1f}" if snap["fd"] is not None else ""
        print(f"generator: {snap['snapshot']} snapshot (step {snap['step']} of {int(ck['step'])}{fd})")
    module = ExportedGenerator(archs.get(p.arch).playing_form(g))
    record: dict = {}
    if knobs:
        add_knobs(meta, module_generator(module.eval()), quiet=quiet, record=record)
    report = save_loop_model(module, path, meta, quiet=quiet, force=force, inputs=run_inputs(run_dir))
    if page:
        write_run_page(run_dir, module_generator(module.eval()), path, record, force, quiet)
    return report


def cli_export(args) -> int:
    from livegan.errors import CLIError

    try:
        export_run(args.run_dir, args.output, which=args.snapshot, force=args.force, knobs=not args.no_knobs)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    return 0

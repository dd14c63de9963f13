"""The loop-model file: a TorchScript generator with embedded ``livegan.json``.

This is the contract between ``train/`` (which writes these files through
``train.export.save_loop_model``) and the real-time engine (which loads them
here). The engine reads every musical fact about a model from the metadata,
never restates it.

``forward(z: Tensor[B, latent_dim]) -> Tensor[B, channels, loop_samples]``,
float32 in [-1, 1].

Threads: ``load_model`` runs on the main thread before any stream starts;
``LoopModel.generate`` runs on the generator thread, never on
the audio callback.
"""
from __future__ import annotations

import json
import math
import os
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field

import numpy as np

from livegan.errors import ModelFileError
from livegan.faults import GenerationFault, GenerationTimeout, call_with_deadline, fault_text, gen_timeout_s
from livegan.model_graph import check_code, jit_quiet, load_checked  # noqa: F401  (the loader's gate; jit_quiet for train/)
from livegan.model_knobs import read_knobs

FORMAT_VERSION = 1  # bump when a field changes meaning
META_NAME = "livegan.json"  # name of the extra file inside the TorchScript zip
LATENT_DISTS = ("uniform", "normal")
SAMPLERATE_RANGE = (8000, 384000)  # the lowest common audio rate .. the highest the model format allows
MIN_BPM, MAX_BPM = 20.0, 400.0  # the one tempo range: files, wrap, presets, patches, logs, OSC and the engine
MAX_META_BYTES = 16 << 20  # 16 knobs of a 4096-d z take about 1.5 MB as JSON; a larger livegan.json is a zip bomb



@dataclass(frozen=True)
class ModelMeta:
    format: int
    name: str
    sample_rate: int  # Hz of the generated loop
    loop_samples: int  # frames per loop
    channels: int  # 1 or 2
    latent_dim: int
    latent_dist: str  # "uniform" in [-1, 1) or "normal" N(0, 1)
    bpm: float  # tempo at which loop_samples is exactly `bars` bars
    bars: int
    beats_per_bar: int
    directions: np.ndarray = field(repr=False)  # (K, latent_dim) float32, strongest first
    sigmas: np.ndarray = field(repr=False)  # (K,) float32, std of z along each direction
    training: dict = field(default_factory=dict, repr=False)
    knobs: tuple = ()  # model_knobs.NamedKnob, each a direction that moves one measured property (train/knobs.py)

    @property
    def seconds(self) -> float:
        return self.loop_samples / self.sample_rate

    def to_json_dict(self) -> dict:
        d = {k: getattr(self, k) for k in (
            "format", "name", "sample_rate", "loop_samples", "channels", "latent_dim",
            "latent_dist", "bpm", "bars", "beats_per_bar")}
        d["directions"] = self.directions.tolist()
        d["sigmas"] = self.sigmas.tolist()
        d["training"] = self.training
        if self.knobs:  # absent, not empty, in files without knobs: their metadata reads back unchanged
            d["knobs"] = [k.to_json_dict() for k in self.knobs]
        return d


def is_int(v) -> bool:
    """An integer that is not a bool (JSON and TOML values)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v) -> bool:
    """A finite int or float that is not a bool (JSON and TOML values)."""
    try:  # JSON and TOML integers may be of any size; one too large for a float is no number we can use
        return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)
    except OverflowError:
        return False


def printable(text: str) -> str:
    """``text`` without control and format characters (terminal escape sequences, bidi overrides);
    line breaks and tabs become spaces. Metadata goes through this once, here, so that every printer
    (info, the perform banner, the panel, render) gets text that cannot drive the terminal."""
    return "".join(" " if c in "\t\n\r" else c for c in text
                   if c in "\t\n\r" or unicodedata.category(c) not in ("Cc", "Cf"))


def _printable_tree(v):
    if isinstance(v, str):
        return printable(v)
    if isinstance(v, dict):
        return {printable(str(k)): _printable_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_printable_tree(x) for x in v]
    return v


def validate_meta(raw, path="<metadata>") -> ModelMeta:
    """Check every field of a ``livegan.json`` dict; raise ModelFileError naming the field."""
    def bad(fieldname, problem):
        raise ModelFileError(path, f"metadata field '{fieldname}' {problem}")

    if not isinstance(raw, dict):
        raise ModelFileError(path, f"{META_NAME} is not a JSON object")
    required = ("format", "name", "sample_rate", "loop_samples", "channels", "latent_dim",
                "latent_dist", "bpm", "bars", "beats_per_bar", "directions", "sigmas", "training")
    for k in required:
        if k not in raw:
            bad(k, "is missing")
    if not is_int(raw["format"]):
        bad("format", f"must be an integer, got {raw['format']!r}")
    if raw["format"] != FORMAT_VERSION:
        bad("format", f"is {raw['format']}, this livegan reads format {FORMAT_VERSION}")
    if not isinstance(raw["name"], str) or not printable(raw["name"]).strip():
        bad("name", f"must be a non-empty string, got {raw['name']!r}")
    for k, lo, hi in (("sample_rate", 1000, 384000), ("loop_samples", 64, 1 << 24),
                      ("channels", 1, 2), ("latent_dim", 1, 4096), ("bars", 1, 64),
                      ("beats_per_bar", 1, 32)):
        v = raw[k]
        if not is_int(v) or not lo <= v <= hi:
            bad(k, f"must be an integer in [{lo}, {hi}], got {v!r}")
    if raw["latent_dist"] not in LATENT_DISTS:
        bad("latent_dist", f"must be one of {LATENT_DISTS}, got {raw['latent_dist']!r}")
    if not is_num(raw["bpm"]) or not MIN_BPM <= raw["bpm"] <= MAX_BPM:
        bad("bpm", f"must be a number in [{MIN_BPM:g}, {MAX_BPM:g}], got {raw['bpm']!r}")
    # The loop length must be exactly what bars x beats at bpm mean, or nothing stays on the beat.
    seconds = raw["loop_samples"] / raw["sample_rate"]
    musical = raw["bars"] * raw["beats_per_bar"] * 60.0 / raw["bpm"]
    if abs(seconds - musical) > 0.005 * musical:
        bad("bpm", f"{raw['bpm']} with {raw['bars']} bar(s) of {raw['beats_per_bar']} beats lasts "
                   f"{musical:.4f} s, but loop_samples/sample_rate is {seconds:.4f} s")
    try:
        with np.errstate(over="ignore"):  # a value past float32 becomes Inf, refused below: no warning line
            directions = np.asarray(raw["directions"], dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        bad("directions", "must be a list of lists of numbers")
    if directions.size == 0:
        directions = directions.reshape(0, raw["latent_dim"])
    if directions.ndim != 2 or directions.shape[1] != raw["latent_dim"]:
        bad("directions", f"must have shape (K, latent_dim={raw['latent_dim']}), got {directions.shape}")
    if not np.all(np.isfinite(directions)):
        bad("directions", "contains NaN or Inf")
    try:
        with np.errstate(over="ignore"):
            sigmas = np.asarray(raw["sigmas"], dtype=np.float32).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        bad("sigmas", "must be a list of numbers")
    if sigmas.shape[0] != directions.shape[0]:
        bad("sigmas", f"has {sigmas.shape[0]} values for {directions.shape[0]} directions")
    if not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        bad("sigmas", "must be finite and > 0")
    if not isinstance(raw["training"], dict):
        bad("training", "must be a JSON object")
    knobs = read_knobs(raw["knobs"], raw["latent_dim"], bad) if "knobs" in raw else ()
    return ModelMeta(format=raw["format"], name=printable(raw["name"]), sample_rate=raw["sample_rate"],
                     loop_samples=raw["loop_samples"], channels=raw["channels"],
                     latent_dim=raw["latent_dim"], latent_dist=raw["latent_dist"],
                     bpm=float(raw["bpm"]), bars=raw["bars"], beats_per_bar=raw["beats_per_bar"],
                     directions=directions, sigmas=sigmas, training=_printable_tree(raw["training"]), knobs=knobs)


def read_meta(path) -> ModelMeta:
    """Read and validate only the metadata (no torch needed: the file is a zip)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(path, "no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith("/extra/" + META_NAME)]
            if not names:
                if not any(n.endswith("/data.pkl") or n.endswith("/constants.pkl") for n in zf.namelist()):
                    raise ModelFileError(path, "not a TorchScript model file")
                raise ModelFileError(path, f"has no embedded {META_NAME} metadata "
                                           "(was it saved by `livegan export`?)")
            size = zf.getinfo(names[0]).file_size  # checked before inflating; the read is capped too (it can lie)
            with zf.open(names[0]) as f:
                data = f.read(MAX_META_BYTES + 1) if size <= MAX_META_BYTES else b""
            if size > MAX_META_BYTES or len(data) > MAX_META_BYTES:
                raise ModelFileError(path, f"{META_NAME} is {max(size, len(data))} bytes or more, more than "
                                           f"metadata may be ({MAX_META_BYTES >> 20} MiB)")
            text = data.decode("utf-8")
    except zipfile.BadZipFile:
        raise ModelFileError(path, "not a TorchScript model file (not a zip archive, or truncated)") from None
    except (OSError, zipfile.LargeZipFile, EOFError, UnicodeDecodeError) as e:
        raise ModelFileError(path, f"cannot read metadata ({e})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelFileError(path, f"{META_NAME} is not valid JSON ({e})") from None
    except (RecursionError, ValueError) as e:  # nesting past the parser's stack, a number of 4300+ digits
        raise ModelFileError(path, f"{META_NAME} is not usable JSON ({type(e).__name__}: {str(e)[:80]})") from None
    return validate_meta(raw, path)


def _draw(rng: np.random.Generator, shape, dist: str) -> np.ndarray:
    if dist == "uniform":
        return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    return rng.standard_normal(size=shape).astype(np.float32)


def sample_latent(meta: ModelMeta, rng: np.random.Generator, n: int = 1) -> np.ndarray:
    """(n, latent_dim) float32 drawn from the model's prior."""
    return _draw(rng, (n, meta.latent_dim), meta.latent_dist)


def seed_z(seed: int, latent_dim: int, dist: str) -> np.ndarray:
    """The one seeding rule: seed (a note, a seed number, a preview index) -> (latent_dim,) float32 base
    point, drawn from the prior ("uniform" | "normal"). Perform, render and the trainer's previews all
    use it, so seed n means the same loop everywhere."""
    return _draw(np.random.default_rng(int(seed)), (int(latent_dim),), dist)


def pick_device(device: str = "auto") -> str:
    """'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' -> the device that will run, named in full ('cuda:0', as
    reports should say it, not 'cuda'); ValueError, one line naming it, for a CUDA device this machine lacks."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not device.startswith("cuda"):
        return device
    if not torch.cuda.is_available():
        raise ValueError(f"device '{device}' asked for, but CUDA is not available here")
    n = torch.cuda.device_count()
    index = device.partition(":")[2]
    k = int(index) if index.isdigit() else (torch.cuda.current_device() if device == "cuda" else -1)
    if not 0 <= k < n:
        raise ValueError(f"device '{device}' asked for, but this machine has {n} CUDA device(s): "
                         f"cuda:0 to cuda:{n - 1}")
    return f"cuda:{k}"


class LoopModel:
    """A loaded, validated, warmed-up loop generator.

    Thread: constructed on the main thread; ``generate`` is called from the
    generator thread only (TorchScript is not shared with the audio callback).
    """

    def __init__(self, path, device: str = "auto", threads: int | None = 1, warmup: int = 2):
        import torch

        self.path = os.fspath(path)
        self.meta = read_meta(self.path)
        if threads is not None:
            torch.set_num_threads(max(1, int(threads)))
        self.device = pick_device(device)
        self.module = load_checked(self.path, self.device, {META_NAME: ""})
        self._torch = torch
        self.generate_seconds: list[float] = []
        rng = np.random.default_rng(0)
        try:  # a forward() that never returns must not hang the load: a deadline, then one line
            call_with_deadline(lambda: [self.check_output(sample_latent(self.meta, rng, 2))
                                        for _ in range(max(1, warmup))], gen_timeout_s(), "the warm-up's forward()")
        except GenerationTimeout as e:
            raise ModelFileError(self.path, str(e)) from None

    def check_output(self, z: np.ndarray) -> np.ndarray:
        """Run forward and check the contract on the result; return it."""
        m = self.meta
        try:
            y = self.generate(z)
        except ModelFileError:
            raise
        except Exception as e:
            raise ModelFileError(self.path,
                                 f"forward() failed on z of shape {tuple(z.shape)} ({fault_text(e)})") from None
        want = (z.shape[0], m.channels, m.loop_samples)
        if y.shape != want:
            raise ModelFileError(self.path, f"forward() returned shape {tuple(y.shape)}, metadata says "
                                            f"(B, channels, loop_samples) = {want}")
        if not np.all(np.isfinite(y)):
            raise ModelFileError(self.path, "forward() output contains NaN or Inf")
        peak = float(np.max(np.abs(y))) if y.size else 0.0
        if peak > 1.0 + 1e-3:
            raise ModelFileError(self.path, f"forward() output peaks at {peak:.3f}, contract is [-1, 1]")
        return y

    def generate(self, z: np.ndarray) -> np.ndarray:
        """(B, latent_dim) float32 -> (B, channels, loop_samples) float32 numpy. Generator thread."""
        torch = self._torch
        t0 = time.perf_counter()
        with torch.inference_mode():
            zt = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)).to(self.device)
            y = self.module(zt)
            if not isinstance(y, torch.Tensor):
                raise ModelFileError(self.path, f"forward() returned {type(y).__name__}, not a Tensor")
            if y.dtype != torch.float32:
                raise GenerationFault(f"forward() returned {str(y.dtype).removeprefix('torch.')}, not float32")
            out = y.detach().to("cpu", torch.float32).numpy()  # CPU-GPU sync point
        self.generate_seconds.append(time.perf_counter() - t0)
        return out

    def time_per_loop(self, runs: int = 20, batch: int = 1) -> float:
        """Median seconds to generate one batch of ``batch`` loops after warm-up."""
        rng = np.random.default_rng(1)
        times = []
        for _ in range(runs):
            z = sample_latent(self.meta, rng, batch)
            t0 = time.perf_counter()
            try:
                self.generate(z)
            except Exception as e:  # good at warm-up, failing later: still one line
                raise ModelFileError(self.path, f"forward() failed while timing it ({fault_text(e)})") from None
            times.append(time.perf_counter() - t0)
        return float(np.median(times))


def load_model(path, device: str = "auto", threads: int | None = 1) -> LoopModel:
    return LoopModel(path, device=device, threads=threads)


def default_model_path() -> str:
    """The built-in model shipped inside the package (issue: built-in instrument)."""
    here = os.path.join(os.path.dirname(__file__), "models")
    return os.path.join(here, "default.ts")

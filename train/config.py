"""The training configuration: the ``Preset`` dataclass, ``--set key=value`` overrides, and its checks.

``Preset`` holds the fields every architecture reads; an architecture that reads more has a subclass of
it, declared in its own module (``train.archs``), so no other architecture's preset has those fields.
Every field has a kind (``field(kind, ...)``) that says where ``--resume`` takes
it from: "model" (what the networks are and the loops they make) and "objective" (how they learn: loss,
optimiser, augmentation, batches, seeds) come from the checkpoint, which stores ``asdict(preset)`` so a run
can always be rebuilt from it alone; "run" (how long and how this session goes on, what it writes along
the way) comes from the command line. The named presets are in ``train.presets``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

from livegan.model import MAX_BPM, MIN_BPM
from train import archs

KINDS = ("model", "objective", "run")


def field(kind: str, default, bounds: tuple | None = None, open_low: bool = False, open_high: bool = False):
    """A preset field of ``kind`` ("model", "objective" or "run"); ``bounds`` (lowest, highest) as in
    ``RANGES``, for the fields an architecture's preset class adds (``train.archs``)."""
    meta = {"kind": kind}
    if bounds is not None:
        meta.update(bounds=bounds, open_low=open_low, open_high=open_high)
    return dataclasses.field(default=default, metadata=meta)


def _model(default):
    return field("model", default)


def _objective(default):
    return field("objective", default)


def _run(default):
    return field("run", default)


@dataclass
class Preset:
    name: str = _model("custom")  # preset name, recorded in the model file
    # --- audio ---
    sample_rate: int = _model(16384)  # Hz the generator works at
    loop_samples: int = _model(32768)  # frames per loop (2 s at 16384 Hz)
    channels: int = _model(1)  # 1 = mix to mono, 2 = keep stereo
    bpm: float = _model(120.0)  # tempo at which loop_samples is `bars` bars
    bars: int = _model(1)  # bars per loop
    beats_per_bar: int = _model(4)  # 4/4
    fit: str = _model("stretch")  # "stretch": whole file = whole loops; "slice": cut loop-length pieces
    # --- networks ---
    arch: str = _model("wavegan")  # the architecture (``train.archs``): "dcgan" (paper), "wavegan" or "spectral"
    latent_dim: int = _model(100)  # size of z
    latent_dist: str = _model("uniform")  # "uniform" in [-1, 1) or "normal"
    model_dim: int = _model(8)  # base channel count (d); layer widths are multiples of it
    kernel: int = _model(25)  # conv kernel size
    stride: int = _model(4)  # conv stride (upsampling factor per G layer)
    n_layers: int = _model(5)  # conv layers in G and in D
    upsample: str = _model("transposed")  # G's upsampling: "transposed" convs or "nearest" / "linear" + conv
    batchnorm: bool = _model(False)  # batch norm in G and D (DCGAN) or none (WaveGAN)
    phase_shuffle: int = _model(2)  # WaveGAN phase shuffle: max shift in samples after each D layer (0 = off)
    joint_batch: bool = _model(False)  # D sees real and fake in one batch (one set of batch-norm statistics)
    minibatch_std: bool = _model(False)  # append a minibatch-stddev feature before D's last layer (anti mode collapse)
    minibatch_disc: int = _model(0)  # Salimans et al. 2016 minibatch discrimination: number of kernels (0 = off)
    minibatch_disc_dim: int = _model(5)  # dimensions per minibatch-discrimination kernel
    feature_matching: float = _model(0.0)  # weight of the feature-matching term in G's loss (0 = off)
    minibatch_disc_pool: int = _model(1)  # average D's last features over this many positions before minibatch disc
    pack: int = _model(1)  # PacGAN (Lin et al. 2018): D judges this many loops at once, stacked as channels (1 = off)
    # --- objective and optimiser ---
    loss: str = _objective("wgan-gp")  # "bce" (sigmoid + binary cross-entropy) or "wgan-gp"
    real_label: float = _objective(1.0)  # BCE target of real loops (< 1: one-sided label smoothing)
    gp_weight: float = _objective(10.0)  # gradient-penalty weight (wgan-gp)
    n_critic: int = _objective(5)  # D updates per G update
    reuse_fake: bool = _objective(False)  # G's step reuses the last D step's fake batch: one G pass less
    lr: float = _objective(1e-4)  # Adam learning rate (G and D)
    beta1: float = _objective(0.5)  # Adam beta1
    beta2: float = _objective(0.9)  # Adam beta2
    eps: float = _objective(1e-8)  # Adam epsilon
    batch_size: int = _objective(8)  # loops per batch and process (with replacement if the data set is smaller)
    # --- loops are circular ---
    shift_augment: bool = _objective(True)  # roll each real loop by a random whole number of `shift_quantum` steps
    shift_quantum: int = _objective(4)  # shifts are multiples of one beat / shift_quantum (4 = a 16th note)
    seam_roll: bool = _objective(True)  # roll real and fake by the same random amount before D (seam visible to D)
    # --- DiffAugment (Zhao et al. 2020): the same random transforms on real and fake before D ---
    translate: float = _objective(0.0)  # roll each loop by its own amount, up to this fraction of a loop (0 = off)
    cutout: float = _objective(0.0)  # silence one random stretch of this fraction of each loop (0 = off)
    # --- schedule ---
    steps: int = _run(20000)  # G updates in total
    max_seconds: float = _run(0.0)  # stop after this much training wall time (0 = no limit)
    preview_every: int = _run(500)  # render the fixed validation z every this many steps
    keep_every: int = _run(10)  # keep every this-many-th preview as numbered files (others overwrite latest)
    select_every: int = _run(0)  # score the fixed z's loops against the training loops every this many steps and keep
    #                        the best generator for export: most loops reached, then lowest FD (0 = off: the last)
    checkpoint_every: int = _run(1000)  # save the checkpoint every this many steps
    n_val: int = _objective(100)  # fixed validation z drawn at start
    seed: int = _objective(0)  # seeds z, data order and init
    threads: int = _run(0)  # torch CPU threads (0 = all physical cores, shared by torchrun's processes)
    cpu_onednn: bool = _objective(True)  # oneDNN convolutions on CPU (off for the paper: slower for its tiny 1-D convs)
    report: bool = _run(True)  # write report.html at the end of training

    @property
    def seconds(self) -> float:
        return self.loop_samples / self.sample_rate


def names_of(kind: str, cls: type | None = None) -> tuple[str, ...]:
    """The fields of one kind ("model", "objective" or "run") of ``cls`` (default ``Preset``), in
    declaration order."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return tuple(f.name for f in fields(cls or Preset) if f.metadata["kind"] == kind)


def preset_class(arch) -> type:
    """The preset class of the architecture named ``arch`` (ValueError naming the choices otherwise)."""
    return archs.get(arch).preset_class


def _owner(name: str) -> archs.Arch | None:
    """The architecture whose preset class alone has field ``name`` (None where Preset has it, or none does)."""
    if name in Preset.__dataclass_fields__:
        return None
    return next((a for a in archs.ARCHS.values() if name in a.preset_class.__dataclass_fields__), None)


def saved_fields(saved: dict) -> dict[str, dataclasses.Field]:
    """The fields a saved preset dict (a checkpoint's ``asdict``) may hold: its architecture's, and those of
    another architecture's preset class, which a checkpoint written when every preset had every field
    holds at their defaults (``from_dict`` drops them). Base Preset's for an unknown ``arch``."""
    try:
        cls = preset_class(saved.get("arch", Preset.arch))
    except ValueError:
        cls = Preset
    out = {f.name: f for f in fields(cls)}
    for k in saved:
        owner = _owner(k) if k not in out else None
        if owner is not None:
            out[k] = owner.preset_class.__dataclass_fields__[k]
    return out


def from_dict(saved: dict) -> Preset:
    """A saved preset dict (a checkpoint's, ``preset.json``) -> its architecture's preset. A field of
    another architecture is dropped where it holds that field's default (the checkpoints of before the
    architecture seam stored every field); ValueError names it otherwise."""
    cls = preset_class(saved.get("arch", Preset.arch))
    own = cls.__dataclass_fields__
    kept = {}
    for k, v in saved.items():
        if k in own:
            kept[k] = v
            continue
        owner = _owner(k)
        if owner is None:
            raise ValueError(f"preset field {k!r} is not one this livegan knows")
        if v != owner.preset_class.__dataclass_fields__[k].default:
            raise ValueError(f"{k} is for arch {owner.name!r}; arch {saved.get('arch')!r} does not use it")
    return cls(**kept)


def with_arch(p: Preset, arch) -> Preset:
    """``p`` as a preset of architecture ``arch``: the fields both presets' classes have kept, the new
    architecture's own at their defaults."""
    cls = preset_class(arch)
    shared = {f.name: getattr(p, f.name) for f in fields(cls) if f.name in p.__dataclass_fields__}
    return cls(**{**shared, "arch": arch})


def resumed(saved: dict, given: Preset) -> Preset:
    """The preset a resumed run goes on with: model and objective fields from the checkpoint's
    ``saved`` preset dict, run fields from ``given`` (this command line's preset) where it has them."""
    p = from_dict(saved)
    return dataclasses.replace(p, **{k: getattr(given, k) for k in names_of("run", type(p)) if hasattr(given, k)})


def _coerce(f: dataclasses.Field, text: str):
    t = f.type if isinstance(f.type, type) else {"int": int, "float": float, "bool": bool, "str": str}[f.type]
    if t is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true/false, got {text!r}")
    if t is int:
        try:
            return int(text)
        except ValueError:
            v = float(text)  # "5e4" is a fine way to write 50000
            if not v.is_integer():
                raise ValueError(f"expected an integer, got {text!r}") from None
            return int(v)
    return t(text)


def apply_overrides(p: Preset, pairs: list[str]) -> Preset:
    """``["lr=2e-4", "seam_roll=false"]`` -> a new Preset; ValueError names the bad pair. An ``arch`` pair
    applies first (it chooses the preset class, so which fields the other pairs may set)."""
    parsed = []
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE")
        key, value = (s.strip() for s in pair.split("=", 1))
        parsed.append((pair, key, value))
    for pair, key, value in parsed:
        if key == "arch":
            try:
                p = with_arch(p, value)
            except ValueError as e:
                raise ValueError(f"--set {pair!r}: {e}") from None
    by_name = {f.name: f for f in fields(p)}
    changes = {}
    for pair, key, value in parsed:
        if key == "arch":
            continue
        if key not in by_name:
            owner = _owner(key)
            if owner is not None:
                raise ValueError(f"--set {pair!r}: {key} is for arch {owner.name!r}; this preset's arch is {p.arch!r}")
            raise ValueError(f"--set {pair!r}: no preset field {key!r} (fields: {', '.join(by_name)})")
        try:
            changes[key] = _coerce(by_name[key], value)
        except ValueError as e:
            raise ValueError(f"--set {pair!r}: {e}") from None
    return dataclasses.replace(p, **changes)


# Field -> (lowest, highest): numbers must be finite and lie in [lowest, highest] (None: no bound), or
# above lowest for OPEN_LOW fields, below highest for OPEN_HIGH ones. The audio fields' bounds are those a
# model file may hold (livegan.model.validate_meta), so an accepted preset always exports.
RANGES = {
    "sample_rate": (1000, 384000), "loop_samples": (64, 1 << 24), "channels": (1, 2), "bpm": (MIN_BPM, MAX_BPM),
    "bars": (1, 64), "beats_per_bar": (1, 32), "latent_dim": (1, 4096), "model_dim": (1, 4096),
    "kernel": (1, 4096), "stride": (2, 64), "n_layers": (1, 16), "phase_shuffle": (0, None),
    "minibatch_disc": (0, None), "minibatch_disc_dim": (1, None), "minibatch_disc_pool": (1, None),
    "pack": (1, None), "feature_matching": (0, None), "real_label": (0.5, 1.0), "gp_weight": (0, None),
    "n_critic": (1, None), "lr": (0, None), "beta1": (0, 1), "beta2": (0, 1), "eps": (0, None),
    "batch_size": (1, 1 << 16), "shift_quantum": (1, None), "translate": (0, 1), "cutout": (0, 1),
    "steps": (1, None), "max_seconds": (0, None), "preview_every": (0, None), "keep_every": (0, None),
    "select_every": (0, None), "checkpoint_every": (0, None), "n_val": (1, None), "seed": (0, 2 ** 32 - 1),
    "threads": (0, 4096),
}
OPEN_LOW = {"real_label", "lr", "eps"}
OPEN_HIGH = {"beta1", "beta2", "translate", "cutout"}
CHOICES = {"fit": ("stretch", "slice"), "latent_dist": ("uniform", "normal"),
           "upsample": ("transposed", "nearest", "linear"), "loss": ("bce", "wgan-gp", "hinge")}


def _type_error(f: dataclasses.Field, v) -> str | None:
    t = f.type if isinstance(f.type, str) else f.type.__name__
    ok = {"bool": isinstance(v, bool), "int": isinstance(v, int) and not isinstance(v, bool),
          "float": isinstance(v, (int, float)) and not isinstance(v, bool), "str": isinstance(v, str)}[t]
    return None if ok else f"{f.name} must be {'an' if t == 'int' else 'a'} {t}, got {v!r}"


def _bounds(f: dataclasses.Field) -> tuple | None:
    """(lowest, highest, open below, open above) of a numeric field, or None where it has no range."""
    if "bounds" in f.metadata:
        return (*f.metadata["bounds"], f.metadata["open_low"], f.metadata["open_high"])
    if f.name in RANGES:
        return (*RANGES[f.name], f.name in OPEN_LOW, f.name in OPEN_HIGH)
    return None


def _range_error(name: str, v, bounds: tuple) -> str | None:
    lo, hi, open_low, open_high = bounds
    if isinstance(v, float) and not math.isfinite(v):
        return f"{name} must be a finite number, got {v}"
    low_ok = v > lo if open_low else v >= lo
    high_ok = hi is None or (v < hi if open_high else v <= hi)
    if low_ok and high_ok:
        return None
    left = "(" if open_low else "["
    right = "]" if hi is None or not open_high else ")"
    return f"{name} must be in {left}{lo}, {'inf)' if hi is None else f'{hi}{right}'}, got {v}"


def check(p: Preset) -> None:
    """Raise ValueError naming the field if the preset cannot train and export: each field's type,
    range and choices, then the rules between fields (loop length, rate and tempo; batch and pack), then
    its architecture's (``train.archs``)."""
    for f in fields(p):
        v = getattr(p, f.name)
        why = _type_error(f, v)
        bounds = _bounds(f)
        if why is None and bounds is not None:
            why = _range_error(f.name, v, bounds)
        if why is None and f.name in CHOICES and v not in CHOICES[f.name]:
            why = f"{f.name} must be {' or '.join(repr(c) for c in CHOICES[f.name])}, got {v!r}"
        if why is None and f.name == "arch":
            archs.get(v)  # ValueError naming the architectures
        if why:
            raise ValueError(why)
    arch = archs.get(p.arch)
    if type(p) is not arch.preset_class:
        raise ValueError(f"arch {p.arch!r} takes a {arch.preset_class.__name__}, not a {type(p).__name__} "
                         f"(train.config.with_arch makes one)")
    if not p.name.strip() or not p.name.isprintable() or len(p.name) > 64:
        raise ValueError(f"name must be 1-64 printable characters, got {p.name!r}")
    tempo = p.bars * p.beats_per_bar * 60.0 * p.sample_rate / p.loop_samples  # what export writes as bpm
    if not RANGES["bpm"][0] <= tempo <= RANGES["bpm"][1]:
        raise ValueError(f"loop_samples={p.loop_samples} at sample_rate={p.sample_rate} is {p.seconds:.4g} s: "
                         f"{p.bars} bar(s) of {p.beats_per_bar} beats at {tempo:.4g} BPM, outside the "
                         f"{MIN_BPM:g}-{MAX_BPM:g} BPM a model file may hold")
    if p.shift_augment and p.bars * p.beats_per_bar * p.shift_quantum > p.loop_samples:
        raise ValueError(f"shift_quantum={p.shift_quantum}: {p.bars * p.beats_per_bar * p.shift_quantum} shift "
                         f"positions do not fit in loop_samples={p.loop_samples}")
    if (p.minibatch_std or p.minibatch_disc) and p.batch_size // p.pack < 2:
        raise ValueError(f"batch_size={p.batch_size}: minibatch_std / minibatch_disc compare the loops of a batch, "
                         f"so D needs at least 2 per batch (batch_size / pack >= 2)")
    arch.check(p)

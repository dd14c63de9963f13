"""The training configuration: one ``Preset`` dataclass, ``--set key=value`` overrides, and its checks.

Every field has a kind (``dataclasses.field(metadata={"kind": ...})``) that says where ``--resume`` takes
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

KINDS = ("model", "objective", "run")


def _model(default):
    return dataclasses.field(default=default, metadata={"kind": "model"})


def _objective(default):
    return dataclasses.field(default=default, metadata={"kind": "objective"})


def _run(default):
    return dataclasses.field(default=default, metadata={"kind": "run"})


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
    arch: str = _model("wavegan")  # "dcgan" (paper) or "wavegan"
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
    # --- arch "spectral" (train.spectral): G at frame rate with a circular iSTFT head, D on spectra ---
    hop: int = _model(441)  # samples per G frame (loop_samples and n_fft are multiples of it)
    n_fft: int = _model(882)  # G's inverse-STFT frame (Hann window)
    d_ffts: str = _model("256,1024,2048")  # FFT sizes of the spectral discriminators (hop = n_fft / 4)
    d_width: int = _model(32)  # channels of each spectral discriminator
    anchors: int = _model(0)  # latent anchors in G, one per training loop (set from the data at a run's start)
    anchor_temp: float = _model(0.2)  # softness of z's pull towards its nearest anchors' loops (0 = no anchor layer)
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
    rec_weight: float = _objective(0.0)  # spectral: weight of the multi-resolution STFT loss at the loops' anchors
    rec_only_steps: int = _objective(0)  # spectral: G learns the anchors alone (no D) for this many steps first
    anchor_sigma: float = _objective(0.5)  # spectral: std of the noise around each loop's latent anchor
    ema: float = _objective(0.0)  # decay of the exported generator's moving average of G's weights (0 = off)
    r1_weight: float = _objective(0.0)  # R1 penalty (Mescheder et al. 2018) on real loops, lazy (0 = off)
    r1_every: int = _objective(8)  # apply R1 every this many D steps, scaled by it (lazy regularisation)
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


def names_of(kind: str) -> tuple[str, ...]:
    """The Preset fields of one kind ("model", "objective" or "run"), in declaration order."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return tuple(f.name for f in fields(Preset) if f.metadata["kind"] == kind)


def resumed(saved: dict, given: Preset) -> Preset:
    """The preset a resumed run goes on with: model and objective fields from the checkpoint's
    ``saved`` preset dict, run fields from ``given`` (this command line's preset)."""
    return dataclasses.replace(Preset(**saved), **{k: getattr(given, k) for k in names_of("run")})


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
    """``["lr=2e-4", "seam_roll=false"]`` -> a new Preset; ValueError names the bad pair."""
    by_name = {f.name: f for f in fields(Preset)}
    changes = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE")
        key, value = (s.strip() for s in pair.split("=", 1))
        if key not in by_name:
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
    "hop": (1, 1 << 16), "n_fft": (4, 1 << 16), "d_width": (1, 4096), "rec_weight": (0, None),
    "rec_only_steps": (0, None), "anchor_sigma": (0, None), "anchors": (0, 1 << 16), "anchor_temp": (0, None),
    "ema": (0, 1), "r1_weight": (0, None), "r1_every": (1, None),
}
OPEN_LOW = {"real_label", "lr", "eps"}
OPEN_HIGH = {"beta1", "beta2", "translate", "cutout", "ema"}
CHOICES = {"fit": ("stretch", "slice"), "arch": ("dcgan", "wavegan", "spectral"), "latent_dist": ("uniform", "normal"),
           "upsample": ("transposed", "nearest", "linear"), "loss": ("bce", "wgan-gp", "hinge")}


def _type_error(f: dataclasses.Field, v) -> str | None:
    t = f.type if isinstance(f.type, str) else f.type.__name__
    ok = {"bool": isinstance(v, bool), "int": isinstance(v, int) and not isinstance(v, bool),
          "float": isinstance(v, (int, float)) and not isinstance(v, bool), "str": isinstance(v, str)}[t]
    return None if ok else f"{f.name} must be {'an' if t == 'int' else 'a'} {t}, got {v!r}"


def _range_error(name: str, v) -> str | None:
    lo, hi = RANGES[name]
    if isinstance(v, float) and not math.isfinite(v):
        return f"{name} must be a finite number, got {v}"
    low_ok = v > lo if name in OPEN_LOW else v >= lo
    high_ok = hi is None or (v < hi if name in OPEN_HIGH else v <= hi)
    if low_ok and high_ok:
        return None
    left = "(" if name in OPEN_LOW else "["
    right = "]" if hi is None or name not in OPEN_HIGH else ")"
    return f"{name} must be in {left}{lo}, {'inf)' if hi is None else f'{hi}{right}'}, got {v}"


def check(p: Preset) -> None:
    """Raise ValueError naming the field if the preset cannot train and export: each field's type,
    range and choices, then the rules between fields (loop length, rate and tempo; batch and pack)."""
    for f in fields(Preset):
        v = getattr(p, f.name)
        why = _type_error(f, v)
        if why is None and f.name in RANGES:
            why = _range_error(f.name, v)
        if why is None and f.name in CHOICES and v not in CHOICES[f.name]:
            why = f"{f.name} must be {' or '.join(repr(c) for c in CHOICES[f.name])}, got {v!r}"
        if why:
            raise ValueError(why)
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
    if p.arch == "spectral":
        _check_spectral(p)
    else:
        _check_waveform(p)


REC_FFTS = (2048, 512, 128)  # the spectral reconstruction loss's STFT sizes, longest first
# what only arch "spectral" reads (``anchors`` is set from the data, so it is not here)
SPECTRAL_ONLY = ("hop", "n_fft", "d_ffts", "d_width", "anchor_temp", "rec_weight", "rec_only_steps", "anchor_sigma",
                 "ema", "r1_weight", "r1_every")


def _check_spectral(p: Preset) -> None:
    if p.loop_samples % p.hop:
        raise ValueError(f"hop={p.hop} must divide loop_samples={p.loop_samples} (G makes whole frames)")
    if p.n_fft % p.hop or p.n_fft < 2 * p.hop:
        raise ValueError(f"n_fft={p.n_fft} must be a multiple of hop={p.hop}, at least twice it (frames overlap)")
    if p.n_fft > p.loop_samples:
        raise ValueError(f"n_fft={p.n_fft} is longer than the loop ({p.loop_samples} samples)")
    if p.kernel % 2 == 0:
        raise ValueError(f"arch 'spectral' needs an odd kernel (same-length circular convs), got {p.kernel}")
    for n in resolutions(p.d_ffts):
        if n > p.loop_samples:
            raise ValueError(f"d_ffts: {n} is longer than the loop ({p.loop_samples} samples)")
    if p.loss != "hinge" or p.pack != 1:
        raise ValueError("arch 'spectral' trains with loss 'hinge' and pack 1")
    if p.anchor_temp > 0 and p.latent_dist != "normal":
        raise ValueError(f"latent_dist {p.latent_dist!r}: the spectral anchors sit where normal z lie (radius "
                         f"sqrt(latent_dim)); use 'normal', or anchor_temp=0 for no anchors")
    if p.rec_weight > 0 and REC_FFTS[0] > p.loop_samples:
        raise ValueError(f"rec_weight: the reconstruction loss's {REC_FFTS[0]}-point STFT is longer than the loop "
                         f"({p.loop_samples} samples); use rec_weight=0")


def resolutions(text: str) -> list[int]:
    """``d_ffts`` text ``"256,1024,2048"`` -> [256, 1024, 2048]; ValueError names a bad entry."""
    out = []
    for part in text.split(","):
        try:
            n = int(part)
        except ValueError:
            raise ValueError(f"d_ffts must be comma-separated FFT sizes, got {text!r}") from None
        if n < 16 or n % 4:
            raise ValueError(f"d_ffts: {n} is not an FFT size (a multiple of 4, at least 16)")
        out.append(n)
    return out


def _check_waveform(p: Preset) -> None:
    if p.loss == "hinge":
        raise ValueError(f"loss 'hinge' is for arch 'spectral'; arch {p.arch!r} trains with 'bce' or 'wgan-gp'")
    for name in SPECTRAL_ONLY:  # set but never read: say so, rather than train without it
        if getattr(p, name) != Preset.__dataclass_fields__[name].default:
            raise ValueError(f"{name} is for arch 'spectral'; arch {p.arch!r} does not use it")
    total = p.stride ** p.n_layers
    if p.loop_samples % total:
        raise ValueError(f"loop_samples={p.loop_samples} is not divisible by stride**n_layers={total}")
    if p.kernel < p.stride - 1:
        raise ValueError(f"kernel={p.kernel} must be at least stride - 1 = {p.stride - 1} (the convs' padding "
                         f"(kernel - stride + 1) // 2 cannot be negative)")
    shortest = p.loop_samples // p.stride ** max(1, p.n_layers - 1)  # D's shortest phase-shuffled length
    if p.phase_shuffle and p.n_layers > 1 and p.phase_shuffle >= shortest:
        raise ValueError(f"phase_shuffle={p.phase_shuffle} must be below {shortest}, the length of D's "
                         f"shortest shuffled layer")
    if p.upsample != "transposed" and p.kernel % 2 == 0:
        raise ValueError(f"upsample={p.upsample!r} needs an odd kernel (same-length convs), got {p.kernel}")
    if (p.loop_samples // total) % p.minibatch_disc_pool:
        raise ValueError(f"minibatch_disc_pool={p.minibatch_disc_pool} must divide D's last length "
                         f"{p.loop_samples // total}")
    if p.batch_size % p.pack:
        raise ValueError(f"pack={p.pack} must divide batch_size={p.batch_size}")

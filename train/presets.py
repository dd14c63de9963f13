"""Training presets: one dataclass, named instances, ``--set key=value`` overrides.

The checkpoint stores ``asdict(preset)``, so a run can always rebuild its
networks from the checkpoint alone (``Preset(**ckpt["preset"])``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields


@dataclass
class Preset:
    name: str = "custom"  # preset name, recorded in the model file
    # --- audio ---
    sample_rate: int = 16384  # Hz the generator works at
    loop_samples: int = 32768  # frames per loop (2 s at 16384 Hz)
    channels: int = 1  # 1 = mix to mono, 2 = keep stereo
    bpm: float = 120.0  # tempo at which loop_samples is `bars` bars
    bars: int = 1  # bars per loop
    beats_per_bar: int = 4  # 4/4
    fit: str = "stretch"  # "stretch": whole file = whole loops; "slice": cut loop-length pieces
    # --- networks ---
    arch: str = "wavegan"  # "dcgan" (paper) or "wavegan"
    latent_dim: int = 100  # size of z
    latent_dist: str = "uniform"  # "uniform" in [-1, 1) or "normal"
    model_dim: int = 8  # base channel count (d); layer widths are multiples of it
    kernel: int = 25  # conv kernel size
    stride: int = 4  # conv stride (upsampling factor per G layer)
    n_layers: int = 5  # conv layers in G and in D
    upsample: str = "transposed"  # G's upsampling: "transposed" convs (paper, WaveGAN) or "nearest" / "linear" + conv
    batchnorm: bool = False  # batch norm in G and D (DCGAN) or none (WaveGAN)
    phase_shuffle: int = 2  # WaveGAN phase shuffle: max shift in samples after each D layer (0 = off)
    joint_batch: bool = False  # D sees real and fake in one batch (one set of batch-norm statistics)
    minibatch_std: bool = False  # append a minibatch-stddev feature before D's last layer (anti mode collapse)
    minibatch_disc: int = 0  # Salimans et al. 2016 minibatch discrimination: number of kernels (0 = off)
    minibatch_disc_dim: int = 5  # dimensions per minibatch-discrimination kernel
    feature_matching: float = 0.0  # weight of the feature-matching term in G's loss (0 = off)
    minibatch_disc_pool: int = 1  # average D's last features over this many positions before minibatch disc
    pack: int = 1  # PacGAN (Lin et al. 2018): D judges this many loops at once, stacked as channels (1 = off)
    # --- objective and optimiser ---
    loss: str = "wgan-gp"  # "bce" (sigmoid + binary cross-entropy) or "wgan-gp"
    real_label: float = 1.0  # BCE target for real loops (0.9 = one-sided label smoothing, Salimans et al. 2016)
    gp_weight: float = 10.0  # gradient-penalty weight (wgan-gp)
    n_critic: int = 5  # D updates per G update
    reuse_fake: bool = False  # G's step reuses the last D step's fake batch (PyTorch DCGAN example): one G pass less
    lr: float = 1e-4  # Adam learning rate (G and D)
    beta1: float = 0.5  # Adam beta1
    beta2: float = 0.9  # Adam beta2
    eps: float = 1e-8  # Adam epsilon
    batch_size: int = 8  # loops per batch and process (with replacement if the data set is smaller)
    # --- loops are circular ---
    shift_augment: bool = True  # roll each real loop by a random whole number of `shift_quantum` steps
    shift_quantum: int = 4  # shifts are multiples of one beat / shift_quantum (4 = a 16th note)
    seam_roll: bool = True  # roll real and fake by the same random amount before D (seam visible to D)
    # --- DiffAugment (Zhao et al. 2020): the same random transforms on real and fake before D ---
    translate: float = 0.0  # roll each loop by its own random amount up to this fraction of a loop (0 = off)
    cutout: float = 0.0  # silence one random stretch of this fraction of each loop (0 = off)
    # --- schedule ---
    steps: int = 20000  # G updates in total
    max_seconds: float = 0.0  # stop after this much training wall time (0 = no limit)
    preview_every: int = 500  # render the fixed validation z every this many steps
    keep_every: int = 10  # keep every this-many-th preview as numbered files (others overwrite latest)
    select_every: int = 0  # score the fixed z's loops against the training loops every this many steps and keep
    #                        the best generator for export: most loops reached, then lowest FD (0 = off: the last)
    checkpoint_every: int = 1000  # save the checkpoint every this many steps
    n_val: int = 100  # fixed validation z drawn at start
    seed: int = 0  # seeds z, data order and init
    threads: int = 2  # torch CPU threads (the build machine has 2 cores)
    cpu_onednn: bool = True  # oneDNN convolutions on CPU (off for the paper: slower for its tiny 1-D convs)
    report: bool = True  # write report.html at the end of training

    @property
    def seconds(self) -> float:
        return self.loop_samples / self.sample_rate


def paper() -> Preset:
    """The paper's DCGAN on raw waveforms, as written.

    2048 Hz x 4096 samples, 100-d uniform z, kernel 5 / stride 2 convs, batch
    norm, LeakyReLU in G and ReLU in D, sigmoid + BCE, Adam(1e-3, 0.9, 0.999,
    1e-8), 100 fixed z previewed every 100 epochs, 50 000 epochs. With the
    paper's 4 loops and batch 4, one step is one epoch.

    Choices the paper leaves open (ours):
    - padding 2 (not the paper's 1) with output_padding 1 in G, so every
      layer exactly halves / doubles the length: 4096 <-> 128 in 5 layers;
    - channels: D 1->2->4->8->16->32 (model_dim=2, doubling per layer),
      G the mirror image (dense 100 -> 32 x 128), so 50 000 steps fit in
      about 15 min on 2 CPU cores (oneDNN off: measured faster for these convs);
    - no batch norm on D's first layer nor on G's output layer (DCGAN
      convention); tanh on G's output so loops lie in (-1, 1);
    - sigmoid + BCE computed as BCE-with-logits (the same function, stable);
    - no circular-shift augmentation and no seam roll (the paper had none).
    """
    return Preset(name="paper", sample_rate=2048, loop_samples=4096, arch="dcgan", latent_dim=100,
                  latent_dist="uniform", model_dim=2, kernel=5, stride=2, n_layers=5, batchnorm=True,
                  phase_shuffle=0, loss="bce", n_critic=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                  batch_size=4, shift_augment=False, seam_roll=False, steps=50000, preview_every=100,
                  keep_every=50, checkpoint_every=5000, cpu_onednn=False, threads=1)


def paper_plus() -> Preset:
    """The paper's DCGAN (same rates, sizes, loss and Adam) with counter-measures for a handful of loops.

    On the paper's 4 loops the faithful preset collapses to one loop of hiss. Added here:
    - DiffAugment (Zhao et al. 2020): each loop D sees, real or fake, rolled by its own random
      amount up to 1/8 loop and one 1/2-loop stretch silenced, so D cannot memorise 4 loops;
    - PacGAN (Lin et al. 2018): D judges pairs of loops. A pair of real loops is two different
      loops of the epoch's permutation; a G that puts every z on one loop shows it in every pair;
    - G upsamples by linear resize + circular same-length conv instead of transposed convs,
      whose checkerboard put ~30 dB too much into the top octave, so no dark loop could be made;
    - one-sided label smoothing (Salimans et al. 2016, real target 0.9): keeps D's loss off 0;
    - 1.5x the paper preset's channels (model_dim 3: D 1 -> 3 -> 6 -> 12 -> 24 -> 48, G the mirror
      image from a dense 100 -> 48 x 128), which spreads G's z over the four loops more evenly;
    - G's step reuses the D step's fake batch (the PyTorch DCGAN example's habit): one G pass less;
    - the exported generator is the best of the 50 scored every 1000 steps (``select_every``: most
      training loops reached by the fixed z, then lowest Fréchet distance), not the last: G wanders
      between the loops and the last step is not always its best.
    Full-length runs on the paper's 4 loops (benchmarks/results/train.md, seventh session), 2 CPU
    cores, two runs side by side: seeds 0-4 and 8: coverage 4/4 on 100 exported loops in 6 of 6,
    no copy, 12.3-13.3 min of training each. At model_dim 2 (9.5-11.6 min): 4/4 in 7 of 9 seeds with
    the selection, 4 of 9 from the last step. Minibatch discrimination (the counter-measure the
    paper names, ``minibatch_disc=16``) in place of the pairs covered no more often at a slower
    step (sixth session).
    """
    return dataclasses.replace(paper(), name="paper-plus", model_dim=3, translate=0.125, cutout=0.5, pack=2,
                               upsample="linear", real_label=0.9, reuse_fake=True, select_every=1000)


def wavegan() -> Preset:
    """WaveGAN (Donahue et al. 2019) sized for a 2-core CPU.

    16384 Hz x 32768 samples (2 s = 1 bar of 4/4 at 120 BPM). G: dense z ->
    (16d, 32), five transposed convs k25/s4 (32 -> 32768), ReLU, tanh. D: five
    convs k25/s4, LeakyReLU(0.2), phase shuffle 2, dense -> 1. WGAN-GP
    (lambda 10, 5 critic steps), Adam(1e-4, 0.5, 0.9).
    Sized for a 2-core CPU: d = 8 and batch 8 (WaveGAN uses d = 64, batch 64);
    measured 1.15 steps/s here, against 0.30 at d = 16, batch 16. On a GPU,
    use e.g. ``--set model_dim=64 --set batch_size=64``.
    Seam-aware: real loops rolled by random 16th notes, real and fake rolled
    by the same random amount before D.
    """
    return Preset(name="wavegan")


PRESETS = {"paper": paper, "paper-plus": paper_plus, "wavegan": wavegan}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]()


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
    "sample_rate": (1000, 384000), "loop_samples": (64, 1 << 24), "channels": (1, 2), "bpm": (10, 1000),
    "bars": (1, 64), "beats_per_bar": (1, 32), "latent_dim": (1, 4096), "model_dim": (1, 4096),
    "kernel": (1, 4096), "stride": (2, 64), "n_layers": (1, 16), "phase_shuffle": (0, None),
    "minibatch_disc": (0, None), "minibatch_disc_dim": (1, None), "minibatch_disc_pool": (1, None),
    "pack": (1, None), "feature_matching": (0, None), "real_label": (0.5, 1.0), "gp_weight": (0, None),
    "n_critic": (1, None), "lr": (0, None), "beta1": (0, 1), "beta2": (0, 1), "eps": (0, None),
    "batch_size": (1, None), "shift_quantum": (1, None), "translate": (0, 1), "cutout": (0, 1),
    "steps": (1, None), "max_seconds": (0, None), "preview_every": (0, None), "keep_every": (0, None),
    "select_every": (0, None), "checkpoint_every": (0, None), "n_val": (1, None), "seed": (0, 2 ** 32 - 1),
    "threads": (1, 4096),
}
OPEN_LOW = {"real_label", "lr", "eps"}
OPEN_HIGH = {"beta1", "beta2", "translate", "cutout"}
CHOICES = {"fit": ("stretch", "slice"), "arch": ("dcgan", "wavegan"), "latent_dist": ("uniform", "normal"),
           "upsample": ("transposed", "nearest", "linear"), "loss": ("bce", "wgan-gp")}


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
                         f"{RANGES['bpm'][0]}-{RANGES['bpm'][1]} BPM a model file may hold")
    if p.shift_augment and p.bars * p.beats_per_bar * p.shift_quantum > p.loop_samples:
        raise ValueError(f"shift_quantum={p.shift_quantum}: {p.bars * p.beats_per_bar * p.shift_quantum} shift "
                         f"positions do not fit in loop_samples={p.loop_samples}")
    if (p.minibatch_std or p.minibatch_disc) and p.batch_size // p.pack < 2:
        raise ValueError(f"batch_size={p.batch_size}: minibatch_std / minibatch_disc compare the loops of a batch, "
                         f"so D needs at least 2 per batch (batch_size / pack >= 2)")
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

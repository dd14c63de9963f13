"""The named training presets: the paper's DCGAN as written, with counter-measures, and WaveGAN.

Each is its architecture's preset class (``train.config.Preset``, ``train.spectral_arch.SpectralPreset``);
``--set key=value`` changes any of its fields (``train.config.apply_overrides``). Importing this module
registers the built-in architectures (``train.archs``).
"""
from __future__ import annotations

import dataclasses

import train.waveform  # noqa: F401  (registers dcgan and wavegan)
from train.config import Preset
from train.spectral_arch import SpectralPreset


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
      G the mirror image (dense 100 -> 32 x 128), small enough for 50 000 steps on
      2 CPU cores (oneDNN off: faster for these convs; benchmarks/results/train.md);
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
      whose checkerboard lands in the top octave, so no dark loop could be made (measured in
      benchmarks/results/train.md, "Why two loops stay uncovered");
    - one-sided label smoothing (Salimans et al. 2016, real target 0.9): keeps D's loss off 0;
    - 1.5x the paper preset's channels (model_dim 3: D 1 -> 3 -> 6 -> 12 -> 24 -> 48, G the mirror
      image from a dense 100 -> 48 x 128), which spreads G's z over the four loops more evenly;
    - G's step reuses the D step's fake batch (the PyTorch DCGAN example's habit): one G pass less;
    - the exported generator is the best of the 50 scored every 1000 steps (``select_every``: most
      training loops reached by the fixed z, then lowest Fréchet distance), not the last: G wanders
      between the loops and the last step is not always its best.
    Measured coverage and run times: benchmarks/results/train.md.
    """
    return dataclasses.replace(paper(), name="paper-plus", model_dim=3, translate=0.125, cutout=0.5, pack=2,
                               upsample="linear", real_label=0.9, reuse_fake=True, select_every=1000)


def wavegan() -> Preset:
    """WaveGAN (Donahue et al. 2019) sized for a 2-core CPU.

    16384 Hz x 32768 samples (2 s = 1 bar of 4/4 at 120 BPM). G: dense z ->
    (16d, 32), five transposed convs k25/s4 (32 -> 32768), ReLU, tanh. D: five
    convs k25/s4, LeakyReLU(0.2), phase shuffle 2, dense -> 1. WGAN-GP
    (lambda 10, 5 critic steps), Adam(1e-4, 0.5, 0.9).
    Sized for a 2-core CPU: d = 8 and batch 8 (WaveGAN uses d = 64, batch 64;
    speeds in benchmarks/results/train.md). On a GPU, use e.g. ``--set model_dim=64 --set batch_size=64``.
    Seam-aware: real loops rolled by random 16th notes, real and fake rolled
    by the same random amount before D.
    """
    return Preset(name="wavegan")


def spectral() -> Preset:
    """The default: clean, full-band 44.1 kHz stereo loops after minutes of CPU training.

    44100 Hz x 88200 samples (2 s = 1 bar at 120 BPM), stereo. G (``train.spectral``): 64-d z -> a dense
    (model_dim x 200 frames) timeline, ``n_layers`` circular ConvNeXt blocks, a head giving log-magnitude
    and a phase vector of 442 bins per frame and channel (log-magnitudes start at the training loops'
    mean spectrum), circular iSTFT (hop 441, n_fft 882): no transposed-conv checkerboard, no sample
    produced one by one. D: log-magnitude spectra at 256, 1024 and 2048 points
    (short windows for transients, long for bass) on random circular rolls, hinge loss with lazy R1.
    Coverage: each training loop has a latent anchor (k-means centres of the prior, at its typical
    radius); G learns each loop at its anchor with a multi-resolution STFT loss first, then adversarially
    everywhere; random z between anchors give new loops. The exported G is the moving average.
    Choices and their measured effect: benchmarks/results/sound.md.
    """
    return SpectralPreset(name="spectral", sample_rate=44100, loop_samples=88200, channels=2, arch="spectral",
                  latent_dim=64, latent_dist="normal", model_dim=64, kernel=7, n_layers=3, phase_shuffle=0,
                  loss="hinge", n_critic=1, lr=1e-3, beta1=0.8, beta2=0.99, batch_size=4, shift_augment=False,
                  seam_roll=False, rec_weight=10.0, rec_only_steps=300, anchor_sigma=0.5, ema=0.995,
                  r1_weight=0.1, r1_every=8, steps=100000, preview_every=200, select_every=200,
                  checkpoint_every=200)


PRESETS = {"spectral": spectral, "paper": paper, "paper-plus": paper_plus, "wavegan": wavegan}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]()

"""The tiny model's shape and metadata that tests, benchmarks and the fault models share: 16384 Hz,
32768 samples (1 bar of 4/4 at 120 BPM), mono, latent 8, four directions along the first axes, and a stand-in
generator of that shape."""
from __future__ import annotations

TINY = dict(sample_rate=16384, loop_samples=32768, channels=1, latent_dim=8, n_directions=4)


def tiny_meta(**over) -> dict:
    """A ``livegan.json`` dict for the tiny shape; ``over`` replaces fields."""
    import numpy as np

    k, d = TINY["n_directions"], TINY["latent_dim"]
    meta = dict(name="tiny-sines", sample_rate=TINY["sample_rate"], loop_samples=TINY["loop_samples"],
                channels=TINY["channels"], latent_dim=d, latent_dist="uniform", bpm=120.0, bars=1,
                beats_per_bar=4, directions=np.eye(k, d).tolist(), sigmas=[0.577] * k,
                training={"preset": "test-fixture"})
    meta.update(over)
    return meta


def make_tiny_generator():
    """A deterministic, differentiable stand-in generator: z picks pitches and levels of sines.

    Every partial has a whole number of cycles per loop, so the loop is seamless.
    """
    import torch

    class TinyGen(torch.nn.Module):
        def __init__(self, latent_dim: int, n: int):
            super().__init__()
            self.register_buffer("t", torch.arange(n, dtype=torch.float32) / n)  # (N,) loop phase
            self.register_buffer("base", torch.tensor([110.0, 220.0, 330.0, 440.0]))  # cycles per loop

        def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, 1, N)
            cycles = torch.round(self.base[None, :] * (1.0 + 0.25 * z[:, :4]))  # (B, 4)
            amp = 0.2 + 0.05 * z[:, 4:8]  # (B, 4), in [0.15, 0.25] for z in [-1, 1]
            ph = 2.0 * torch.pi * cycles[:, :, None] * self.t[None, None, :]  # (B, 4, N)
            y = (amp[:, :, None] * torch.sin(ph)).sum(dim=1, keepdim=True)  # (B, 1, N)
            return torch.clamp(y, -1.0, 1.0)

    return TinyGen(TINY["latent_dim"], TINY["loop_samples"])


def make_quiet_generator(level: float):
    """The tiny generator's loops at ``level`` times their level: another model of the same shape (a hot
    swap's second model in the tests)."""
    import torch

    class QuietGen(torch.nn.Module):
        def __init__(self, n: int, level: float):
            super().__init__()
            self.register_buffer("t", torch.arange(n, dtype=torch.float32) / n)
            self.register_buffer("base", torch.tensor([110.0, 220.0, 330.0, 440.0]))
            self.register_buffer("level", torch.tensor(float(level)))

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            cycles = torch.round(self.base[None, :] * (1.0 + 0.25 * z[:, :4]))
            amp = self.level * (0.2 + 0.05 * z[:, 4:8])
            ph = 2.0 * torch.pi * cycles[:, :, None] * self.t[None, None, :]
            return torch.clamp((amp[:, :, None] * torch.sin(ph)).sum(dim=1, keepdim=True), -1.0, 1.0)

    return QuietGen(TINY["loop_samples"], level)


def tiny_knobs(names=("brightness", "weight"), latent_dim: int = TINY["latent_dim"], seed: int = 1) -> list:
    """A ``knobs`` list for ``tiny_meta(knobs=...)``: named knobs along random unit vectors (seeded),
    knob i with sigma 0.3 + 0.2 i, so a test can tell them apart; no fit is run."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for i, name in enumerate(names):
        v = rng.standard_normal(latent_dim)
        out.append(dict(name=name, direction=(v / np.linalg.norm(v)).tolist(), sigma=0.3 + 0.2 * i,
                        spearman=0.9, crosstalk=0.1))
    return out

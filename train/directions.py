"""GANSpace-style latent directions (Härkönen et al. 2020), for the knobs on stage.

PCA of the generator's early activations (the dense layer's output) over many
z gives the directions along which the generator's output varies most; they
are mapped back to z by regressing z on the PCA coordinates, so each
direction is a vector in z space. Strongest (most activation variance) first.
``livegan wrap`` uses the same regression on a third-party decoder's outputs
(``pca_directions``), where no early layer is known.
"""
from __future__ import annotations

import numpy as np
import torch


class NonFiniteOutput(ValueError):
    """A model whose output (or activations) hold NaN or Inf: nothing to play, no directions to find."""


def prior_z(n: int, latent_dim: int, latent_dist: str, seed: int = 0) -> torch.Tensor:
    """(n, latent_dim) float32 from the prior, reproducibly from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    if latent_dist == "uniform":
        return torch.rand(n, latent_dim, generator=gen) * 2 - 1  # (n, D)
    return torch.randn(n, latent_dim, generator=gen)


def pca_directions(z: torch.Tensor, h: torch.Tensor, k: int, seed: int = 0):
    """z (n, D) and features h (n, F) of what each z made -> (directions (K, D) unit rows, sigmas (K,)).

    Rows are the z-space directions of the top-K principal components of h, strongest first; sigmas are
    the spread of ``z`` along each. K <= min(k, D, n - 1).
    """
    if not torch.isfinite(h).all():  # the SVD below would fail with LinAlgError
        raise NonFiniteOutput("the model gives non-finite output (NaN or Inf), so it has no knob directions")
    h = h - h.mean(0)
    k = int(min(k, z.shape[1], z.shape[0] - 1))
    torch.manual_seed(seed)  # pca_lowrank is randomised
    _, _, v = torch.pca_lowrank(h, q=min(k + 10, *h.shape), center=False, niter=6)  # (F, q), strongest first
    x = (h @ v[:, :k]).double().numpy()  # (n, K) PCA coordinates
    zc = z.double().numpy() - z.double().numpy().mean(0)
    u, *_ = np.linalg.lstsq(x, zc, rcond=None)  # (K, D): z ~ x @ u, row k is direction k in z
    norms = np.linalg.norm(u, axis=1, keepdims=True)
    dirs = u / np.maximum(norms, 1e-12)
    sigmas = (zc @ dirs.T).std(0)  # (K,) spread of the prior along each direction
    return dirs.astype(np.float32), np.maximum(sigmas, 1e-6).astype(np.float32)


@torch.no_grad()
def ganspace(g, latent_dim: int, latent_dist: str, k: int = 16, n: int = 2048, seed: int = 0):
    """-> (directions (K, latent_dim) unit rows, sigmas (K,) std of the prior's z along each).

    ``g`` has ``head(z) -> (B, C, L0)``; K <= latent_dim.
    """
    z = prior_z(n, latent_dim, latent_dist, seed)
    g.eval()
    h = torch.cat([g.head(z[i:i + 512]).flatten(1) for i in range(0, n, 512)])  # (n, F)
    return pca_directions(z, h, k, seed)

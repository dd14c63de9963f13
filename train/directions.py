"""GANSpace-style latent directions (Härkönen et al. 2020), for the knobs on stage.

PCA of the generator's early activations (the dense layer's output) over many
z gives the directions along which the generator's output varies most; they
are mapped back to z by regressing z on the PCA coordinates, so each
direction is a vector in z space. Strongest (most activation variance) first.
"""
from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def ganspace(g, latent_dim: int, latent_dist: str, k: int = 16, n: int = 2048, seed: int = 0):
    """-> (directions (K, latent_dim) unit rows, sigmas (K,) std of the prior's z along each).

    ``g`` has ``head(z) -> (B, C, L0)``; K <= latent_dim.
    """
    gen = torch.Generator().manual_seed(seed)
    if latent_dist == "uniform":
        z = torch.rand(n, latent_dim, generator=gen) * 2 - 1  # (n, D)
    else:
        z = torch.randn(n, latent_dim, generator=gen)
    g.eval()
    h = torch.cat([g.head(z[i:i + 512]).flatten(1) for i in range(0, n, 512)])  # (n, F)
    h = h - h.mean(0)
    k = int(min(k, latent_dim, n - 1))
    torch.manual_seed(seed)  # pca_lowrank is randomised
    _, _, v = torch.pca_lowrank(h, q=min(k + 10, *h.shape), center=False, niter=6)  # (F, q), strongest first
    x = (h @ v[:, :k]).double().numpy()  # (n, K) PCA coordinates
    zc = z.double().numpy() - z.double().numpy().mean(0)
    u, *_ = np.linalg.lstsq(x, zc, rcond=None)  # (K, D): z ~ x @ u, row k is direction k in z
    norms = np.linalg.norm(u, axis=1, keepdims=True)
    dirs = u / np.maximum(norms, 1e-12)
    sigmas = (zc @ dirs.T).std(0)  # (K,) spread of the prior along each direction
    return dirs.astype(np.float32), np.maximum(sigmas, 1e-6).astype(np.float32)

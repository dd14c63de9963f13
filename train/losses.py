"""GAN objectives: sigmoid + BCE (the paper's), WGAN-GP (WaveGAN's), hinge (the spectral preset's), feature matching.

All take D outputs as raw logits / critic scores of shape (B,).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def bce_d(real_logit: torch.Tensor, fake_logit: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): sigmoid + BCE, computed from logits for stability.

    ``real_label`` < 1 is one-sided label smoothing (Salimans et al. 2016, section 3.4): D's loss is
    lowest where it says real loops are real with that probability, not with certainty, so its
    logits cannot run off to infinity and leave G without a gradient."""
    return (F.binary_cross_entropy_with_logits(real_logit, torch.full_like(real_logit, real_label))
            + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))


def bce_g(fake_logit: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss: -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))


def wgan_d(real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    return fake_score.mean() - real_score.mean()


def wgan_g(fake_score: torch.Tensor) -> torch.Tensor:
    return -fake_score.mean()


def gradient_penalty(d, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates of real and fake. (B, C, L) each.

    With a packing D (B / k scores for B loops) the norm is taken per score, over its k loops."""
    eps = torch.rand(real.shape[0], 1, 1, device=real.device)  # (B, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score = d(x_hat)  # (B / k,)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)  # (B, C, L)
    return ((grad.reshape(score.shape[0], -1).norm(dim=1) - 1.0) ** 2).mean()


def feature_matching(real_feats: torch.Tensor, fake_feats: torch.Tensor) -> torch.Tensor:
    """Salimans et al. 2016: match the mean of D's last features on real and fake. (B, F) each."""
    return F.mse_loss(fake_feats.mean(0), real_feats.detach().mean(0))


def hinge_d(real_logit: torch.Tensor, fake_logit: torch.Tensor) -> torch.Tensor:
    """Hinge loss of D (Lim & Ye 2017; Miyato et al. 2018): mean relu(1 - real) + mean relu(1 + fake)."""
    return F.relu(1.0 - real_logit).mean() + F.relu(1.0 + fake_logit).mean()


def hinge_g(fake_logit: torch.Tensor) -> torch.Tensor:
    """G's hinge loss: raise D's score of its loops, unclipped (Lim & Ye 2017)."""
    return -fake_logit.mean()

"""One training step of the spectral preset: the hinge D step on randomly rolled loops, then one G step
that learns each training loop at its latent anchor (multi-resolution STFT loss) and fools D from random z.

For its first ``rec_only_steps`` G learns the anchors alone (RAVE's two stages in miniature: a
reconstruction that already sounds clean, then adversarial fine-tuning that makes the space between
anchors sound like loops too). The exported generator is the moving average of G (``ema``).
"""
from __future__ import annotations

import torch

from train import losses
from train.step import TrainState, frozen, sample_z


def roll_each(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(B, C, L) -> each loop rolled by its own random number of samples: D judges the seam wherever it lands."""
    b, _, length = x.shape
    shift = torch.randint(0, length, (b, 1, 1), generator=gen).to(x.device)
    idx = (torch.arange(length, device=x.device).view(1, 1, length) - shift) % length
    return torch.gather(x, 2, idx.expand_as(x))


@torch.no_grad()
def update_ema(s: TrainState) -> None:
    """The moving average after this step; its decay ramps up to ``ema`` over the first steps, so the
    average of a short run is not mostly G's random start."""
    if s.g_ema is None:
        return
    decay = min(s.p.ema, (1.0 + s.step) / (10.0 + s.step))
    torch._foreach_lerp_(list(s.g_ema.parameters()), list(s.g_plain.parameters()), 1.0 - decay)


def spectral_step(s: TrainState, batches) -> dict:
    """One D update (once adversarial) and one G update. ``batches.indexed()`` gives (real (B, C, L), loop indices)."""
    p, gen = s.p, s.gen
    real, idx = batches.indexed()
    real = real.to(s.device)
    b = real.shape[0]
    adversarial = s.step >= p.rec_only_steps
    loss_d = torch.zeros(())
    if adversarial:
        with torch.no_grad():
            fake = s.g(sample_z(p, b, gen).to(s.device))
        shown = roll_each(real, gen)
        if p.r1_weight > 0 and s.step % p.r1_every == 0:  # lazy R1: every r1_every steps, scaled by it
            real_logit, r1 = s.d(shown, r1=True)
            loss_d = losses.hinge_d(real_logit, s.d(roll_each(fake, gen))) + 0.5 * p.r1_weight * p.r1_every * r1
        else:
            loss_d = losses.hinge_d(s.d(shown), s.d(roll_each(fake, gen)))
        s.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        s.opt_d.step()

    z_anchor = s.anchors[idx] + p.anchor_sigma * torch.randn(b, p.latent_dim, generator=gen)
    z = torch.cat([z_anchor, sample_z(p, b, gen)]) if adversarial else z_anchor
    out = s.g(z.to(s.device))
    rec = s.rec_loss(out[:b], real)
    loss_g = p.rec_weight * rec
    if adversarial:
        with frozen(s.d_plain) as d:
            loss_g = loss_g + losses.hinge_g(d(roll_each(out[b:], gen)))
    s.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    s.opt_g.step()
    update_ema(s)
    s.step += 1
    return {"loss_d": float(loss_d.item()), "loss_g": float(loss_g.item()), "rec": float(rec.item())}

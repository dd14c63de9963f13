"""The identity patch, and a performance wired through it, for tests and benchmarks whose
automation speaks in directions: CC n moves direction n, note n picks seed n. Thread: main."""
from __future__ import annotations

from livegan.control.patch import Knob, Patch


def identity_patch(meta, range_sigmas: float = 2.0) -> Patch:
    """A patch with one knob per latent direction of ``meta`` (CC n -> direction n, +-``range_sigmas``
    at full travel, jump takeover: the value follows the knob at once), every note a seed note (note n
    -> ``livegan.model.seed_z(n)``), no effects; the engine's defaults for tempo, quantize and crossfade."""
    n = int(meta.directions.shape[0])
    return Patch(name="identity", path="<identity patch>", takeover="jump",
                 knobs=[Knob(cc=k, direction=k, range=(-range_sigmas, range_sigmas)) for k in range(n)],
                 seed_notes=list(range(128)))


def identity_parts(meta, rate: int = 48000, channels: int = 2, tempo: float | None = None, **kw):
    """``livegan.performance.build`` through ``identity_patch(meta)`` (at ``tempo``; None: the
    model's); ``kw`` as ``build`` takes them (quantize, crossfade_ms, seed, record_ring_frames)."""
    from livegan.performance import build

    patch = identity_patch(meta)
    patch.tempo = tempo
    return build(meta, patch, rate, channels, **kw)


def identity_controls(meta):
    """``EngineControls`` through ``identity_patch(meta)``, bound to no engine (each change applies at
    once): for a test that builds an ``Engine`` itself (a custom ``fx``, loops published by hand)."""
    from livegan.control.admission import EngineControls, controller_for

    return EngineControls(controller_for(identity_patch(meta), meta)[0])

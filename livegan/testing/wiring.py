"""The identity patch, and a performance wired through it, for tests and benchmarks whose
automation speaks in directions: CC n moves direction n, note n picks seed n; a show stepped by hand
(``live_show``), and two of them side by side, one hearing OSC and one the MIDI it mirrors
(``osc_beside_midi``). Thread: main."""
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


class Steps:
    """A control source that gives one prepared batch per poll."""

    def __init__(self, batches):
        self.batches = list(batches)

    def poll(self):
        return self.batches.pop(0) if self.batches else []


def live_show(meta, patch, sources):
    """(parts, its PerfLog, a LiveControl polling ``sources``): a silent loop playing from frame 0, no effects."""
    import numpy as np

    from livegan.control.live import LiveControl
    from livegan.io.perflog import PerfLog
    from livegan.performance import build

    parts = build(meta, patch, 48000, 2, fx=False)
    parts.engine.publish_loop(np.zeros((1, meta.loop_samples), np.float32), 0)
    log = PerfLog(48000)
    return parts, log, LiveControl(parts.controls, parts.engine, sources=sources, perflog=log)


def osc_beside_midi(meta, patch, osc, midi, tail: int, **configure):
    """Two shows of ``meta`` through ``patch`` stepped together, one 256-frame block per batch: one hears
    the OSC batches ``osc`` ([[(address, args)]]; its ``OscSource`` configured with ``configure``), the
    other the MIDI batches ``midi``; ``tail`` empty steps after. -> (OscSource, the OSC show's parts, its log,
    the MIDI show's parts, its log)."""
    import numpy as np

    from livegan.control.osc import OscSource
    from livegan.testing.osc_sender import message

    src = OscSource()
    a, log_a, live_a = live_show(meta, patch, [src])
    src.configure(a.patch, **configure)
    b, log_b, live_b = live_show(meta, patch, [Steps(midi)])
    out = np.zeros((256, 2), np.float32)
    for batch in list(osc) + [[]] * tail:
        for address, args in batch:
            src.receive(message(address, args))
        live_a.step()
        live_b.step()
        a.engine.process(out)
        b.engine.process(out)
    live_a.flush()
    live_b.flush()
    return src, a, log_a, b, log_b

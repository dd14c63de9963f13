"""A performance's parts, wired once: model meta + patch + output rate and channels -> engine, controls, fx.

``build`` is what ``perform``, ``render``, ``demo``, the benchmarks and the tests use, so the
controls that play live are the controls that re-render. Thread: main, before the engine runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from livegan.audio.engine import Engine
from livegan.control.admission import EngineControls, controller_for
from livegan.control.patch import Patch


@dataclass
class Parts:
    """What ``build`` wires: the engine, its controls (a patch's Controller, bound to the engine),
    the patch's effects chain (None: no effects, or effects off) and the patch as checked against
    the model, with a warning per knob the model has no direction for."""

    engine: Engine
    controls: EngineControls
    fx: object | None  # livegan.audio.fx.FxChain
    patch: Patch
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Stop the effects chain's server (after the stream has stopped). Main thread."""
        if self.fx is not None:
            self.fx.close()


def build(meta, patch: Patch, rate: int, channels: int, *, fx: bool = True, seed: int = 0,
          quantize: str | None = None, crossfade_ms: float | None = None, record_ring_frames: int = 0,
          take_ring_frames: int = 0, arena=None, remote_fx: bool = False, named: int | None = None) -> Parts:
    """Wire ``meta`` (a model's ``ModelMeta``) played through ``patch`` at ``rate`` Hz on ``channels``.

    The engine starts at the patch's tempo (None: the model's), quantize and crossfade unless
    ``quantize``/``crossfade_ms`` say otherwise. The effects chain (``fx``: on unless False) runs in
    FIFO mode (any block length); its delay starts at that tempo. ``seed`` is the first base z's
    (``livegan.model.seed_z``). ``record_ring_frames``: a ring the engine copies each block into
    (the meter's), ``take_ring_frames``: the ring a take's recorder drains. ``arena``: where the
    real-time state lives (``livegan.audio.arena``; shared with the audio process). ``remote_fx``:
    no chain here, the audio process builds the patch's (``livegan.audio.host``). ``named``: how many
    of the model's named knobs the generic patch plays first (None: all, as a show does; a render
    takes its log's ``livegan.offline.named_in_log``)."""
    from livegan.control.named import generic_for_model
    from livegan.control.patch import missing_name

    n, names = int(meta.directions.shape[0]), tuple(k.name for k in meta.knobs)
    played = generic_for_model(patch, names[:named])  # as controller_for maps it: for the warnings
    dropped = [k for k in played.knobs if k.direction is not None and k.direction >= n]
    controller, patch, _ = controller_for(patch, meta, seed=seed, named=named)
    warnings = [f"{patch.path}: the knobs on CC {', '.join(str(k.cc) for k in dropped)} move directions "
                f"{', '.join(str(k.direction + 1) for k in dropped)} but the model has {n}; they are ignored"
                ] if dropped else []
    warnings += [missing_name(patch.path, i, k, names) for i, k in enumerate(played.knobs)
                 if k.direction_name is not None and k.direction_name not in names]
    chain = None
    if fx and patch.effects and not remote_fx:
        from livegan.audio.fx import FxChain

        chain = FxChain(patch.effects, rate, channels, bpm=float(patch.tempo or meta.bpm))
    controls = EngineControls(controller, chain, arena=arena, remote_fx=remote_fx and fx and bool(patch.effects))
    engine = Engine(meta, controls, sample_rate=rate, channels=channels,
                    quantize=patch.quantize if quantize is None else quantize,
                    crossfade_ms=patch.crossfade_ms if crossfade_ms is None else crossfade_ms,
                    tempo=patch.tempo, fx=chain, record_ring_frames=record_ring_frames,
                    take_ring_frames=take_ring_frames, arena=arena)
    controls.bind(engine)
    return Parts(engine, controls, chain, patch, warnings)


def open_live(meta, patch: Patch, rate: int, channels: int, device: int, blocksize: int, latency="low",
              audio: str = "process", **kw):
    """``build``'s parts and the output that plays them (not started): -> (parts, output, arena).

    ``audio`` "process": the parts on a shared arena (``livegan.audio.arena``) and an
    ``livegan.audio.host.AudioProcess`` whose callback, engine and effects chain run in a process
    of their own; "thread": an ``AudioOutput`` in this process (``--debug-audio-thread``; arena None). ``kw``
    as ``build`` takes them. Whatever was made is closed again if opening fails (one ``CLIError``
    line for a device problem). Main thread.
    """
    from livegan.audio.engine import warm_up
    from livegan.audio.output import AudioOutput

    if audio == "thread":
        parts = build(meta, patch, rate, channels, **kw)
        out = AudioOutput(parts.engine, device=device, samplerate=rate, blocksize=blocksize, latency=latency,
                          channels=channels)
        warm_up(meta.channels, channels)
        return parts, out, None
    from livegan.audio.arena import Arena
    from livegan.audio.host import AudioProcess

    arena = Arena(shared=True)
    try:
        parts = build(meta, patch, rate, channels, arena=arena, remote_fx=True, **kw)
        out = AudioProcess(parts, arena, device, rate, blocksize, latency, channels, effects_on=kw.get("fx", True))
    except BaseException:
        arena.close()
        raise
    from livegan.audio.output import release_portaudio

    release_portaudio()  # the audio process holds the stream; this process's idle JACK client goes
    return parts, out, arena

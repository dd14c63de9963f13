"""``livegan render``: drive ``Engine.process`` with a virtual clock and MIDI automation.

The same engine as on stage, with two differences that make it
deterministic: generation is synchronous (the loop for boundary G is made at
exactly frame(G) - ``lead`` with the control state of that frame), and blocks
are split at every automation event and every scheduler decision, so events
land on their exact frame whatever the block size. Same automation, same
model, same output, bit for bit.

The CLI plays the automation through a patch (``--patch``, default the
generic patch): CCs and notes go to ``livegan.control.controller.Controller`` (knobs ->
directions in sigmas with pick-up takeover, seed notes, snapshot pads, morph,
buttons, effect parameters), the patch's effects chain runs as the engine's
``fx`` hook (``FxChain`` in FIFO mode: any block length, a constant latency of
128 frames), and ``livegan tempo X`` markers of a performance log become
``engine.set_tempo(X)`` (and the delay's tempo) at their frame. Start / stop /
continue markers are read but change nothing: the engine's transport always
runs. ``render()`` itself, called with no ``apply``, keeps the engine's own
mapping (CC n -> direction n, note -> seed).

Thread: main only.
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np

from livegan.errors import CLIError
from livegan.audio.engine import Engine, start_tempo_problem
from livegan.model import GenerationFault, fault_text
from livegan.generate.scheduler import Scheduler, generate_loop

RENDER_LEAD_S = 0.1  # generation decision this long before each boundary (virtual clock)


class Msg:
    """A minimal MIDI message for automation built in code (mido messages work too)."""

    def __init__(self, type, **kw):
        self.type = type
        self.__dict__.update(kw)


def read_automation(path, sample_rate: int):
    """Standard MIDI file -> [(frame, mido message)] for CCs, notes, tempo markers and
    start/stop/continue, in time order: a ``livegan.io.perflog.LogEvents`` sequence (arrays, each
    message made when asked for, so memory stays bounded for any number of events).
    Every problem with the file is one CLIError line naming it."""
    from livegan.io.perflog import read_log_events
    from livegan.io.smf import MidiFileError

    if os.path.isdir(path):
        raise CLIError(f"automation file {path}: is a folder, not a MIDI file")
    if not os.path.isfile(path):
        raise CLIError(f"automation file {path}: no such file")
    try:
        return read_log_events(path, sample_rate)
    except MidiFileError as e:
        raise CLIError(f"automation file {path}: {e}") from None
    except OSError as e:
        raise CLIError(f"automation file {path}: cannot read it ({e.strerror or e})") from None


def take_start(events) -> int:
    """The frame a take's recording starts at (a ``livegan take FRAME`` marker), else 0."""
    from livegan.io.perflog import marker_take

    if hasattr(events, "status"):  # a LogEvents: look at its markers only
        rows = (events[int(i)] for i in np.flatnonzero(events.status == 0xFF))
    else:
        rows = iter(events)
    return next((f for f in (marker_take(m) for _, m in rows) if f is not None), 0)


def _check_output_size(path: str, ext: str, frames: int, channels: int) -> None:
    """A float WAV's size is known: refuse one that a WAV cannot hold or the disk cannot take."""
    import shutil

    if ext != ".wav":
        return  # FLAC's compressed size is unknown: a full disk is reported when it happens
    need = frames * channels * 4 + 4096
    if need >= 1 << 32:
        raise CLIError(f"output {path}: {need / 2**30:.1f} GiB is more than a WAV file holds (4 GiB): "
                       "write a .flac or render fewer --seconds")
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    if need > free:
        raise CLIError(f"output {path}: needs {need / 2**20:.0f} MiB, the disk has {free / 2**20:.0f} MiB free")


def patch_controls(patch, meta, sample_rate: int, channels: int, fx: bool = True, seed: int = 0):
    """(EngineControls, FxChain or None, warnings) for playing ``meta`` through ``patch``.

    The chain runs in FIFO mode (any block length); its delay starts at the
    patch's tempo (or the model's). Thread: main, before the engine starts.
    """
    from livegan.control.admission import EngineControls, controller_for

    n = int(meta.directions.shape[0])
    dropped = [k for k in patch.knobs if k.direction is not None and k.direction >= n]
    controller, patch, _ = controller_for(patch, meta, seed=seed)
    warnings = [f"{patch.path}: the knobs on CC {', '.join(str(k.cc) for k in dropped)} move directions "
                f"{', '.join(str(k.direction + 1) for k in dropped)} but the model has {n}; they are ignored"
                ] if dropped else []
    chain = None
    if fx and patch.effects:
        from livegan.audio.fx import FxChain

        chain = FxChain(patch.effects, sample_rate, channels, bpm=float(patch.tempo or meta.bpm), fifo=True)
    return EngineControls(controller, chain), chain, warnings


def controls_apply(ec):
    """apply(engine, msg) for ``render``: the message goes through the patch's Controller."""
    return lambda engine, msg: ec.message(msg)


def render(model, events, total_frames: int, sample_rate: int = 48000, channels: int = 2,
           blocksize: int = 256, quantize: str = "bar", crossfade_ms: float = 40.0, tempo=None,
           fx=None, sink=None, apply=None, lead_frames: int | None = None, engine_kw=None, warn=None):
    """Render ``total_frames``; returns (engine, audio (frames, channels) float32 or None with a sink).

    ``model`` has ``.meta`` and ``.generate(z)``; ``events`` is [(frame, msg)].
    ``sink(block)`` receives each block (a view: copy it to keep it).

    As on stage, a generation that fails (raises, or a loop that is not finite, of the wrong shape
    or dtype) is counted in ``engine.faults`` and the loop before it plays on; the same model and
    automation fail the same way, so the render stays deterministic. Only the first loop must
    succeed (else ``GenerationFault``). A tempo marker faster than the model can be read at this
    rate is held at ``engine.max_tempo``. ``warn(text)`` hears each distinct fault and hold once.
    """
    from livegan.io.perflog import marker_bpm, marker_transport

    meta = model.meta
    engine = Engine(meta, sample_rate=sample_rate, channels=channels, quantize=quantize,
                    crossfade_ms=crossfade_ms, tempo=tempo, fx=fx, **(engine_kw or {}))
    if fx is not None and hasattr(fx, "set_tempo"):
        fx.set_tempo(engine.transport.tempo)
    if hasattr(engine.controls, "frame_fn"):
        engine.controls.frame_fn = lambda: engine.transport.frame
    lead = int(RENDER_LEAD_S * sample_rate) if lead_frames is None else int(lead_frames)
    sched = Scheduler(engine, lead)
    apply_msg = apply or (lambda e, m: e.control(m))

    def apply(e, m):
        bpm = marker_bpm(m)
        tr = marker_transport(m)
        if bpm is not None:  # a performance's tempo change, at its frame
            if e.clamp_tempo(bpm) != bpm and warn is not None and not said_tempo:
                said_tempo.append(bpm)
                warn(f"tempo marker {bpm:g} BPM is beyond what this model plays at {sample_rate} Hz: "
                     f"held at {e.clamp_tempo(bpm):g} BPM")
            bpm = e.clamp_tempo(bpm)
            e.set_tempo(bpm)
            if fx is not None and hasattr(fx, "set_tempo"):
                fx.set_tempo(bpm)
        elif tr is not None and tr[0] == "locate":  # an external clock moved the beat grid
            e.locate(tr[1], tr[2])
        elif tr is not None:
            e.set_running(tr[1])
        elif m.type in ("control_change", "note_on", "note_off"):
            apply_msg(e, m)
    buf = np.zeros((max(1, blocksize), channels), np.float32)
    audio = None if sink is not None else np.zeros((total_frames, channels), np.float32)
    ev_frames = getattr(events, "frames", None)  # a LogEvents: already in time order, messages made on demand
    if ev_frames is None:
        events = sorted(events, key=lambda fe: fe[0])
        ev_frames = [f for f, _ in events]
    n_ev = len(events)

    said_tempo = []

    def gen_and_publish(target):
        snap = engine.controls.snapshot()
        sched.done_seq = snap[0]  # a failed generation is retried at the next control change, as live
        try:
            loop = generate_loop(model, engine, snap)
            engine.record_gen_time(0.0)
            engine.publish_loop(loop, target, wait=lambda: engine.process(buf[:0]))
        except Exception as ex:
            if target == 0 and engine.bank.loop_id.max() < 0:
                raise GenerationFault(f"the first loop failed ({fault_text(ex)})") from None
            n = len(engine.faults.texts)
            engine.faults.add(fault_text(ex))
            if warn is not None and len(engine.faults.texts) > n:
                warn(f"a generation failed, the loop before it plays on: {engine.faults.last}")

    ei = 0
    while ei < n_ev and ev_frames[ei] <= 0:
        apply(engine, events[ei][1])
        ei += 1
    engine.process(buf[:0])  # admit them at frame 0
    gen_and_publish(0)  # the first loop starts on frame 0 (faded in)
    frame = 0
    while frame < total_frames:
        applied = False
        while ei < n_ev and ev_frames[ei] <= frame:
            apply(engine, events[ei][1])
            ei += 1
            applied = True
        if applied:
            engine.process(buf[:0])  # admit them at this frame, as the live callback's next block does
        g = sched.poll(frame)
        if g is not None:
            gen_and_publish(g)
            continue
        n = min(blocksize, total_frames - frame)
        if ei < n_ev:
            n = min(n, int(ev_frames[ei]) - frame)
        if sched.next_frame is not None:
            n = min(n, sched.next_frame - frame)
        block = buf[:n]
        engine.process(block)
        if sink is not None:
            sink(block)
        else:
            audio[frame:frame + n] = block
        frame += n
    return engine, audio


def cli_render(args) -> int:
    import soundfile as sf

    from livegan.cli import RENDER_MAX_SECONDS
    from livegan.io.files import check_writable
    from livegan.model import SAMPLERATE_RANGE
    from livegan.model import default_model_path, load_model

    model_path = args.model or default_model_path()
    if args.model is None and not os.path.isfile(model_path):
        raise CLIError("no built-in model is installed yet: pass --model FILE.ts")
    if not (math.isfinite(args.seconds) and 0 < args.seconds <= RENDER_MAX_SECONDS):
        raise CLIError(f"--seconds must be in (0, {RENDER_MAX_SECONDS:g}], got {args.seconds}")
    if args.blocksize < 1:
        raise CLIError(f"--blocksize must be >= 1, got {args.blocksize}")
    if not SAMPLERATE_RANGE[0] <= args.samplerate <= SAMPLERATE_RANGE[1]:
        raise CLIError(f"--samplerate must be in {list(SAMPLERATE_RANGE)}, got {args.samplerate}")
    ext = os.path.splitext(args.output)[1].lower()
    if ext not in (".wav", ".flac"):
        raise CLIError(f"output {args.output}: use a .wav or .flac file name")
    check_writable(args.output, "output")
    from livegan.control.patch import default_patch_path, load_patch

    patch = load_patch(args.patch or default_patch_path())
    from livegan.io.journal import automation_events

    events = automation_events(args.automation, args.samplerate)  # a .mid, or an unfinished take's journal
    total = int(round(args.seconds * args.samplerate))
    skip = take_start(events)  # a later take of a performance: render from frame 0, keep from the take on
    if skip > RENDER_MAX_SECONDS * args.samplerate:
        raise CLIError(f"automation file {args.automation}: its take starts at frame {skip}, "
                       f"more than {RENDER_MAX_SECONDS:g} s in")
    _check_output_size(args.output, ext, total, 2)
    model = load_model(model_path, threads=1)
    problem = start_tempo_problem(model.meta, args.samplerate, patch.tempo, f"{patch.path}: transport.tempo")
    if problem:
        raise CLIError(problem)
    ec, chain, warnings = patch_controls(patch, model.meta, args.samplerate, 2, fx=not getattr(args, "no_fx", False))
    for w in warnings:
        print(f"livegan render: warning: {w}", file=sys.stderr)
    tmp = os.path.join(os.path.dirname(os.path.abspath(args.output)),
                       f".{os.path.basename(args.output)}.{os.getpid()}.part{ext}")
    try:  # into a temporary file renamed at the end: a failed render leaves what was at the output
        with sf.SoundFile(tmp, "w", samplerate=args.samplerate, channels=2,
                          subtype="FLOAT" if ext == ".wav" else "PCM_24") as f:
            done = [0]

            def sink(block):
                a = done[0]
                done[0] += block.shape[0]
                if done[0] > skip:
                    f.write(block[max(0, skip - a):])
            engine, _ = render(model, events, skip + total, sample_rate=args.samplerate, channels=2,
                               blocksize=args.blocksize, quantize=patch.quantize, crossfade_ms=patch.crossfade_ms,
                               tempo=patch.tempo, fx=chain, sink=sink, apply=controls_apply(ec),
                               engine_kw=dict(controls=ec, z_fn=ec.z_fn),
                               warn=lambda m: print(f"livegan render: warning: {m}", file=sys.stderr))
        os.replace(tmp, args.output)
    except (OSError, sf.LibsndfileError) as e:  # a full disk, a vanished folder
        raise CLIError(f"output {args.output}: writing failed ({str(e).strip().splitlines()[0][:200]})") from None
    except GenerationFault as e:
        raise CLIError(f"model {model_path}: {e}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        if chain is not None:
            chain.close()
    s = engine.stats()
    failed = f" ({s['gen_faults']} failed: the loop before each played on)" if s["gen_faults"] else ""
    print(f"rendered {args.output}: {args.seconds:g} s at {args.samplerate} Hz, patch {patch.name}"
          f"{' (effects off)' if chain is None else ''}, {s['switches']} loop switches, "
          f"{s['loops_generated']} loops generated"
          f"{failed}, {len(events)} automation events, "
          f"tempo at the end {engine.transport.tempo:g} BPM")
    return 0

"""``livegan render``: drive ``Engine.process`` with a virtual clock and MIDI automation.

The same engine as on stage, with two differences that make it
deterministic: generation is synchronous (the loop for boundary G is made at
exactly frame(G) - ``lead`` with the control state of that frame), and blocks
are split at every automation event and every scheduler decision, so events
land on their exact frame whatever the block size. Same automation, same
model, same output, bit for bit.

Until the control layer lands, CC n moves latent direction n and a note-on
picks a new base seed (a patch's knob map is used when ``--patch`` is given).

Thread: main only.
"""
from __future__ import annotations

import os

import numpy as np

from livegan.cli import CLIError
from livegan.engine import Engine
from livegan.latent import cc_to_knob
from livegan.scheduler import Scheduler, generate_loop

RENDER_LEAD_S = 0.1  # generation decision this long before each boundary (virtual clock)


class Msg:
    """A minimal MIDI message for automation built in code (mido messages work too)."""

    def __init__(self, type, **kw):
        self.type = type
        self.__dict__.update(kw)


def read_automation(path, sample_rate: int) -> list:
    """Standard MIDI file -> [(frame, mido message)] for CCs and notes, in time order."""
    import mido

    if not os.path.isfile(path):
        raise CLIError(f"automation file {path}: no such file")
    try:
        mid = mido.MidiFile(path)
        events, t = [], 0.0
        for msg in mid:  # merged tracks, msg.time in seconds (tempo map applied)
            t += msg.time
            if msg.type in ("control_change", "note_on", "note_off"):
                events.append((int(round(t * sample_rate)), msg))
    except (OSError, ValueError, EOFError, KeyError, IndexError) as e:
        raise CLIError(f"automation file {path}: not a readable standard MIDI file ({e})") from None
    return events


def patch_mapper(patch):
    """A function (engine, msg) applying a message through a patch's knob map."""
    def apply(engine, msg):
        if msg.type == "control_change":
            k = patch.knob_for_cc(int(msg.control))
            if k is not None and k.direction is not None:
                lo, hi = k.range
                engine.controls.ranges[k.direction] = (hi - lo) / 2.0
                engine.controls.set_knob(k.direction, cc_to_knob(int(msg.value)))
        elif msg.type == "note_on" and msg.velocity > 0:
            engine.controls.note_on(int(msg.note))
    return apply


def render(model, events, total_frames: int, sample_rate: int = 48000, channels: int = 2,
           blocksize: int = 256, quantize: str = "bar", crossfade_ms: float = 40.0, tempo=None,
           fx=None, sink=None, apply=None, lead_frames: int | None = None, engine_kw=None):
    """Render ``total_frames``; returns (engine, audio (frames, channels) float32 or None with a sink).

    ``model`` has ``.meta`` and ``.generate(z)``; ``events`` is [(frame, msg)].
    ``sink(block)`` receives each block (a view: copy it to keep it).
    """
    meta = model.meta
    engine = Engine(meta, sample_rate=sample_rate, channels=channels, quantize=quantize,
                    crossfade_ms=crossfade_ms, tempo=tempo, fx=fx, **(engine_kw or {}))
    lead = int(RENDER_LEAD_S * sample_rate) if lead_frames is None else int(lead_frames)
    sched = Scheduler(engine, lead)
    apply = apply or (lambda e, m: e.control(m))
    buf = np.zeros((max(1, blocksize), channels), np.float32)
    audio = None if sink is not None else np.zeros((total_frames, channels), np.float32)
    events = sorted(events, key=lambda fe: fe[0])

    def gen_and_publish(target):
        snap = engine.controls.snapshot()
        loop = generate_loop(model, engine, snap)
        engine.record_gen_time(0.0)
        engine.publish_loop(loop, target, wait=lambda: engine.process(buf[:0]))
        sched.done_seq = snap[0]

    ei = 0
    while ei < len(events) and events[ei][0] <= 0:
        apply(engine, events[ei][1])
        ei += 1
    gen_and_publish(0)  # the first loop starts on frame 0 (faded in)
    frame = 0
    while frame < total_frames:
        while ei < len(events) and events[ei][0] <= frame:
            apply(engine, events[ei][1])
            ei += 1
        g = sched.poll(frame)
        if g is not None:
            gen_and_publish(g)
            continue
        n = min(blocksize, total_frames - frame)
        if ei < len(events):
            n = min(n, events[ei][0] - frame)
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

    from livegan.model import default_model_path, load_model

    model_path = args.model or default_model_path()
    if args.model is None and not os.path.isfile(model_path):
        raise CLIError("no built-in model is installed yet: pass --model FILE.ts")
    if args.seconds <= 0:
        raise CLIError(f"--seconds must be > 0, got {args.seconds}")
    if args.blocksize < 1:
        raise CLIError(f"--blocksize must be >= 1, got {args.blocksize}")
    ext = os.path.splitext(args.output)[1].lower()
    if ext not in (".wav", ".flac"):
        raise CLIError(f"output {args.output}: use a .wav or .flac file name")
    quantize, crossfade, tempo, apply = "bar", 40.0, None, None
    if args.patch:
        from livegan.patch import load_patch

        patch = load_patch(args.patch)
        quantize, crossfade, tempo, apply = patch.quantize, patch.crossfade_ms, patch.tempo, patch_mapper(patch)
    events = read_automation(args.automation, args.samplerate)
    model = load_model(model_path, threads=1)
    total = int(round(args.seconds * args.samplerate))
    with sf.SoundFile(args.output, "w", samplerate=args.samplerate, channels=2,
                      subtype="FLOAT" if ext == ".wav" else "PCM_24") as f:
        engine, _ = render(model, events, total, sample_rate=args.samplerate, channels=2,
                           blocksize=args.blocksize, quantize=quantize, crossfade_ms=crossfade, tempo=tempo,
                           sink=f.write, apply=apply)
    s = engine.stats()
    print(f"rendered {args.output}: {args.seconds:g} s at {args.samplerate} Hz, {s['switches']} loop switches, "
          f"{s['loops_generated']} loops generated, {len(events)} automation events")
    return 0

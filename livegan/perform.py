"""``livegan perform``: play a model live: generator thread, audio stream, recorder, MIDI knobs.

With no MIDI input and no patch it still plays (CC n -> latent direction n
once a controller is connected); ``--seconds`` stops it. Ctrl-C, SIGTERM or
an error stop it cleanly: the stream stops, the recorder drains and closes
(a SIGKILL leaves a WAV readable up to its last write), ``--stats-json`` is
written.

Threads: main (this module: setup, the wait loop, MIDI bridging, teardown),
audio callback (``AudioOutput.callback``), generator (``GeneratorThread``),
recorder (``Recorder``), MIDI (``livegan.midi.MidiInput``).
"""
from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
import time

import numpy as np

from livegan.cli import CLIError


class _Stop(Exception):
    pass


def _model_path(arg):
    from livegan.model import default_model_path

    if arg:
        return arg
    p = default_model_path()
    if not os.path.isfile(p):
        raise CLIError("no built-in model is installed yet: pass --model FILE.ts")
    return p


def run_stats(engine, out, recorder, skip_calls: int = 0) -> dict:
    """The numbers ``--stats-json`` writes. Main thread (plain reads of counters)."""
    s = engine.stats()
    g = engine.gen_times()
    d = {"xruns": out.xruns if out else None, "late_loops": s["late_loops"], "loops_generated": s["loops_generated"],
         "loop_switches": s["switches"],
         "gen_ms_median": float(np.median(g) * 1e3) if g.size else None,
         "gen_ms_p99": float(np.percentile(g, 99) * 1e3) if g.size else None,
         "frames_played": s["frame"], "frames_recorded": recorder.frames_written if recorder else 0,
         "ring_drops": recorder.dropped if recorder else 0, "callbacks": out.calls if out else 0,
         "blocksize": out.blocksize if out else None, "samplerate": engine.sample_rate, "device": out.device_name if out else None}
    if out:
        d.update(out.load_stats(skip_calls))
        d["xrun_at_callback"] = [int(i) for i in out.xrun_calls[:min(out.xruns, 64)]]
    return d


def cli_perform(args) -> int:
    from livegan import dsp
    from livegan.audio import AudioOutput
    from livegan.engine import Engine
    from livegan.model import load_model
    from livegan.recorder import Recorder
    from livegan.scheduler import GeneratorThread, generate_loop

    if args.seconds is not None and args.seconds <= 0:
        raise CLIError(f"--seconds must be > 0, got {args.seconds}")
    if args.blocksize < 16 or args.blocksize > 8192:
        raise CLIError(f"--blocksize must be in [16, 8192], got {args.blocksize}")
    model_path = _model_path(args.model)
    quantize, crossfade, tempo, patch = "bar", 40.0, None, None
    if args.patch:
        from livegan.patch import load_patch

        patch = load_patch(args.patch)
        quantize, crossfade, tempo = patch.quantize, patch.crossfade_ms, patch.tempo

    # the stream's parameters first: a wrong device fails before the model loads
    import sounddevice as sd  # noqa: F401  (JACK must already run: PortAudio scans now)
    from livegan.audio import resolve_output

    dev = resolve_output(args.device)
    rate = args.samplerate or int(sd.query_devices(dev)["default_samplerate"])
    channels = min(2, int(sd.query_devices(dev)["max_output_channels"]))

    if getattr(args, "generator", "thread") == "process":
        from livegan.genproc import ProcessModel

        model = ProcessModel(model_path)  # CUDA in the child when available
    else:
        model = load_model(model_path, threads=1)  # CUDA when available; warmed up inside
    meta = model.meta
    engine = Engine(meta, sample_rate=rate, channels=channels, quantize=quantize, crossfade_ms=crossfade, tempo=tempo)
    out = AudioOutput(engine, device=dev, samplerate=rate, blocksize=args.blocksize, latency=args.latency,
                      channels=channels)
    dsp.warm_up(meta.channels, channels)
    recorder = None
    if args.record:
        recorder = Recorder(args.record, rate, channels)
        engine.attach_ring(recorder.ring, recorder.rst)
    t0 = time.perf_counter()
    snap = engine.controls.snapshot()
    engine.publish_loop(generate_loop(model, engine, snap), 0)  # the first loop plays from frame 0
    engine.record_gen_time(time.perf_counter() - t0)
    in_process = getattr(args, "generator", "thread") == "process"
    gen = GeneratorThread(engine, model, block_frames=args.blocksize, rt_priority=40 if in_process else None)
    gen.sched.done_seq = snap[0]

    midi_in, seen = None, None
    if args.midi:
        from livegan.midi import MidiInput

        midi_in = MidiInput(args.midi).start()
        seen = np.zeros((16, 128), np.int64)

    stop = threading.Event()

    def on_term(signum, frame):  # main thread (Python runs signal handlers there)
        stop.set()

    old_term = signal.signal(signal.SIGTERM, on_term)
    sys.setswitchinterval(0.0005)  # the callback needs the GIL within a fraction of a block
    print(f"livegan perform: {meta.name} on '{out.device_name}' at {rate} Hz, {args.blocksize}-frame blocks, "
          f"{engine.transport.tempo:g} BPM, quantize {quantize}" + (f", recording {args.record}" if recorder else ""),
          file=sys.stderr, flush=True)
    rc = 0
    gc.collect()
    gc.freeze()  # no collector pass walks the model and engine during the performance
    gc.disable()  # and none starts inside the callback; refcounting still frees everything acyclic
    try:
        if recorder:
            recorder.start()
        gen.start()
        out.start()
        if in_process:
            from livegan.audio import raise_thread_priority

            raise_thread_priority(40)  # main loop holds the GIL only briefly
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            if gen.error is not None:
                raise CLIError(f"generator failed: {gen.error}")
            if midi_in is not None:
                _bridge_midi(midi_in, seen, engine, patch)
            stop.wait(0.02)
    except KeyboardInterrupt:
        rc = 130
    finally:
        signal.signal(signal.SIGTERM, old_term)
        try:
            out.close()
        finally:
            gen.stop()
            if hasattr(model, "close"):
                model.close()
            if midi_in is not None:
                midi_in.close()
            if recorder:
                recorder.close()
            gc.enable()
            stats = run_stats(engine, out, recorder, skip_calls=8)
            if args.stats_json:
                with open(args.stats_json, "w") as f:
                    json.dump(stats, f, indent=2)
            print("livegan perform: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                  for k, v in stats.items()), file=sys.stderr)
    return rc


def _bridge_midi(midi_in, seen, engine, patch) -> None:
    """Moved CCs -> knobs, note-ons -> seeds. Main thread (until the control layer owns this)."""
    from livegan.latent import cc_to_knob
    from livegan.midi import NOTE_ON

    h = midi_in.handler
    for ch, cc, v01 in h.knobs.changed_since(seen):
        v = int(round(v01 * 127))
        if patch is not None:
            k = patch.knob_for_cc(cc)
            if k is not None and k.direction is not None:
                lo, hi = k.range
                engine.controls.ranges[k.direction] = (hi - lo) / 2.0
                engine.controls.set_knob(k.direction, cc_to_knob(v))
        else:
            engine.controls.set_cc(cc, v)
    for t, kind, ch, d1, d2 in h.events.pop_all():
        if kind == NOTE_ON and d2 > 0:
            engine.controls.note_on(d1)

"""``livegan perform``: play a model live: generator thread, audio stream, recorder, MIDI knobs.

It plays through a patch (``--patch``, default the generic patch): MIDI from
``--midi`` (index, name substring or ``virtual``; else the patch's port) goes
to ``livegan.control.controller.Controller`` (knobs -> directions with takeover, seed
notes, snapshot pads, morph, buttons, effect knobs), the patch's effects chain
is the engine's ``fx`` hook, and with ``clock = "midi"`` the MIDI clock's
tempo drives the engine (``clock = "link"`` or ``--link``: an Ableton Link
session's, two-way). In a terminal the rich panel shows the state and
the computer keyboard plays (no controller needed); without a terminal (a
script, ``--seconds``) a one-line status is printed every few seconds.
``--record OUT.wav`` also writes every applied control event to ``OUT.mid``
(the performance log, frame-exact) so ``livegan render --automation OUT.mid``
re-renders the performance; it is saved on Ctrl-C and SIGTERM too, and while
the take records its events are appended to ``OUT.journal`` (``livegan.io.journal``)
so a SIGKILL loses none. A take never replaces a file (``livegan.io.takes.take_path``).
``--seconds`` stops it. Ctrl-C, SIGTERM or
an error stop it cleanly: the stream stops, the recorder drains and closes
(a SIGKILL leaves a WAV readable up to its last write), ``--stats-json`` is
written.

Processes and threads: the audio callback (``AudioOutput.callback``), the engine and the
effects chain run in the audio process (``livegan.audio.host``; ``--audio thread`` keeps them
in this process, the old path); this process has main (this module: setup, the wait loop, MIDI
bridging, teardown), generator (``GeneratorThread``), recorder (``Recorder``), MIDI
(``livegan.io.midi.MidiInput``) and, with ``--osc``, OSC (``livegan.control.osc``). The main thread is
also the control thread (``livegan.control.live.LiveControl``) and the UI thread. The two processes share the
real-time state in shared memory (``livegan.audio.arena``).
"""
from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time

from livegan.errors import CLIError


class Show:
    """The parts of one live performance, opened by ``_open`` and ``_connect``, run by ``_play``
    and closed by ``_teardown``. Thread: main."""

    def __init__(self, args):
        self.args = args
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()
        self.in_process = getattr(args, "generator", "thread") == "process"
        self.notes = []  # warnings from the control thread (a clock tempo held at the model's limit): panel and stderr
        self.gen = self.midi_in = self.osc = self.link = None
        self.arena = None  # the shared real-time state with ``--audio process`` (livegan.audio.arena)

    def say(self, msg: str) -> None:
        """What a key did, or a warning: the panel shows it; without one, stderr says it."""
        if not self.interactive:
            print(f"livegan perform: {msg}", file=sys.stderr, flush=True)


def cli_perform(args) -> int:
    show = _open(args)
    try:
        _connect(show)
    except BaseException:  # the show never started: its audio process and shared memory go at once
        _close_output(show)
        raise
    _announce(show)
    rc = 0
    gc.collect()
    gc.freeze()  # no collector pass walks the model and engine during the performance
    gc.disable()  # and none starts inside the callback; refcounting still frees everything acyclic
    try:
        rc = _play(show)
    except KeyboardInterrupt:
        rc = 130
    finally:
        _teardown(show, rc)
    if show.takes.errors:  # after everything else was written: the first problem is the error line
        raise CLIError(show.takes.errors[0])
    return rc


def _check_args(args) -> str:
    """Every option and output path checked before the model loads and the stream opens; -> the model path."""
    from livegan.io.files import check_writable
    from livegan.io.loops import perform_folder

    if args.seconds is not None and args.seconds <= 0:
        raise CLIError(f"--seconds must be > 0, got {args.seconds}")
    if args.blocksize is not None and not 16 <= args.blocksize <= 8192:
        raise CLIError(f"--blocksize must be in [16, 8192], got {args.blocksize}")
    if args.record:
        if os.path.splitext(args.record)[1].lower() not in (".wav", ".flac"):
            raise CLIError(f"--record {args.record}: use a .wav or .flac file name")
        check_writable(args.record, "--record", new_file=True)
    if args.stats_json:
        check_writable(args.stats_json, "--stats-json")
    args.loops_dir = perform_folder(getattr(args, "loops_dir", None), args.record)
    return _model_path(args.model)


def _open(args) -> Show:
    """Patch, output device, model, the performance's parts and the stream (not started yet)."""
    from livegan.audio.engine import start_tempo_problem
    from livegan.control.osc import open_osc
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.model import load_model
    from livegan.performance import open_live

    show = Show(args)
    show.model_path = _check_args(args)
    show.patch = patch = load_patch(args.patch or default_patch_path())
    # a port in use fails before the model loads
    show.osc = open_osc(getattr(args, "osc", None), getattr(args, "osc_host", None))
    patch.clock = "link" if getattr(args, "link", False) else patch.clock  # --link: as the patch said it (the panel too)
    # the stream's parameters first: a wrong device fails before the model loads
    import sounddevice as sd  # noqa: F401  (JACK must already run: PortAudio scans now)
    from livegan.audio.output import resolve_output

    dev = resolve_output(args.device)
    if args.blocksize is None:  # the JACK server's period on JACK (one callback per cycle), else 256
        from livegan.audio.jack import default_blocksize

        args.blocksize = default_blocksize(sd.query_hostapis(sd.query_devices(dev)["hostapi"])["name"])
    show.rate = rate = args.samplerate or int(sd.query_devices(dev)["default_samplerate"])
    show.channels = channels = min(2, int(sd.query_devices(dev)["max_output_channels"]))
    if show.in_process:
        from livegan.generate.process import ProcessModel

        show.model = ProcessModel(show.model_path)  # CUDA in the child when available
    else:
        show.model = load_model(show.model_path, threads=1)  # CUDA when available; warmed up inside
    meta = show.model.meta
    problem = start_tempo_problem(meta, rate, patch.tempo, f"{patch.path}: transport.tempo")
    if problem:  # a tempo the kernel can never read: refused before the show, not a crash in it
        raise CLIError(problem)
    try:
        parts, show.out, show.arena = open_live(meta, patch, rate, channels, dev, args.blocksize, args.latency,
                                                getattr(args, "audio", "process"), record_ring_frames=8192,
                                                take_ring_frames=4 * rate)  # the meter's ring; a take's
    except BaseException:
        if hasattr(show.model, "close"):  # a generator process: not left behind
            show.model.close()
        raise
    show.engine, show.ec, show.chain, show.warnings = parts.engine, parts.controls, parts.fx, parts.warnings
    return show


def _connect(show: Show) -> None:
    """The first loop, take 1 (with ``--record``), the generator, MIDI input and the control thread."""
    from livegan.control.follow import FrameClock
    from livegan.control.link import join_link
    from livegan.control.live import LiveControl
    from livegan.control.sources import MidiSource
    from livegan.generate.scheduler import GeneratorThread, first_loop
    from livegan.io.loops import LoopSaver
    from livegan.io.perflog import PerfLog
    from livegan.io.takes import Takes

    args, engine, out, rate = show.args, show.engine, show.out, show.rate
    show.perflog = PerfLog(rate)  # always: a take started later needs every event since frame 0
    show.takes = takes = Takes(engine, rate, show.channels, show.perflog, args.record, show.say)
    t0 = time.perf_counter()
    snap = engine.controls.snapshot()
    engine.publish_loop(first_loop(show.model, engine, snap, show.model_path), 0)  # plays from frame 0
    engine.record_gen_time(time.perf_counter() - t0)
    if args.record:
        _start_first_take(args.record, takes)
    show.gen = GeneratorThread(engine, show.model, block_frames=args.blocksize,
                               rt_priority=40 if show.in_process else None)
    show.gen.sched.done_seq = snap[0]
    midi_spec = args.midi or show.patch.port or None
    if midi_spec:
        from livegan.io.midi import MidiHandler, MidiInput

        show.midi_in = MidiInput(midi_spec, handler=MidiHandler(channel=show.patch.channel)).start()
        import rtmidi

        if show.midi_in.api == rtmidi.API_UNIX_JACK:  # JACK MIDI arrives with the next cycle: half a period late on average
            show.midi_in.clock.latency_s = 0.5 * args.blocksize / rate
    frame_clock = FrameClock(out.cb_ring, lambda: out.calls, rate, latency_s=out.output_latency)
    show.link = join_link(engine) if show.patch.clock == "link" else None
    show.live = live = LiveControl(show.ec, engine, sources=[MidiSource(show.midi_in)] if show.midi_in else [],
                                   tempo=show.midi_in.clock if show.midi_in and show.patch.clock == "midi" else None,
                                   perflog=show.perflog, frame_clock=frame_clock, link=show.link)
    show.loops = LoopSaver(engine, args.loops_dir, say=lambda m: (show.notes.append(m), show.say(m)))
    acts = {"record": takes.toggle, "save_loop": show.loops.save_playing,  # button actions -> main-thread calls
            "record_on": lambda: takes.active or takes.toggle(), "record_off": lambda: takes.active and takes.toggle()}
    live.on_action = lambda a: acts[a]() if a in acts else None
    live.warn = lambda m: (show.notes.append(m), show.say(f"warning: {m}"))
    if show.osc is not None:
        show.osc.attach(live)


def _start_first_take(record: str, takes) -> None:
    """Take 1 from frame 0: a bad path fails here, before any sound. Unfinished takes found beside it are named."""
    from livegan.io.journal import unfinished_takes

    for j in unfinished_takes(os.path.dirname(record))[:3]:
        print(f"livegan perform: found an unfinished take's performance log {j} (a crash?): re-render the "
              f"take with livegan render --automation {j} --seconds S -o OUT.wav", file=sys.stderr)
    takes.start(running=False)
    if takes.rec.path != record:
        print(f"livegan perform: {record} (or its .mid) exists: recording to {takes.rec.path} instead",
              file=sys.stderr)


def _announce(show: Show) -> None:
    """Stop signals caught, the switch interval shortened, the warnings and the one-line banner printed."""
    from livegan.io.signals import StopRequest

    args, engine, patch, takes = show.args, show.engine, show.patch, show.takes
    show.stop = StopRequest()
    show.stop.install()
    sys.setswitchinterval(0.0005)  # the callback needs the GIL within a fraction of a block
    exposed = show.osc.exposure() if show.osc else None  # an OSC port open beyond this machine: said
    warnings = [*show.warnings, *([exposed] if exposed else [])]
    for w in warnings:  # after the stream opened: a device error stays the only line
        print(f"livegan perform: warning: {w}", file=sys.stderr)
    print(f"livegan perform: {engine.meta.name} on '{show.out.device_name}' at {show.rate} Hz, "
          f"{args.blocksize}-frame blocks, {engine.transport.tempo:g} BPM, quantize {patch.quantize}, "
          f"patch {patch.name}"
          + (f", MIDI {show.midi_in.port_name}" if show.midi_in else ", computer keyboard" if show.interactive else "")
          + (f", OSC on {show.osc.host}:{show.osc.port}" if show.osc else "")
          + (f", Ableton Link ({show.link.peers} peers)" if show.link else "")
          + (f", recording {takes.rec.path} + {os.path.splitext(os.path.basename(takes.rec.path))[0]}.mid"
             if args.record else ", space or a record button starts a take"),
          file=sys.stderr, flush=True)


def _play(show: Show) -> int:
    """Start the generator and the stream, then run the panel (or the status loop) until a stop;
    -> the exit code (130 after SIGINT). Main thread."""
    from livegan.io.panel import run_panel, status_line
    from livegan.io.stats import panel_stats
    from livegan.io.watch import ShowWatch

    args, engine, out, gen, stop, takes = show.args, show.engine, show.out, show.gen, show.stop, show.takes
    gen.start()
    out.start()
    if show.in_process and not show.interactive:  # (the panel's drawing is not brief: it stays at normal priority)
        from livegan.audio.output import raise_thread_priority

        raise_thread_priority(40)  # main loop holds the GIL only briefly
    # --seconds counts frames played (a stream that starts late still plays them all); the
    # wall-clock limit 5 s later is a last guard (ShowWatch ends a stream that stopped calling back)
    end_frame = None if args.seconds is None else int(round(args.seconds * show.rate))
    deadline = None if args.seconds is None else time.monotonic() + args.seconds + 5.0

    watch = ShowWatch(engine, out, gen, show.say)

    def finished():
        watch.check()  # a dead generator, audio process or stream: one line, the take saved
        return stop.is_set() or (end_frame is not None and (engine.transport.frame >= end_frame
                                                            or time.monotonic() >= deadline))

    def panel_now():
        return {**panel_stats(engine, out, takes, show.patch, show.rate), "note": show.notes[-1] if show.notes else "",
                **(show.osc.stats() if show.osc else {})}

    def tick():
        show.live.step()
        takes.drain_meter()  # the meter ring has no writer thread: keep it drained
        takes.poll()  # a write error on screen at once; the journal to disk
        watch.tick()  # generation and callback faults, each said once

    if show.interactive:
        from livegan.control.keyboard import KeyboardControl

        kb = KeyboardControl(show.ec.c, log=show.live.log, midi_grid=True, on_record=lambda on: takes.toggle(),
                             on_save_loop=show.loops.save_playing)
        run_panel(panel_now, show.ec.c, kb, until=finished, tick=tick)
    else:
        next_status = time.monotonic() + 2.0
        while not finished():
            tick()
            if time.monotonic() >= next_status:
                next_status += 2.0
                print("livegan perform: " + status_line(panel_now()), file=sys.stderr, flush=True)
            stop.wait(0.005)
    return 130 if stop.signum == signal.SIGINT else 0


def _teardown(show: Show, rc: int) -> None:
    """Stream stopped, generator and MIDI stopped, the take saved, ``--stats-json`` written, the
    summary printed. A generation that never returns: leave at once with ``os._exit``. Main thread."""
    from livegan.generate.scheduler import stop_generator
    from livegan.io.stats import run_stats

    args, takes = show.args, show.takes
    try:
        show.out.close()
    finally:
        hung = stop_generator(show.gen)
        if hasattr(show.model, "close"):
            show.model.close()
            hung = hung and stop_generator(show.gen, 1.0)  # a generator process killed: its thread ends
        if show.link is not None:
            show.link.close()
        if show.midi_in is not None and not show.midi_in.close():
            print("livegan perform: warning: the MIDI thread did not stop within 2 s; its port is left open",
                  file=sys.stderr, flush=True)
        if show.osc is not None:
            show.osc.close()
        show.live.flush()  # events the stopped stream never admitted: at the frame it stopped on
        takes.stop(running=False)  # the take in progress: WAV closed, its performance log saved
        if show.chain is not None:
            show.chain.close()
        gc.enable()
        stats = {**run_stats(show.engine, show.out, takes, skip_calls=8), **(show.osc.stats() if show.osc else {})}
        if args.stats_json:
            try:
                with open(args.stats_json, "w") as f:
                    json.dump(stats, f, indent=2)
            except OSError as e:
                takes.errors.append(f"--stats-json {args.stats_json}: cannot be written ({e.strerror or e})")
        print("livegan perform: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                              for k, v in stats.items() if not isinstance(v, list)),
              file=sys.stderr)
        if show.arena is not None:  # the audio process has ended: its shared blocks go
            show.arena.close()
        if hung:  # everything is saved; a thread inside torch would abort the interpreter's exit
            print("livegan perform: a generation never returned: leaving without waiting for it",
                  file=sys.stderr, flush=True)
            if takes.errors:
                print(f"livegan perform: error: {takes.errors[0]}", file=sys.stderr, flush=True)
                rc = 2
            sys.stdout.flush()
            os._exit(rc)


def _close_output(show: Show) -> None:
    """The output (an audio process) and the shared memory of a show that never started. Main thread."""
    out = getattr(show, "out", None)
    if out is not None:
        out.close()
    if show.arena is not None:
        show.arena.close()
        show.arena = None
    if hasattr(getattr(show, "model", None), "close"):
        show.model.close()


def _model_path(arg):
    from livegan.model import default_model_path

    if arg or os.path.isfile(default_model_path()):
        return arg or default_model_path()
    raise CLIError("no built-in model is installed yet: pass --model FILE.ts")

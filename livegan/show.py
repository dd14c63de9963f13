"""``livegan perform``'s show: play a model live: generator thread, audio stream, recorder, MIDI knobs.

It plays through a patch (``--patch``, default the generic patch). The control thread (``LiveControl``)
polls one list of sources (``Show.connect``): the computer keyboard, MIDI from ``--midi`` (index, name
substring or ``virtual``; else the patch's port), its clock with ``clock = "midi"``, Ableton Link with
``clock = "link"`` or ``--link`` (two-way), OSC with ``--osc``, and finds (``livegan.control.finder``).
In a terminal the rich panel shows the state and the keyboard plays; else a status line every few s.
``--record OUT.wav`` also writes every applied control event to ``OUT.mid`` (the performance log,
frame-exact: ``livegan render --automation OUT.mid`` re-renders the show), and a take's events go to
``OUT.journal`` as it records (``livegan.io.journal``: a SIGKILL loses none).
``--seconds`` (a take ends on its last frame), Ctrl-C, SIGTERM or an error stop it cleanly
(``Show.close``): the stream stops, the recorder drains, ``--stats-json`` is written.

Processes and threads: the audio callback, engine and effects chain run in the audio process
(``livegan.audio.host``; real-time state in shared memory, ``livegan.audio.arena``), or in this one
with ``--debug-audio-thread`` (a debug path: ``tests/test_gil_hog_cannot_stall_the_audio.py``). This
process has main (setup, the control thread, the UI, teardown), generator (``GeneratorThread``),
recorder (``Recorder``), MIDI (``MidiInput``), OSC with ``--osc``, and a search's (``livegan-find``).
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import time

from livegan.audio.engine import start_tempo_problem
from livegan.audio.jack import default_blocksize
from livegan.audio.output import resolve_output
from livegan.control.finder import FindSource
from livegan.control.follow import FrameClock
from livegan.control.keyboard import KeyboardControl
from livegan.control.link import join_link
from livegan.control.live import LiveControl
from livegan.control.osc import open_osc
from livegan.control.patch import default_patch_path, load_patch
from livegan.control.sources import KeySource, close_sources
from livegan.errors import CLIError, shown
from livegan.files import check_target, check_writable
from livegan.generate.scheduler import GeneratorThread, first_loop, stop_generator
from livegan.io.journal import unfinished_takes
from livegan.io.loops import LoopSaver, perform_folder
from livegan.io.midi import MidiHandler, MidiInput, MidiSource
from livegan.io.panel import run_panel, status_line
from livegan.io.perflog import PerfLog
from livegan.io.signals import StopRequest
from livegan.io.stats import panel_stats, run_stats, write_stats
from livegan.io.takes import Takes
from livegan.io.watch import ShowWatch
from livegan.model import default_model_path, load_model
from livegan.performance import open_live


class Show:
    """One live performance, in four stages: ``open`` (options checked, patch, OSC port, output
    device, model, the stream built but not started), ``connect`` (first loop, take 1 with
    ``--record``, the generator, MIDI, the control thread and its list of sources), ``play`` (signals
    caught, the banner, the stream and the generator started, the panel or the status loop until a
    stop; -> the exit code) and ``close`` (everything stopped, saved and said, whatever stage was
    reached). A context manager: ``with Show(args) as show: show.open(); show.connect(); show.play()``;
    a KeyboardInterrupt while playing ends the show with exit code 130.

    ``Show.hooks``: callables ``hook(stage, show)`` run as each stage begins ("open", "connect",
    "play", "close"), for every show of the process; tests use it (a file-size limit once the parts
    are open, a thread holding the GIL once the show plays). Thread: main."""

    hooks: list = []

    def __init__(self, args):
        self.args = args
        self.interactive = sys.stdin.isatty() and sys.stdout.isatty()
        self.notes = []  # warnings from the control thread (a clock tempo held at the model's limit): panel and stderr
        self.rc = 0  # the exit code ``play`` (or an interrupt) gave
        self.playing = False  # ``play`` was entered: ``close`` saves the take and prints the summary
        # open
        self.model_path = self.patch = self.osc = self.model = None
        self.rate = self.channels = 0
        self.out = self.arena = None  # the output (the audio process) and the shared real-time state
        self.engine = self.ec = self.chain = None  # the engine, its controls, the effects chain
        self.warnings = []  # the stream's, said after it opened
        # connect
        self.perflog = self.takes = self.gen = self.midi_in = self.link = self.live = self.loops = None
        self.keys = KeySource()  # the computer keyboard (``KeyboardControl`` pushes into it)
        self.sources = []  # the control thread's one list (``livegan.control.sources``)
        # play
        self.stop = StopRequest()

    def __enter__(self) -> "Show":
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        interrupted = kind is KeyboardInterrupt and self.playing
        if interrupted:
            self.rc = 130
        self.close()
        return interrupted

    @property
    def errors(self) -> list:
        """Problems of the takes (a write error), each one line; the first is the error line."""
        return self.takes.errors if self.takes is not None else []

    def say(self, msg: str) -> None:
        """What a key did, or a warning: the panel shows it; without one, stderr says it."""
        if not self.interactive:
            print(f"livegan perform: {msg}", file=sys.stderr, flush=True)

    def keyboard(self, kb):
        """The computer keyboard the panel reads (a set's moves between tracks: ``livegan.set_show``)."""
        return kb

    def watched_tracks(self) -> list:
        """[(label, engine)] whose generation faults the show says besides its own (a set's other tracks)."""
        return []

    def _stage(self, name: str) -> None:
        for hook in list(Show.hooks):
            hook(name, self)

    def open(self) -> None:
        """Options, patch, OSC port, output device, model, the engine and the stream (not started)."""
        self._stage("open")
        args = self.args
        self.model_path = _check_args(args)
        self.patch = patch = load_patch(args.patch or default_patch_path())
        # OSC before the model (a port in use fails first); --link: as if the patch said it (the panel too)
        self.osc = open_osc(getattr(args, "osc", None), getattr(args, "osc_host", None))
        patch.clock = "link" if getattr(args, "link", False) else patch.clock
        # the stream's parameters first: a wrong device fails before the model loads
        import sounddevice as sd  # (JACK must already run: PortAudio scans now)

        dev = resolve_output(args.device)
        info = sd.query_devices(dev)
        if args.blocksize is None:  # the JACK server's period on JACK (one callback per cycle), else 256
            args.blocksize = default_blocksize(sd.query_hostapis(info["hostapi"])["name"])
        self.rate = rate = args.samplerate or int(info["default_samplerate"])
        self.channels = min(2, int(info["max_output_channels"]))
        self.model = load_model(self.model_path, threads=1)  # CUDA when available; warmed up inside
        meta = self.model.meta
        problem = start_tempo_problem(meta, rate, patch.tempo, f"{patch.path}: transport.tempo")
        if problem:  # a tempo the kernel can never read: refused before the show, not a crash in it
            raise CLIError(problem)
        parts, self.out, self.arena = open_live(meta, patch, rate, self.channels, dev, args.blocksize, args.latency,
                                                "thread" if getattr(args, "debug_audio_thread", False) else "process",
                                                record_ring_frames=8192,
                                                take_ring_frames=4 * rate)  # the meter's ring; a take's
        self.engine, self.ec, self.chain, self.warnings = parts.engine, parts.controls, parts.fx, parts.warnings

    def connect(self) -> None:
        """The first loop, take 1 (with ``--record``), the generator, MIDI and the control thread with
        its one list of sources."""
        self._stage("connect")
        args, engine, out, rate = self.args, self.engine, self.out, self.rate
        self.perflog = PerfLog(rate, named=len(self.model.meta.knobs))  # all since frame 0: for any take
        self.takes = takes = Takes(engine, rate, self.channels, self.perflog, args.record, self.say)
        takes.end_frame = None if args.seconds is None else int(round(args.seconds * rate))
        t0 = time.perf_counter()
        snap = engine.controls.snapshot()
        loop, z = first_loop(self.model, engine, snap, self.model_path)
        engine.publish_loop(loop, 0, z=z)  # plays from frame 0
        engine.record_gen_time(time.perf_counter() - t0)
        if args.record:
            _start_first_take(args.record, takes)
        self.gen = GeneratorThread(engine, self.model, block_frames=args.blocksize)
        self.gen.sched.done_seq = snap[0]
        self.link = join_link(engine) if self.patch.clock == "link" else None
        midi_spec = args.midi or self.patch.port or None
        if midi_spec:
            self.midi_in = MidiInput(midi_spec, handler=MidiHandler(channel=self.patch.channel)).start()
            import rtmidi

            # JACK MIDI arrives with the next cycle: half a period late on average
            if self.midi_in.api == rtmidi.API_UNIX_JACK:
                self.midi_in.clock.latency_s = 0.5 * args.blocksize / rate
        midi = self.midi_in is not None
        self.sources = [s for s in (  # polled in this order; a new source is one more entry here
            self.keys,
            MidiSource(self.midi_in) if midi else None,
            self.midi_in.clock if midi and self.patch.clock == "midi" else None,  # the tempo source
            self.link,  # the tempo source, and start / stop
            self.osc,
            FindSource(self.model_path, self.model.meta),  # a typed or OSC-sent file, found in the model
        ) if s is not None]
        frame_clock = FrameClock(out.cb_ring, lambda: out.calls, rate, latency_s=out.output_latency)
        self.live = live = LiveControl(self.ec, engine, sources=self.sources, perflog=self.perflog,
                                       frame_clock=frame_clock)
        self.loops = LoopSaver(engine, args.loops_dir, say=lambda m: (self.notes.append(m), self.say(m)))
        acts = {"record": takes.toggle, "save_loop": self.loops.save_playing,  # button actions -> main-thread calls
                "record_on": lambda: takes.ask(True), "record_off": lambda: takes.ask(False)}
        live.on_action = lambda a: acts[a]() if a in acts else None
        live.warn = lambda m: (self.notes.append(m), self.say(f"warning: {m}"))
        live.note = lambda m: (self.notes.append(m), self.say(m))
        live.start()  # each source plugged in (OSC serves the patch played)

    def play(self) -> int:
        """Stop signals caught, the banner, then the generator and the stream started and the panel
        (or the status loop) run until a stop; -> the exit code (130 after SIGINT). Main thread."""
        self._stage("play")
        self.playing = True
        self._announce()
        gc.collect()
        gc.freeze()  # no collector pass walks the model and engine during the performance
        gc.disable()  # and none starts inside the callback; refcounting still frees everything acyclic
        self.gen.start()
        self.out.start()
        self._run()
        self.rc = 130 if self.stop.signum == signal.SIGINT else 0
        return self.rc

    def _announce(self) -> None:
        """Stop signals caught, the switch interval shortened, the warnings and the one-line banner printed."""
        args, engine, patch, takes = self.args, self.engine, self.patch, self.takes
        self.stop.install()
        sys.setswitchinterval(0.0005)  # the callback needs the GIL within a fraction of a block
        exposed = self.osc.exposure() if self.osc else None  # an OSC port open beyond this machine: said
        for w in [*self.warnings, *([exposed] if exposed else [])]:  # after the stream opened (a device error: alone)
            print(f"livegan perform: warning: {w}", file=sys.stderr)
        print(f"livegan perform: {engine.meta.name} on '{self.out.device_name}' at {self.rate} Hz, "
              f"{args.blocksize}-frame blocks, {engine.transport.tempo:g} BPM, quantize {patch.quantize}, "
              f"patch {patch.name}"
              + (f", MIDI {self.midi_in.port_name}" if self.midi_in
                 else ", computer keyboard" if self.interactive else "")
              + (f", OSC on {self.osc.host}:{self.osc.port}" if self.osc else "")
              + (f", Ableton Link ({self.link.peers} peers)" if self.link else "")
              + (f", recording {takes.rec.path} + {os.path.splitext(os.path.basename(takes.rec.path))[0]}.mid"
                 if args.record else ", space or a record button starts a take"),
              file=sys.stderr, flush=True)

    def _run(self) -> None:
        """The panel (or the status loop) until a stop, ``--seconds`` or a fault. Main thread."""
        args, engine, out, takes, stop = self.args, self.engine, self.out, self.takes, self.stop
        # --seconds counts frames played (a stream that starts late still plays them all); the
        # wall-clock limit 5 s later is a last guard (ShowWatch ends a stream that stopped calling back)
        end_frame = None if args.seconds is None else int(round(args.seconds * self.rate))
        deadline = None if args.seconds is None else time.monotonic() + args.seconds + 5.0
        watch = ShowWatch(engine, out, self.gen, self.say, others=self.watched_tracks())

        def finished():
            watch.check()  # a dead generator, audio process or stream: one line, the take saved
            return stop.is_set() or (end_frame is not None and (engine.transport.frame >= end_frame
                                                                or time.monotonic() >= deadline))

        def panel_now():
            return {**panel_stats(engine, out, takes, self.patch, self.rate),
                    "note": self.notes[-1] if self.notes else "", **self.live.stats()}

        def tick():
            self.live.step()
            takes.drain_meter()  # the meter ring has no writer thread: keep it drained
            takes.poll()  # a write error on screen at once; the journal to disk
            watch.tick()  # generation and callback faults, each said once

        if self.interactive:
            kb = KeyboardControl(self.ec.c, log=self.keys.push, midi_grid=True, on_record=lambda on: takes.toggle(),
                                 on_save_loop=self.loops.save_playing, on_find=self.live.on_find)
            run_panel(panel_now, self.ec.c, self.keyboard(kb), until=finished, tick=tick)
            return
        next_status = time.monotonic() + 2.0
        while not finished():
            tick()
            if time.monotonic() >= next_status:
                next_status += 2.0
                print("livegan perform: " + status_line(panel_now()), file=sys.stderr, flush=True)
            stop.wait(0.005)

    def close(self) -> None:
        """Whatever was opened, closed: for a show that played, the stream stopped, generator and
        sources stopped, the take saved, ``--stats-json`` written and the summary printed (a
        generation that never returns: leave at once with ``os._exit``); for one that never started,
        its audio process, shared memory, model and sources go at once. Main thread."""
        self._stage("close")
        if not self.playing:
            try:
                if self.out is not None:
                    self.out.close()
            finally:
                if self.arena is not None:
                    self.arena.close()
                close_sources(self.sources or [self.osc, self.link])
            return
        try:
            self.out.close()
        finally:
            self._teardown()

    def _teardown(self) -> None:
        takes = self.takes
        hung = stop_generator(self.gen)
        for w in self.live.close():  # MIDI, Link, OSC
            print(f"livegan perform: warning: {w}", file=sys.stderr, flush=True)
        self.live.flush()  # events the stopped stream never admitted: at the frame it stopped on
        takes.stop(running=False)  # the take in progress: WAV closed, its performance log saved
        if self.chain is not None:
            self.chain.close()
        gc.enable()
        stats = {**run_stats(self.engine, self.out, takes, skip_calls=8), **self.live.stats()}
        if self.args.stats_json:
            takes.errors += write_stats(self.args.stats_json, stats, getattr(self.args, "force", False))
        print("livegan perform: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                              for k, v in stats.items() if not isinstance(v, list)),
              file=sys.stderr)
        if self.arena is not None:  # the audio process has ended: its shared blocks go
            self.arena.close()
        if hung:  # everything is saved; a thread inside torch would abort the interpreter's exit
            print("livegan perform: a generation never returned: leaving without waiting for it",
                  file=sys.stderr, flush=True)
            rc = self.rc
            if takes.errors:
                print(f"livegan perform: error: {takes.errors[0]}", file=sys.stderr, flush=True)
                rc = 2
            sys.stdout.flush()
            os._exit(rc)


def _check_args(args) -> str:
    """Every option and output path checked before the model loads and the stream opens; -> the model path."""
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
        check_target(args.stats_json, "--stats-json", getattr(args, "force", False),
                     [(args.model or default_model_path(), "the model"), (args.patch, "the patch")])
    args.loops_dir = perform_folder(getattr(args, "loops_dir", None), args.record)
    return _model_path(args.model)


def _start_first_take(record: str, takes) -> None:
    """Take 1 from frame 0: a bad path fails here, before any sound. Unfinished takes found beside it are named."""
    for j in map(shown, unfinished_takes(os.path.dirname(record))[:3]):  # a file name can hold escape sequences
        print(f"livegan perform: found an unfinished take's performance log {j} (a crash?): re-render the "
              f"take with livegan render --automation {j} --seconds S -o OUT.wav", file=sys.stderr)
    takes.start(running=False)
    if takes.rec.path != record:
        print(f"livegan perform: {record} (or its .mid) exists: recording to {takes.rec.path} instead",
              file=sys.stderr)


def _model_path(arg):
    if arg or os.path.isfile(default_model_path()):
        return arg or default_model_path()
    raise CLIError("no built-in model is installed yet: pass --model FILE.ts")

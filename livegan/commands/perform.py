"""``livegan perform``: play a model live: generator thread, audio stream, recorder, MIDI knobs.

It plays through a patch (``--patch``, default the generic patch): MIDI from
``--midi`` (index, name substring or ``virtual``; else the patch's port) goes
to ``livegan.control.controller.Controller`` (knobs -> directions with takeover, seed
notes, snapshot pads, morph, buttons, effect knobs), the patch's effects chain
is the engine's ``fx`` hook, and with ``clock = "midi"`` the MIDI clock's
tempo drives the engine. In a terminal the rich panel shows the state and
the computer keyboard plays (no controller needed); without a terminal (a
script, ``--seconds``) a one-line status is printed every few seconds.
``--record OUT.wav`` also writes every applied control event to ``OUT.mid``
(the performance log, frame-exact) so ``livegan render --automation OUT.mid``
re-renders the performance; it is saved on Ctrl-C and SIGTERM too, and while
the take records its events are appended to ``OUT.journal`` (``livegan.io.journal``)
so a SIGKILL loses none. A take never replaces a file (``take_path``).
``--seconds`` stops it. Ctrl-C, SIGTERM or
an error stop it cleanly: the stream stops, the recorder drains and closes
(a SIGKILL leaves a WAV readable up to its last write), ``--stats-json`` is
written.

Threads: main (this module: setup, the wait loop, MIDI bridging, teardown),
audio callback (``AudioOutput.callback``), generator (``GeneratorThread``),
recorder (``Recorder``), MIDI (``livegan.io.midi.MidiInput``). The main thread is
also the control thread (``livegan.control.live.LiveControl``) and the UI thread.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time

import numpy as np

from livegan.errors import CLIError


class _Stop(Exception):
    pass


class StopRequest:
    """A stop asked for by SIGTERM or SIGINT (Ctrl-C), polled by perform's main loop. Thread: main.

    The handler only sets an attribute: Python runs a signal handler on the main thread between
    two bytecodes, where that thread may hold a lock (``threading.Event.set`` there can wait forever
    for the lock of the ``Event.wait`` it interrupted: a perform that never ends), and a
    KeyboardInterrupt raised mid-step or mid-teardown would leave a take half saved. The handlers
    stay installed until the process exits (perform is the whole process): a second signal during
    the teardown, or after it, is only noted and cannot cut the saving short.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signum = None  # the first stop signal received

    def handler(self, signum, frame) -> None:  # main thread, between two bytecodes: no lock, no I/O
        if self.signum is None:
            self.signum = signum

    def is_set(self) -> bool:
        return self.signum is not None

    def wait(self, seconds: float) -> bool:
        """Sleep (a signal runs its handler and the sleep goes on: at most ``seconds``); whether a stop was asked."""
        time.sleep(seconds)
        return self.is_set()

    def install(self) -> None:
        for s in self.SIGNALS:
            signal.signal(s, self.handler)


def _model_path(arg):
    from livegan.model import default_model_path

    if arg:
        return arg
    p = default_model_path()
    if not os.path.isfile(p):
        raise CLIError("no built-in model is installed yet: pass --model FILE.ts")
    return p


def take_files(path: str) -> list:
    """Every file a take at ``path`` writes: the audio (and a FLAC take's WAV while it records), the
    performance log ``.mid`` and its journal."""
    from livegan.io.recorder import recording_path

    root = os.path.splitext(path)[0]
    return sorted({path, recording_path(path), root + ".mid", root + ".journal"})


def take_path(first: str | None, n: int) -> str:
    """Where take n (1-based) goes: OUT.wav, OUT-2.wav, ... after --record OUT.wav; else a time-stamped
    livegan-YYYYmmdd-HHMMSS.wav in the current folder. Never a name whose audio, ``.mid`` or journal
    exists: the next free number instead (a second ``--record OUT.wav`` gives OUT-2.wav)."""
    if first:
        root, ext = os.path.splitext(first)
        p = first if n == 1 else f"{root}-{n}{ext}"
        k = max(2, n)
    else:
        p = time.strftime("livegan-%Y%m%d-%H%M%S.wav")
        root, ext = os.path.splitext(p)
        k = 2
    while any(os.path.lexists(f) for f in take_files(p)):
        p = f"{root}-{k}{ext}"
        k += 1
    return p


class Takes:
    """Recording toggled live (space on the keyboard, a ``record`` button): each take is a WAV
    with its performance log beside it (``TAKE.mid``: every control event since the performance
    began, and a ``livegan take FRAME`` marker where a later take's audio starts, so ``livegan
    render --automation TAKE.mid`` re-renders exactly that take).

    A take starts and ends on a block boundary: its recorder's ring is swapped in as one
    reference (``Engine.attach_ring``); between takes the engine writes into a small meter ring
    (the panel's level) that ``drain_meter`` empties. Thread: main (the control thread).
    """

    JOURNAL_EVERY_S = 0.05  # the performance log reaches the disk this often while a take records

    def __init__(self, engine, rate: int, channels: int, perflog, first: str | None, say):
        self.engine, self.rate, self.channels, self.perflog, self.first, self.say = \
            engine, rate, channels, perflog, first, say
        self.meter = (engine.ring, engine.rst)  # the engine's own ring (perform makes one for the meter)
        self.rec = None  # the Recorder of the take in progress
        self.journal = None  # its performance log's journal (livegan.io.journal)
        self.n = 0
        self.frames = 0  # recorded by finished takes
        self.drops = 0
        self.start_frame = 0
        self.warning = ""  # the last write problem, for the panel
        self.errors = []  # what could not be written, for the end of the performance
        self._warned = False
        self._next_flush = 0.0

    @property
    def active(self) -> bool:
        return self.rec is not None

    def warn(self, msg: str) -> None:
        """A write problem: on the panel at once (and on stderr without one); the show goes on."""
        self.warning = msg
        self.say(f"warning: {msg}")

    def start(self, running: bool = True) -> None:
        """A new take under the next free name. Before the stream starts (``running`` False) a bad
        path raises CLIError; during the show it is a warning and no take."""
        from livegan.io.journal import Journal, journal_path
        from livegan.io.recorder import Recorder

        self.n += 1
        path = take_path(self.first, self.n)
        try:
            rec = Recorder(path, self.rate, self.channels).start()
        except CLIError as e:
            if not running:
                raise
            self.warn(str(e))
            return
        self.engine.attach_ring(rec.ring, rec.rst)
        self.rec, self._warned = rec, False
        self.start_frame = 0  # before the stream starts: from frame 0
        if running:
            self._wait_attached()
            self.start_frame = self.engine.rec_start_frame
            self.say(f"recording take {self.n}: {path}")
        if self.perflog is not None:
            try:
                self.journal = Journal(journal_path(path), self.perflog, self.start_frame)
            except OSError as e:
                self.warn(f"journal {journal_path(path)}: cannot be written ({e.strerror or e}); the take's "
                          f".mid is written only at its end")

    def poll(self) -> None:
        """Show a write error at once; append new events to the journal. Main thread, every tick."""
        rec = self.rec
        if rec is None:
            return
        if rec.error is not None and not self._warned:
            self._warned = True
            self.warn(f"take {self.n}: writing {rec.wav_path} failed ({rec.error}); the show goes on, "
                      f"the take's audio ends there")
        j = self.journal
        now = time.monotonic()
        if j is not None and now >= self._next_flush:
            self._next_flush = now + self.JOURNAL_EVERY_S
            if j.error is None:
                j.flush()
                if j.error is not None:
                    self.warn(f"journal {j.path}: writing failed ({j.error}); the events are kept for the .mid")

    def _wait_attached(self) -> None:
        end = time.monotonic() + 1.0
        while not self.engine.ring_attached() and time.monotonic() < end:
            time.sleep(0.001)

    def stop(self, running: bool = True) -> None:
        """End the take: WAV closed, ``.mid`` written, journal removed. A write error is kept in
        ``errors`` (and said) and the rest still happens. ``running`` False: the stream has stopped
        (the teardown), so no callback is left to take the meter ring back and none is waited for."""
        rec = self.rec
        if rec is None:
            return
        self.engine.attach_ring(*self.meter)
        if running:
            self._wait_attached()  # the callback writes no more into the take's ring
        self.rec = None
        try:
            rec.close()
        except CLIError as e:
            self.errors.append(str(e))
            if not self._warned:
                self.warn(str(e))
        self.frames += rec.frames_written
        self.drops += rec.dropped
        mid = os.path.splitext(rec.path)[0] + ".mid"
        n = 0
        j, self.journal = self.journal, None
        if self.perflog is not None:
            try:
                n = _save_atomically(self.perflog, mid, self.start_frame)
            except OSError as e:
                kept = f"; its events are in {j.path}" if j is not None and j.error is None else ""
                self.errors.append(f"performance log {mid}: cannot be written ({e.strerror or e}){kept}")
                self.warn(self.errors[-1])
                mid = None
        if j is not None:
            try:
                j.close(remove=mid is not None)
            except OSError:
                pass
        self.say(f"take {self.n}: {rec.path} ({rec.frames_written / self.rate:.1f} s), performance log {mid}: "
                 f"{n} events")

    def toggle(self) -> None:
        self.stop() if self.rec is not None else self.start()

    def drain_meter(self) -> None:
        if self.rec is None:
            from livegan.audio.dsp import R_READ, R_WRITTEN

            rst = self.meter[1]
            rst[R_READ] = rst[R_WRITTEN]

    def recorded_frames(self) -> int:
        return self.frames + (self.rec.frames_written if self.rec else 0)

    def dropped(self) -> int:
        return self.drops + (self.rec.dropped if self.rec else 0)


def _save_atomically(perflog, mid: str, take_start: int) -> int:
    """``PerfLog.save`` through ``MID.part``: a failed write leaves no partial ``.mid``."""
    part = mid + ".part"
    try:
        n = perflog.save(part, take_start=take_start)
        os.replace(part, mid)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
    return n


def run_stats(engine, out, takes, skip_calls: int = 0) -> dict:
    """The numbers ``--stats-json`` writes. Main thread (plain reads of counters)."""
    s = engine.stats()
    g = engine.gen_times()
    d = {"xruns": out.xruns if out else None, "late_loops": s["late_loops"], "loops_generated": s["loops_generated"],
         "loop_switches": s["switches"],
         "gen_ms_median": float(np.median(g) * 1e3) if g.size else None,
         "gen_ms_p99": float(np.percentile(g, 99) * 1e3) if g.size else None,
         "frames_played": s["frame"], "frames_recorded": takes.recorded_frames() if takes else 0,
         "ring_drops": takes.dropped() if takes else 0, "callbacks": out.calls if out else 0,
         "blocksize": out.blocksize if out else None, "samplerate": engine.sample_rate, "device": out.device_name if out else None}
    if out:
        d.update(out.load_stats(skip_calls))
        d["xrun_at_callback"] = [int(i) for i in out.xrun_calls[:min(out.xruns, 64)]]
    from livegan.audio import dsp

    ev = engine.events()
    d["switch_log"] = [[int(f), int(lid)] for f, k, _, lid in ev if k == dsp.EV_SWITCH]  # (frame, loop id)
    d["late_log"] = [[int(f), int(lid)] for f, k, _, lid in ev if k == dsp.EV_LATE]
    # loop id i was generated at frame loop_controls[i][0] from control seq [i][1]
    d["loop_controls"] = [[int(f), int(q)] for f, q in list(engine.controls.generated)]
    d["tempo_end"] = engine.transport.tempo
    d["gen_faults"] = engine.faults.count  # generations that failed while the show went on
    d["last_gen_fault"] = engine.faults.last or None
    return d


def panel_stats(engine, out, takes, patch, rate: int) -> dict:
    """The panel's numbers (``livegan.io.panel.panel``). Main thread: lock-free reads of plain counters."""
    from livegan.audio import dsp
    from livegan.io.panel import level_dbfs

    s = engine.stats()
    bar, beat = engine.transport.bar_beat()
    sched = int(engine.ist[dsp.I_SCHED])
    g = engine.gen_seconds[(engine.loops_generated - 1) % engine.gen_seconds.shape[0]] if engine.loops_generated else 0.0
    calls = out.calls if out else 0
    return dict(bar=bar, beat=beat, bpm=engine.transport.tempo, clock=patch.clock, playing=s["playing_loop"],
                next=int(engine.bank.loop_id[sched]) if sched >= 0 else "-", gen_ms=1e3 * float(g),
                load=float(out.loads[(calls - 1) % out.loads.shape[0]]) if calls else 0.0,
                xruns=out.xruns if out else 0, late=s["late_loops"],
                level_db=level_dbfs(engine.ring, engine.rst), recording=takes.active,
                faults=engine.faults.count, fault=engine.faults.last,
                rec_s=(takes.rec.frames_written / rate) if takes.active else 0.0, warning=takes.warning)


def cli_perform(args) -> int:
    from livegan.audio import dsp
    from livegan.audio.output import AudioOutput
    from livegan.model import load_model
    from livegan.generate.scheduler import GeneratorThread

    if args.seconds is not None and args.seconds <= 0:
        raise CLIError(f"--seconds must be > 0, got {args.seconds}")
    if args.blocksize < 16 or args.blocksize > 8192:
        raise CLIError(f"--blocksize must be in [16, 8192], got {args.blocksize}")
    from livegan.io.files import check_writable

    if args.record:  # every output path before the model loads and the stream opens
        if os.path.splitext(args.record)[1].lower() not in (".wav", ".flac"):
            raise CLIError(f"--record {args.record}: use a .wav or .flac file name")
        check_writable(args.record, "--record", new_file=True)
    if args.stats_json:
        check_writable(args.stats_json, "--stats-json")
    model_path = _model_path(args.model)
    from livegan.control.patch import default_patch_path, load_patch

    patch = load_patch(args.patch or default_patch_path())
    quantize, tempo = patch.quantize, patch.tempo

    # the stream's parameters first: a wrong device fails before the model loads
    import sounddevice as sd  # noqa: F401  (JACK must already run: PortAudio scans now)
    from livegan.audio.output import resolve_output

    dev = resolve_output(args.device)
    rate = args.samplerate or int(sd.query_devices(dev)["default_samplerate"])
    channels = min(2, int(sd.query_devices(dev)["max_output_channels"]))

    if getattr(args, "generator", "thread") == "process":
        from livegan.generate.process import ProcessModel

        model = ProcessModel(model_path)  # CUDA in the child when available
    else:
        model = load_model(model_path, threads=1)  # CUDA when available; warmed up inside
    meta = model.meta
    from livegan.audio.engine import start_tempo_problem
    from livegan.performance import build

    problem = start_tempo_problem(meta, rate, tempo, f"{patch.path}: transport.tempo")
    if problem:  # a tempo the kernel can never read: refused before the show, not a crash in it
        raise CLIError(problem)
    parts = build(meta, patch, rate, channels, record_ring_frames=8192)  # the ring: the meter's
    engine, ec, chain, warnings = parts.engine, parts.controls, parts.fx, parts.warnings
    out = AudioOutput(engine, device=dev, samplerate=rate, blocksize=args.blocksize, latency=args.latency,
                      channels=channels)
    dsp.warm_up(meta.channels, channels)
    from livegan.io.perflog import PerfLog

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    perflog = PerfLog(rate)  # always: a take started later needs every event since frame 0
    def say(msg):  # the panel shows what the key did; without it, stderr says it
        if not interactive:
            print(f"livegan perform: {msg}", file=sys.stderr, flush=True)
    takes = Takes(engine, rate, channels, perflog, args.record, say)
    t0 = time.perf_counter()
    snap = engine.controls.snapshot()
    engine.publish_loop(_first_loop(model, engine, snap, model_path), 0)  # the first loop plays from frame 0
    engine.record_gen_time(time.perf_counter() - t0)
    if args.record:
        from livegan.io.journal import unfinished_takes

        for j in unfinished_takes(os.path.dirname(args.record))[:3]:
            print(f"livegan perform: found an unfinished take's performance log {j} (a crash?): re-render the "
                  f"take with livegan render --automation {j} --seconds S -o OUT.wav", file=sys.stderr)
        takes.start(running=False)  # take 1 from frame 0 (a bad path fails here, before any sound)
        if takes.rec.path != args.record:
            print(f"livegan perform: {args.record} (or its .mid) exists: recording to {takes.rec.path} instead",
                  file=sys.stderr)
    in_process = getattr(args, "generator", "thread") == "process"
    gen = GeneratorThread(engine, model, block_frames=args.blocksize, rt_priority=40 if in_process else None)
    gen.sched.done_seq = snap[0]

    midi_in = None
    midi_spec = args.midi or patch.port or None
    if midi_spec:
        from livegan.io.midi import MidiHandler, MidiInput

        midi_in = MidiInput(midi_spec, handler=MidiHandler(channel=patch.channel)).start()
        import rtmidi

        if midi_in.api == rtmidi.API_UNIX_JACK:  # JACK MIDI arrives with the next cycle: half a period late on average
            midi_in.clock.latency_s = 0.5 * args.blocksize / rate
    from livegan.control.live import LiveControl

    from livegan.control.follow import FrameClock

    frame_clock = FrameClock(out.cb_ring, lambda: out.calls, rate, latency_s=out.output_latency)
    live = LiveControl(ec, engine, midi_in=midi_in, perflog=perflog, clock_follow=patch.clock == "midi",
                       frame_clock=frame_clock)
    live.on_action = lambda a: takes.toggle() if a == "record" else None
    notes = []  # warnings from the control thread (a clock tempo held at the model's limit): panel and stderr
    live.warn = lambda m: (notes.append(m), say(f"warning: {m}"))

    stop = StopRequest()
    stop.install()
    sys.setswitchinterval(0.0005)  # the callback needs the GIL within a fraction of a block
    for w in warnings:  # after the stream opened: a device error stays the only line
        print(f"livegan perform: warning: {w}", file=sys.stderr)
    print(f"livegan perform: {meta.name} on '{out.device_name}' at {rate} Hz, {args.blocksize}-frame blocks, "
          f"{engine.transport.tempo:g} BPM, quantize {quantize}, patch {patch.name}"
          + (f", MIDI {midi_in.port_name}" if midi_in else ", computer keyboard" if interactive else "")
          + (f", recording {takes.rec.path} + {os.path.splitext(os.path.basename(takes.rec.path))[0]}.mid"
             if args.record else ", space or a record button starts a take"),
          file=sys.stderr, flush=True)
    rc = 0
    gc.collect()
    gc.freeze()  # no collector pass walks the model and engine during the performance
    gc.disable()  # and none starts inside the callback; refcounting still frees everything acyclic
    try:
        gen.start()
        out.start()
        if in_process and not interactive:  # (the panel's drawing is not brief: it stays at normal priority)
            from livegan.audio.output import raise_thread_priority

            raise_thread_priority(40)  # main loop holds the GIL only briefly
        # --seconds counts frames played (a stream that starts late still plays them all); the
        # wall-clock limit 5 s later only guards against a stream that stopped calling back
        end_frame = None if args.seconds is None else int(round(args.seconds * rate))
        deadline = None if args.seconds is None else time.monotonic() + args.seconds + 5.0

        def finished():
            if gen.error is not None:
                raise CLIError(f"generator failed: {gen.error}")
            return stop.is_set() or (end_frame is not None and (engine.transport.frame >= end_frame
                                                                or time.monotonic() >= deadline))

        def panel_now():
            return {**panel_stats(engine, out, takes, patch, rate), "note": notes[-1] if notes else ""}

        said = [0]

        def tick():
            live.step()
            takes.drain_meter()  # the meter ring has no writer thread: keep it drained
            takes.poll()  # a write error on screen at once; the journal to disk
            texts = engine.faults.texts  # each distinct generation fault once (the panel shows the last)
            while said[0] < len(texts):
                say(f"warning: a generation failed, the current loop plays on: {texts[said[0]]}")
                said[0] += 1

        if interactive:
            from livegan.control.keyboard import KeyboardControl
            from livegan.io.panel import run_panel

            kb = KeyboardControl(ec.c, log=live.log, midi_grid=True, on_record=lambda on: takes.toggle())
            run_panel(panel_now, ec.c, kb, until=finished, tick=tick)
        else:
            from livegan.io.panel import status_line

            next_status = time.monotonic() + 2.0
            while not finished():
                tick()
                if time.monotonic() >= next_status:
                    next_status += 2.0
                    print("livegan perform: " + status_line(panel_now()), file=sys.stderr, flush=True)
                stop.wait(0.005)
        if stop.signum == signal.SIGINT:
            rc = 130
    except KeyboardInterrupt:
        rc = 130
    finally:
        try:
            out.close()
        finally:
            hung = _stop_generator(gen)
            if hasattr(model, "close"):
                model.close()
                hung = hung and _stop_generator(gen, 1.0)  # a generator process killed: its thread ends
            if midi_in is not None and not midi_in.close():
                print("livegan perform: warning: the MIDI thread did not stop within 2 s; its port is left open",
                      file=sys.stderr, flush=True)
            live.flush()  # events the stopped stream never admitted: at the frame it stopped on
            takes.stop(running=False)  # the take in progress: WAV closed, its performance log saved
            if chain is not None:
                chain.close()
            gc.enable()
            stats = run_stats(engine, out, takes, skip_calls=8)
            if args.stats_json:
                try:
                    with open(args.stats_json, "w") as f:
                        json.dump(stats, f, indent=2)
                except OSError as e:
                    takes.errors.append(f"--stats-json {args.stats_json}: cannot be written ({e.strerror or e})")
            print("livegan perform: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                  for k, v in stats.items() if not isinstance(v, list)),
                  file=sys.stderr)
            if hung:  # everything is saved; a thread inside torch would abort the interpreter's exit
                print("livegan perform: a generation never returned: leaving without waiting for it",
                      file=sys.stderr, flush=True)
                if takes.errors:
                    print(f"livegan perform: error: {takes.errors[0]}", file=sys.stderr, flush=True)
                    rc = 2
                sys.stdout.flush()
                os._exit(rc)
    if takes.errors:  # after everything else was written: the first problem is the error line
        raise CLIError(takes.errors[0])
    return rc


def _first_loop(model, engine, snap, path):
    """The loop the show starts with, under a deadline: a model that raises, breaks the contract
    or never returns here stops the show before it starts, with one line. Main thread."""
    from livegan.audio.engine import checked_loop
    from livegan.model import GenerationTimeout, ModelFileError, call_with_deadline, fault_text, gen_timeout_s
    from livegan.generate.scheduler import generate_loop

    m = engine.meta
    try:
        return call_with_deadline(lambda: checked_loop(generate_loop(model, engine, snap), m.channels,
                                                       m.loop_samples), gen_timeout_s(), "the first loop's forward()")
    except Exception as e:
        if hasattr(model, "close"):  # a generator process stuck in forward(): killed, not left behind
            model.close()
        if isinstance(e, GenerationTimeout):
            raise ModelFileError(path, str(e)) from None
        raise ModelFileError(path, f"the first loop failed ({fault_text(e)})") from None


def _stop_generator(gen, wait_s: float = 10.0) -> bool:
    """Stop the generator thread and wait for a generation in progress (a thread left inside torch
    at interpreter exit aborts the process: "terminate called without an active exception").
    True if it is still running after ``wait_s`` (a forward() that never returns). Main thread."""
    gen.stop()
    if gen.ident is None:
        return False
    gen.join(wait_s)
    return gen.is_alive()

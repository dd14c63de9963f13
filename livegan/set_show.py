"""``livegan perform --set FILE``: a set's tracks played live under one transport (``docs/sets.md``).

A ``SetShow`` is a ``livegan.show.Show`` whose parts are one per track: each track's model
(loaded and warmed before the show), its patch (listening to the track's channel), its engine on its own
shared arena; one audio process steps the engines in lockstep and mixes them
(``livegan.audio.set_host``); one generator thread serves the tracks by deadline
(``livegan.generate.set_scheduler``); one control thread routes the sources to the tracks
(``livegan.control.set_control``); one performance log holds every track's events, so
``livegan render --set FILE --automation TAKE.mid`` re-renders a take bit for bit. Track 0's engine
holds the transport and the record rings (a take records the mix). First version: no effects (one
warning line per track whose patch has some), internal clock only (no MIDI clock or Link), no search.

Threads: as ``livegan perform``'s.
"""
from __future__ import annotations

import time

from livegan.errors import CLIError
from livegan.show import Show, _check_args, _start_first_take
from livegan.swap import swapper_for


class SetKeys:
    """The computer keyboard over a set: Tab selects the next track; M types a model for it (a hot swap,
    ``livegan.swap.ModelPrompt``); every other key goes to a ``KeyboardControl`` on the selected track's
    controller (``controls``: each track's ``EngineControls``, whose controller a swap replaces). Thread: UI."""

    def __init__(self, kb, controls, names, live):
        from livegan.swap import ModelPrompt

        self.kb, self.controls, self.names, self.live = kb, controls, names, live
        self.prompt = ModelPrompt()

    def handle(self, key: str):
        from livegan.control.set_mix import key_event

        k = self.live.selected
        if self.prompt.typing is not None or (key == self.prompt.KEY and self.live.swapper is not None):
            self.kb.last = self.prompt.handle(key, k, self.live.swapper, self.names[k])
            return self.kb.last
        self.kb.c = self.controls[k].c  # (a hot swap may have given the track a new one)
        ev = None if self.kb.typing is not None else key_event(key, k)  # (not while a / search is typed)
        if ev is not None:  # a mix or scene key: the control step applies it
            self.live.keyed.append(ev)
            self.kb.last = f"{key}: " + ("scene" if ev.kind == "scene" else f"track {k + 1}")
            return self.kb.last
        if key == "\t":
            self.live.select(self.live.selected + 1)
            self.kb.c = self.controls[self.live.selected].c
            self.kb.last = f"keys play track {self.live.selected + 1} ({self.names[self.live.selected]})"
            return self.kb.last
        return self.kb.handle(key)

    @property
    def c(self):
        """The selected track's controller as it is now (the panel's knob table; a hot swap replaces it)."""
        return self.controls[self.live.selected].c

    def __getattr__(self, name):  # the panel reads the keyboard's state (selected knob, typing, last)
        return getattr(self.kb, name)


class SetShow(Show):
    """One live set (see the module docstring): ``open`` and ``connect`` build per track; ``play``,
    the status loop and ``close`` are a show's."""

    def __init__(self, args):
        super().__init__(args)
        self.set = None  # livegan.set_file.SetFile
        self.models: list = []  # each track's model (a file named twice is loaded once)
        self.arenas: list = []  # each track's shared arena; track 0's is ``arena``
        self.parts: list = []  # each track's ``livegan.performance.Parts`` (no effects chain)
        self.stem_rings = None  # with --stems: [(ring, rst)] per track, in track 0's arena
        self.levels = None  # the tracks' last post-fader blocks (the audio process's mixer writes them)

    def open(self) -> None:
        self._stage("open")
        args = self.args
        from livegan.audio.arena import Arena
        from livegan.audio.jack import default_blocksize
        from livegan.audio.output import release_portaudio, resolve_output
        from livegan.audio.set_host import SetAudioProcess
        from livegan.control.set_control import SetOsc
        from livegan.performance import build
        from livegan.set_file import load_set, track_patch
        from livegan.set_render import _models

        if args.model or args.patch or getattr(args, "link", False):
            raise CLIError("--model, --patch and --link are for one model: a set's tracks name their own")
        self.set = s = load_set(args.set)
        args.model = s.tracks[0].model  # (the one-model checks then need no built-in model)
        _check_args(args)
        if getattr(args, "stems", False) and not args.record:
            raise CLIError("--stems records each track beside a take: use it with --record TAKE.wav")
        if getattr(args, "osc", None) is not None:
            self.osc = SetOsc(getattr(args, "osc_host", None) or "127.0.0.1", args.osc).open()
        import sounddevice as sd

        dev = resolve_output(args.device)
        info = sd.query_devices(dev)
        if args.blocksize is None:
            args.blocksize = default_blocksize(sd.query_hostapis(info["hostapi"])["name"])
        self.rate = rate = args.samplerate or int(info["default_samplerate"])
        self.channels = min(2, int(info["max_output_channels"]))
        models, tempo, _ = _models(s, rate)  # each model file loaded once, warmed, checked against one clock
        self.models = [models[t.model] for t in s.tracks]
        from livegan.set_scenes import check_scenes

        check_scenes(s, [m.meta for m in self.models])
        self.arenas = [Arena(shared=True) for _ in s.tracks]
        self.parts = []
        for k, (t, model) in enumerate(zip(s.tracks, self.models)):
            patch = track_patch(t)
            patch.tempo = tempo  # (a copy): one clock
            rings = dict(record_ring_frames=8192, take_ring_frames=4 * rate) if k == 0 else {}
            self.parts.append(build(model.meta, patch, rate, self.channels, remote_fx=True, arena=self.arenas[k],
                                    **rings))  # (its effects chain: in the audio process's FxGroup)
            self.warnings += [f"{t.where}: {w}" for w in self.parts[-1].warnings]
        if self.osc is not None:
            self.osc.configure_set([p.patch for p in self.parts], min(p.engine.max_tempo for p in self.parts))
        if self.channels != 2:
            raise CLIError(f"a set plays in stereo; output {dev} has {self.channels} channel")
        stem_frames = 4 * rate if getattr(args, "stems", False) else 0
        from livegan.audio.set_host import mix_queue, mix_tracks, stem_rings

        self.stem_rings = stem_rings(self.arenas[0], len(s.tracks), stem_frames)
        self.levels = mix_tracks(self.arenas[0], len(s.tracks), args.blocksize)[:, :args.blocksize]
        self.mixq = mix_queue(self.arenas[0])
        mix = {"limiter": s.limiter, "master_db": s.gain_db,
               "tracks": [(t.gain_db, t.pan, t.mute, t.solo) for t in s.tracks]}
        self.out = SetAudioProcess(self.parts, self.arenas, mix, dev, rate, args.blocksize, args.latency,
                                   self.channels, stem_frames=stem_frames)
        release_portaudio()
        p0 = self.parts[0]
        self.arena, self.model, self.patch = self.arenas[0], self.models[0], p0.patch
        self.model_path = s.tracks[0].model
        self.engine, self.ec, self.chain = p0.engine, p0.controls, None

    def connect(self) -> None:
        self._stage("connect")
        from livegan.control.follow import FrameClock
        from livegan.control.set_control import SetControl
        from livegan.generate.scheduler import first_loop
        from livegan.generate.set_scheduler import SetGenerator
        from livegan.io.loops import LoopSaver
        from livegan.io.midi import MidiHandler, MidiInput, MidiSource
        from livegan.io.perflog import PerfLog
        from livegan.io.stem_takes import StemTakes
        from livegan.io.takes import Takes

        args, out, rate = self.args, self.out, self.rate
        self.perflog = PerfLog(rate, named=max(len(m.meta.knobs) for m in self.models))
        if self.stem_rings is None:
            self.takes = takes = Takes(self.engine, rate, self.channels, self.perflog, args.record, self.say)
        else:
            names = [t.name for t in self.set.tracks]
            self.takes = takes = StemTakes(self.engine, rate, self.channels, self.perflog, args.record, self.say,
                                           list(zip(names, self.stem_rings)))
        takes.end_frame = None if args.seconds is None else int(round(args.seconds * rate))
        snaps = []
        for t, model, p in zip(self.set.tracks, self.models, self.parts):
            t0 = time.perf_counter()
            snaps.append(p.engine.controls.snapshot())
            loop, z = first_loop(model, p.engine, snaps[-1], t.model)
            p.engine.publish_loop(loop, 0, z=z)  # every track plays from frame 0
            p.engine.record_gen_time(time.perf_counter() - t0)
        if args.record:
            _start_first_take(args.record, takes)
        self.gen = SetGenerator([p.engine for p in self.parts], self.models, block_frames=args.blocksize)
        for g, snap in zip(self.gen.tracks, snaps):
            g.sched.done_seq = snap[0]
        midi_spec = args.midi or self.patch.port or None
        if midi_spec:  # every channel in: the set routes each to its track
            self.midi_in = MidiInput(midi_spec, handler=MidiHandler(channel=None)).start()
            import rtmidi

            if self.midi_in.api == rtmidi.API_UNIX_JACK:
                self.midi_in.clock.latency_s = 0.5 * args.blocksize / rate
        self.sources = [s for s in (self.keys, MidiSource(self.midi_in) if self.midi_in else None, self.osc)
                        if s is not None]
        frame_clock = FrameClock(out.cb_ring, lambda: out.calls, rate, latency_s=out.output_latency)
        tracks = [(p.controls, p.engine, t.channel) for p, t in zip(self.parts, self.set.tracks)]
        info = [{"name": t.name, "mute": t.mute, "solo": t.solo} for t in self.set.tracks]
        self.live = live = SetControl(tracks, sources=self.sources, perflog=self.perflog, frame_clock=frame_clock,
                                      info=info, levels=self.levels)
        self.loops = LoopSaver(self.engine, args.loops_dir, say=lambda m: (self.notes.append(m), self.say(m)))
        acts = {"record": takes.toggle, "save_loop": self.loops.save_playing,
                "record_on": lambda: takes.ask(True), "record_off": lambda: takes.ask(False)}
        live.on_action = lambda a: acts[a]() if a in acts else None
        live.warn = lambda m: (self.notes.append(m), self.say(f"warning: {m}"))
        live.note = lambda m: (self.notes.append(m), self.say(m))
        live.swapper = swapper_for(self.set, self.parts, self.models)
        from livegan.control.set_mix import MixDesk, Scenes

        desk = MixDesk(self.mixq, [(t.gain_db, t.mute, t.solo) for t in self.set.tracks], self.perflog,
                       self.engine.transport, lambda: self.engine.transport.frame)
        live.mix_desk(desk, Scenes(self.set, desk, live.lives, live.queues, [m.meta for m in self.models],
                                   [t.channel - 1 for t in self.set.tracks]))
        live.start()

    def keyboard(self, kb):
        """The computer keyboard for the panel: Tab moves it from track to track."""
        return SetKeys(kb, [p.controls for p in self.parts], [t.name for t in self.set.tracks], self.live)

    def watched_tracks(self) -> list:
        """The tracks after the first (whose engine is the show's own): their faults are said too."""
        return [(t.where, p.engine) for t, p in zip(self.set.tracks[1:], self.parts[1:])]

    def close(self) -> None:
        swapper = getattr(self.live, "swapper", None) if self.live is not None else None
        if swapper is not None:
            swapper.join()  # a loader thread left inside torch at exit would abort the process
        try:
            super().close()
        finally:
            for a in self.arenas:  # (track 0's, once the show had it, is closed by Show.close)
                if a is not self.arena:
                    a.close()

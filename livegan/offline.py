"""Offline render: drive ``Engine.process`` with a virtual clock and automation.

The same engine as on stage, with two differences that make it
deterministic: generation is synchronous (the loop for boundary G is made at
exactly frame(G) - ``lead`` with the control state of that frame), and blocks
are split at every automation event and every scheduler decision, so events
land on their exact frame whatever the block size. Same automation, same
model, same output, bit for bit.

CCs and notes go to the performance's controls (``livegan.performance.Parts``:
the patch's Controller, its effects chain as the engine's ``fx``), and
``livegan tempo X`` markers of a performance log become ``engine.set_tempo(X)``
(and the delay's tempo) at their frame; locate and start/stop markers of an
external clock move or stop the engine's transport.

Thread: main only.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from livegan.errors import CLIError, first_line
from livegan.faults import GenerationFault, fault_text
from livegan.generate.scheduler import Scheduler, generate_loop

RENDER_LEAD_S = 0.1  # generation decision this long before each boundary (virtual clock)
def named_in_log(events) -> int:
    """How many of the model's named knobs the generic patch played first in the show that wrote
    ``events`` (its ``livegan named N`` marker); 0 for a log without one (a show of a model without
    names, a log written before names existed, any other MIDI file), so it re-renders as it played."""
    from livegan.io.perflog import _MARKER, LogEvents

    if isinstance(events, LogEvents):  # only its markers: a million events stay arrays
        texts = (events.markers[int(d)] for d in events.data[events.status == _MARKER])
    else:
        texts = (m.text for _, m in events if getattr(m, "type", None) == "marker")
    return next((int(t.split()[-1]) for t in texts if t.startswith("livegan named ")), 0)


def log_named(events, meta, say) -> int:
    """How many named knobs the generic patch plays first in a render of ``events`` (as in the show
    that logged them: ``named_in_log``); one warning when the model has fewer."""
    n = named_in_log(events)
    if n > len(meta.knobs):
        say(f"the performance played {n} named knobs on the generic patch; this model has {len(meta.knobs)}")
    return n


DEMO_AUTOMATION = os.path.join(os.path.dirname(__file__), "data", "demo.mid")  # the one-model demo's moves
DEMO_SET = os.path.join(os.path.dirname(__file__), "data", "demo_set.toml")  # ``livegan demo``: drums + bass
DEMO_SET_AUTOMATION = os.path.join(os.path.dirname(__file__), "data", "demo_set.mid")  # ... and what it plays
DEMO_SECONDS = 30.0
DEMO_RATE = 48000


def _applier(parts, warn, follow, max_tempo=None, swaps=None):
    """apply(msg): one automation message at the engine's current frame; a ``livegan loop`` marker
    goes to ``follow`` (a ``_Follow``). ``max_tempo``: a lower cap on tempo markers than the engine's own
    (a set's: the slowest track's limit, so every track keeps one grid). Render loop."""
    from livegan.io.perflog import marker_base, marker_bpm, marker_loop, marker_transport

    e, fx, controls = parts.engine, parts.fx, parts.controls
    cap = e.max_tempo if max_tempo is None else min(e.max_tempo, max_tempo)
    said_tempo: list = []
    said_base: list = []

    def apply(m):
        bpm = marker_bpm(m)
        tr = marker_transport(m)
        made = marker_loop(m)
        z = marker_base(m)
        if made is not None:
            follow.loops.append(made)
        elif z is not None:  # a found point became the base z (perform's find), the very same z
            if controls.base(z) is None and warn is not None and not said_base:
                said_base.append(z)
                warn(f"a 'livegan base' marker holds a {z.shape[0]}-d point; this model's latent has "
                     f"{controls.c.latent_dim} dimensions: ignored")
        elif bpm is not None:  # a performance's tempo change, at its frame
            held = min(cap, e.clamp_tempo(bpm))
            if held != bpm and warn is not None and not said_tempo:
                said_tempo.append(bpm)
                warn(f"tempo marker {bpm:g} BPM is beyond what this model plays at {e.sample_rate} Hz: "
                     f"held at {held:g} BPM")
            bpm = held
            e.set_tempo(bpm)
            if fx is not None:
                fx.set_tempo(bpm)
        elif tr is not None and tr[0] == "locate":  # an external clock moved the beat grid
            e.locate(tr[1], tr[2])
        elif tr is not None:
            e.set_running(tr[1])
        elif swaps is not None and swaps.apply(m, controls):  # a set's hot swap (``livegan.swap``)
            return
        elif m.type in ("control_change", "note_on", "note_off"):
            controls.message(m)
    return apply


class _Follow:
    """The loops a performance made, as its log names them, made again instead of the scheduler's.

    The live generator decides when its own measured lead says (not 0.1 s before a boundary) and takes
    the control state admitted then; perform logs each loop it made as ``livegan loop BEAT FRAME`` at
    the frame it was published, FRAME the frame whose control state it was made from. At that frame
    the render makes the loop for BEAT from the state as of FRAME and publishes it, as live. Render loop.
    """

    def __init__(self, engine):
        self.engine = engine
        self.loops: list = []  # (beat, state frame) of the markers met at this frame
        self.states: list = []  # (frame, control snapshot as admitted there), from the oldest still named

    @staticmethod
    def wanted(events) -> bool:
        """Whether a performance log names the loops its show made (``livegan loop`` markers)."""
        texts = getattr(events, "markers", None)
        if texts is not None:  # a LogEvents: its markers' texts (those kept were checked)
            return any(t.startswith("livegan loop ") for t in texts)
        return any(getattr(m, "type", None) == "marker" and m.text.startswith("livegan loop ") for _, m in events)

    def at(self, frame: int, gen_and_publish) -> None:
        """A frame's events are applied and admitted: make the loops its markers name."""
        states = self.states
        states.append((frame, self.engine.controls.snapshot()))
        while self.loops:
            beat, at = self.loops.pop(0)
            k = max([i for i, (f, _) in enumerate(states) if f <= at] or [0])
            del states[:k]  # the live generator's batches only move on: no later marker names an older state
            gen_and_publish(beat, states[0][1])


def render(model, parts, events, total_frames: int, blocksize: int = 256, sink=None,
           lead_frames: int | None = None, warn=None, max_tempo: float | None = None, swaps=None):
    """Render ``total_frames`` of ``parts`` (``livegan.performance.build``) playing ``model``;
    returns (engine, audio (frames, channels) float32, or None with a sink).

    ``model`` has ``.meta`` and ``.generate(z)``; ``events`` is [(frame, msg)] (or a ``LogEvents``).
    ``sink(block)`` receives each block (a view: copy it to keep it).

    As on stage, a generation that fails (raises, or a loop that is not finite, of the wrong shape
    or dtype) is counted in ``engine.faults`` and the loop before it plays on; the same model and
    automation fail the same way, so the render stays deterministic. Only the first loop must
    succeed (else ``GenerationFault``). A tempo marker faster than the model can be read at this
    rate is held at ``engine.max_tempo``. ``warn(text)`` hears each distinct fault and hold once.
    A log that names the loops its show made is followed instead of the scheduler (``_Follow``).
    ``max_tempo``: tempo markers are held at it too (a set's limit); ``swaps``: ``livegan.swap.RenderSwaps``."""
    engine = parts.engine
    if parts.fx is not None:
        parts.fx.set_tempo(engine.transport.tempo)
    sched = Scheduler(engine, int(RENDER_LEAD_S * engine.sample_rate) if lead_frames is None else int(lead_frames))
    follow = _Follow(engine) if _Follow.wanted(events) else None
    apply = _applier(parts, warn, follow, max_tempo, swaps)
    buf = np.zeros((max(1, blocksize), engine.channels), np.float32)
    audio = None if sink is not None else np.zeros((total_frames, engine.channels), np.float32)
    ev_frames = getattr(events, "frames", None)  # a LogEvents: already in time order, messages made on demand
    if ev_frames is None:
        events = sorted(events, key=lambda fe: fe[0])
        ev_frames = [f for f, _ in events]
    n_ev = len(events)

    def gen_and_publish(target, snap=None):
        snap = engine.controls.snapshot() if snap is None else snap
        sched.done_seq = snap[0]  # a failed generation is retried at the next control change, as live
        try:
            loop, z = generate_loop(model, engine, snap)
            engine.record_gen_time(0.0)
            engine.publish_loop(loop, target, wait=lambda: engine.process(buf[:0]), z=z)
        except Exception as ex:
            if target == 0 and engine.bank.loop_id.max() < 0:
                raise GenerationFault(f"the first loop failed ({fault_text(ex)})") from None
            n = len(engine.faults.texts)
            engine.faults.add(fault_text(ex))
            if warn is not None and len(engine.faults.texts) > n:
                warn(f"a generation failed, the loop before it plays on: {engine.faults.last}")

    ei = 0
    while ei < n_ev and ev_frames[ei] <= 0:
        apply(events[ei][1])
        ei += 1
    engine.process(buf[:0])  # admit them at frame 0
    gen_and_publish(0)  # the first loop starts on frame 0 (faded in)
    frame = 0
    if follow is not None:
        follow.at(0, gen_and_publish)
    while frame < total_frames:
        applied = False
        while ei < n_ev and ev_frames[ei] <= frame:
            apply(events[ei][1])
            ei += 1
            applied = True
        if applied:
            engine.process(buf[:0])  # admit them at this frame, as the live callback's next block does
            if follow is not None:
                follow.at(frame, gen_and_publish)
        g = None if follow is not None else sched.poll(frame)
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


def check_output(path: str, frames: int, channels: int) -> None:
    """CLIError unless ``path`` names a .wav or .flac file that can be written, and (a float WAV's
    size being known) one that a WAV can hold and the disk can take."""
    import shutil

    from livegan.files import check_writable

    ext = os.path.splitext(path)[1].lower()
    if ext not in (".wav", ".flac"):
        raise CLIError(f"output {path}: use a .wav or .flac file name")
    check_writable(path, "output")
    if ext != ".wav":
        return  # FLAC's compressed size is unknown: a full disk is reported when it happens
    need = frames * channels * 4 + 4096
    if need >= 1 << 32:
        raise CLIError(f"output {path}: {need / 2**30:.1f} GiB is more than a WAV file holds (4 GiB): "
                       "write a .flac or render fewer --seconds")
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    if need > free:
        raise CLIError(f"output {path}: needs {need / 2**20:.0f} MiB, the disk has {free / 2**20:.0f} MiB free")


def render_automation(model_path: str, patch, events, output: str, seconds: float, rate: int,
                      blocksize: int = 256, skip: int = 0, fx: bool = True, say=None, loops: str | None = None,
                      force: bool = False, inputs=()) -> str:
    """Render ``events`` played through ``patch`` by the model at ``model_path`` into ``output``
    (.wav float or .flac 24-bit, ``rate`` Hz, stereo): ``seconds`` after the first ``skip`` frames
    (before a take's start), which are rendered and dropped. Written under a temporary name and moved
    into place when complete (``livegan.files.output_file``): a failed render leaves what was at
    ``output``; an existing ``output`` is replaced only with ``force``, and never when it is one of
    ``inputs`` ((path, what) pairs) or the model. ``loops``: a folder that gets each distinct loop that
    played in the kept frames (``livegan.io.loops``); a loop that cannot be written (a full disk) is a
    warning, the render is still written and its summary printed, then one CLIError line names
    ``--loops``. Every problem is one CLIError line; ``say`` hears warnings. Returns the one-line summary."""
    import soundfile as sf

    from livegan.audio.engine import start_tempo_problem
    from livegan.files import output_file, write_error
    from livegan.model import load_model
    from livegan.performance import build

    frames = int(round(seconds * rate))
    say = say or (lambda m: print(f"livegan render: warning: {m}", file=sys.stderr))
    model = load_model(model_path, threads=1)
    problem = start_tempo_problem(model.meta, rate, patch.tempo, f"{patch.path}: transport.tempo")
    if problem:
        raise CLIError(problem)
    parts = build(model.meta, patch, rate, 2, fx=fx, named=log_named(events, model.meta, say))
    saver = None
    if loops is not None:
        from livegan.io.loops import LoopSaver

        saver = LoopSaver(parts.engine, loops, say=lambda m: say(f"--loops {loops}: {m}"))
    for w in parts.warnings:
        say(w)
    ext = os.path.splitext(output)[1].lower()
    try:
        with output_file(output, "output", force, [*inputs, (model_path, "the model")]) as tmp:
            with sf.SoundFile(tmp, "w", samplerate=rate, channels=2,
                              subtype="FLOAT" if ext == ".wav" else "PCM_24") as f:
                done = [0]

                def sink(block):
                    a = done[0]
                    done[0] += block.shape[0]
                    if done[0] > skip:
                        f.write(block[max(0, skip - a):])
                        if saver is not None:
                            saver.poll()
                engine, _ = render(model, parts, events, skip + frames, blocksize=blocksize, sink=sink, warn=say)
    except (OSError, sf.LibsndfileError) as e:  # a full disk, a vanished folder
        e = write_error(e, output)
        raise CLIError(f"output {output}: writing failed ({e.strerror or first_line(e)})") from None
    except GenerationFault as e:
        raise CLIError(f"model {model_path}: {e}") from None
    finally:
        parts.close()
    s = engine.stats()
    failed = f" ({s['gen_faults']} failed: the loop before each played on)" if s["gen_faults"] else ""
    summary = (f"rendered {output}: {seconds:g} s at {rate} Hz, patch {patch.name}"
               f"{' (effects off)' if parts.fx is None else ''}, {s['switches']} loop switches, "
               f"{s['loops_generated']} loops generated{failed}, {len(events)} automation events, "
               f"tempo at the end {engine.transport.tempo:g} BPM"
               + (f", {len(saver.saved)} loops written to {loops}" if saver is not None else ""))
    if saver is not None and saver.errors:  # the render is in place: say so, then the loops' error line
        print(summary, flush=True)
        raise CLIError(f"--loops {loops}: {saver.errors[0]}")
    return summary

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
DEMO_AUTOMATION = os.path.join(os.path.dirname(__file__), "data", "demo.mid")  # what ``livegan demo`` plays
DEMO_SECONDS = 30.0
DEMO_RATE = 48000


def _applier(parts, warn):
    """apply(msg): one automation message at the engine's current frame. Render loop."""
    from livegan.io.perflog import marker_bpm, marker_transport

    e, fx, controls = parts.engine, parts.fx, parts.controls
    said_tempo = []

    def apply(m):
        bpm = marker_bpm(m)
        tr = marker_transport(m)
        if bpm is not None:  # a performance's tempo change, at its frame
            if e.clamp_tempo(bpm) != bpm and warn is not None and not said_tempo:
                said_tempo.append(bpm)
                warn(f"tempo marker {bpm:g} BPM is beyond what this model plays at {e.sample_rate} Hz: "
                     f"held at {e.clamp_tempo(bpm):g} BPM")
            bpm = e.clamp_tempo(bpm)
            e.set_tempo(bpm)
            if fx is not None:
                fx.set_tempo(bpm)
        elif tr is not None and tr[0] == "locate":  # an external clock moved the beat grid
            e.locate(tr[1], tr[2])
        elif tr is not None:
            e.set_running(tr[1])
        elif m.type in ("control_change", "note_on", "note_off"):
            controls.message(m)
    return apply


def render(model, parts, events, total_frames: int, blocksize: int = 256, sink=None,
           lead_frames: int | None = None, warn=None):
    """Render ``total_frames`` of ``parts`` (``livegan.performance.build``) playing ``model``;
    returns (engine, audio (frames, channels) float32, or None with a sink).

    ``model`` has ``.meta`` and ``.generate(z)``; ``events`` is [(frame, msg)] (or a ``LogEvents``).
    ``sink(block)`` receives each block (a view: copy it to keep it).

    As on stage, a generation that fails (raises, or a loop that is not finite, of the wrong shape
    or dtype) is counted in ``engine.faults`` and the loop before it plays on; the same model and
    automation fail the same way, so the render stays deterministic. Only the first loop must
    succeed (else ``GenerationFault``). A tempo marker faster than the model can be read at this
    rate is held at ``engine.max_tempo``. ``warn(text)`` hears each distinct fault and hold once.
    """
    engine = parts.engine
    if parts.fx is not None:
        parts.fx.set_tempo(engine.transport.tempo)
    lead = int(RENDER_LEAD_S * engine.sample_rate) if lead_frames is None else int(lead_frames)
    sched = Scheduler(engine, lead)
    apply = _applier(parts, warn)
    buf = np.zeros((max(1, blocksize), engine.channels), np.float32)
    audio = None if sink is not None else np.zeros((total_frames, engine.channels), np.float32)
    ev_frames = getattr(events, "frames", None)  # a LogEvents: already in time order, messages made on demand
    if ev_frames is None:
        events = sorted(events, key=lambda fe: fe[0])
        ev_frames = [f for f, _ in events]
    n_ev = len(events)

    def gen_and_publish(target):
        snap = engine.controls.snapshot()
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
    while frame < total_frames:
        applied = False
        while ei < n_ev and ev_frames[ei] <= frame:
            apply(events[ei][1])
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


def check_output(path: str, frames: int, channels: int) -> None:
    """CLIError unless ``path`` names a .wav or .flac file that can be written, and (a float WAV's
    size being known) one that a WAV can hold and the disk can take."""
    import shutil

    from livegan.io.files import check_writable

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
                      blocksize: int = 256, skip: int = 0, fx: bool = True, say=None, loops: str | None = None) -> str:
    """Render ``events`` played through ``patch`` by the model at ``model_path`` into ``output``
    (.wav float or .flac 24-bit, ``rate`` Hz, stereo): ``seconds`` after the first ``skip`` frames
    (before a take's start), which are rendered and dropped. Written to a temporary file renamed at the end,
    so a failed render leaves what was at ``output``. ``loops``: a folder that gets each distinct loop
    that played in the kept frames (``livegan.io.loops``). Every problem is one CLIError line; ``say``
    hears warnings. Returns the one-line summary."""
    import soundfile as sf

    from livegan.audio.engine import start_tempo_problem
    from livegan.model import load_model
    from livegan.performance import build

    frames = int(round(seconds * rate))
    say = say or (lambda m: print(f"livegan render: warning: {m}", file=sys.stderr))
    model = load_model(model_path, threads=1)
    problem = start_tempo_problem(model.meta, rate, patch.tempo, f"{patch.path}: transport.tempo")
    if problem:
        raise CLIError(problem)
    parts = build(model.meta, patch, rate, 2, fx=fx)
    saver = None
    if loops is not None:
        from livegan.io.loops import LoopSaver

        saver = LoopSaver(parts.engine, loops)
    for w in parts.warnings:
        say(w)
    ext = os.path.splitext(output)[1].lower()
    tmp = os.path.join(os.path.dirname(os.path.abspath(output)), f".{os.path.basename(output)}.{os.getpid()}.part{ext}")
    try:
        with sf.SoundFile(tmp, "w", samplerate=rate, channels=2, subtype="FLOAT" if ext == ".wav" else "PCM_24") as f:
            done = [0]

            def sink(block):
                a = done[0]
                done[0] += block.shape[0]
                if done[0] > skip:
                    f.write(block[max(0, skip - a):])
                    if saver is not None:
                        saver.poll()
            engine, _ = render(model, parts, events, skip + frames, blocksize=blocksize, sink=sink, warn=say)
        os.replace(tmp, output)
    except (OSError, sf.LibsndfileError) as e:  # a full disk, a vanished folder
        raise CLIError(f"{_failed_file(e, output, loops)}: writing failed ({first_line(e)})") from None
    except GenerationFault as e:
        raise CLIError(f"model {model_path}: {e}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        parts.close()
    s = engine.stats()
    failed = f" ({s['gen_faults']} failed: the loop before each played on)" if s["gen_faults"] else ""
    return (f"rendered {output}: {seconds:g} s at {rate} Hz, patch {patch.name}"
            f"{' (effects off)' if parts.fx is None else ''}, {s['switches']} loop switches, "
            f"{s['loops_generated']} loops generated{failed}, {len(events)} automation events, "
            f"tempo at the end {engine.transport.tempo:g} BPM"
            + (f", {len(saver.saved)} loops written to {loops}" if saver is not None else ""))


def _failed_file(e, output: str, loops: str | None) -> str:
    """Which of a render's outputs a write error ``e`` hit: "--loops DIR" or "output OUT"."""
    name = getattr(e, "filename", None)
    if loops is not None and name and os.path.dirname(os.path.abspath(name)) == os.path.abspath(loops):
        return f"--loops {loops}"
    return f"output {output}"

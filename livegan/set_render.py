"""Offline render of a set (``livegan render --set``): every track plays the performance log's events on
its own MIDI channel through ``livegan.offline.render`` (the one-model render, unchanged), all tracks on
one clock, mixed by ``livegan.audio.mixer.Mixer`` into one WAV, with post-fader stems if asked.

One clock: every track starts at the set's tempo (the first track's patch tempo, else its model's bpm)
and gets the same tempo, locate and start/stop markers at the same frames, held at the slowest
track's tempo limit, so all tracks keep one bar grid; the models must share their beats per bar.

Routing: a channel message (CC, note) goes to the track whose ``channel`` is its channel; markers go to
every track, except a one-model show's ``livegan loop`` and ``livegan base`` markers, which name that
show's loops and latent point: they go to the first track only.

Tracks render one after the other into temporary float WAVs beside the output, then one pass mixes
them block by block: the patches' effects chains are pyo's, and pyo runs one chain per process
(``livegan.audio.fx``), so tracks cannot run side by side here. A model file named by several tracks
is loaded once.

Thread: main only.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from typing import TYPE_CHECKING

import numpy as np

from livegan.errors import CLIError, ModelFileError, first_line
from livegan.set_file import SetFile, track_patch

if TYPE_CHECKING:
    from livegan.model import LoopModel

MIX_BLOCK = 8192  # frames per mixing pass block
SHOW_ONLY = ("livegan loop ", "livegan base ")  # markers of a one-model show: the first track's


def _heard(text: str, track: int) -> bool:
    """Whether track number ``track`` takes a marker: a ``livegan loop`` marker names its track (none: the
    first), and so does a ``livegan base HEX [TRACK]`` marker; every other marker is the whole set's."""
    from livegan.io.markers import marker_base_track, marker_track

    if text.startswith("livegan loop "):
        return marker_track(text) == track
    if text.startswith("livegan model "):  # a hot swap names its track (``livegan.swap``)
        return text.split()[2] == str(track)
    if text.startswith("livegan base "):
        return marker_base_track(text) == track
    return track == 0 or not text.startswith(SHOW_ONLY)


def effects_off(events) -> bool:
    """Whether a live set's log says its tracks played without their effects (``livegan effects 0``: a
    take made before live sets played each track's effects, 2026-12-05; it re-renders dry)."""
    texts = getattr(events, "markers", None)
    if texts is None:
        texts = [m.text for _, m in events if getattr(m, "type", None) == "marker"]
    return "livegan effects 0" in texts


def _routed(events, channel: int, track: int):
    """The events track number ``track`` (its ``channel``, 1..16) hears: its channel's messages, the set's
    markers and those naming it (``_heard``)."""
    ch = channel - 1
    if hasattr(events, "status"):  # a LogEvents: filter its arrays, keep its kind
        from livegan.io.perflog import _MARKER, LogEvents

        st = events.status
        voice = (st >= 0x80) & (st < 0xF0)
        keep = ~voice | ((st & 0x0F) == ch)
        idx = np.flatnonzero(keep)
        data = events.data[idx].copy()
        markers = []
        for j, i in enumerate(idx):
            if st[i] == _MARKER:
                text = events.markers[int(events.data[i])]
                if not _heard(text, track):
                    keep[i] = False
                    continue
                data[j] = len(markers)
                markers.append(text)
        sel = keep[idx]
        return LogEvents(events.frames[idx][sel], st[idx][sel], data[sel], markers)
    out = []
    for f, m in events:
        if getattr(m, "channel", ch) != ch:
            continue
        if getattr(m, "type", None) == "marker" and not _heard(m.text, track):
            continue
        out.append((f, m))
    return out


def _models(s: SetFile, rate: int):
    """-> (models by path, the set's tempo, its tempo cap): each model file loaded once and checked against
    the one clock; every problem is one CLIError line naming the set file and the track."""
    from livegan.audio.engine import start_tempo_problem, tempo_limit
    from livegan.model import load_model

    models: dict[str, LoopModel] = {}
    for t in s.tracks:
        if t.model not in models:
            try:
                models[t.model] = load_model(t.model, threads=1)
            except (ModelFileError, CLIError) as e:
                raise CLIError(f"{s.path}: {t.where}.model: {first_line(e, None)}") from None
    meta0 = models[s.tracks[0].model].meta
    tempo = float(s.tracks[0].patch.tempo or meta0.bpm)
    cap = 1e9
    for t in s.tracks:
        meta = models[t.model].meta
        if meta.beats_per_bar != meta0.beats_per_bar:
            raise CLIError(f"{s.path}: {t.where}.model: {meta.beats_per_bar} beats per bar, but track[0]'s "
                           f"model has {meta0.beats_per_bar}: one bar grid needs one meter")
        problem = start_tempo_problem(meta, rate, tempo, f"{s.path}: {t.where}: the set's tempo")
        if problem:
            raise CLIError(problem)
        cap = min(cap, tempo_limit(meta, rate))
    return models, tempo, cap


def _render_tracks(s: SetFile, models, tempo, cap, events, frames, skip, rate, blocksize, folder, say, swaps):
    """Render each track's pre-fader stereo into ``folder``/k.wav (float, RF64: no 4 GiB limit); -> (paths, stats)."""
    import soundfile as sf

    from livegan.faults import GenerationFault
    from livegan.offline import named_in_log, render
    from livegan.performance import build
    from livegan.swap import RenderSwaps

    paths, stats = [], []
    no_fx = effects_off(events)  # a live set's take: its tracks played dry
    named = named_in_log(events)  # a set logs its most-named track's count: each track plays all it has
    for k, t in enumerate(s.tracks):
        model = models[t.model]
        patch = track_patch(t)
        patch.tempo = tempo  # (a copy): one clock
        tsay = (lambda m, w=t.where: say(f"{w}: {m}"))
        parts = build(model.meta, patch, rate, 2, named=min(named, len(model.meta.knobs)), fx=not no_fx)
        for w in parts.warnings:
            tsay(w)
        path = os.path.join(folder, f"{k}.wav")
        try:
            with sf.SoundFile(path, "w", samplerate=rate, channels=2, subtype="FLOAT", format="RF64") as f:
                done = [0]

                def sink(block, f=f, done=done):
                    a = done[0]
                    done[0] += block.shape[0]
                    if done[0] > skip:
                        f.write(block[max(0, skip - a):])
                engine, _ = render(model, parts, _routed(events, t.channel, k), skip + frames, blocksize=blocksize,
                                   sink=sink, warn=tsay, max_tempo=cap,
                                   swaps=RenderSwaps(patch, swaps[k]) if swaps[k] else None)
        except GenerationFault as e:
            raise CLIError(f"{s.path}: {t.where}.model: {t.model}: {e}") from None
        finally:
            parts.close()
        paths.append(path)
        stats.append(engine.stats())
        _release_fx(parts)
    return paths, stats


def _release_fx(parts) -> None:
    """Let a rendered track's effects chain go now: the engine and its controls hold each other, so
    without this the chain would live (its stopped pyo objects still in pyo's one server, each later
    track paying for them) until a garbage collection. Not ``gc.collect()``: pyo objects freed by the
    cycle collector in an arbitrary order crashed the next chain's first ``server.process()``."""
    parts.engine.drop_fx()
    parts.controls.fx = None
    parts.fx = None


def _mix(s: SetFile, paths, frames, rate, output, stems, ext, force, inputs, replay, skip):
    """Mix the track files into ``output`` (and each stem into ``stems``/NAME``ext``), block by block, the
    ``replay``'s mix changes (``livegan.mix_replay.Replay``) at their frames (``skip``: the first's)."""
    import soundfile as sf

    from livegan.audio.mixer import Mixer
    from livegan.files import output_file

    subtype = "FLOAT" if ext == ".wav" else "PCM_24"
    mixer = Mixer(len(s.tracks), MIX_BLOCK, rate, limiter=s.limiter, master_db=s.gain_db)
    for k, t in enumerate(s.tracks):
        mixer.set_track(k, t.gain_db, t.pan, t.mute, t.solo)
    out = np.zeros((MIX_BLOCK, 2), np.float32)
    with contextlib.ExitStack() as stack:
        srcs = [stack.enter_context(sf.SoundFile(p)) for p in paths]
        dst = stack.enter_context(sf.SoundFile(stack.enter_context(output_file(output, "output", force, inputs)),
                                               "w", samplerate=rate, channels=2, subtype=subtype))
        outs = []
        for t in s.tracks if stems is not None else ():
            tmp = stack.enter_context(output_file(stem_path(stems, t.name, ext), "stem", force, inputs))
            outs.append(stack.enter_context(sf.SoundFile(tmp, "w", samplerate=rate, channels=2, subtype=subtype)))
        done = 0
        replay.settle(mixer, skip)
        while done < frames:
            n = min(MIX_BLOCK, frames - done)
            n = replay.block(mixer, skip + done, n)  # the log's live mix changes, at their frames
            for k, src in enumerate(srcs):
                got = src.read(n, dtype="float32", out=mixer.tracks[k, :n])
                if got.shape[0] != n:
                    raise CLIError(f"{s.path}: {s.tracks[k].where}: its render came back short")
            mixer.process(out[:n], skip + done)
            dst.write(out[:n])
            for k, f in enumerate(outs):
                f.write(mixer.tracks[k, :n])
            done += n


def stem_path(folder: str, name: str, ext: str) -> str:
    return os.path.join(folder, name + ext)


def check_space(output: str, frames: int, n_tracks: int, stems: bool) -> None:
    """CLIError unless the output's disk takes the tracks' temporary renders (float, beside the output)
    and, with ``stems``, float stems as large (FLAC stems are smaller: counted as float, to be safe)."""
    need = frames * 2 * 4 * n_tracks * (2 if stems else 1)
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(output))).free
    if need > free:
        raise CLIError(f"output {output}: a set of {n_tracks} tracks needs {need / 2**20:.0f} MiB beside it for "
                       f"the tracks' renders{' and stems' if stems else ''}, the disk has {free / 2**20:.0f} MiB free")


def render_set(s: SetFile, events, output: str, seconds: float, rate: int, blocksize: int = 256, skip: int = 0,
               stems: str | None = None, force: bool = False, inputs=(), say=None) -> str:
    """Render the set ``s`` playing ``events`` into ``output`` (.wav float or .flac 24-bit, ``rate`` Hz,
    stereo): ``seconds`` after the first ``skip`` frames, as ``livegan.offline.render_automation`` does for
    one model; with ``stems``, each track's post-fader stereo into ``stems``/NAME (same format), sample-aligned
    with the mix. Every file is written under a temporary name and moved into place when complete
    (``livegan.files``); nothing existing is replaced without ``force``. One CLIError line per problem;
    ``say`` hears warnings. Returns the one-line summary."""
    import soundfile as sf

    from livegan.files import write_error

    frames = int(round(seconds * rate))
    say = say or (lambda m: print(f"livegan render: warning: {m}", file=sys.stderr))
    models, tempo, cap = _models(s, rate)
    from livegan.swap import render_models

    swaps = render_models(s, events, models, say)  # every file a hot swap names, loaded before rendering
    ext = os.path.splitext(output)[1].lower()
    folder = tempfile.mkdtemp(prefix=".livegan-set-", dir=os.path.dirname(os.path.abspath(output)))
    try:
        paths, stats = _render_tracks(s, models, tempo, cap, events, frames, skip, rate, blocksize, folder, say,
                                      swaps)
        if stems is not None:
            os.makedirs(stems, exist_ok=True)
        from livegan.mix_replay import Replay

        _mix(s, paths, frames, rate, output, stems, ext, force, inputs, Replay(events, len(s.tracks), say), skip)
    except (OSError, sf.LibsndfileError) as e:  # a full disk, a vanished folder
        e = write_error(e, output)
        raise CLIError(f"output {output}: writing failed ({e.strerror or first_line(e)})") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    gen = sum(st["loops_generated"] for st in stats)
    faults = sum(st["gen_faults"] for st in stats)
    failed = f" ({faults} failed: the loop before each played on)" if faults else ""
    return (f"rendered {output}: {seconds:g} s at {rate} Hz, set {s.name}: {len(s.tracks)} track"
            f"{'s' * (len(s.tracks) > 1)} ({', '.join(t.name for t in s.tracks)}), {len(models)} model"
            f"{'s' * (len(models) > 1)}, {gen} loops generated{failed}, "
            f"{len(events)} automation events, tempo at the end {stats[0]['tempo']:g} BPM"
            + (f", stems in {stems}" if stems is not None else ""))

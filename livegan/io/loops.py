"""Loops out: a generated loop as a WAV a performer drags into a DAW, with its tempo beside it.

What is written, and why:

- The loop exactly as the generator made it: float32, the model's rate and channels, one loop long,
  copied from its slot of the loop bank. Not resampled to the performance's output rate: the file is
  then the loop bit for bit (``livegan train`` re-imports it as the same loop), nothing is converted
  twice, and every DAW plays or converts a WAV of any rate on import with its own converter.
- Named ``livegan-loop-ID-120bpm-1bar-16384hz.wav`` (the loop id of the performance, the loop's own
  tempo: the model's bpm, at which the file lasts its bars, the bars, the rate), in a folder, never
  replacing a file: ``-2``, ``-3``, ... as ``livegan.io.takes.take_path`` does.
- Its tempo in two places. libsndfile reads an ACID chunk's tempo but cannot write one (it has
  ``SFC_GET_LOOP_INFO`` and no setter; its writable instrument ``smpl`` and BWF ``bext`` chunks hold
  no tempo), and python-soundfile exposes none of these. So the ACID chunk (what Ableton Live, Bitwig,
  FL Studio, Reaper and Acid read: beats, meter, tempo) is appended here after libsndfile closes the
  file, and a sidecar ``.json`` beside the WAV says the rest: bpm, bars, beats_per_bar, sample_rate,
  channels, frames, model name, loop id, the z that made it (the model gives the loop again from it)
  and the performance's tempo when it was saved.

Threads: the control thread (``livegan perform``'s main thread: a key or a ``save_loop`` button) or
the render loop; never the audio callback. A slot that plays is never written, so the copy is checked
afterwards: still the same loop id, still playing or fading.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

from livegan.audio import dsp
from livegan.errors import CLIError

ACID_STRETCH = 0x04  # ACID flags: a loop (not a one-shot) that the host may time-stretch
ROOT_NOTE = 60  # the ACID root note (unused: flag 0x02 is not set)


def loop_name(loop_id: int, meta, rate: int) -> str:
    """``livegan-loop-ID-BPMbpm-Nbar(s)-RATEhz.wav``."""
    bars = f"{meta.bars}bar" + ("s" if meta.bars != 1 else "")
    return f"livegan-loop-{loop_id}-{meta.bpm:g}bpm-{bars}-{rate}hz.wav"


def free_path(folder: str, name: str) -> str:
    """``folder/name``, or ``name-2``, ``-3``, ... when its WAV or sidecar exists."""
    from livegan.files import free_name

    return free_name(os.path.join(folder, name),
                     lambda p: os.path.lexists(p) or os.path.lexists(os.path.splitext(p)[0] + ".json"))


def acid_chunk(beats: int, beats_per_bar: int, bpm: float) -> bytes:
    """An ACID chunk (as libsndfile's ``wav_read_acid_chunk`` reads it): flags, root note, two
    reserved fields, beats, meter denominator and numerator, tempo."""
    body = struct.pack("<IHHfIHHf", ACID_STRETCH, ROOT_NOTE, 0x8000, 0.0, beats, 4, beats_per_bar, bpm)
    return b"acid" + struct.pack("<I", len(body)) + body


def write_loop(path: str, loop: np.ndarray, rate: int, meta, info: dict) -> None:
    """Write (C, N) float32 ``loop`` to a new WAV at ``path`` (never an existing file: ``FileExistsError``)
    with an ACID chunk, and ``info`` plus the tempo fields as ``path``'s ``.json``. Both are written under
    temporary names beside them and moved into place once complete (``livegan.files``). Any failure
    (a full disk) is one OSError naming ``path``, and leaves nothing under either name.

    libsndfile writes the file by its name, not through a Python file object: a write error inside
    soundfile's file callbacks is printed as "Exception ignored from cffi callback" and surfaces as an
    AssertionError, where a named file's error comes back as one libsndfile error."""
    import soundfile as sf

    from livegan.files import move_into_place, temp_beside, write_error

    side = os.path.splitext(path)[0] + ".json"
    for p in (path, side):
        if os.path.lexists(p):
            raise FileExistsError(17, "a file of that name exists", p)
    beats = meta.bars * meta.beats_per_bar
    tmps = [temp_beside(path), temp_beside(side)]
    placed = []
    try:
        with sf.SoundFile(tmps[0], "w", samplerate=rate, channels=loop.shape[0], format="WAV",
                          subtype="FLOAT") as w:
            w.write(np.ascontiguousarray(loop.T))
        with open(tmps[0], "r+b") as f:
            f.seek(0, os.SEEK_END)  # libsndfile's close rewrote the header: append after its last chunk
            f.write(acid_chunk(beats, meta.beats_per_bar, meta.bpm))
            size = f.tell()
            f.seek(4)
            f.write(struct.pack("<I", size - 8))  # the RIFF size covers the appended chunk
        with open(tmps[1], "w") as f:
            json.dump({"file": os.path.basename(path), "bpm": meta.bpm, "bars": meta.bars,
                       "beats_per_bar": meta.beats_per_bar, "sample_rate": rate, "channels": int(loop.shape[0]),
                       "frames": int(loop.shape[1]), "model": meta.name, **info}, f, indent=1)
        for tmp, final in zip(tmps, (path, side)):
            move_into_place(tmp, final, "loop")
            placed.append(final)
    except BaseException as e:
        for p in placed:  # only what this call created
            os.remove(p)
        if isinstance(e, CLIError):  # the name was taken while this was written
            raise FileExistsError(17, "a file of that name appeared", path) from None
        if isinstance(e, Exception):  # libsndfile's error, soundfile's assertion on a short write, a full disk
            raise write_error(e, path) from None
        raise
    finally:
        for t in tmps:
            if os.path.lexists(t):
                os.remove(t)


def copy_playing(engine, tries: int = 3):
    """-> (loop id, (C, N) float32 copy) of the loop the callback plays now, or None (none plays yet).
    Control thread (or the render loop): the slot is copied, then checked to hold the same loop still
    (the generator may take a slot once it stops fading); a changed one is copied again."""
    b, tk = engine.bank, engine.track
    for _ in range(tries):
        slot = int(tk["cur"])
        if slot < 0:
            return None
        lid = int(b.loop_id[slot])
        if lid < 0 or b.state[slot] not in (dsp.PLAYING, dsp.FADING):
            continue
        loop = b.slots[slot, :, dsp.PAD:dsp.PAD + b.n].copy()
        if int(b.loop_id[slot]) == lid and b.state[slot] in (dsp.PLAYING, dsp.FADING):
            return lid, loop
    return None


def loops_folder(path: str, what: str) -> str:
    """``path`` as a folder loops can be written to (made if missing); else one CLIError line."""
    import tempfile

    if os.path.lexists(path) and not os.path.isdir(path):
        raise CLIError(f"{what} {path}: is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".livegan-probe-"):
            pass
    except OSError as e:
        raise CLIError(f"{what} {path}: cannot write there ({e.strerror or e})") from None
    return path


def perform_folder(loops_dir: str | None, record: str | None) -> str:
    """Where ``livegan perform`` saves loops: ``--loops-dir`` (checked now, before the show: one CLIError
    line), else the first take's folder (``--record``), else the current folder. Main thread."""
    if loops_dir:
        return loops_folder(loops_dir, "--loops-dir")
    return os.path.dirname(record or "") or "."


class LoopSaver:
    """Loops of one performance into ``folder``, each loop id once; ``say(text)`` hears what a
    ``save_playing`` did. Thread: control (main) or the render loop."""

    def __init__(self, engine, folder: str, say=None):
        self.engine, self.folder, self.say = engine, folder, say
        self.saved: dict[int, str] = {}  # loop id -> WAV written
        self.errors: list[str] = []

    def save(self, lid: int, loop: np.ndarray) -> str:
        """Write loop ``lid`` (once); -> its path. OSError when it cannot be written."""
        if lid in self.saved:
            return self.saved[lid]
        e = self.engine
        z = e.loop_z.get(lid)
        info = {"loop_id": lid, "latent_dist": e.meta.latent_dist, "z": None if z is None else z.tolist(),
                "performance_bpm": round(float(e.transport.tempo), 3), "frame": int(e.transport.frame)}
        path = free_path(self.folder, loop_name(lid, e.meta, e.meta.sample_rate))
        write_loop(path, loop, e.meta.sample_rate, e.meta, info)
        self.saved[lid] = path
        return path

    def save_playing(self) -> str:
        """The l key or a ``save_loop`` button: the loop playing now to a file; -> what happened, one
        line, also told to ``say`` (a write error too: the show goes on). Control thread."""
        got = copy_playing(self.engine)
        if got is None:
            msg = "no loop is playing yet"
        elif got[0] in self.saved:
            msg = f"loop {got[0]} is already saved: {self.saved[got[0]]}"
        else:
            try:
                msg = f"loop {got[0]} saved: {self.save(*got)} (+ .json)"
            except OSError as ex:
                self.errors.append(f"loop {got[0]}: cannot be written to {self.folder} ({ex.strerror or ex})")
                msg = "warning: " + self.errors[-1]
        if self.say is not None:
            self.say(msg)
        return msg

    def poll(self) -> None:
        """The render loop, after each block: the loop playing now, if it is new. A loop that cannot be
        written (a full disk) is told to ``say`` once and kept in ``errors``, and no later loop is tried:
        the render goes on."""
        if self.errors:
            return
        got = copy_playing(self.engine)
        if got is not None and got[0] not in self.saved:
            try:
                self.save(*got)
            except OSError as ex:
                self.errors.append(f"loop {got[0]} cannot be written ({ex.strerror or ex}); no later loop was written")
                if self.say is not None:
                    self.say(self.errors[-1])

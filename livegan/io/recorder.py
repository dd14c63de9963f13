"""Recorder: callback -> preallocated ring -> writer thread -> a WAV file whose header is always valid.

The callback copies each output block into the ring (``dsp.ring_write``,
inside ``Engine.process``); frames that do not fit are counted in
``ring_drops``, never silently lost. The writer thread drains the ring into
the file every ``poll_s``.

An interrupted performance still leaves a readable file:
- Ctrl-C, SIGTERM or an exception reach ``close()`` (perform calls it in a
  ``finally``), which drains the ring and finalises the header;
- SIGKILL or a power cut skip ``close()``: the writer thread rewrites the
  header once after each drain (``SFC_UPDATE_HEADER_NOW``: a seek and about
  80 bytes), so the file on disk is always a valid WAV holding everything
  written so far (at most ``poll_s`` plus what sat in the ring).
Live takes are RF64 with libsndfile's auto-downgrade: a plain RIFF/WAVE
header (with a JUNK chunk held for the 64-bit sizes) while the file is under
4 GB, an RF64 header past it, so hours of recording never wrap the 32-bit
sizes. A FLAC take is recorded to ``TAKE.flac.wav`` the same way (a FLAC
file's header is written only at its close: after SIGKILL it is unreadable)
and encoded to ``TAKE.flac`` at ``close()``, which then removes the WAV.

A write error (a full disk) stops the writer, not the show: ``error`` is set
at once for the caller to show, the callback keeps counting what no longer
fits in the ring as drops, and ``close()`` keeps what reached the disk.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import soundfile as sf

from livegan.audio.state import RING, rows
from livegan.errors import CLIError

SFC_UPDATE_HEADER_NOW = 0x1060  # libsndfile sndfile.h
SFC_RF64_AUTO_DOWNGRADE = 0x1210


def recording_path(path) -> str:
    """The file the audio goes to while recording: ``path`` for a WAV, ``path + '.wav'`` for a FLAC."""
    path = str(path)
    return path + ".wav" if os.path.splitext(path)[1].lower() == ".flac" else path


def open_for_recording(path, sample_rate: int, channels: int) -> sf.SoundFile:
    """Open ``recording_path(path)`` for writing: float32 WAV (RF64 past 4 GB). Main thread."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in (".wav", ".flac"):
        raise CLIError(f"record file {path}: use a .wav or .flac file name")
    try:
        f = sf.SoundFile(recording_path(path), "w", samplerate=int(sample_rate), channels=int(channels),
                         subtype="FLOAT", format="RF64")
    except (sf.LibsndfileError, OSError, RuntimeError) as e:
        raise CLIError(f"record file {path}: cannot be written ({e})") from None
    sf._snd.sf_command(f._file, SFC_RF64_AUTO_DOWNGRADE, sf._ffi.NULL, 1)  # RIFF/WAVE below 4 GB
    sf._snd.sf_command(f._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
    return f


def _write(f: sf.SoundFile, block: np.ndarray) -> int:
    """Write a float32 block; returns the frames written (fewer: an OS error, see ``_write_error``)."""
    return sf._snd.sf_writef_float(f._file, sf._ffi.cast("float *", block.ctypes.data), block.shape[0])


def _write_error(f: sf.SoundFile, n: int, want: int) -> OSError:
    """The short write as an error naming its cause (soundfile itself only asserts)."""
    msg = sf._ffi.string(sf._snd.sf_strerror(f._file)).decode("utf-8", "replace")
    return OSError(f"{n} of {want} frames written: {msg}")


def _encode_flac(wav: str, flac: str, block: int = 1 << 16) -> None:
    """WAV -> FLAC (24-bit) in blocks, through ``flac.part`` renamed at the end. Main thread."""
    part = flac + ".part"
    try:
        with sf.SoundFile(wav) as src, sf.SoundFile(part, "w", samplerate=src.samplerate, channels=src.channels,
                                                     subtype="PCM_24", format="FLAC") as dst:
            for b in src.blocks(block, dtype="float32"):
                dst.write(b)
        os.replace(part, flac)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise


class Recorder:
    def __init__(self, path, sample_rate: int, channels: int, ring_seconds: float = 4.0, poll_s: float = 0.05,
                 ring=None):
        """``ring``: (ring, rst) to drain (``Engine.take_ring``, which may be shared with the audio
        process), emptied here; None: a ring of ``ring_seconds`` of its own."""
        self.path = str(path)  # what the take is called when closed (WAV or FLAC)
        self.wav_path = recording_path(path)  # where the audio goes while recording
        self.file = open_for_recording(path, sample_rate, channels)
        if ring is None:
            ring = (np.zeros((int(ring_seconds * sample_rate), channels), np.float32), rows(RING))
        self.ring, counts = ring
        counts[:] = 0  # no callback writes into it while no take records
        self.rst = counts[0]  # its row: the callback writes "written" and "dropped", this writer "read"
        self.frames_written = 0
        self.limit = None  # frames the take may hold (``--seconds``: it ends on that frame), None: all
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livegan-recorder", daemon=True)
        self.error = None  # the first write error (the writer stops at it)

    def start(self) -> "Recorder":
        self._thread.start()
        return self

    def _drain(self) -> int:
        """Write everything the callback has put in the ring. Recorder thread (or main after stop)."""
        w, r = int(self.rst["written"]), int(self.rst["read"])
        cap = self.ring.shape[0]
        n = w - r
        while r < w:
            a = r % cap
            b = min(cap, a + (w - r))
            keep = b - a if self.limit is None else max(0, min(b - a, self.limit - self.frames_written))
            done = _write(self.file, self.ring[a:a + keep]) if keep else 0
            r += done if done != keep else b - a  # frames past the limit are read and let go
            self.rst["read"] = r  # hand the space back only after it is written
            self.frames_written += done
            if done != keep:
                raise _write_error(self.file, done, keep)
        return n

    def _run(self):
        """Recorder thread: drain every poll_s, then rewrite the header once (valid after a SIGKILL)."""
        from livegan.audio.output import raise_thread_priority

        raise_thread_priority(30)  # it takes the GIL briefly; ordinary load must not park it holding it
        try:
            while not self._stop.is_set():
                if self._drain():
                    sf._snd.sf_command(self.file._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
                self._stop.wait(self.poll_s)
        except Exception as e:  # disk full etc.: the caller shows it; the callback keeps counting drops
            self.error = e

    @property
    def dropped(self) -> int:
        return int(self.rst["dropped"])

    def close(self) -> None:
        """Stop the writer, write what is left, finalise the file (a FLAC take: encode it and remove
        its WAV). Main thread, after the stream stops. Raises CLIError after a write error, once the
        file holds all that could be written, or when the writer is still stuck in a write 10 s on."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self._thread.is_alive():  # a write stuck in the kernel: the file is not drained or closed under it
            raise CLIError(f"record file {self.wav_path}: the writer did not finish within 10 s; the take ends "
                           f"at its last header update")
        try:
            if self.error is None:
                self._drain()
        except Exception as e:
            self.error = e
        finally:
            try:
                self.file.close()
            except Exception as e:  # the header's last rewrite failed: the periodic one stands
                self.error = self.error or e
        if self.error is not None:
            raise CLIError(f"record file {self.wav_path}: writing failed ({self.error})")
        if self.wav_path != self.path:
            try:
                _encode_flac(self.wav_path, self.path)
            except (OSError, RuntimeError, sf.LibsndfileError) as e:
                raise CLIError(f"record file {self.path}: encoding failed ({e}); the take is in {self.wav_path}") \
                    from None
            os.remove(self.wav_path)

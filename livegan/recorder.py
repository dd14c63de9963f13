"""Recorder: callback -> preallocated ring -> writer thread -> soundfile (WAV or FLAC by extension).

The callback copies each output block into the ring (``dsp.ring_write``,
inside ``Engine.process``); frames that do not fit are counted in
``ring_drops``, never silently lost. The writer thread drains the ring into
the file every ``poll_s``.

An interrupted performance still leaves a readable file:
- Ctrl-C, SIGTERM or an exception reach ``close()`` (perform calls it in a
  ``finally``), which drains the ring and finalises the header;
- SIGKILL or a power cut skip ``close()``: for WAV the header is rewritten by
  libsndfile after every write (``SFC_SET_UPDATE_HEADER_AUTO``), so the file
  on disk is always a valid WAV holding everything written so far (at most
  ``poll_s`` plus what sat in the ring). FLAC is finalised only by ``close()``.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import soundfile as sf

from livegan.cli import CLIError

SFC_UPDATE_HEADER_NOW = 0x1060  # libsndfile sndfile.h
SFC_SET_UPDATE_HEADER_AUTO = 0x1061


def open_for_recording(path, sample_rate: int, channels: int) -> sf.SoundFile:
    """Open ``path`` for writing (WAV float32, or FLAC 24-bit), header kept current. Main thread."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in (".wav", ".flac"):
        raise CLIError(f"record file {path}: use a .wav or .flac file name")
    subtype = "FLOAT" if ext == ".wav" else "PCM_24"
    try:
        f = sf.SoundFile(str(path), "w", samplerate=int(sample_rate), channels=int(channels), subtype=subtype)
    except (sf.LibsndfileError, OSError, RuntimeError) as e:
        raise CLIError(f"record file {path}: cannot be written ({e})") from None
    if ext == ".wav":
        sf._snd.sf_command(f._file, SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, 1)
        sf._snd.sf_command(f._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
    return f


class Recorder:
    def __init__(self, path, sample_rate: int, channels: int, ring_seconds: float = 4.0, poll_s: float = 0.05):
        self.path = str(path)
        self.file = open_for_recording(path, sample_rate, channels)
        self.ring = np.zeros((int(ring_seconds * sample_rate), channels), np.float32)
        self.rst = np.zeros(3, np.int64)  # write count (callback), read count (writer), dropped frames
        self.frames_written = 0
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livegan-recorder", daemon=True)
        self.error = None

    def start(self) -> "Recorder":
        self._thread.start()
        return self

    def _drain(self) -> int:
        """Write everything the callback has put in the ring. Recorder thread (or main after stop)."""
        w, r = int(self.rst[0]), int(self.rst[1])
        cap = self.ring.shape[0]
        n = w - r
        while r < w:
            a = r % cap
            b = min(cap, a + (w - r))
            self.file.write(self.ring[a:b])
            r += b - a
            self.rst[1] = r  # hand the space back only after it is written
            self.frames_written += b - a
        return n

    def _run(self):
        """Recorder thread: drain every poll_s; the header is current after each write."""
        from livegan.audio import raise_thread_priority

        raise_thread_priority(30)  # it takes the GIL briefly; ordinary load must not park it holding it
        try:
            while not self._stop.is_set():
                if self._drain():
                    self.file.flush()
                self._stop.wait(self.poll_s)
        except Exception as e:  # disk full etc.: surfaced by close(); the callback keeps counting drops
            self.error = e

    @property
    def dropped(self) -> int:
        return int(self.rst[2])

    def close(self) -> None:
        """Stop the writer, write what is left, finalise the file. Main thread, after the stream stops."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        try:
            if self.error is None:
                self._drain()
        finally:
            self.file.close()
        if self.error is not None:
            raise CLIError(f"record file {self.path}: writing failed ({self.error})")

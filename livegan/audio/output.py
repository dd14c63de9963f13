"""Audio output through sounddevice (PortAudio): JACK, ALSA, CoreAudio, WASAPI... any output a user has.

``resolve_output(spec)`` takes an index or a name substring; ``AudioOutput``
opens the stream, counts xruns from the callback's status flags and times
every callback as a fraction of the block period. Every failure to open
(missing device, busy device, unsupported rate) is one ``CLIError`` line.

Import sounddevice only after any JACK server you want to see has started:
PortAudio scans devices when it is first imported.

Threads: ``AudioOutput.callback`` runs on the PortAudio thread; the rest on main.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from livegan.audio.state import COUNTS
from livegan.errors import CLIError

if TYPE_CHECKING:  # annotations only: nothing more is imported at run time
    from livegan.audio.engine import Engine


@runtime_checkable
class OutputBackend(Protocol):
    """What a show needs of an audio output: the seam a GIL-free backend or an audio process plugs into.

    The backend owns the audio thread: each period it calls ``engine.process(block)`` with a
    preallocated (blocksize, channels) float32 block and nothing else that could allocate, lock or wait.
    Counters are plain numbers read without locks by the main thread:

    - ``device_name``, ``blocksize``, ``samplerate``: what it opened;
    - ``calls``: callbacks so far; ``xruns``: under/overflows, the first 64 at ``xrun_calls`` (call index);
    - ``loads``: ring of each callback's time as a fraction of the block period (``load_stats`` sums it up);
    - ``delays``: ring of each callback's *start delay*, seconds from the moment the audio server
      invoked it (PortAudio's ``time_info.currentTime``) to livegan's first line: the wait for the
      GIL that ``loads`` cannot see (``load_stats`` sums it up too);
    - ``cb_ring``: (16, 2) ring of (monotonic time, engine frame) at each callback's start, read by
      ``livegan.control.follow.FrameClock`` to tell which frame is heard when;
    - ``output_latency``: seconds from a callback's start to its first frame at the output.

    ``start`` and ``close`` run on the main thread; ``close`` returns once no callback runs any more.
    """
    device_name: str
    blocksize: int
    samplerate: int
    calls: int
    xruns: int
    xrun_calls: np.ndarray
    loads: np.ndarray
    delays: np.ndarray
    cb_ring: np.ndarray

    @property
    def output_latency(self) -> float: ...

    def start(self) -> "OutputBackend": ...

    def close(self) -> None: ...

    def load_stats(self, skip: int = 0) -> dict: ...


def _sd():
    try:
        import sounddevice as sd
    except OSError as e:
        raise CLIError(f"PortAudio is not installed ({e}); on Debian: apt-get install libportaudio2") from None
    if not sd._initialized:  # released by release_portaudio: scan again
        sd._initialize()
    return sd


def release_portaudio() -> None:
    """Shut PortAudio down in this process (the next ``_sd()`` starts it again). On JACK, PortAudio keeps
    an active client in the server's graph from the moment it starts, streams or not: the control
    process releases its own once the audio process has the stream, so JACK wakes one livegan client
    per cycle, not two. Main thread, with no stream open in this process."""
    import sys

    sd = sys.modules.get("sounddevice")
    if sd is not None and sd._initialized:
        sd._terminate()


def _outputs(sd):
    apis = sd.query_hostapis()
    return [(i, d["name"], apis[d["hostapi"]]["name"], d) for i, d in enumerate(sd.query_devices())
            if d["max_output_channels"] > 0]


def _listing(outs) -> str:
    if not outs:
        return "no audio outputs are available here (no sound card or audio server); `livegan render` writes a file"
    return "outputs are: " + "; ".join(f"{i} '{name}' ({api})" for i, name, api, _ in outs)


def resolve_output(spec) -> int:
    """Index or name substring (case-insensitive) -> output device index. Main thread."""
    sd = _sd()
    outs = _outputs(sd)
    if spec is None or str(spec) == "":
        dflt = sd.default.device[1] if sd.default.device else -1
        if dflt is not None and dflt >= 0 and any(i == dflt for i, *_ in outs):
            return int(dflt)
        if outs:
            return outs[0][0]
        raise CLIError(f"no audio output device: {_listing(outs)}")
    s = str(spec).strip()
    if s.lstrip("-").isdigit():
        i = int(s)
        if any(j == i for j, *_ in outs):
            return i
        raise CLIError(f"audio device {i} is not an output device here; {_listing(outs)}")
    exact = [i for i, name, *_ in outs if name.lower() == s.lower()]
    if len(exact) == 1:
        return exact[0]
    hits = [i for i, name, api, _ in outs if s.lower() in name.lower() or s.lower() in api.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise CLIError(f"audio device '{s}' not found; {_listing(outs)}")
    raise CLIError(f"audio device '{s}' matches {len(hits)} outputs, use an index; {_listing(outs)}")


def raise_thread_priority(priority: int = 40) -> bool:
    """Make the *calling* thread SCHED_FIFO at ``priority`` (below JACK's audio thread), if allowed.

    For the audio process's helper threads that hold the GIL briefly (main
    loop, generator bridge, recorder): a GIL holder that ordinary load can
    preempt makes the audio callback wait for it (priority inversion).
    Never for a thread that computes for long (torch). Returns False where
    the system refuses (no rtprio): then nothing changes.
    """
    import os

    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # 0 = this thread on Linux
        return True
    except (AttributeError, OSError, PermissionError):
        return False


class AudioOutput:
    """An ``OutputBackend`` on sounddevice: a running output stream feeding ``engine.process``. Stats are
    plain numbers (lock-free)."""

    def __init__(self, engine: Engine, device=None, samplerate: int | None = None, blocksize: int = 256,
                 latency="low", channels: int | None = None, stat_blocks: int = 1 << 20, arena=None):
        """``arena`` (``livegan.audio.arena``): where the counters live (shared with the control
        process when this runs in the audio process); None: this process's memory."""
        sd = _sd()
        self.sd = sd
        self.device = resolve_output(device)
        info = sd.query_devices(self.device)
        self.device_name = info["name"]
        self.samplerate = int(samplerate or engine.sample_rate)
        self.channels = int(channels or engine.channels)
        if self.channels > info["max_output_channels"]:
            raise CLIError(f"audio device '{self.device_name}' has {info['max_output_channels']} output "
                           f"channel(s), {self.channels} asked for")
        if isinstance(latency, str) and latency not in ("low", "high"):
            try:
                latency = float(latency)
            except ValueError:
                raise CLIError(f"--latency must be 'low', 'high' or seconds, got {latency!r}") from None
        try:
            sd.check_output_settings(device=self.device, samplerate=self.samplerate, channels=self.channels,
                                     dtype="float32")
        except sd.PortAudioError as e:
            raise CLIError(f"audio device '{self.device_name}' does not support {self.samplerate} Hz x "
                           f"{self.channels} ch float32 ({e}); its default rate is "
                           f"{info['default_samplerate']:.0f} Hz") from None
        self.engine = engine
        self.blocksize = int(blocksize)
        self.period = self.blocksize / self.samplerate
        self.counters = Counters(arena, stat_blocks)
        self.loads, self.delays = self.counters.loads, self.counters.delays
        self.xrun_calls, self.cb_ring, self._ost = self.counters.xrun_calls, self.counters.cb_ring, self.counters.ost
        self._perf = time.perf_counter
        self._mono = time.monotonic
        try:
            self.stream = sd.OutputStream(device=self.device, samplerate=self.samplerate, channels=self.channels,
                                          blocksize=self.blocksize, dtype="float32", latency=latency,
                                          callback=self.callback)
        except sd.PortAudioError as e:
            raise CLIError(f"audio device '{self.device_name}' could not be opened ({e}); is another program "
                           "using it?") from None

    def callback(self, outdata, frames, time_info, status):
        """PortAudio thread: no allocation of our own, no lock, no log, no torch. Never rebinds outdata."""
        now = self.stream.time  # first: the start delay ends here
        t0 = self._perf()
        ost = self._ost
        n = ost["calls"]
        self.delays[n % self.delays.shape[0]] = now - time_info.currentTime
        if status.output_underflow or status.output_overflow:
            x = ost["xruns"]
            if x < 64:
                self.xrun_calls[x] = n
            ost["xruns"] = x + 1
        r = self.cb_ring[n & 15]
        r[0] = self._mono()
        r[1] = self.engine.state["frame"]  # the block's first frame
        try:
            self.engine.process(outdata)
        except Exception as e:  # an exception here would stop the stream: this block is silent instead
            outdata.fill(0.0)
            self.counters.fault(e)
            self.engine.drop_fx()  # the Python part of the block: the loops play on without it
        self.loads[n % self.loads.shape[0]] = (self._perf() - t0) / self.period
        ost["calls"] = n + 1

    @property
    def calls(self) -> int:
        return int(self._ost["calls"])

    @property
    def xruns(self) -> int:
        return int(self._ost["xruns"])

    def start(self):
        try:
            self.stream.start()
        except self.sd.PortAudioError as e:
            raise CLIError(f"audio device '{self.device_name}' could not start ({e}); is it busy?") from None
        return self

    def close(self):
        try:
            self.stream.stop()
        finally:
            self.stream.close()

    @property
    def output_latency(self) -> float:
        """Seconds from a callback's start to its first frame at the output (PortAudio's figure)."""
        lat = self.stream.latency
        return float(lat[1] if isinstance(lat, tuple) else lat)

    def load_stats(self, skip: int = 0) -> dict:
        """Callback time and start delay (``Counters.stats``) after ``skip`` calls."""
        return self.counters.stats(self.period, skip)


FAULT_TEXT = 240  # bytes kept of the last callback fault's text


class Counters:
    """An output's plain-number counters, in an arena (``livegan.audio.arena``): callbacks, xruns,
    the first 64 xruns' call index, per-callback load and start delay rings, and (monotonic time,
    engine frame) at the last 16 callback starts. Written by the audio thread (of whichever
    process), read lock-free by the main thread."""

    def __init__(self, arena=None, stat_blocks: int = 1 << 20):
        from livegan.audio.arena import Arena

        a = self.arena = arena or Arena()  # kept: the arrays live as long as their mapping
        self.ost = a.array("out.counts", 1, COUNTS)[0]  # its row: ost["calls"], ["xruns"], ["faults"]
        self.fault_text = a.array("out.fault_text", FAULT_TEXT, np.uint8)  # UTF-8, NUL-padded
        self.xrun_calls = a.array("out.xrun_calls", 64, np.int64, -1)
        self.loads = a.array("out.loads", stat_blocks, np.float64)  # callback time / block period, ring
        self.delays = a.array("out.delays", stat_blocks, np.float64)  # seconds, ring
        self.cb_ring = a.array("out.cb_ring", (16, 2), np.float64)

    def fault(self, e: BaseException) -> None:
        """Count an exception the callback caught and keep its one-line text. Audio thread (the
        exceptional path: it may allocate)."""
        b = f"{type(e).__name__}: {e}".splitlines()[0].encode("utf-8", "replace")[:FAULT_TEXT - 1]
        self.fault_text[:] = 0
        self.fault_text[:len(b)] = np.frombuffer(b, np.uint8)
        self.ost["faults"] += 1

    def last_fault(self) -> str:
        """The text of the last callback fault ("" before any). Main thread."""
        return bytes(self.fault_text).split(b"\0", 1)[0].decode("utf-8", "replace")

    def stats(self, period: float, skip: int = 0) -> dict:
        """Callback time as a fraction of the block period (median, p99, max) and the callback start
        delay in ms (median, p99, p99.9, max, and how many callbacks started more than half a period
        late), after ``skip`` calls. Main thread."""
        faults = {"callback_faults": int(self.ost["faults"]), "last_callback_fault": self.last_fault() or None}
        return {**self._timing(period, skip), **faults}

    def _timing(self, period: float, skip: int) -> dict:
        n = min(int(self.ost["calls"]), self.loads.shape[0])
        x = self.loads[min(skip, n):n]
        d = self.delays[min(skip, n):n] * 1e3
        if x.size == 0:
            return {k: None for k in ("callback_load_median", "callback_load_p99", "callback_load_max",
                                      "start_delay_ms_median", "start_delay_ms_p99", "start_delay_ms_p999",
                                      "start_delay_ms_max", "late_starts")}
        return {"callback_load_median": float(np.median(x)), "callback_load_p99": float(np.percentile(x, 99)),
                "callback_load_max": float(x.max()),
                "start_delay_ms_median": float(np.median(d)), "start_delay_ms_p99": float(np.percentile(d, 99)),
                "start_delay_ms_p999": float(np.percentile(d, 99.9)), "start_delay_ms_max": float(d.max()),
                "late_starts": int(np.count_nonzero(d > 0.5e3 * period))}

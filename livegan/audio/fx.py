"""Effects chain: pyo run block-synchronously inside the audio callback.

pyo's Server is booted with ``audio='manual'``: it owns no audio device and
computes one buffer each time ``server.process()`` is called. ``FxChain.process``
copies the engine's mixed block into pyo's input buffer, calls ``process()``
and copies pyo's output buffer back, in sub-blocks of ``pyo_block`` frames.
Both buffers are wrapped once as numpy arrays over pyo's own memory.

Any block length works: frames go through a ``pyo_block``-frame FIFO, so the
output is the chain's output delayed by exactly ``pyo_block`` frames (2.7 ms at
48 kHz, ``FxChain.latency``), and pyo computes its buffer k when input frame
``(k + 1) * pyo_block`` has arrived, whatever the caller's block sizes. A
parameter set before frame F therefore reaches the same pyo buffer however
the blocks are split: renders are bit-identical across block sizes.

One chain plays per process (pyo's server is global): building a new chain
closes the previous one, so its output never leaks into the new one's.

``EFFECTS`` is the one registry of effects: name -> parameters (range,
default, knob curve), the pyo graph that builds it, which parameters are in
beats (tempo-synced: pyo gets beats x 60 / tempo seconds) and its modes. The
patch validator, the controller and ``livegan learn`` read it; a new effect
is one entry there. Chain (order from the patch): filter (Biquad
low/high/band-pass), drive (Disto), tempo-synced delay (Delay, feedback),
reverb (Freeverb). Every parameter is a SigTo ramp (``SMOOTH_S``), so CC steps never
click, and every stage has a bypass that crossfades the stage's wet signal
out over the same ramp; a bypassed stage passes its input to within float
rounding (measured max 1e-6 on a 0.2-rms signal).

Threads: ``process`` runs on the audio callback and allocates no arrays.
``set_param``, ``set_bypass``, ``set_tempo`` set SigTo targets; in ``livegan
perform`` and ``livegan render`` they are called at the start of an engine
block by ``EngineControls.admit`` (audio thread, between two
``server.process()`` calls), so a knob change reaches the same pyo buffer
live and in a re-render. Never create a plain ``pyo.Server()`` here: it opens
an audio device.
"""
from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

SMOOTH_S = 0.02  # parameter and bypass ramps
FILTER_TYPE = {"lowpass": 0, "highpass": 1, "bandpass": 2}


class Param(NamedTuple):
    lo: float
    hi: float
    default: float
    curve: str = "lin"  # "log": mapped exponentially from a knob, so its lower half is not wasted


@dataclass(frozen=True)
class EffectSpec:
    params: dict  # param name -> Param
    build: Callable  # (pyo, src, g, effect) -> (wet signal, pyo objects to keep alive); g(param) -> its SigTo
    synced: tuple = ()  # params in beats: pyo gets seconds at the current tempo
    modes: tuple = ()  # allowed Effect.mode values (none: the effect has no mode)


def _build_filter(pyo, src, g, e):
    wet = pyo.Biquad(src, freq=g("cutoff"), q=g("q"), type=FILTER_TYPE[e.mode])
    return pyo.Interp(src, wet, interp=g("mix")), []


def _build_drive(pyo, src, g, e):
    # Disto's drive near 1 is harsh; map amount 0..1 -> 0..0.98, level-compensated
    drv = pyo.Disto(src, drive=g("amount") * 0.98, slope=0.6, mul=1.0 - g("amount") * 0.3)
    return pyo.Interp(src, drv, interp=g("mix")), []


def _build_delay(pyo, src, g, e):
    d = pyo.Delay(src, delay=g("beats"), feedback=g("feedback"), maxdelay=8.0)
    return src + d * g("mix"), [d]


def _build_reverb(pyo, src, g, e):
    return pyo.Freeverb(src, size=g("size"), damp=g("damp"), bal=g("mix")), []


EFFECTS = {
    "filter": EffectSpec({"cutoff": Param(40.0, 18000.0, 18000.0, "log"), "q": Param(0.5, 12.0, 0.707),
                          "mix": Param(0.0, 1.0, 1.0)}, _build_filter, modes=tuple(FILTER_TYPE)),
    "drive": EffectSpec({"amount": Param(0.0, 1.0, 0.3), "mix": Param(0.0, 1.0, 1.0)}, _build_drive),
    "delay": EffectSpec({"beats": Param(0.0625, 2.0, 0.75), "feedback": Param(0.0, 0.95, 0.35),
                         "mix": Param(0.0, 1.0, 0.25)}, _build_delay, synced=("beats",)),
    "reverb": EffectSpec({"size": Param(0.0, 1.0, 0.5), "damp": Param(0.0, 1.0, 0.5),
                          "mix": Param(0.0, 1.0, 0.2)}, _build_reverb),
}


@dataclass
class Effect:
    type: str  # one of EFFECTS
    bypass: bool = False
    params: dict = field(default_factory=dict)  # param -> value (defaults filled in)
    mode: str = "lowpass"  # only read by effects with modes


def default_effect(effect_type: str) -> Effect:
    """An effect of this type with every parameter at its default."""
    return Effect(type=effect_type, params={p: v.default for p, v in EFFECTS[effect_type].params.items()})
_SERVER: dict[str, Any] = {"server": None, "key": None, "chain": None}


def _import_pyo():
    """pyo, imported without its wx GUI: pyo reads ``PYO_GUI_WX`` once, at its own import, and would
    otherwise try wxPython. The variable is set only for that import (a user's own value wins), so
    importing this module changes no process-wide state."""
    if "pyo" in sys.modules:
        return sys.modules["pyo"]
    had = "PYO_GUI_WX" in os.environ
    os.environ.setdefault("PYO_GUI_WX", "0")
    try:
        import pyo
    finally:
        if not had:
            del os.environ["PYO_GUI_WX"]
    return pyo


def _server(sr: int, channels: int, block: int):
    """One manual pyo server per process (pyo keeps global state); rebuilt when the format changes."""
    pyo = _import_pyo()

    key = (sr, channels, block)
    if _SERVER["key"] != key:
        if _SERVER["server"] is not None:
            _SERVER["server"].stop()
            _SERVER["server"].shutdown()
        s = pyo.Server(sr=sr, nchnls=channels, ichnls=channels, buffersize=block, duplex=1,
                       audio="manual", jackname="livegan-fx")
        s.deactivateMidi()
        s.setVerbosity(1)
        s.boot()
        s.start()
        _SERVER.update(server=s, key=key)
    return _SERVER["server"]


def _fifo(server, block: int, channels: int):
    """A FIFO over pyo's input and output buffers: (input FIFO, output FIFO, frames in it = 0, pyo's
    input buffer, its output buffer), the last two numpy views of pyo's own memory, (block, channels)."""
    n = block * channels
    pin = np.ctypeslib.as_array((ctypes.c_float * n).from_address(int(server.getInputAddr(), 16)))
    pout = np.ctypeslib.as_array((ctypes.c_float * n).from_address(int(server.getOutputAddr(), 16)))
    z = np.zeros((block, channels), np.float32)  # interleaved = C order (frames, channels)
    return z, z.copy(), 0, pin.reshape(block, channels), pout.reshape(block, channels)


def _settle(server, pin, sample_rate: int, block: int) -> None:
    """pyo fades new objects in over the first buffers: settle on silence before the first real block."""
    pin[:] = 0.0
    for _ in range(max(8, int(0.05 * sample_rate / block))):
        server.process()


class FxChain:
    """The patch's effects on a (frames, channels) float32 block, in place."""

    def __init__(self, effects: list[Effect], sample_rate: int, channels: int, bpm: float = 120.0,
                 pyo_block: int = 128, group: FxGroup | None = None, offset: int = 0):
        """``group``: one of a live set's chains, on the group's server at channels ``offset``.. (the
        group moves the frames and settles; this chain's own ``process`` is not used)."""
        pyo = _import_pyo()

        self.sample_rate, self.channels, self.block = sample_rate, channels, pyo_block
        self.latency = pyo_block  # frames the chain delays its input
        self.bpm = bpm
        if group is None:
            prev = _SERVER["chain"]
            if prev is not None:
                prev.close()
            self.server = _server(sample_rate, channels, pyo_block)
            self._fin, self._fout, self._pos, self._in2, self._out2 = _fifo(self.server, pyo_block, channels)
        else:
            self.server = group.server
        self.effects = {e.type: e for e in effects}
        self.sig = {}  # "filter.cutoff" -> SigTo
        self.active = {}  # type -> SigTo 1 (on) / 0 (bypassed)
        self._objs = []
        src = pyo.Input(chnl=list(range(offset, offset + channels)))
        self._objs.append(src)
        for e in effects:
            for p, v in e.params.items():
                self.sig[f"{e.type}.{p}"] = pyo.SigTo(self._param_value(e.type, p, v), time=SMOOTH_S,
                                                      init=self._param_value(e.type, p, v))
            g = lambda p, t=e.type: self.sig[f"{t}.{p}"]  # build() calls g at once; t binds this effect
            wet, keep = EFFECTS[e.type].build(pyo, src, g, e)
            self._objs += keep
            on = pyo.SigTo(0.0 if e.bypass else 1.0, time=SMOOTH_S, init=0.0 if e.bypass else 1.0)
            self.active[e.type] = on
            stage = pyo.Interp(src, wet, interp=on)
            self._objs += [wet, on, stage]
            src = stage
        self.out = src
        self.out.out(chnl=offset)
        if group is None:
            _SERVER["chain"] = self
            _settle(self.server, self._in2, sample_rate, pyo_block)

    def _param_value(self, t: str, p: str, v: float) -> float:
        """Patch units -> pyo units (a tempo-synced param's beats -> seconds at the current tempo)."""
        if p in EFFECTS[t].synced:
            return v * 60.0 / self.bpm
        return v

    # -- control thread
    def set_param(self, name: str, value: float) -> None:
        """name "type.param" in patch units; ignored if the chain has no such effect."""
        s = self.sig.get(name)
        if s is None:
            return
        t, p = name.split(".")
        spec = EFFECTS[t].params[p]
        v = min(spec.hi, max(spec.lo, float(value)))
        self.effects[t].params[p] = v
        s.value = self._param_value(t, p, v)

    def set_bypass(self, effect_type: str, bypass: bool) -> None:
        if effect_type in self.active:
            self.effects[effect_type].bypass = bypass
            self.active[effect_type].value = 0.0 if bypass else 1.0

    def set_tempo(self, bpm: float) -> None:
        """Keep every tempo-synced parameter on the beat."""
        self.bpm = float(bpm)  # an admitted tempo is a numpy float, and pyo's SigTo takes only a float
        for t, e in self.effects.items():
            for p in EFFECTS[t].synced:
                self.set_param(f"{t}.{p}", e.params[p])

    # -- audio thread
    def process(self, block: np.ndarray) -> None:
        """Apply the chain in place; each frame enters the FIFO and leaves ``pyo_block`` frames later.
        block: (frames, channels) float32, any length. Thread: audio callback; copies into
        preallocated buffers and pyo's own, no allocation."""
        bs, fin, fout = self.block, self._fin, self._fout
        n = block.shape[0]
        i, p = 0, self._pos
        while i < n:
            m = min(n - i, bs - p)
            fin[p:p + m] = block[i:i + m]
            block[i:i + m] = fout[p:p + m]
            p += m
            i += m
            if p == bs:
                self._in2[:] = fin
                self.server.process()
                fout[:] = self._out2
                p = 0
        self._pos = p

    def close(self) -> None:
        if _SERVER["chain"] is self:
            _SERVER["chain"] = None
        self.out.stop()
        for o in self._objs:
            o.stop()
        self._objs.clear()


class FxGroup:
    """A live set's effects: each track's patch chain, all on one pyo server (pyo keeps one per process),
    track k on channels ``k * channels``.. of it. ``process`` moves every track's block through one
    FIFO and calls ``server.process()`` once per pyo buffer for all of them; a chain's samples are the
    ones it gives alone on a server of its own (``livegan render --set`` renders the tracks one after
    another), since no chain reads another's channels. ``specs``: per track (effects, bpm), or None
    for a track without effects (it passes untouched, with no delay, as it renders)."""

    def __init__(self, specs: list, sample_rate: int, channels: int, pyo_block: int = 128):
        prev = _SERVER["chain"]
        if prev is not None:
            prev.close()
        self.channels, self.block, self.latency = channels, pyo_block, pyo_block
        self.server = _server(sample_rate, channels * len(specs), pyo_block)
        self._fin, self._fout, self._pos, self._in2, self._out2 = _fifo(self.server, pyo_block,
                                                                        channels * len(specs))
        self.chains = [None if s is None else FxChain(s[0], sample_rate, channels, s[1], pyo_block, group=self,
                                                      offset=k * channels) for k, s in enumerate(specs)]
        self.on = [k for k, c in enumerate(self.chains) if c is not None]
        _SERVER["chain"] = self
        _settle(self.server, self._in2, sample_rate, pyo_block)

    def set_tempo(self, bpm: float) -> None:
        """Every chain's tempo-synced parameters on the set's one tempo. Audio thread (admission)."""
        for c in self.chains:
            if c is not None:
                c.set_tempo(bpm)

    def process(self, blocks) -> None:
        """Each track's (frames, channels) float32 block with a chain through it, in place (all the same
        length; each frame leaves ``pyo_block`` frames after it entered). Audio callback; no allocation."""
        bs, fin, fout, ch = self.block, self._fin, self._fout, self.channels
        n = blocks[0].shape[0]
        i, p = 0, self._pos
        while i < n:
            m = min(n - i, bs - p)
            for k in self.on:
                b, c = blocks[k], k * ch
                fin[p:p + m, c:c + ch] = b[i:i + m]
                b[i:i + m] = fout[p:p + m, c:c + ch]
            p += m
            i += m
            if p == bs:
                self._in2[:] = fin
                self.server.process()
                fout[:] = self._out2
                p = 0
        self._pos = p

    def close(self) -> None:
        if _SERVER["chain"] is self:
            _SERVER["chain"] = None
        for c in self.chains:
            if c is not None:
                c.close()

"""A live set's callback body: N track engines stepped in lockstep into preallocated per-track blocks, then mixed
by ``livegan.audio.mixer.Mixer`` into the output block (``docs/architecture.md``, "A live set").

Each track is an unchanged ``Engine`` (its own loop bank, latent point, admission record and safety limiter,
on its own arena), played up to its effects (``Engine.play_dry``); then every track's chain runs in one pass
of the shared pyo server (``livegan.audio.fx.FxGroup``) and each track's limiter, the order ``Engine.play``
has, so each track's samples are the ones ``livegan render --set`` gives it. One transport: track 0 owns the
tempo, the locate requests and start / stop (its controls are the only ones that stage them); before each
block the other tracks take track 0's requests (plain 8-byte copies), so every engine meets the same tempo and
grid changes at the same frame, the way ``livegan render --set`` applies a log's tempo, locate and run markers
to every track. The record rings are track 0's: the mix is written there (``Engine.play`` leaves the copy to
its caller), so a take and the meter see the mix; with ``stems`` each track's post-fader block (what it added
to the mix) goes into its stem ring in the same blocks as a take's, so stems and take are sample-aligned.

``SetEngine`` looks like an ``Engine`` to ``livegan.audio.output.AudioOutput`` (``process``, ``state``,
``sample_rate``, ``channels``, ``drop_fx``). Threads: ``process`` on the audio callback (allocates nothing for
blocks of ``blocksize`` frames: the per-track views are made here); the rest on the main thread before the
stream starts.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from livegan.audio import dsp
from livegan.audio.mixer import Mixer
from livegan.audio.state import ENGINE, rows


@njit(cache=True)
def follow(dst: np.ndarray, src: np.ndarray) -> None:
    """Track 0's transport requests into another track's ``ENGINE`` row: five plain copies (no Python object
    per block, as a field read from a structured scalar in Python would be). Audio thread."""
    d, s = dst[0], src[0]
    d.tempo_req = s.tempo_req
    d.loc_beat = s.loc_beat
    d.loc_frame = s.loc_frame
    d.loc_req = s.loc_req
    d.run_req = s.run_req


class SetEngine:
    def __init__(self, engines, mixer: Mixer, blocksize: int, stems=None, fx=None):
        self.engines = list(engines)
        self.fx = fx  # the tracks' effects chains on one server (``livegan.audio.fx.FxGroup``), or None
        self.lead = self.engines[0]
        self.mixer = mixer
        self.state = self.lead.state
        self.sample_rate, self.channels = self.lead.sample_rate, self.lead.channels
        self.blocksize = int(blocksize)
        self.views = [mixer.tracks[k, :self.blocksize] for k in range(len(self.engines))]
        self.followers = [e.est for e in self.engines[1:]]
        follow(rows(ENGINE), rows(ENGINE))  # compiled (or loaded) here, not on the first block
        self.stems = stems  # [(ring, rst)] per track: its post-fader block while a take records (``--stems``)
        self.arenas: list = []  # the audio process keeps the tracks' arenas here (their mappings stay)

    def process(self, out: np.ndarray) -> None:
        """Fill ``out`` (frames, 2) float32 with the mix of every track's block. Audio callback or test loop."""
        n = out.shape[0]
        if n > self.mixer.tracks.shape[1]:  # longer than the mixer holds: in pieces (not a live path)
            step = self.mixer.tracks.shape[1]
            for a in range(0, n, step):
                self.process(out[a:a + step])
            return
        views = self.views if n == self.blocksize else [self.mixer.tracks[k, :n] for k in range(len(self.engines))]
        s0 = self.lead.state
        frame0 = s0["frame"]  # the block's first frame: staged mix changes are timed by it
        rec = self.lead.play_dry(views[0])
        for k, est in enumerate(self.followers):
            follow(est, self.lead.est)
            self.engines[k + 1].play_dry(views[k + 1])
        if self.fx is not None:  # every track's chain in one pass of the shared server
            self.fx.process(views)
        for k, e in enumerate(self.engines):  # then each track's limiter, as ``Engine.play`` orders them
            dsp.limiter(views[k], e.lst)
        self.mixer.process(out, frame0)
        if rec is not None:
            dsp.ring_write(rec[0], rec[1], out)
            if self.stems is not None and s0["rec_seen"] == 1:  # a take: each stem from the block it mixed
                for k, (ring, rst) in enumerate(self.stems):
                    dsp.ring_write(ring, rst, views[k])

    def drop_fx(self) -> None:
        """A fault in the block (Python side): every track plays on without effects. Audio thread."""
        self.fx = None
        for e in self.engines:
            e.drop_fx()

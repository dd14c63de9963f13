"""A live set's audio process: ``livegan.audio.host``'s, with one engine per track (each on its own
shared arena) stepped by ``livegan.audio.set_engine.SetEngine`` and mixed by ``livegan.audio.mixer``.

Each track's patch effects run live: one ``livegan.audio.fx.FxGroup`` holds every track's chain on the
process's one pyo server; track 0's admission gives a tempo change to every chain (the set's one
clock), each track's admission its own chain's knobs and bypasses.

Threads: ``SetAudioProcess`` on the control process's main thread; ``child_open_set`` on the audio
process's main thread, before its stream starts.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from livegan.audio.host import AudioProcess

if TYPE_CHECKING:
    from livegan.model import ModelMeta


def stem_rings(arena, n_tracks: int, frames: int):
    """The stem rings (``--stems``) in track 0's arena: [(ring (frames, 2) float32, rst)] per track; None
    for frames 0. Made by the control process before the audio process starts, mapped there by name."""
    import numpy as np

    from livegan.audio.state import RING

    if not frames:
        return None
    return [(arena.array(f"set.stem{k}", (frames, 2), np.float32), arena.array(f"set.stemrst{k}", 1, RING))
            for k in range(n_tracks)]


def mix_tracks(arena, n_tracks: int, blocksize: int):
    """The mixer's per-track blocks (``Mixer.tracks``) in track 0's arena, so the control process reads
    each track's last post-fader block for its meter. Made there before the audio process starts."""
    import numpy as np

    return arena.array("set.tracks", (n_tracks, max(8192, blocksize), 2), np.float32)


def mix_queue(arena):
    """The mixer's staged changes (``livegan.audio.mix_stage``) in track 0's arena: the control process
    stages a fader, mute or solo change there, the audio process's mixer applies it at its frame."""
    from livegan.audio.mix_stage import MIXQ, SLOTS

    return arena.array("set.mixq", SLOTS, MIXQ)


class LeadFx:
    """Track 0's admission target: its own chain's parameters and bypasses (``chain``, None without
    effects), and the tempo for every chain of the group (track 0 alone stages the set's tempo)."""

    def __init__(self, chain, group):
        self.chain, self.group = chain, group

    def set_param(self, name: str, value: float) -> None:
        if self.chain is not None:
            self.chain.set_param(name, value)

    def set_bypass(self, effect_type: str, bypass: bool) -> None:
        if self.chain is not None:
            self.chain.set_bypass(effect_type, bypass)

    def set_tempo(self, bpm: float) -> None:
        self.group.set_tempo(bpm)


def child_open_set(spec: dict):
    """The audio process's side: every track's engine on its arena, the mixer, the stream (not started)."""
    from livegan.audio.admit import Admitter
    from livegan.audio.arena import Arena
    from livegan.audio.engine import Engine, warm_up
    from livegan.audio.mixer import Mixer
    from livegan.audio.output import AudioOutput
    from livegan.audio.set_engine import SetEngine

    group = None
    if any(t["effects"] for t in spec["tracks"]):
        from livegan.audio.fx import FxGroup

        group = FxGroup([(t["effects"], t["fx_bpm"]) if t["effects"] else None for t in spec["tracks"]],
                        spec["rate"], spec["channels"])
    engines, arenas = [], []
    for k, t in enumerate(spec["tracks"]):
        arena = Arena.attach(t["arena"])
        meta = cast("ModelMeta", SimpleNamespace(**t["meta"]))
        adm = Admitter(arena, t["patch_effects"])  # the staged record's layout: the patch's
        engine = Engine(meta, adm, fx=None, arena=arena, **t["engine"])  # type: ignore[arg-type]
        chain = None if group is None else group.chains[k]
        adm.bind(engine, LeadFx(chain, group) if k == 0 and group is not None else chain)
        adm.adopt()
        engines.append(engine)
        arenas.append(arena)
    m = spec["mixer"]
    mixer = Mixer(len(engines), max(8192, spec["blocksize"]), spec["rate"], limiter=m["limiter"],
                  master_db=m["master_db"])
    mixer.tracks = mix_tracks(arenas[0], len(engines), spec["blocksize"])
    mixer.q = mix_queue(arenas[0])
    for k, (gain_db, pan, mute, solo) in enumerate(m["tracks"]):
        mixer.set_track(k, gain_db, pan, mute, solo)
    set_engine = SetEngine(engines, mixer, spec["blocksize"], stems=stem_rings(arenas[0], len(engines),
                                                                              spec["stem_frames"]), fx=group)
    set_engine.arenas = arenas  # kept: the arrays live as long as their mapping
    out = AudioOutput(set_engine, device=spec["device"], samplerate=spec["rate"],  # type: ignore[arg-type]
                      blocksize=spec["blocksize"], latency=spec["latency"], channels=spec["channels"], arena=arenas[0])
    for e in engines:
        warm_up(e.meta.channels, spec["channels"])
    mixer.process(mixer.tracks[0, :0].copy())  # the mixer's kernels compiled (or loaded) before the stream
    mixer.process(mixer.tracks[0, :0].copy(), 0)  # (and the staged-change one)
    return out, group


class SetAudioProcess(AudioProcess):
    """An ``AudioProcess`` playing a set: ``parts`` one ``livegan.performance.Parts`` per track (built
    with ``remote_fx`` on ``arenas``, one each; track 0's holds the counters and the record rings);
    ``mix`` the mixer's settings: {"limiter", "master_db", "tracks": [(gain_db, pan, mute, solo)]}."""

    def __init__(self, parts, arenas, mix: dict, device: int, samplerate: int, blocksize: int, latency="low",
                 channels: int = 2, stem_frames: int = 0):
        self.set_parts, self.arenas, self.mix, self.stem_frames = list(parts), list(arenas), dict(mix), stem_frames
        super().__init__(parts[0], arenas[0], device, samplerate, blocksize, latency, channels)

    def _spec(self, parts, arena, device, latency, effects_on: bool) -> dict:
        tracks = []
        for p, a in zip(self.set_parts, self.arenas):
            one = super()._spec(p, a, device, latency, effects_on)
            tracks.append({k: one[k] for k in ("arena", "meta", "effects", "patch_effects", "fx_bpm", "engine")})
        return dict(open="livegan.audio.set_host:child_open_set",
                    tracks=tracks, mixer=self.mix, stem_frames=self.stem_frames, rate=self.samplerate,
                    channels=self.channels, device=device,
                    blocksize=self.blocksize, latency=latency)


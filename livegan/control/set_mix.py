"""A live set's mix desk and scenes, on the control thread (``docs/sets.md``, "Live mix and scenes").

``MixDesk``: each track's fader (dB), mute and solo as the performer asked; a change is staged in the
mixer's shared table (``livegan.audio.mix_stage``) for the next block (a key, OSC, MIDI CC 7) or for a bar
line (a scene), and once the audio process has applied it, logged at the very frame it did as a
``livegan mix TRACK GAIN_MDB MUTE SOLO`` marker: ``livegan render --set`` applies it there.

``Scenes``: recall N gives every track the scene names its point (a seed, a z, knob offsets from it) as a
base point, the way a found point is (a ``livegan base HEX TRACK`` marker each: the loop launched at each
track's next boundary is the scene's), and stages its gains and mutes for the next bar line. Save N stores
every track's point now, gain and mute as scene N, in the set file too (``livegan.set_scenes``).

Thread: control (the show's main thread).
"""
from __future__ import annotations

import numpy as np

from livegan.audio.mix_marks import MIX_MDB, mix_row
from livegan.audio.mix_stage import APPLIED, FREE, stage
from livegan.audio.mixer import db_gain
from livegan.control.sources import Event

FADER_CC = 7  # MIDI CC 7 on a track's channel is its fader (where its patch does not use CC 7)
FADER_DB = (-60.0, 6.0)  # CC 7 0..127 -> -60..+6 dB, linear in dB
KEY_STEP_DB = 1.0


def cc_db(value: int) -> float:
    """A fader CC (0..127) in dB: 0 is -60 dB, 127 is +6 dB, linear in dB between."""
    return FADER_DB[0] + (FADER_DB[1] - FADER_DB[0]) * min(127, max(0, int(value))) / 127.0


class MixDesk:
    """The tracks' live gain / mute / solo. ``q``: the mixer's shared MIXQ table; ``tracks``: [(gain_db,
    mute, solo)] from the set file; ``transport``: track 0's (the bar grid); ``frame``: the engine frame now."""

    def __init__(self, q, tracks, perflog, transport=None, frame=None):
        self.q, self.perflog, self.transport, self.frame = q, perflog, transport, frame
        self.gain_mdb = [int(round(g * 1000)) for g, _, _ in tracks]
        self.mute = [bool(m) for _, m, _ in tracks]
        self.solo = [bool(s) for _, _, s in tracks]
        self.pending: dict[int, tuple] = {}  # slot -> (track, gain mdB, mute, solo)
        self.seq = int(q["seq"].max()) if len(q) else 0
        self.lost = 0  # changes refused: every slot was taken

    def set(self, k: int, gain_db=None, mute=None, solo=None, frame: int = -1) -> str:
        """Track k's new fader (dB), mute, solo (None: as it is), from ``frame`` (-1: the next block)."""
        if gain_db is not None:
            self.gain_mdb[k] = int(round(min(MIX_MDB[1], max(MIX_MDB[0], float(gain_db) * 1000))))
        if mute is not None:
            self.mute[k] = bool(mute)
        if solo is not None:
            self.solo[k] = bool(solo)
        row = (k, self.gain_mdb[k], self.mute[k], self.solo[k])
        self.seq += 1
        slot = stage(self.q, self.seq, k, db_gain(row[1] / 1000.0), row[2], row[3], frame)
        if slot is None:
            self.lost += 1
            return f"track {k + 1}: mix change lost (too many waiting)"
        self.pending[slot] = row
        return (f"track {k + 1}: {row[1] / 1000:+.1f} dB" + ("  muted" if row[2] else "")
                + ("  solo" if row[3] else ""))

    def next_bar(self) -> int:
        """The frame of the next bar line after now (-1 without a transport: the next block)."""
        t = self.transport
        if t is None:
            return -1
        now = t.frame
        bar = t.next_grid_beat(t.beat_at(now + 1), t.beats_per_bar)
        return max(now, t.frame_of_beat(bar))

    def step(self) -> list[int]:
        """Log the changes the audio process applied, at their frames; -> their slots' tracks."""
        done = []
        for slot, row in list(self.pending.items()):
            r = self.q[slot]
            if r["state"] == APPLIED:
                if self.perflog is not None:
                    self.perflog.log(int(r["applied"]), mix_row(*row))
                r["state"] = FREE
                del self.pending[slot]
                done.append(row[0])
        return done

    def flush(self) -> None:
        """At the end (stream stopped): what was applied at its frame, the rest at the frame now."""
        self.step()
        for slot, row in self.pending.items():
            if self.perflog is not None:
                self.perflog.log(self.frame() if self.frame else 0, mix_row(*row))
            self.q[slot]["state"] = FREE
        self.pending.clear()

    def panel(self, k: int) -> dict:
        return {"gain_db": self.gain_mdb[k] / 1000.0, "mute": self.mute[k], "solo": self.solo[k]}


def scene_point(part, meta, base) -> np.ndarray | None:
    """A scene part's point: its seed's or its z (else ``base``, the track's now), moved by its knobs
    (direction number -> sigmas along the model's direction; name -> along that named knob); None when
    the part names no point and no knob."""
    from livegan.control.mapping import latent_point
    from livegan.model import seed_z

    if part.seed is None and part.z is None and not part.knobs:
        return None
    if part.seed is not None:
        z0 = seed_z(part.seed, meta.latent_dim, meta.latent_dist)
    elif part.z is not None:
        z0 = np.asarray(part.z, np.float32)
    else:
        z0 = np.asarray(base, np.float32)
    dirs = np.asarray(meta.directions, np.float32).reshape(-1, meta.latent_dim)
    off = np.zeros(dirs.shape[0], np.float32)
    names = [k.name for k in meta.knobs]
    noff = np.zeros(len(names), np.float32)
    for key, sig in part.knobs.items():
        if isinstance(key, int):
            off[key] += sig
        else:
            noff[names.index(key)] += sig
    named = None
    if names:
        named = (np.array([k.direction for k in meta.knobs], np.float32), np.array([k.sigma for k in meta.knobs],
                                                                                    np.float32), noff)
    return latent_point(z0, dirs, np.asarray(meta.sigmas, np.float32), off, meta.latent_dist, named)


class Scenes:
    """Scene recall and save for a set (``set_file``: its ``scenes``); ``lives``: each track's
    ``LiveControl`` (its Controller gives the point now), ``queues``: each track's event queue."""

    def __init__(self, set_file, desk: MixDesk, lives, queues, metas, channels):
        self.set, self.desk, self.lives, self.queues = set_file, desk, lives, queues
        self.metas, self.channels = metas, channels
        self.current: int | None = None  # 1-based
        self.queued: int | None = None
        self.save_mode = False

    def recall(self, n: int) -> str:
        if not 1 <= n <= len(self.set.scenes):
            return f"scene {n}: the set has {len(self.set.scenes)} scene{'s' * (len(self.set.scenes) != 1)}"
        sc = self.set.scenes[n - 1]
        bar = self.desk.next_bar()
        for k, part in sc.parts.items():
            z = scene_point(part, self.metas[k], self.lives[k].ec.c.base)
            if z is not None:
                self.queues[k].events.append(Event("base", channel=self.channels[k], track=k,
                                                   data=(z, f"scene {n} ({sc.name}): {self.set.tracks[k].name}")))
            if part.gain_db is not None or part.mute is not None:
                self.desk.set(k, gain_db=part.gain_db, mute=part.mute, frame=bar)
        self.queued = n
        return f"scene {n} ({sc.name}) at the next bar"

    def step(self) -> None:
        """The queued scene becomes the current one once its mix changes are applied (none: at once)."""
        if self.queued is not None and not self.desk.pending:
            self.current, self.queued = self.queued, None

    def save(self, n: int) -> str:
        """Every track's point now, gain and mute as scene N (1 to one more than the set has), in the set
        file too (a new scene appended to its text; an existing one's table replaced)."""
        from livegan.errors import CLIError
        from livegan.set_scenes import Scene, ScenePart, replace_scene, scene_text

        have = len(self.set.scenes)
        if not 1 <= n <= have + 1:
            return f"scene save {n}: scenes 1-{have + 1} can be saved"
        name = self.set.scenes[n - 1].name if n <= have else f"{n}"
        parts, sc = {}, Scene(name=name, where=f"scene[{n - 1}] ({name})")
        for k, t in enumerate(self.set.tracks):
            z = [float(x) for x in self.lives[k].ec.c.z()]
            gain, mute = self.desk.gain_mdb[k] / 1000.0, self.desk.mute[k]
            parts[t.name] = {"z": z, "gain": gain, "mute": mute}
            sc.parts[k] = ScenePart(z=z, gain_db=gain, mute=mute)
        try:
            replace_scene(self.set.path, n - 1, scene_text(name, parts))
        except (OSError, CLIError) as e:
            return f"scene save {n}: the set file could not be written ({e})"
        if n <= have:
            self.set.scenes[n - 1] = sc
        else:
            self.set.scenes.append(sc)
        self.current = n
        return f"scene {n} ({name}) saved in {self.set.path}"

    def panel(self) -> str:
        cur = "-" if self.current is None else f"{self.current} ({self.set.scenes[self.current - 1].name})"
        return (f"scene {cur}" + (f" -> {self.queued} at the bar" if self.queued else "")
                + ("  SAVE: shift-1..8 stores" if self.save_mode else ""))


# ---------------------------------------------------------------- events: OSC, keys, MIDI CC 7
# An Event of kind "mix": track, ``a`` 0 fader (``b`` mdB) | 1 mute | 2 solo (``b`` 0, 1, 2 toggles) |
# 3 fader step (``b`` mdB); kind "scene": ``a`` N (1-based), ``b`` 1 recall | 0 save | 2 save mode on/off.
MIX_FIELDS = {"gain": 0, "mute": 1, "solo": 2}
SCENE_KEYS = "!@#$%^&*"  # shift-1..8: recall scene 1-8 (after P: save it)
MIX_KEYS = {"M": (1, 2), "O": (2, 2), "<": (3, -int(KEY_STEP_DB * 1000)), ">": (3, int(KEY_STEP_DB * 1000))}


def osc_mix(address: str, args, n_tracks: int):
    """The Event of an OSC mix or scene address (``/livegan/track/N/gain DB``, ``.../mute 0|1``,
    ``.../solo 0|1``, ``/livegan/scene N``, ``/livegan/scene/save N``), None for any other address;
    OscRejected (one line) for a bad value. OSC thread."""
    from livegan.control.osc import _number
    from livegan.control.osc_wire import OscRejected

    parts = address.split("/") if isinstance(address, str) else []
    if parts[:3] == ["", "livegan", "scene"] and len(parts) in (3, 4) and parts[3:] in ([], ["save"]):
        n = _number(address, args, "scene number (from 1)")
        if n != int(n) or not 1 <= n <= 128:
            raise OscRejected("range", f"{address} takes a scene number from 1, got {n:g}")
        return Event("scene", a=int(n), b=1 if len(parts) == 3 else 0)
    if len(parts) != 5 or parts[:3] != ["", "livegan", "track"] or parts[4] not in MIX_FIELDS:
        return None
    try:
        k = int(parts[3]) - 1
    except ValueError:
        return None
    if not 0 <= k < n_tracks:
        raise OscRejected("range", f"{address[:64]}: the set has tracks 1-{n_tracks}")
    x = _number(address, args, "number")
    if parts[4] == "gain":
        if not MIX_MDB[0] / 1000 <= x <= MIX_MDB[1] / 1000:
            lo, hi = MIX_MDB[0] / 1000, MIX_MDB[1] / 1000
            raise OscRejected("range", f"{address} takes dB in [{lo:g}, {hi:g}], got {x:g}")
        return Event("mix", track=k, a=0, b=int(round(x * 1000)))
    if x not in (0.0, 1.0):
        raise OscRejected("range", f"{address} takes 0 or 1, got {x:g}")
    return Event("mix", track=k, a=MIX_FIELDS[parts[4]], b=int(x))


def key_event(key: str, selected: int):
    """The Event of a mix or scene key on the panel (the selected track's for M, O, < and >), else None."""
    if key in MIX_KEYS:
        a, b = MIX_KEYS[key]
        return Event("mix", track=selected, a=a, b=b)
    if key in SCENE_KEYS:
        return Event("scene", a=SCENE_KEYS.index(key) + 1, b=1)
    if key == "P":
        return Event("scene", a=0, b=2)
    return None


def fader_tracks(patches) -> set:
    """The tracks whose patch leaves CC 7 free: CC 7 on their channel is their fader."""
    out = set()
    for k, p in enumerate(patches):
        used = {kn.cc for kn in p.knobs} | {b.cc for b in p.buttons} | {p.morph_cc}
        if FADER_CC not in used:
            out.add(k)
    return out


def handle(ev, desk: MixDesk, scenes: Scenes | None) -> str:
    """Apply one "mix" or "scene" Event; -> what it did (one line for the panel)."""
    if ev.kind == "scene":
        if scenes is None:
            return "no scenes in this show"
        if ev.b == 2:
            scenes.save_mode = not scenes.save_mode
            return "scene save mode " + ("on: shift-1..8 stores a scene" if scenes.save_mode else "off")
        if ev.b == 0 or scenes.save_mode:
            scenes.save_mode = False
            return scenes.save(ev.a)
        return scenes.recall(ev.a)
    k = ev.track
    if ev.a == 0:
        return desk.set(k, gain_db=ev.b / 1000.0)
    if ev.a == 3:
        return desk.set(k, gain_db=(desk.gain_mdb[k] + ev.b) / 1000.0)
    if ev.a == 1:
        return desk.set(k, mute=(not desk.mute[k]) if ev.b == 2 else bool(ev.b))
    return desk.set(k, solo=(not desk.solo[k]) if ev.b == 2 else bool(ev.b))

"""Hot swap of a live set track's model (``livegan.swap``), without JACK.

1. A swap to a bad file (missing, not a model, a model that fails its self-check, another meter, another
   loop shape) is one line naming the file (a warning for the show's notes), and the track's old model
   goes on generating from the same controller.
2. In a lockstep loop (two tracks' engines stepped block by block in real time, one generator thread, the
   control path of a live set), a swap whose load takes most of a bar runs on a loader thread of its
   own: the other track's loops, asked for on every bar, all come on time, and the swapped track's next
   loops come from the new model, in a batch logged as a ``livegan model`` marker.
3. A second swap asked for while one loads is refused with one line, and the first still comes in.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np

from livegan.control.patch import default_patch_path, load_patch
from livegan.control.set_control import SetControl
from livegan.control.sources import Event
from livegan.generate.set_scheduler import SetGenerator
from livegan.io.model_marker import SWAP_ROW
from livegan.io.perflog import PerfLog
from livegan.model import validate_meta
from livegan.performance import build
from livegan.swap import Swapper
from livegan.testing.tiny import tiny_meta

RATE, BLOCK, BPM = 48000, 1024, 240.0  # one bar (the tiny loop) is one second
META = validate_meta({**tiny_meta(), "format": 1})


class Model:
    """A stand-in model: a constant loop of ``level``; counts its calls and the threads that made them."""

    def __init__(self, level: float):
        self.meta, self.level, self.calls, self.threads = META, level, 0, set()
        self.generate_seconds = [0.005]

    def generate(self, z):
        self.calls += 1
        self.threads.add(threading.get_ident())
        return np.full((z.shape[0], 1, META.loop_samples), self.level, np.float32)


class Source:
    def __init__(self):
        self.events: list = []

    def poll(self):
        out, self.events = self.events, []
        return out


def _set(tmp_path, loader=None):
    patch = replace(load_patch(default_patch_path()), tempo=BPM, quantize="bar", takeover="jump")
    parts = [build(META, replace(patch, channel=k + 1), RATE, 2, fx=False) for k in range(2)]
    models = [Model(0.1), Model(0.1)]
    for p, m in zip(parts, models):
        p.engine.publish_loop(m.generate(np.zeros((1, 8), np.float32))[0], 0)
    src, log, said = Source(), PerfLog(RATE), []
    live = SetControl([(p.controls, p.engine, k + 1) for k, p in enumerate(parts)], sources=[src], perflog=log)
    live.warn = lambda m: said.append(("warning", m))
    live.note = lambda m: said.append(("note", m))
    live.swapper = Swapper([(f"track {k + 1}", replace(patch, channel=k + 1), p.engine.meta)
                            for k, p in enumerate(parts)], str(tmp_path), loader=loader)
    gen = SetGenerator([p.engine for p in parts], models, block_frames=BLOCK)
    for g, p in zip(gen.tracks, parts):
        g.sched.done_seq = p.controls.seq
    return parts, models, src, log, said, live, gen


def _play(parts, live, gen, seconds, each_block=None):
    """Step the control path and both engines block by block at the output's pace (the lockstep loop)."""
    out = np.zeros((BLOCK, 2), np.float32)
    gen.start()
    t0 = time.monotonic()
    try:
        for b in range(int(seconds * RATE / BLOCK)):
            if each_block is not None:
                each_block(b)
            live.step()
            for p in parts:
                p.engine.process(out)
            time.sleep(max(0.0, t0 + (b + 1) * BLOCK / RATE - time.monotonic()))
    finally:
        gen.stop()
        gen.join(5)
    live.flush()


def test_a_bad_file_is_one_line_and_the_old_model_plays_on(tmp_path, tiny_model):
    from livegan.testing.faulty_models import save_faulty
    from livegan.testing.tiny import make_tiny_generator
    from train.export import save_loop_model

    (tmp_path / "notes.ts").write_text("not a model\n")
    save_faulty(tmp_path / "raises.ts", "raise", after=0)
    save_loop_model(make_tiny_generator(), tmp_path / "waltz.ts", tiny_meta(beats_per_bar=3, bpm=90.0), quiet=True)
    save_loop_model(make_tiny_generator(), tmp_path / "long.ts", tiny_meta(bars=2, bpm=240.0), quiet=True)
    bad = {"gone.ts": "no such file", "notes.ts": "notes.ts", "raises.ts": "raises.ts",
           "waltz.ts": "3 beats per bar", "long.ts": "loop bank"}
    parts, models, src, log, said, live, gen = _set(tmp_path)
    ec = parts[1].controls
    before = ec.c
    for name, why in bad.items():
        said.clear()
        src.events.append(Event("model", track=1, data=name))
        live.step()
        for t in live.swapper.threads:
            t.join(60)
        live.step()
        lines = [m for kind, m in said if kind == "warning"]
        assert len(lines) == 1 and "\n" not in lines[0], (name, said)
        assert why in lines[0] and "old model plays on" in lines[0] and "track 2" in lines[0], (name, lines)
        assert ec.c is before  # the controller (and so the model) is the track's own still
    src.events.append(Event("cc", channel=1, a=20, b=90))  # track 2's knob: a new loop is asked for
    calls = models[1].calls
    _play(parts, live, gen, 1.5)
    assert models[1].calls > calls and parts[1].engine.stats()["gen_faults"] == 0
    assert not any(r[1] == SWAP_ROW for r in log.rows())  # nothing swapped, nothing logged


def test_the_loader_runs_off_the_generator_and_the_other_track_stays_on_time(tmp_path):
    (tmp_path / "b.ts").write_bytes(b"stand-in")
    new = Model(0.3)
    loaded_on: list = []

    def slow_loader(path):  # most of a bar, on whatever thread loads
        loaded_on.append(threading.get_ident())
        time.sleep(0.8)
        return new

    parts, models, src, log, said, live, gen = _set(tmp_path, loader=slow_loader)

    def each_block(b):
        if b % 12 == 0:  # track 1's knob moves about four times a bar: a new loop on every bar
            src.events.append(Event("cc", channel=0, a=20, b=40 + b % 80))
        if b == 30:
            src.events.append(Event("model", track=1, data="b.ts"))
        if b == 35:  # a second swap while the first loads: refused with one line
            src.events.append(Event("model", track=1, data="b.ts"))

    _play(parts, live, gen, 4.5, each_block)
    s0, s1 = parts[0].engine.stats(), parts[1].engine.stats()
    assert s0["loops_generated"] >= 4 and s0["late_loops"] == 0, s0  # the other track never waited
    assert loaded_on[0] not in (gen.ident, threading.get_ident())  # neither the generator nor the control loop
    assert new.threads == {gen.ident}  # loaded on its own thread, generated on the generator thread
    assert new.calls >= 1 and s1["late_loops"] == 0, s1
    refused = [m for kind, m in said if "refused" in m]
    assert len(refused) == 1 and "still loading" in refused[0], said
    assert parts[1].controls.c.model is new and getattr(parts[0].controls.c, "model", None) is None
    rows = [r for r in log.rows() if r[1] == SWAP_ROW]
    assert rows and {int(r[2]) >> 32 for r in rows} == {1}  # logged once, on track 2 (from 0: 1)


def test_osc_and_the_panel_key_ask_the_swapper_for_the_track_they_name(tmp_path):
    """``/livegan/track/N/model PATH`` becomes one "model" event for track N (any other argument is
    refused and counted), and the panel's W key types a path for the selected track: Enter asks for it,
    Esc cancels, and keys typed meanwhile (q, Tab's neighbours) are the path's, not commands."""
    from livegan.control.set_control import SetOsc
    from livegan.swap import ModelPrompt

    patch = replace(load_patch(default_patch_path()), tempo=BPM)
    osc = SetOsc().configure_set([patch, patch], 300.0)
    osc.take("/livegan/track/2/model", ["models/b.ts"])
    for bad in ([], [1.0], ["a", "b"], [""]):
        osc.take("/livegan/track/2/model", bad)
    osc.take("/livegan/track/3/model", ["x.ts"])  # no third track
    got = [e for e in osc.poll() if e.kind == "model"]
    assert [(e.track, e.data) for e in got] == [(1, "models/b.ts")] and osc.rejected == 5

    asked = []

    class Swapper:
        def request(self, k, spec):
            asked.append((k, spec))
            return f"track {k + 1}: loading {spec}"

    p = ModelPrompt()
    assert "model for track 2 (b)" in p.handle("W", 1, Swapper(), "b") and p.typing == ""
    for key in "q x.ts":
        p.handle(key, 1, Swapper(), "b")
    p.handle("\x7f", 1, Swapper(), "b")
    assert p.handle("\r", 1, Swapper(), "b") == "track 2: loading q x.t" and asked == [(1, "q x.t")]
    p.handle("W", 0, Swapper(), "a")
    p.handle("z", 0, Swapper(), "a")
    assert p.handle("\x1b", 0, Swapper(), "a").endswith("cancelled") and p.typing is None and len(asked) == 1


def test_the_set_keys_w_key_asks_for_the_selected_track_and_the_panel_follows_the_swap():
    """Through ``SetKeys`` (what the panel drives): after Tab, W + a path + Enter asks the swapper for the
    selected track, keys typed meanwhile never reach the keyboard's knob commands, and once the track's
    controller is replaced, the panel's table (``SetKeys.c``) and the keys play the new one."""
    from types import SimpleNamespace

    from livegan.control.keyboard import KeyboardControl
    from livegan.set_show import SetKeys

    asked = []
    olds = [SimpleNamespace(c=object()), SimpleNamespace(c=object())]
    swapper = SimpleNamespace(request=lambda k, s: asked.append((k, s)) or "ok")
    live = SimpleNamespace(selected=0, keyed=[], swapper=swapper)
    live.select = lambda k: setattr(live, "selected", k % 2)
    handled = []
    kb = KeyboardControl(olds[0].c)
    kb.handle = lambda key: handled.append(key)
    keys = SetKeys(kb, olds, ["a", "b"], live)
    keys.handle("\t")
    for key in "W1[M>x.ts\r":
        keys.handle(key)
    assert asked == [(1, "1[M>x.ts")] and handled == [] and live.keyed == []  # the path's, not knob or mix keys
    olds[1].c = new = object()  # the swap installed a new controller on track 2
    assert keys.c is new
    keys.handle("]")
    assert kb.c is new and handled == ["]"]

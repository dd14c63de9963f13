"""A live set's mix desk and scenes (``livegan.control.set_mix`` through ``SetControl`` and the real
``SetEngine``/``Mixer``): an OSC mute, a MIDI CC 7 fader and a panel solo key each take effect in the next
block and are logged as a ``livegan mix`` marker at the very frame the mixer applied them; a scene recall
gives its tracks their scene's point (a ``livegan base HEX TRACK`` marker on that track) and applies its
gains and mutes exactly at the next bar line; a scene saved live goes into the set file and loads again.
Bad OSC values are refused with one line. The panel's track lines show the live fader / mute / solo."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from livegan.audio.mix_stage import MIXQ, SLOTS
from livegan.audio.mixer import Mixer, db_gain
from livegan.audio.set_engine import SetEngine
from livegan.control.osc_wire import OscRejected
from livegan.control.set_control import SetControl
from livegan.control.set_mix import MixDesk, Scenes, cc_db, key_event, osc_mix
from livegan.control.sources import Event
from livegan.io.markers import marker_base_track, marker_base_z, marker_mix
from livegan.io.panel import track_line
from livegan.io.perflog import PerfLog, read_perflog
from livegan.model import seed_z, validate_meta
from livegan.performance import build
from livegan.set_file import load_set
from livegan.testing.wiring import identity_patch

META = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=4,
                          latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4,
                          directions=np.eye(2, 4).tolist(), sigmas=[0.5, 0.5], training={}))
BLOCK = 256


class Feed:
    def __init__(self):
        self.events = []

    def poll(self):
        out, self.events = self.events, []
        return out


def _show(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('# keep me\n[[track]]\nname = "a"\nmodel = "builtin:beats"\n[[track]]\nname = "b"\n'
                    'model = "builtin:beats"\nchannel = 3\n'
                    '[[scene]]\nname = "drop"\n[scene.a]\nseed = 5\n[scene.b]\ngain = -6\nmute = true\n')
    s = load_set(path)
    parts = [build(META, replace(identity_patch(META), channel=ch), 48000, 2, fx=False) for ch in (1, 3)]
    engines = [p.engine for p in parts]
    for k, e in enumerate(engines):
        e.publish_loop(np.random.default_rng(k).uniform(-0.5, 0.5, (1, 32768)).astype(np.float32), 0)
    mixer = Mixer(2, 8192, 48000, limiter=False)
    mixer.q = np.zeros(SLOTS, MIXQ)  # (a show's is in the shared arena)
    se = SetEngine(engines, mixer, BLOCK)
    feed, log = Feed(), PerfLog(48000)
    sc = SetControl([(p.controls, p.engine, ch) for p, ch in zip(parts, (1, 3))], sources=[feed], perflog=log,
                    info=[{"name": "a"}, {"name": "b"}])
    desk = MixDesk(mixer.q, [(0.0, False, False)] * 2, log, engines[0].transport, lambda: engines[0].transport.frame)
    sc.mix_desk(desk, Scenes(s, desk, sc.lives, sc.queues, [META, META], [0, 2]))
    return s, parts, se, sc, feed, log, mixer


def _blocks(se, sc, n):
    out = np.zeros((BLOCK, 2), np.float32)
    for _ in range(n):
        sc.step()
        se.process(out)
    sc.step()


def _mix_markers(log, tmp_path):
    log.save(tmp_path / "t.mid")
    return [(f, marker_mix(m.text)) for f, m in read_perflog(tmp_path / "t.mid", 48000)
            if m.type == "marker" and m.text.startswith("livegan mix")]


def test_live_changes_are_logged_at_the_frame_they_took_effect(tmp_path):
    s, parts, se, sc, feed, log, mixer = _show(tmp_path)
    _blocks(se, sc, 3)
    feed.events.append(osc_mix("/livegan/track/2/mute", [1], 2))
    _blocks(se, sc, 1)  # staged by this step, applied in the next block
    f_mute = 3 * BLOCK  # the block after the three played
    feed.events.append(Event("cc", 0, 7, 0))  # CC 7 on channel 1: track a's fader to the bottom
    sc.keyed.append(key_event("O", 0))  # the panel's solo key on the selected track (a)
    _blocks(se, sc, 2)
    assert mixer.mute[1] and mixer.solo[0] and mixer.gain[0] == db_gain(round(cc_db(0) * 1000) / 1000)
    got = _mix_markers(log, tmp_path)
    assert got[0] == (f_mute, (1, 0, True, False))
    assert got[1][0] == got[2][0] == f_mute + BLOCK and got[2][1] == (0, -60000, False, True)
    lines = sc.stats()["tracks"]
    assert "-60.0 dB" in track_line(lines[0]) and "-S" in track_line(lines[0]) and "M-" in track_line(lines[1])


def test_a_scene_recall_moves_points_at_once_and_the_mix_at_the_next_bar(tmp_path):
    s, parts, se, sc, feed, log, mixer = _show(tmp_path)
    _blocks(se, sc, 5)  # into the first bar (a bar is 96000 frames at 120 BPM)
    feed.events.append(osc_mix("/livegan/scene", [1], 2))
    _blocks(se, sc, 2)
    assert np.array_equal(parts[0].controls.c.base, seed_z(5, 4, "uniform"))  # track a's point: the scene's seed
    assert not mixer.mute[1] and "-> 1 at the bar" in sc.stats()["scene"]
    _blocks(se, sc, 96000 // BLOCK)
    assert mixer.mute[1] and sc.stats()["scene"].startswith("scene 1 (drop)")
    assert _mix_markers(log, tmp_path) == [(96000, (1, -6000, True, False))]  # exactly on the bar line
    bases = [(f, m.text) for f, m in read_perflog(tmp_path / "t.mid", 48000)
             if m.type == "marker" and m.text.startswith("livegan base")]
    assert len(bases) == 1 and marker_base_track(bases[0][1]) == 0
    assert np.array_equal(marker_base_z(bases[0][1].split()[2]), seed_z(5, 4, "uniform"))


def test_a_scene_saved_live_loads_again(tmp_path):
    s, parts, se, sc, feed, log, mixer = _show(tmp_path)
    feed.events.append(osc_mix("/livegan/track/1/gain", [-4.5], 2))
    _blocks(se, sc, 2)
    feed.events.append(osc_mix("/livegan/scene/save", [2], 2))
    _blocks(se, sc, 1)
    assert "saved" in sc.mix_last, sc.mix_last
    again = load_set(s.path)
    assert "# keep me" in open(s.path).read() and [x.name for x in again.scenes] == ["drop", "2"]
    p = again.scenes[1].parts
    assert p[0].gain_db == -4.5 and p[0].mute is False and p[1].gain_db == 0.0
    assert np.array_equal(np.float32(p[0].z), parts[0].controls.c.z())


@pytest.mark.parametrize("address,args,words", [("/livegan/track/3/mute", [1], "tracks 1-2"),
                                                ("/livegan/track/1/gain", [40.0], "dB in"),
                                                ("/livegan/track/1/solo", [0.5], "0 or 1"),
                                                ("/livegan/scene", [0], "from 1"),
                                                ("/livegan/scene/save", ["x"], "takes a")])
def test_bad_osc_mix_values_are_one_line(address, args, words):
    with pytest.raises(OscRejected, match=words) as e:
        osc_mix(address, args, 2)
    assert "\n" not in str(e.value)
    assert osc_mix("/livegan/track/1/knob/2", [0.5], 2) is None  # not a mix address: the knob's own path


def test_cc_fader_law():
    assert cc_db(0) == -60.0 and cc_db(127) == 6.0 and cc_db(200) == 6.0
    assert np.all(np.diff([cc_db(v) for v in range(128)]) > 0)

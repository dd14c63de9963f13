"""End to end: ``livegan perform --set`` plays a two-track set on JACK while a second process turns knobs
on both tracks over OSC (``/livegan/track/N/...`` and a one-track address, which is track 1's), records a
take, and ``livegan render --set SET --automation TAKE.mid`` gives the take back bit for bit: both tracks'
control changes, their loops (``livegan loop BEAT FRAME TRACK`` markers) and the mix (gain, pan, master
limiter, and each track's patch effects, played live on one shared pyo server, with an effect knob
moved on each track) are all reproduced. It also proves the routing: each track's knob moves are logged on its own
MIDI channel, and both tracks switched loops (each regenerated from its own knobs). With ``--stems`` each
track's stem (``take.stems/NAME.wav``) equals ``render --set --stems``'s bit for bit: sample-aligned with the mix.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.testing.osc_sender import perform_with_osc

SR, BPM, SECONDS = 48000, 240.0, 8.0


def sweep(at, address, a, b, dur, n=8):
    return [(at + dur * i / (n - 1), address, [a + (b - a) * i / (n - 1)]) for i in range(n)]


PLAN = (sweep(1.30, "/livegan/track/1/knob/1", 0.5, 1.0, 0.3)
        + sweep(2.30, "/livegan/track/2/knob/2", 0.5, 0.0, 0.3)
        + [(3.40, "/livegan/track/2/seed", [1])]
        + sweep(4.30, "/livegan/knob/3", 0.5, 0.9, 0.2)  # no track: track 1
        + sweep(5.30, "/livegan/track/2/knob/1", 0.5, 0.1, 0.3)
        + sweep(2.50, "/livegan/track/2/fx/filter/cutoff", 1.0, 0.3, 0.4)  # each track's own effects, live
        + sweep(4.50, "/livegan/fx/reverb/mix", 0.2, 0.8, 0.3)  # (track 1's)
        + sweep(3.00, "/livegan/track/2/fx/delay/mix", 0.0, 0.7, 0.2)  # heard: the tempo change moves its echoes
        + [(6.40, "/livegan/tempo", [200.0])])  # the set's one tempo: every track's grid moves at one frame


def test_a_live_two_track_set_take_re_renders_bit_for_bit(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "fast.toml"
    save_patch(replace(load_patch(default_patch_path()), name="fast", tempo=BPM, quantize="bar"), patch_path)
    set_path = tmp_path / "two.toml"
    set_path.write_text(f'[master]\nlimiter = true\ngain = 2.0\n\n'
                        f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\npatch = "fast.toml"\nchannel = 1\n'
                        f'pan = -0.4\n\n'
                        f'[[track]]\nname = "b"\nmodel = "{tiny_model}"\npatch = "fast.toml"\nchannel = 3\n'
                        f'gain = -3.0\npan = 0.6\n')
    rc, err, (s_rc, s_out, s_err) = perform_with_osc(
        None, tmp_path, ["--set", set_path, "--record", tmp_path / "take.wav", "--stems", "--seconds", SECONDS,
                         "--stats-json", tmp_path / "stats.json"], plan=PLAN)
    assert s_rc == 0 and int(s_out) == len(PLAN), s_err
    assert rc == 0, err
    assert "Traceback" not in err, err
    assert "plays dry" not in err, err  # the generic patch's effects (filter, drive, delay, reverb) play live
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["osc_rejected"] == 0 and stats["osc_accepted"] == len(PLAN), stats
    assert stats["track0_loops_generated"] >= 3 and stats["track1_loops_generated"] >= 3, stats

    events = read_automation(str(tmp_path / "take.mid"), SR)
    ccs = {(m.channel, m.control): m.value for _, m in events if m.type == "control_change"}
    assert ccs[(0, 20)] == 127 and ccs[(0, 22)] == 114  # track a (channel 1): knobs 1 and 3
    assert ccs[(2, 21)] == 0 and ccs[(2, 20)] == 13  # track b (channel 3): knobs 2 and 1
    assert ccs[(2, 74)] == 38 and ccs[(0, 91)] == 102 and ccs[(2, 93)] == 89  # b: cutoff, delay mix; a: reverb
    assert (2, 22) not in ccs and (0, 21) not in ccs and (0, 74) not in ccs and (2, 91) not in ccs  # no cross-over
    assert not [m for _, m in events if m.type == "marker" and m.text.startswith("livegan effects")]  # not dry
    assert [(m.channel, m.note) for _, m in events if m.type == "note_on"] == [(2, 37)]
    assert [m.text for _, m in events if m.type == "marker" and m.text.startswith("livegan tempo")] == [
        "livegan tempo 200.000"]
    loops = [m.text.split() for _, m in events if m.type == "marker" and m.text.startswith("livegan loop ")]
    assert {len(p) for p in loops} == {4, 5} and {p[4] for p in loops if len(p) == 5} == {"1"}, loops

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    assert sr == SR and rec.shape[0] == SECONDS * SR
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--set", str(set_path), "--automation",
                        str(tmp_path / "take.mid"), "--seconds", repr(rec.shape[0] / sr), "-o",
                        str(tmp_path / "again.wav"), "--stems", str(tmp_path / "again.stems")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "again.wav"), dtype="float32")
    assert np.abs(rec).max() > 0.01  # sound, not silence compared with silence
    assert again.shape == rec.shape and np.array_equal(again, rec), np.abs(again - rec).max()
    for name in ("a", "b"):  # --stems: each track's post-fader stereo, sample-aligned, as render --set --stems
        stem, _ = sf.read(str(tmp_path / "take.stems" / f"{name}.wav"), dtype="float32")
        want, _ = sf.read(str(tmp_path / "again.stems" / f"{name}.wav"), dtype="float32")
        assert stem.shape == rec.shape and np.abs(stem).max() > 0.01
        assert np.array_equal(stem, want), (name, np.abs(stem - want).max())
    # the effects are in it: the same set and log rendered with patches that have no effects is another sound
    fast = load_patch(patch_path)
    save_patch(replace(fast, name="dry", effects=[], knobs=[k for k in fast.knobs if k.effect is None]),
               tmp_path / "dry.toml")
    (tmp_path / "dry-set.toml").write_text(set_path.read_text().replace("fast.toml", "dry.toml"))
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--set", str(tmp_path / "dry-set.toml"),
                        "--automation", str(tmp_path / "take.mid"), "--seconds", repr(rec.shape[0] / sr), "-o",
                        str(tmp_path / "dry.wav")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    dry, _ = sf.read(str(tmp_path / "dry.wav"), dtype="float32")
    assert dry.shape == rec.shape and np.abs(dry - rec).max() > 0.01

"""End to end: ``livegan perform --set`` plays a two-track set on JACK while a second process sends OSC: a
mute and an unmute of track 2, a fader move on track 1, a scene recall (new points for both tracks, their
gains and a mute on the next bar line) and a solo; the take's log holds each change as a ``livegan mix``
marker at the frame it took effect (the scene's on a bar line) and the scene's points as per-track
``livegan base`` markers, and ``livegan render --set SET --automation TAKE.mid --stems`` gives the take's
mix and both stems back bit for bit."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.audio.mix_stage import ramp_frames
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.markers import marker_base_track, marker_mix
from livegan.testing.osc_sender import perform_with_osc

SR, BPM, SECONDS = 48000, 240.0, 8.0
BAR = SR  # 4 beats at 240 BPM


def sweep(at, address, a, b, dur, n=8):
    return [(at + dur * i / (n - 1), address, [a + (b - a) * i / (n - 1)]) for i in range(n)]


PLAN = (sweep(1.10, "/livegan/track/1/knob/1", 0.5, 1.0, 0.3)
        + [(2.20, "/livegan/track/2/mute", [1])]
        + sweep(2.70, "/livegan/track/1/gain", -3.0, -12.0, 0.3)
        + [(3.60, "/livegan/track/2/mute", [0]), (4.45, "/livegan/scene", [1]),
           (6.30, "/livegan/track/2/solo", [1])])


def test_a_live_take_with_mutes_a_fader_and_a_scene_re_renders_bit_for_bit(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "fast.toml"
    save_patch(replace(load_patch(default_patch_path()), name="fast", tempo=BPM, quantize="bar"), patch_path)
    set_path = tmp_path / "two.toml"
    set_path.write_text(f'[master]\nlimiter = true\n\n'
                        f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\npatch = "fast.toml"\nchannel = 1\n\n'
                        f'[[track]]\nname = "b"\nmodel = "{tiny_model}"\npatch = "fast.toml"\nchannel = 3\n'
                        f'gain = -3.0\n\n'
                        '[[scene]]\nname = "drop"\n[scene.a]\nseed = 3\ngain = -1.5\n'
                        '[scene.b]\nseed = 2\nknobs = { 0 = 1.0 }\ngain = -9\nmute = true\n')
    rc, err, (s_rc, s_out, s_err) = perform_with_osc(
        None, tmp_path, ["--set", set_path, "--record", tmp_path / "take.wav", "--stems", "--seconds", SECONDS],
        plan=PLAN)
    assert s_rc == 0 and int(s_out) == len(PLAN), s_err
    assert rc == 0 and "Traceback" not in err, err

    events = read_automation(str(tmp_path / "take.mid"), SR)
    mixes = [(f, marker_mix(m.text)) for f, m in events if m.type == "marker" and m.text.startswith("livegan mix")]
    assert len(mixes) == 1 + 8 + 1 + 2 + 1, mixes  # mute, fader x 8, unmute, the scene's two tracks, solo
    assert [x for _, x in mixes[:1]] == [(1, -3000, True, False)] and mixes[8][1] == (0, -12000, False, False)
    scene = mixes[10:12]
    assert sorted(x for _, x in scene) == [(0, -1500, False, False), (1, -9000, True, False)]
    assert scene[0][0] == scene[1][0] and scene[0][0] % BAR == 0 and 4.45 * SR < scene[0][0] <= 5.5 * SR
    bases = [marker_base_track(m.text) for _, m in events if m.type == "marker" and m.text.startswith("livegan base")]
    assert sorted(bases) == [0, 1]

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    assert sr == SR and rec.shape[0] == SECONDS * SR
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--set", str(set_path), "--automation",
                        str(tmp_path / "take.mid"), "--seconds", repr(rec.shape[0] / sr), "-o",
                        str(tmp_path / "again.wav"), "--stems", str(tmp_path / "again.stems")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "again.wav"), dtype="float32")
    assert np.abs(rec).max() > 0.01
    assert again.shape == rec.shape and np.array_equal(again, rec), np.abs(again - rec).max()
    for name in ("a", "b"):
        stem, _ = sf.read(str(tmp_path / "take.stems" / f"{name}.wav"), dtype="float32")
        want, _ = sf.read(str(tmp_path / "again.stems" / f"{name}.wav"), dtype="float32")
        assert np.array_equal(stem, want), (name, np.abs(stem - want).max())
    b, _ = sf.read(str(tmp_path / "take.stems" / "b.wav"), dtype="float32")
    mute_at, unmute_at = mixes[0][0], mixes[9][0]
    assert np.abs(b[mute_at - 2000:mute_at]).max() > 0.01  # b played, then is silent from its mute (+ the ramp)
    assert np.all(b[mute_at + ramp_frames(SR):unmute_at] == 0.0)

"""End to end: ``livegan perform --set`` plays a two-track set on JACK while a second process turns knobs
over OSC and, mid-take, hot-swaps track 2's model (``/livegan/track/2/model PATH``) to a different model
(another generator - the tiny one at half the level, with two named knobs the generic patch now plays).
The take re-renders bit for bit with ``livegan render --set SET --automation TAKE.mid``, mix and stems: the
``livegan model`` marker switches track 2's model (and its controller) at the frame the live generator
switched. The marker names the swapped file by its absolute path and SHA-256; track 2 plays the new model
after the swap (its stem is quieter by about half), track 1 plays on unchanged; and a render of that take
once the swapped-in file is gone is one line naming the file.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.model_marker import marker_model
from livegan.testing.osc_sender import perform_with_osc
from livegan.testing.tiny import make_quiet_generator, tiny_knobs, tiny_meta

SR, BPM, SECONDS, SWAP_AT = 48000, 240.0, 8.0, 3.1


def sweep(at, address, a, b, dur, n=8):
    return [(at + dur * i / (n - 1), address, [a + (b - a) * i / (n - 1)]) for i in range(n)]


def test_a_hot_swap_in_a_live_take_re_renders_bit_for_bit(tiny_model, jack_server, tmp_path):
    from train.export import save_loop_model

    other = tmp_path / "models" / "half.ts"
    other.parent.mkdir()
    save_loop_model(make_quiet_generator(0.5), other, tiny_meta(name="tiny-half", knobs=tiny_knobs()), quiet=True)
    plan = (sweep(1.30, "/livegan/track/1/knob/1", 0.5, 1.0, 0.3)
            + sweep(2.30, "/livegan/track/2/knob/2", 0.5, 0.0, 0.3)
            + [(SWAP_AT, "/livegan/track/2/model", ["models/half.ts"])]  # relative to the set file
            + sweep(5.30, "/livegan/track/2/knob/1", 0.5, 0.9, 0.3)
            + sweep(6.0, "/livegan/track/1/knob/3", 0.5, 0.2, 0.3))
    fast = replace(load_patch(default_patch_path()), name="fast", tempo=BPM, quantize="bar")
    save_patch(fast, tmp_path / "fast.toml")
    set_path = tmp_path / "two.toml"
    set_path.write_text(f'[master]\nlimiter = false\n\n'
                        f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\npatch = "fast.toml"\npan = -0.4\n\n'
                        f'[[track]]\nname = "b"\nmodel = "{tiny_model}"\npatch = "fast.toml"\npan = 0.6\n')
    rc, err, (s_rc, s_out, s_err) = perform_with_osc(
        None, tmp_path, ["--set", set_path, "--record", tmp_path / "take.wav", "--stems", "--seconds", SECONDS],
        plan=plan)
    assert s_rc == 0 and int(s_out) == len(plan), s_err
    assert rc == 0 and "Traceback" not in err, err

    events = read_automation(str(tmp_path / "take.mid"), SR)
    swaps = [(f, marker_model(m.text)) for f, m in events if m.type == "marker" and m.text.startswith("livegan model")]
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    assert len(swaps) == 1 and swaps[0][1] == (1, digest, str(other)), swaps
    assert (SWAP_AT - 0.5) * SR < swaps[0][0] < (SWAP_AT + 1.0) * SR  # loaded and installed within a bar here

    rec, sr = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--set", str(set_path), "--automation",
                        str(tmp_path / "take.mid"), "--seconds", repr(rec.shape[0] / sr), "-o",
                        str(tmp_path / "again.wav"), "--stems", str(tmp_path / "again.stems")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    again, _ = sf.read(str(tmp_path / "again.wav"), dtype="float32")
    assert np.abs(rec).max() > 0.01
    assert again.shape == rec.shape and np.array_equal(again, rec), np.abs(again - rec).max()
    stems = {}
    for name in ("a", "b"):
        stems[name], _ = sf.read(str(tmp_path / "take.stems" / f"{name}.wav"), dtype="float32")
        want, _ = sf.read(str(tmp_path / "again.stems" / f"{name}.wav"), dtype="float32")
        assert np.array_equal(stems[name], want), (name, np.abs(stems[name] - want).max())
    take0 = next(f for f, m in events if m.type == "marker" and m.text.startswith("livegan take")) \
        if any(m.type == "marker" and m.text.startswith("livegan take") for _, m in events) else 0
    cut = swaps[0][0] - take0
    before = np.abs(stems["b"][SR:cut]).max()
    after = np.abs(stems["b"][cut + 2 * SR:]).max()  # past the next bar and its crossfade
    assert after / before < 0.75, (before, after)  # track b plays the half-level model
    assert np.abs(stems["a"][cut + 2 * SR:]).max() > 0.7 * np.abs(stems["a"][SR:cut]).max()

    os.rename(other, tmp_path / "moved.ts")  # the swapped-in file is gone: one line naming it
    r = subprocess.run([sys.executable, "-m", "livegan", "render", "--set", str(set_path), "--automation",
                        str(tmp_path / "take.mid"), "--seconds", "2", "-o", str(tmp_path / "gone.wav")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(other) in lines[0] and "no such file" in lines[0], r.stderr
    assert not (tmp_path / "gone.wav").exists()

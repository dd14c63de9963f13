"""``livegan demo`` plays the built-in two-track set (drums + bass): the bass is silent until the bar line
at 4 s and sounds from it, the set's scene "drop" is recalled (each track's point logged as the scene
makes it, its faders exactly on a bar line), and the demo command writes what ``livegan render --set``
of the same files writes."""
from __future__ import annotations

import numpy as np
import soundfile as sf
from conftest import run_cli

from livegan.io.automation import read_automation
from livegan.io.markers import marker_base_z
from livegan.offline import DEMO_SET, DEMO_SET_AUTOMATION

SR = 48000
BAR = 2 * SR  # 4/4 at 120 BPM (the demo's tempo until 16 s)


def _rms_db(x) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def test_the_demo_set_brings_the_bass_in_on_the_bar_and_recalls_a_scene(tmp_path):
    from livegan.control.set_mix import scene_point
    from livegan.model import read_meta
    from livegan.set_file import load_set

    s = load_set(DEMO_SET)
    assert [t.name for t in s.tracks] == ["drums", "bass"] and s.tracks[1].mute
    assert s.tracks[1].model.endswith("bass.ts") and s.tracks[0].model.endswith("default.ts")
    out, stems = tmp_path / "set.wav", tmp_path / "stems"
    r = run_cli("render", "--set", DEMO_SET, "--automation", DEMO_SET_AUTOMATION, "--seconds", 30, "-o", out,
                "--stems", stems, timeout=300)
    assert r.returncode == 0, r.stderr
    bass, _ = sf.read(str(stems / "bass.wav"), dtype="float32")
    entry = int(np.argmax(np.abs(bass).max(axis=1) > 0))
    assert entry == 2 * BAR, f"the bass comes in at frame {entry}, not on the bar line at 4 s"
    assert _rms_db(bass[entry:entry + BAR]) > -30.0  # and plays from there

    log = read_automation(str(DEMO_SET_AUTOMATION), SR)
    metas = [read_meta(t.model) for t in s.tracks]
    drop = next(sc for sc in s.scenes if sc.name == "drop")
    bases = {}
    for f, m in log:
        p = m.text.split() if m.type == "marker" else []
        if p[:2] == ["livegan", "base"]:
            bases[int(p[3]) if len(p) == 4 else 0] = (f, marker_base_z(p[2]))  # (track 0: no TRACK)
    assert sorted(bases) == sorted(drop.parts)  # every track the scene names gets its point ...
    for k, (_f, z) in bases.items():
        assert np.array_equal(z, scene_point(drop.parts[k], metas[k], None)), k  # ... the scene's
    mixes = [(f, m.text) for f, m in log if m.type == "marker" and m.text.startswith("livegan mix ")]
    scene_frames = {f for f, _ in mixes if f > 2 * BAR}
    assert len(scene_frames) == 1 and min(scene_frames) % BAR == 0  # its faders on one bar line
    at = scene_frames.pop()
    assert at > max(f for f, _ in bases.values())  # after the recall, at the next bar
    texts = sorted(t for f, t in mixes if f == at)
    assert texts == ["livegan mix 0 -3000 0 0", "livegan mix 1 0 0 0"], texts  # the scene's faders, the bass in

    demo = tmp_path / "demo.wav"
    r = run_cli("demo", "--no-play", "-o", demo, timeout=300)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(sf.read(str(demo), dtype="float32")[0], sf.read(str(out), dtype="float32")[0])

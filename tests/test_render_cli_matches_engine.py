"""``livegan render`` reads a MIDI automation file and writes what the engine renders in-process, exactly
(through the default patch, generic.toml: its knobs, seed notes and effects chain)."""
from __future__ import annotations

import mido
import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch
from livegan.io.automation import read_automation
from livegan.model import load_model
from livegan.offline import render
from livegan.performance import build


def test_render_cli_writes_the_engine_output(tiny_model, tmp_path, cli):
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    tr.append(mido.Message("control_change", control=20, value=64, time=240))  # 0.25 s: picks up knob 1
    tr.append(mido.Message("control_change", control=20, value=100, time=0))  # and turns it
    tr.append(mido.Message("note_on", note=37, velocity=90, time=960))  # 1.25 s: seed 1
    tr.append(mido.Message("control_change", control=74, value=10, time=480))  # 1.75 s: filter cutoff
    path = tmp_path / "auto.mid"
    mid.save(path)
    out = tmp_path / "out.wav"
    r = cli("render", "--model", tiny_model, "--automation", path, "--seconds", 5, "-o", out, "--blocksize", 300)
    assert r.returncode == 0, r.stderr
    got, rate = sf.read(str(out), dtype="float32")
    assert rate == 48000 and got.shape == (240000, 2)
    events = read_automation(str(path), 48000)
    assert [f for f, _ in events] == [12000, 12000, 60000, 84000]
    model = load_model(tiny_model, device="cpu", threads=1)
    parts = build(model.meta, load_patch(default_patch_path()), 48000, 2)
    engine, want = render(model, parts, events, 240000, blocksize=4096)
    parts.close()
    assert engine.stats()["switches"] == 2  # frame 0, then bar 1 (2 s) with both the knob and the seed
    assert np.array_equal(got, want)


def test_render_cli_bad_automation_is_one_line(tiny_model, tmp_path, cli):
    bad = tmp_path / "x.mid"
    bad.write_bytes(b"MThd garbage")
    r = cli("render", "--model", tiny_model, "--automation", bad, "--seconds", 1, "-o", tmp_path / "o.wav")
    assert r.returncode == 2 and f"automation file {bad}: truncated" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

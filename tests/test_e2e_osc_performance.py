"""End to end: a second process plays ``livegan perform --osc 0`` over OSC on 127.0.0.1, as TouchOSC
would: it turns knobs (by the panel's number), picks seeds, sweeps an effect parameter, stops the take
and starts another, and moves the tempo (1 s bars: the generic patch at 240 BPM, quantize bar). Then:

- every OSC message was taken (none rejected) and is in the performance log as the MIDI the patch's
  own control would send, the tempo as its marker;
- every loop switch before the tempo change lies on a bar line, and after each control change the loop
  changes at the first bar line after it, to a loop made from a control state that includes it;
- ``livegan render --automation TAKE.mid`` gives each take's WAV back bit for bit (the effect sweep
  and the tempo change included); take 2 ends on the show's last frame exactly.

Real-time parts get generous margins (changes at least 0.3 bar from a bar line); exactness is asked
only of what the render must reproduce.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from livegan.control.admission import EngineControls, controller_for
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.patch_write import save_patch
from livegan.io.automation import read_automation
from livegan.io.perflog import marker_take
from livegan.model import load_model
from livegan.testing.osc_sender import perform_with_osc
from livegan.testing.switches import check_switches_follow_changes

SR, BPM, SECONDS = 48000, 240.0, 7.5
BAR = int(SR * 60 / BPM * 4)


def sweep(at, address, a, b, dur, n=8):
    return [(at + dur * i / (n - 1), address, [a + (b - a) * i / (n - 1)]) for i in range(n)]


PLAN = (sweep(1.30, "/livegan/knob/1", 0.5, 1.0, 0.3)
        + [(2.40, "/livegan/seed", [1])]
        + sweep(3.30, "/livegan/knob/2", 0.5, 0.0, 0.3)
        + [(4.30, "/livegan/fx/filter/cutoff", [1.0])] + sweep(4.35, "/livegan/fx/filter/cutoff", 1.0, 0.15, 0.25)
        + [(4.75, "/livegan/record", [0]), (5.15, "/livegan/record", [1])]
        + [(5.40, "/livegan/seed", [2])] + sweep(5.45, "/livegan/knob/3", 0.5, 0.85, 0.2)
        + [(6.40, "/livegan/tempo", [200.0])])


def _loop_changes(events, patch, meta, until):
    """[(frame, seq)] where replaying the log through the patch's Controller asks for a new loop."""
    ec = EngineControls(controller_for(patch, meta)[0])
    out = []
    for f, msg in events:
        before = ec.seq
        ec.message(msg)
        if ec.seq != before and f < until:
            out.append((f, ec.seq))
    return out


def test_osc_from_a_second_process_plays_perform_and_each_take_re_renders(tiny_model, jack_server, tmp_path):
    patch_path = tmp_path / "fast.toml"
    save_patch(replace(load_patch(default_patch_path()), name="osc", tempo=BPM, quantize="bar"), patch_path)
    patch = load_patch(patch_path)
    rc, err, (s_rc, s_out, s_err) = perform_with_osc(
        tiny_model, tmp_path, ["--patch", patch_path, "--record", tmp_path / "take.wav", "--seconds", SECONDS,
                               "--stats-json", tmp_path / "stats.json"], plan=PLAN)
    assert s_rc == 0 and int(s_out) == len(PLAN), s_err
    assert rc == 0, err
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["osc_rejected"] == 0 and stats["osc_accepted"] == len(PLAN), stats
    assert stats["frames_played"] >= SECONDS * SR and "Traceback" not in err, err  # the sound never stopped

    # the whole log (take 2's holds every event since frame 0): OSC as the patch's MIDI, tempo as a marker
    events = read_automation(str(tmp_path / "take-2.mid"), SR)
    ccs = [(m.control, m.value) for _, m in events if m.type == "control_change"]
    for cc, last in ((20, 127), (21, 0), (74, 19), (22, 108)):  # knobs 1-3, the cutoff: 0..1 -> 0..127
        assert [v for c, v in ccs if c == cc][-1] == last, ccs
    assert [m.note for _, m in events if m.type == "note_on"] == [37, 38]  # seeds 1 and 2
    tempo = [(f, m.text) for f, m in events if m.type == "marker" and m.text.startswith("livegan tempo")]
    assert [t for _, t in tempo] == ["livegan tempo 200.000"], tempo

    # each loop change at the first bar line after the control change that asked for it
    model = load_model(tiny_model, device="cpu", threads=1)
    switches, loop_seq = stats["switch_log"], [q for _, q in stats["loop_controls"]]
    assert stats["late_loops"] == len(stats["late_log"])  # a late loop (a busy machine) is logged
    assert all(f % BAR == 0 for f, _ in switches if f < tempo[0][0]), switches
    changes = _loop_changes(events, patch, model.meta, until=tempo[0][0] - BAR)
    checked = check_switches_follow_changes(changes, [(f, k) for f, k in switches if f < tempo[0][0]], loop_seq,
                                            stats["late_log"], BAR)
    assert checked >= 5, checked

    # each take, re-rendered from its own .mid: bit for bit
    frames = []  # each take's
    for name in ("take", "take-2"):
        rec, sr = sf.read(str(tmp_path / f"{name}.wav"), dtype="float32")
        frames.append(rec.shape[0])
        r = subprocess.run([sys.executable, "-m", "livegan", "render", "--model", str(tiny_model), "--patch",
                            str(patch_path), "--automation", str(tmp_path / f"{name}.mid"), "--seconds",
                            repr(rec.shape[0] / sr), "-o", str(tmp_path / f"re-{name}.wav")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        again, _ = sf.read(str(tmp_path / f"re-{name}.wav"), dtype="float32")
        assert again.shape == rec.shape and np.array_equal(again, rec), (name, np.abs(again - rec).max())
    # where the takes lie, by the show's own frames (the sender's clock and the show's differ by how late
    # the banner was read): take 1 from frame 0 until after the cutoff sweep, sent 0.45 s before its stop,
    # began; take 2 from after take 1 to the show's last frame, exactly
    start2 = [marker_take(m) for _, m in events if marker_take(m) is not None]
    cutoff = [f for f, m in events if m.type == "control_change" and m.control == 74]
    assert len(start2) == 1 and cutoff[0] < frames[0] <= start2[0], (frames, start2, cutoff[0])
    assert start2[0] + frames[1] == SECONDS * SR, (start2, frames)

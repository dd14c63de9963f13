"""A take re-renders with the knob mapping it was played with. In a show the generic patch plays a
model's named knobs first (CC 20 = its first name); a log written before named knobs existed, or by a
show of a model without them, played CC 20 as numbered direction 1. The show writes how many names it
played first as a ``livegan named N`` marker at frame 0 (kept by the ``.mid`` and by the journal), and a
render plays the generic patch with that many names first: none for a log without the marker. So a
take made with the built-in before it gained names, and the demo's own automation, render as before
on a model that now has names."""
from __future__ import annotations

import mido
import numpy as np
import pytest
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch
from livegan.errors import CLIError
from livegan.io.automation import read_automation
from livegan.io.journal import Journal, read_journal
from livegan.io.perflog import PerfLog
from livegan.offline import named_in_log, render_automation
from livegan.testing.tiny import make_tiny_generator, tiny_knobs, tiny_meta
from train.export import save_loop_model

SR = 48000
SECONDS = 4.0


def _model(path, names):
    save_loop_model(make_tiny_generator(), path, tiny_meta(knobs=tiny_knobs(names)) if names else tiny_meta(),
                    quiet=True)
    return str(path)


def _log(path, named):
    """CC 20 swept up at 1 s and down at 2.5 s (the generic patch's first direction knob)."""
    log = PerfLog(SR, named=named)
    for i, v in enumerate(range(0, 128, 8)):
        log.log(SR + 600 * i, [0xB0, 20, v])
    log.log(int(2.5 * SR), [0xB0, 20, 0])
    log.save(path)
    return str(path)


def _render(model, log, out, say=None):
    events = read_automation(log, SR)
    render_automation(model, load_patch(default_patch_path()), events, str(out), SECONDS, SR, fx=False,
                      say=say or (lambda m: None))
    return sf.read(str(out), dtype="float32")[0]


def test_the_marker_survives_the_mid_and_the_journal(tmp_path):
    assert named_in_log(read_automation(_log(tmp_path / "a.mid", 3), SR)) == 3
    assert named_in_log(read_automation(_log(tmp_path / "b.mid", 0), SR)) == 0
    log = PerfLog(SR, named=2)
    log.log(100, [0xB0, 20, 64])
    j = Journal(str(tmp_path / "t.journal"), log, 0)
    j.flush()
    assert named_in_log(read_journal(str(tmp_path / "t.journal"), SR)) == 2


def test_a_log_without_the_marker_plays_cc20_as_direction_1_on_a_model_with_names(tmp_path):
    plain = _model(tmp_path / "plain.ts", ())
    named = _model(tmp_path / "named.ts", ("brightness", "weight"))
    old = _log(tmp_path / "old.mid", 0)
    new = _log(tmp_path / "new.mid", 2)
    before = _render(plain, old, tmp_path / "before.wav")
    after = _render(named, old, tmp_path / "after.wav")
    np.testing.assert_array_equal(after, before)  # an old take renders as it played
    live = _render(named, new, tmp_path / "live.wav")
    assert np.max(np.abs(live - before)) > 0.01  # the new take's CC 20 moved brightness, not direction 1


def test_a_marker_naming_more_knobs_than_the_model_has_is_one_warning(tmp_path):
    named = _model(tmp_path / "named.ts", ("brightness",))
    said: list = []
    _render(named, _log(tmp_path / "new.mid", 3), tmp_path / "x.wav", say=said.append)
    assert [m for m in said if "named" in m] == [
        "the performance played 3 named knobs on the generic patch; this model has 1"]


@pytest.mark.parametrize("text", ["livegan named 65", "livegan named -1", "livegan named x", "livegan named"])
def test_a_bad_marker_is_one_line(tmp_path, text):
    mf = mido.MidiFile()
    mf.tracks.append(mido.MidiTrack([mido.MetaMessage("marker", text=text, time=0)]))
    mf.save(tmp_path / "bad.mid")
    with pytest.raises(CLIError) as e:
        read_automation(str(tmp_path / "bad.mid"), SR)
    assert "\n" not in str(e.value) and repr(text) in str(e.value)

"""MIDI learn with scripted input: the written patch maps what was moved, and loads."""
from __future__ import annotations

import mido

from livegan.commands.learn import learn
from livegan.control.patch import Patch, load_patch
from livegan.control.patch_write import save_patch


def scripted(messages):
    """A source that answers each prompt from a fixed list of mido messages; None when empty."""
    it = iter([m.bytes() for m in messages])

    def source(timeout):
        return next(it, None)
    return source


def cc_sweep(cc, ch=0, n=4):
    return [mido.Message("control_change", channel=ch, control=cc, value=v) for v in range(10, 10 + n)]


def note(n, ch=0):
    return [mido.Message("note_on", channel=ch, note=n, velocity=90), mido.Message("note_off", channel=ch, note=n)]


def test_learn_writes_a_patch_that_maps_what_was_moved(tmp_path):
    msgs = []
    msgs += [mido.Message("control_change", channel=0, control=99, value=1)]  # a stray button press: not learned
    msgs += [mido.Message("sysex", data=[1, 2, 3])]  # garbage is ignored
    for cc in (70, 71):
        msgs += cc_sweep(cc)
    msgs += cc_sweep(70)  # moving an already-learned knob again does not take the next slot
    msgs += cc_sweep(74)  # filter.cutoff
    msgs += note(36) + note(37) + note(36) + note(38)  # seeds (36 again is ignored)
    msgs += note(48) + note(49)  # pads
    msgs += cc_sweep(1)  # morph
    prompts = []
    p = learn(Patch(name="mine", path=str(tmp_path / "mine.toml")), scripted(msgs), directions=2,
              fx_knobs=("filter.cutoff",), seeds=3, pads=2, timeout_s=0.05, say=prompts.append)
    assert prompts[0] == "move the knob for direction 1"
    assert [(k.cc, k.direction, k.effect) for k in p.knobs] == [(70, 0, None), (71, 1, None),
                                                                 (74, None, "filter.cutoff")]
    assert p.seed_notes == [36, 37, 38] and p.snapshot_notes == [48, 49]
    assert p.morph_cc == 1 and p.channel == 1
    assert [e.type for e in p.effects] == ["filter"]
    save_patch(p, tmp_path / "mine.toml")
    q = load_patch(tmp_path / "mine.toml")
    assert [(k.cc, k.direction) for k in q.knobs] == [(70, 0), (71, 1), (74, None)] and q.morph_cc == 1


def test_controls_that_get_no_answer_are_skipped_and_mixed_channels_mean_omni(tmp_path):
    msgs = cc_sweep(20, ch=0) + cc_sweep(21, ch=3)
    prompts = []
    p = learn(Patch(), scripted(msgs), directions=4, fx_knobs=(), seeds=2, pads=2, timeout_s=0.02,
              say=prompts.append)
    assert [(k.cc, k.direction) for k in p.knobs] == [(20, 0), (21, 1)]
    assert p.channel is None and p.seed_notes == [] and p.morph_cc is None
    assert sum("skipped" in s for s in prompts) == 2

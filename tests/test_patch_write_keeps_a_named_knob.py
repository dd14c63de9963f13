"""``livegan learn``'s writer keeps a named knob as its name: a patch with ``direction = "brightness"``
saved and loaded again is the same patch, also after the knob was resolved against a model (an index
past the numbered directions is never written), and learn asks for a template's named knob by name and
writes the name back."""
from __future__ import annotations

import mido

from livegan.commands.learn import learn
from livegan.control.patch import check_against_model, load_patch, parse_patch
from livegan.control.patch_write import dumps_patch, save_patch

RAW = {"knob": [{"cc": 30, "direction": "brightness", "range": [-1.5, 3.0], "takeover": "jump", "name": "bright"},
                {"cc": 31, "direction": 2}]}


def test_a_named_knob_round_trips_through_the_file(tmp_path):
    p = parse_patch(RAW, tmp_path / "p.toml")
    save_patch(p, tmp_path / "p.toml")
    assert 'direction = "brightness"' in (tmp_path / "p.toml").read_text()
    q = load_patch(tmp_path / "p.toml")
    assert q.knobs == p.knobs
    assert (q.knobs[0].direction_name, q.knobs[0].direction, q.knobs[0].range) == ("brightness", None, (-1.5, 3.0))
    assert (q.knobs[1].direction_name, q.knobs[1].direction) == (None, 1)


def test_a_resolved_named_knob_is_written_by_name_not_by_index(tmp_path):
    p, _ = check_against_model(parse_patch(RAW, tmp_path / "p.toml"), 4, ("weight", "brightness"))
    assert p.knobs[0].direction == 5  # 4 numbered directions, then weight (4), brightness (5)
    text = dumps_patch(p)
    assert 'direction = "brightness"' in text and "direction = 6" not in text
    save_patch(p, tmp_path / "p.toml")
    assert load_patch(tmp_path / "p.toml").knobs[0].direction_name == "brightness"


def test_learn_asks_for_a_templates_named_knob_by_name_and_writes_it_back(tmp_path):
    template = parse_patch(RAW, tmp_path / "p.toml")
    msgs = [mido.Message("control_change", control=cc, value=v).bytes() for cc in (40, 41) for v in (1, 2, 3)]
    it = iter(msgs)
    prompts: list = []
    p = learn(template, lambda t: next(it, None), directions=1, fx_knobs=(), seeds=0, pads=0, timeout_s=0.05,
              say=prompts.append)
    assert prompts[0] == "move the knob for brightness"
    assert [(k.cc, k.direction_name, k.direction) for k in p.knobs] == [(40, "brightness", None), (41, None, 0)]
    assert p.knobs[0].range == (-1.5, 3.0)  # the template's range is kept
    save_patch(p, tmp_path / "learned.toml")
    assert load_patch(tmp_path / "learned.toml").knobs[0].direction_name == "brightness"

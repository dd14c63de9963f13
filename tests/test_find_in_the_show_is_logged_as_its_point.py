"""Find in the show (``livegan.control.finder``): a file named by the keys or OSC is searched off the
control thread, and the point found becomes the base z, logged as a ``livegan base`` marker holding z
itself, so the performance log (and an unfinished take's journal) gives the render the very same z.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from livegan.control.admission import EngineControls, controller_for
from livegan.control.finder import FindSource, clean_path
from livegan.control.keyboard import KeyboardControl
from livegan.control.live import LiveControl
from livegan.control.osc import OscRejected, osc_target
from livegan.control.patch import default_patch_path, load_patch
from livegan.io.journal import read_journal, read_journal_rows
from livegan.io.perflog import PerfLog, marker_base, read_perflog
from livegan.model import load_model, read_meta
from livegan.offline import render
from livegan.performance import build


def _wait(src, timeout=120.0):
    src.warn = pytest.fail  # a failed search is a failed test, with its line
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        evs = src.poll()
        if evs:
            return evs
        time.sleep(0.02)
    raise AssertionError("no search result")


def test_a_base_marker_holds_z_bit_for_bit_through_the_mid_and_the_journal(tmp_path):
    z = np.random.default_rng(3).standard_normal(64).astype(np.float32)
    z[5] = np.float32(1e-39)  # a subnormal too: the bits are kept, not a decimal print of them
    log = PerfLog(48000)
    log.log(10, [0xB0, 20, 64])
    log.base(4800, z)
    log.log(4800, [0xB0, 21, 3])
    log.save(tmp_path / "t.mid")
    got = [(f, marker_base(m)) for f, m in read_perflog(tmp_path / "t.mid", 48000) if marker_base(m) is not None]
    assert len(got) == 1 and got[0][0] == 4800
    assert got[0][1].tobytes() == z.tobytes()
    # the journal keeps the rows; one cut row of a base (a crash mid-write) drops that base, not the rest
    rows = log.rows()
    lines = ["livegan journal 1 rate 48000 take 0"] + [" ".join(str(int(v)) for v in r) for r in rows]
    (tmp_path / "t.journal").write_text("\n".join(lines) + "\n")
    ev = read_journal(tmp_path / "t.journal", 48000)
    assert [marker_base(m).tobytes() for _, m in ev if marker_base(m) is not None] == [z.tobytes()]
    bad = lines[:1] + [ln for ln in lines[1:] if not ln.startswith(f"4800 261 {3 | 64 << 16} ")]  # float 3 of 64 gone
    (tmp_path / "cut.journal").write_text("\n".join(bad) + "\n")
    ev = read_journal(tmp_path / "cut.journal", 48000)
    assert [marker_base(m) for _, m in ev if marker_base(m) is not None] == []
    assert sum(m.type == "control_change" for _, m in ev) == 2
    # a row no log writes (index past the size) is skipped with the warning, like any bad row
    said = []
    (tmp_path / "odd.journal").write_text("\n".join(lines[:1] + ["4800 261 %d 0" % (9 | 8 << 16)]) + "\n")
    assert len(read_journal_rows(tmp_path / "odd.journal", said.append)[2]) == 0 and len(said) == 1


def test_the_render_plays_the_logged_point_and_only_from_its_frame(tiny_model):
    model = load_model(tiny_model, device="cpu", threads=1)
    meta, patch = model.meta, load_patch(default_patch_path())
    z = (np.random.default_rng(7).standard_normal(meta.latent_dim) * 0.8).astype(np.float32)
    bar = meta.loop_samples * 48000 // meta.sample_rate
    log = PerfLog(48000)
    log.base(bar // 2, z)

    def run(events):
        parts = build(meta, patch, 48000, 2, fx=False)
        _, audio = render(model, parts, events, 3 * bar)
        return parts, audio

    import mido

    marker = [(bar // 2, mido.MetaMessage("marker", text=f"livegan base {z.astype('>f4').tobytes().hex()}"))]
    parts, with_base = run(marker)
    _, without = run([])
    assert parts.controls.c.base.tobytes() == z.tobytes()  # the very z, not a search run again
    assert np.array_equal(with_base[:bar], without[:bar])  # nothing changes before the next bar line
    assert not np.allclose(with_base[bar + bar // 4:], without[bar + bar // 4:])  # from there on, the point
    # a point of another size (a log of another model) is ignored with one warning, the show plays on
    said = []
    other = [(bar // 2, mido.MetaMessage("marker", text="livegan base " + np.ones(3, ">f4").tobytes().hex()))]
    parts = build(meta, patch, 48000, 2, fx=False)
    _, audio = render(model, parts, other, 2 * bar, warn=said.append)
    assert np.array_equal(audio, without[:2 * bar]) and len(said) == 1 and "3-d point" in said[0]


def test_a_search_from_the_show_gives_the_point_livegan_find_gives(tiny_model, tmp_path):
    import torch

    from livegan.find import find, read_loop

    meta = read_meta(tiny_model)
    model = load_model(tiny_model, device="cpu", threads=1)
    with torch.inference_mode():
        loop = model.generate(np.full((1, meta.latent_dim), 0.3, np.float32))[0]
    sf.write(tmp_path / "mine loop.wav", loop.T, meta.sample_rate)
    src = FindSource(str(tiny_model), meta, steps=30)
    said = src.request(f"'{tmp_path / 'mine loop.wav'}'")  # as a terminal types a dropped file: quoted
    assert said.startswith("finding ") and "mine loop.wav" in said
    assert "one search at a time" in src.request(str(tmp_path / "mine loop.wav"))
    (ev,) = _wait(src)
    assert ev.kind == "base" and "found" in ev.data[1] and "next bar" in ev.data[1]
    target, _ = read_loop(tmp_path / "mine loop.wav", meta.sample_rate, meta.loop_samples)
    want = find(model.module, meta, target, steps=30)
    assert ev.data[0].tobytes() == want.z.tobytes()
    assert src.stats() == {"finds": 1, "finds_failed": 0}


@pytest.mark.parametrize("name, why", [("missing.wav", "no such file"), ("text.wav", "not an audio file"),
                                       ("silent.wav", "silent"), ("click.wav", "ms long")])
def test_a_file_that_cannot_be_found_is_one_line_and_the_show_goes_on(tiny_model, tmp_path, name, why):
    meta = read_meta(tiny_model)
    (tmp_path / "text.wav").write_text("not audio\n")
    sf.write(tmp_path / "silent.wav", np.zeros(meta.loop_samples, np.float32), meta.sample_rate)
    sf.write(tmp_path / "click.wav", np.ones(80, np.float32), meta.sample_rate)
    src, warned = FindSource(str(tiny_model), meta), []
    src.warn = warned.append
    src.request(str(tmp_path / name))
    t0 = time.monotonic()
    while not warned and time.monotonic() - t0 < 60:
        assert src.poll() == []
        time.sleep(0.02)
    assert len(warned) == 1 and why in warned[0] and "\n" not in warned[0], warned
    assert name in warned[0] and src.stats()["finds_failed"] == 1


def test_the_keys_type_a_path_and_the_control_thread_logs_the_point_at_its_admission():
    patch = load_patch(default_patch_path())
    c = controller_for(patch, _Meta())[0]
    asked = []
    kb = KeyboardControl(c, on_find=lambda p: asked.append(p) or "finding")
    for k in "/~/lo Q.wav":  # Q and a space are letters of the path here, not quit or record
        assert kb.handle(k) != "quit"
    kb.handle("\x7f")
    kb.handle("v")
    assert kb.handle("\r") == "finding" and asked == ["~/lo Q.wav"]
    assert kb.typing is None and kb.handle("/") and kb.handle("\x1b") == "find: cancelled" and kb.typing is None
    assert kb.handle("Q") == "quit"  # not typing: Q quits again
    # a base event on the control thread: the Controller takes z and the log has it at the admission frame
    ec = EngineControls(c)
    log = PerfLog(48000)
    live = LiveControl(ec, _Engine(), sources=[_Once()], perflog=log)
    notes = []
    live.note = notes.append
    before = c.version
    live.step()
    live.flush()
    assert c.version > before and c.base.tobytes() == _Once.z.tobytes() and notes == ["found x"]
    assert [r[1] for r in log.rows()] == [0x105] * 8


def test_clean_path_and_the_osc_address():
    assert clean_path("  '/a b/c.wav' ") == "/a b/c.wav"
    assert clean_path('"/x.wav"') == "/x.wav" and clean_path("file:///a%20b.wav") == "/a b.wav"
    assert clean_path("/a\\ b.wav") == "/a b.wav" and not clean_path("~/x").startswith("~")
    patch = load_patch(default_patch_path())
    t = osc_target(patch, "/livegan/find", ["/tmp/x.wav"])
    assert t.key is None and t.event.kind == "find" and t.event.data == "/tmp/x.wav"
    for args in ([], [1.0], ["a", "b"], [""], ["x" * 5000], ["a\x00b"]):
        with pytest.raises(OscRejected):
            osc_target(patch, "/livegan/find", args)


class _Meta:
    directions = np.eye(4, 8, dtype=np.float32)
    sigmas = np.ones(4, np.float32)
    latent_dist = "normal"
    latent_dim = 8
    knobs = ()


class _Once:
    z = np.arange(8, dtype=np.float32) / 10

    def __init__(self):
        self.done = False

    def poll(self):
        if self.done:
            return []
        self.done = True
        from livegan.control.sources import Event

        return [Event("base", data=(self.z, "found x"))]


class _Engine:
    class transport:
        frame = 4800
        tempo = 120.0
    max_tempo = 400.0

"""``render --set`` (``livegan.set_render``): a one-track set renders bit for bit as ``render --model
--patch`` does; with the limiter off the stems sum to the mix and are sample-aligned with it; a CC on
channel 2 moves only track 2 (each track hears its own channel); a tempo marker moves every track."""
from __future__ import annotations

import os

import mido
import numpy as np
import soundfile as sf

from livegan.control.patch import default_patch_path, load_patch
from livegan.offline import render_automation
from livegan.set_file import load_set
from livegan.set_render import render_set

RATE = 48000
SECONDS = 6.0


def _events(channel: int = 0, cc: bool = True, tempo: bool = False):
    """A knob turn (CC 20: the generic patch's first direction) and a seed note at 0.25 s and 1.25 s
    on MIDI ``channel`` (0-based), and a tempo marker at 3 s if asked."""
    ev = []
    if cc:
        ev += [(12000, mido.Message("control_change", channel=channel, control=20, value=64)),
               (12000, mido.Message("control_change", channel=channel, control=20, value=127)),
               (60000, mido.Message("note_on", channel=channel, note=39, velocity=90))]
    if tempo:
        ev.append((144000, mido.MetaMessage("marker", text="livegan tempo 150")))
    return ev


def _set(tmp_path, tiny_model, body: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(body.replace("MODEL", str(tiny_model)))
    return load_set(path)


def _read(path):
    return sf.read(str(path), dtype="float32", always_2d=True)[0]


def test_one_track_set_is_bit_identical_to_one_model_render(tmp_path, tiny_model):
    s = _set(tmp_path, tiny_model, '[master]\nlimiter = false\n[[track]]\nname = "only"\nmodel = "MODEL"\n')
    ev = _events(tempo=True)
    render_set(s, ev, str(tmp_path / "set.wav"), SECONDS, RATE, blocksize=300)
    render_automation(str(tiny_model), load_patch(default_patch_path()), ev, str(tmp_path / "one.wav"),
                      SECONDS, RATE, blocksize=300)
    a, b = _read(tmp_path / "set.wav"), _read(tmp_path / "one.wav")
    assert a.shape == (int(SECONDS * RATE), 2) and np.max(np.abs(a)) > 0.01
    assert a.tobytes() == b.tobytes()


def test_stems_sum_to_the_mix_and_each_track_hears_only_its_channel(tmp_path, tiny_model):
    body = ('[master]\nlimiter = false\ngain = -2\n'
            '[[track]]\nname = "one"\nmodel = "MODEL"\ngain = -3\npan = -0.4\n'
            '[[track]]\nname = "two"\nmodel = "MODEL"\npan = 0.7\n'
            '[[track]]\nname = "three"\nmodel = "MODEL"\ngain = 2\nchannel = 9\n')
    s = _set(tmp_path, tiny_model, body)
    moved, still = tmp_path / "moved", tmp_path / "still"
    render_set(s, _events(channel=1, tempo=True), str(tmp_path / "moved.wav"), SECONDS, RATE, stems=str(moved))
    render_set(s, _events(cc=False, tempo=True), str(tmp_path / "still.wav"), SECONDS, RATE, stems=str(still))
    mix = _read(tmp_path / "moved.wav")
    stems = {t.name: _read(moved / f"{t.name}.wav") for t in s.tracks}
    for x in stems.values():
        assert x.shape == mix.shape and np.max(np.abs(x)) > 0.01
    total = sum(x.astype(np.float64) for x in stems.values())
    assert np.max(np.abs(total - mix)) < 1e-6  # sample-aligned, summing to the mix to float rounding
    # channel 2 (0-based 1) is track "two"'s: only its stem changes when the CC and the note come
    for name in ("one", "three"):
        assert _read(still / f"{name}.wav").tobytes() == stems[name].tobytes()
    assert np.max(np.abs(_read(still / "two.wav") - stems["two"])) > 0.01
    # the same model, the same (no) events, pan and gain apart: tracks one and three play the same loops
    one, three = _read(still / "one.wav"), _read(still / "three.wav")
    g1 = 10 ** (-5 / 20) * np.sqrt(2) * np.cos(0.6 * np.pi / 4)  # -3 dB, master -2 dB, pan -0.4 (left)
    g3 = 10 ** (0 / 20)  # +2 dB, master -2 dB, centre
    assert np.allclose(one[:, 0] / g1, three[:, 0] / g3, atol=1e-5)


def test_a_tempo_marker_moves_every_track(tmp_path, tiny_model):
    s = _set(tmp_path, tiny_model, '[master]\nlimiter = false\n[[track]]\nname = "a"\nmodel = "MODEL"\n'
                                    '[[track]]\nname = "b"\nmodel = "MODEL"\n')
    render_set(s, _events(cc=False), str(tmp_path / "plain.wav"), SECONDS, RATE, stems=str(tmp_path / "p"))
    render_set(s, _events(cc=False, tempo=True), str(tmp_path / "fast.wav"), SECONDS, RATE,
               stems=str(tmp_path / "f"))
    for name in ("a", "b"):
        p, f = _read(tmp_path / "p" / f"{name}.wav"), _read(tmp_path / "f" / f"{name}.wav")
        assert p[:144000].tobytes() == f[:144000].tobytes()  # the same until the marker
        assert np.max(np.abs(p[150000:] - f[150000:])) > 0.01  # both faster after it
    a, b = _read(tmp_path / "f" / "a.wav"), _read(tmp_path / "f" / "b.wav")
    assert a.tobytes() == b.tobytes()  # one clock: same model, same events, same samples


def test_render_set_cli_writes_mix_and_stems_and_never_replaces_without_force(tmp_path, tiny_model, cli):
    from livegan.offline import DEMO_AUTOMATION

    (tmp_path / "s.toml").write_text(f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\n'
                                     f'[[track]]\nname = "b"\nmodel = "{tiny_model}"\npan = 1\n')
    args = ["render", "--set", tmp_path / "s.toml", "--automation", DEMO_AUTOMATION, "--seconds", 2,
            "-o", tmp_path / "mix.wav", "--stems", tmp_path / "stems"]
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert "2 tracks (a, b), 1 model," in r.stdout  # one model file, loaded once
    mix = _read(tmp_path / "mix.wav")
    assert mix.shape == (96000, 2)
    for name in ("a", "b"):
        assert _read(tmp_path / "stems" / f"{name}.wav").shape == mix.shape
    assert np.max(np.abs(_read(tmp_path / "stems" / "b.wav")[:, 0])) < 1e-6  # hard right: nothing on the left
    before = (tmp_path / "stems" / "a.wav").read_bytes()
    (tmp_path / "mix.wav").rename(tmp_path / "old.wav")
    r = cli(*args)  # the mix is free, a stem is not: refused before anything is rendered
    assert r.returncode == 2 and "stems/a.wav: exists" in r.stderr and "--force" in r.stderr, r.stderr
    assert not (tmp_path / "mix.wav").exists() and (tmp_path / "stems" / "a.wav").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["old.wav", "s.toml", "stems"]  # no temporary file left

"""A set plays on one clock (``livegan.set_render``): tracks whose models count different beats per bar
are refused in one line naming the set, the track and its model; a set starts at its first track's tempo
and every track follows it (a second model made for half the tempo plays at the first one's, re-pitched)."""
from __future__ import annotations

import mido
import numpy as np
import pytest
import soundfile as sf

from livegan.errors import CLIError
from livegan.set_file import load_set
from livegan.set_render import render_set
from livegan.testing.tiny import make_tiny_generator, tiny_meta


def _model(path, **over):
    from train.export import save_loop_model

    save_loop_model(make_tiny_generator(), path, tiny_meta(**over), quiet=True)
    return path


def test_tracks_of_two_meters_are_one_line(tmp_path, tiny_model):
    waltz = _model(tmp_path / "waltz.ts", beats_per_bar=3, bpm=90.0)
    (tmp_path / "s.toml").write_text(f'[[track]]\nname = "four"\nmodel = "{tiny_model}"\n'
                                     f'[[track]]\nname = "three"\nmodel = "{waltz}"\n')
    with pytest.raises(CLIError) as e:
        render_set(load_set(tmp_path / "s.toml"), [], str(tmp_path / "o.wav"), 1.0, 48000)
    msg = str(e.value)
    assert "\n" not in msg and "s.toml: track[1] (three).model" in msg and "3 beats per bar" in msg, msg
    assert not (tmp_path / "o.wav").exists()


def test_every_track_plays_at_the_first_tracks_tempo(tmp_path, tiny_model):
    slow = _model(tmp_path / "slow.ts", bpm=60.0, sample_rate=8192)  # the same samples: a 4 s bar at 60 BPM
    (tmp_path / "s.toml").write_text(f'[master]\nlimiter = false\n[[track]]\nname = "a"\nmodel = "{tiny_model}"\n'
                                     f'[[track]]\nname = "b"\nmodel = "{slow}"\n')
    ev = [(0, mido.MetaMessage("marker", text="livegan run 1"))]
    out = render_set(load_set(tmp_path / "s.toml"), ev, str(tmp_path / "o.wav"), 3.0, 48000,
                     stems=str(tmp_path / "st"))
    assert "tempo at the end 120 BPM" in out
    a = sf.read(str(tmp_path / "st" / "a.wav"), dtype="float32")[0]
    b = sf.read(str(tmp_path / "st" / "b.wav"), dtype="float32")[0]
    # at the set's 120 BPM the slow model's bar lasts 2 s, as track a's: the same loop at the same pitch
    # (at its own 60 BPM it would play an octave lower: a centroid ratio of 0.5)
    assert np.max(np.abs(a)) > 0.01 and np.max(np.abs(b)) > 0.01
    spec_a = np.abs(np.fft.rfft(a[48000:144000, 0]))
    spec_b = np.abs(np.fft.rfft(b[48000:144000, 0]))
    f = np.fft.rfftfreq(96000, 1 / 48000)
    centroid = lambda s: float((s * f).sum() / s.sum())  # noqa: E731
    assert 0.9 < centroid(spec_b) / centroid(spec_a) < 1.1

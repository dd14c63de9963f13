"""A take never overwrites an earlier one: ``perform --record take.wav`` run twice keeps the first
take and its ``.mid`` and records the second to ``take-2.wav`` (with ``take-2.mid``), saying so."""
from __future__ import annotations

import os
import subprocess
import sys

import soundfile as sf

from livegan.io.takes import take_path


def test_a_take_name_is_taken_when_its_wav_mid_or_journal_exists(tmp_path):
    first = str(tmp_path / "set.wav")
    for i, other in enumerate(("set.mid", "set.journal", "set-2.wav", "set-3.mid")):
        (tmp_path / other).write_bytes(b"")
        want = [str(tmp_path / "set-2.wav")] * 2 + [str(tmp_path / "set-3.wav"), str(tmp_path / "set-4.wav")]
        assert take_path(first, 1) == want[i], other
    assert take_path(first, 2) == str(tmp_path / "set-4.wav")  # a later take skips the same way


def test_a_flac_take_is_not_recorded_over_an_unfinished_one(tmp_path):
    first = str(tmp_path / "set.flac")
    assert take_path(first, 1) == first
    (tmp_path / "set.flac.wav").write_bytes(b"")  # an interrupted FLAC take's audio
    assert take_path(first, 1) == str(tmp_path / "set-2.flac")


def _perform(model, wav, env):
    return subprocess.run([sys.executable, "-m", "livegan", "perform", "--model", str(model), "--record", str(wav),
                           "--seconds", "1"], capture_output=True, text=True, timeout=120, env=env)


def test_perform_record_twice_keeps_the_first_take_and_says_where_the_second_went(jack_server, tiny_model, tmp_path):
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    wav = tmp_path / "take.wav"
    r1 = _perform(tiny_model, wav, env)
    assert r1.returncode == 0, r1.stderr
    first = {n: (tmp_path / n).read_bytes() for n in ("take.wav", "take.mid")}
    r2 = _perform(tiny_model, wav, env)
    assert r2.returncode == 0, r2.stderr
    assert {n: (tmp_path / n).read_bytes() for n in first} == first  # untouched
    second = tmp_path / "take-2.wav"
    assert sf.info(str(second)).frames >= 48000 and (tmp_path / "take-2.mid").is_file()
    assert f"recording to {second}" in r2.stderr, r2.stderr
    assert sorted(os.listdir(tmp_path)) == ["take-2.mid", "take-2.wav", "take.mid", "take.wav"]  # no journal left

"""A missing device, a busy device, an unsupported rate and a bad model file each give one clear message."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from livegan.errors import CLIError


def _perform(*args):
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    return subprocess.run([sys.executable, "-m", "livegan", "perform", "--seconds", "1", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120)


def _one_line(r):
    """Exactly one error line (warnings, e.g. a patch knob the model lacks, may precede it); no traceback."""
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "warning:" not in ln]
    assert len(lines) == 1 and lines[0].startswith("livegan perform: error: "), r.stderr
    return lines[0]


def test_missing_device_names_it_and_lists_outputs(jack_server, tiny_model):
    line = _one_line(_perform("--model", tiny_model, "--device", "no-such-card"))
    assert "audio device 'no-such-card' not found" in line and "outputs are" in line


def test_unsupported_rate_names_device_and_rate(jack_server, tiny_model):
    line = _one_line(_perform("--model", tiny_model, "--samplerate", "44100"))  # the server runs at 48 kHz
    assert "does not support 44100 Hz" in line and "48000" in line


def test_bad_model_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.ts"
    bad.write_bytes(b"not a model")
    line = _one_line(_perform("--model", bad))
    assert str(bad) in line and "not a TorchScript model file" in line


def test_missing_model_file_names_the_file(tmp_path):
    missing = tmp_path / "nowhere.ts"
    line = _one_line(_perform("--model", missing))
    assert str(missing) in line and "no such file" in line


def test_busy_device_gives_one_clear_message(jack_server, monkeypatch):
    """A device another program holds makes PortAudio refuse the stream; JACK never does, so PortAudio's
    refusal is injected where sounddevice raises it."""
    import sounddevice as sd

    from livegan.audio.engine import Engine
    from livegan.audio.output import AudioOutput
    from livegan.model import validate_meta
    from livegan.testing.wiring import identity_controls

    def refuse(*a, **k):
        raise sd.PortAudioError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")

    monkeypatch.setattr(sd, "OutputStream", refuse)
    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=2,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=[], sigmas=[],
                              training={}))
    with pytest.raises(CLIError) as ei:
        AudioOutput(Engine(meta, identity_controls(meta)), device=0, samplerate=48000, blocksize=256)
    msg = str(ei.value)
    assert "could not be opened" in msg and "Device unavailable" in msg and "\n" not in msg

"""A model that starts failing mid-show does not end the show, silence it, or flood the terminal.

Each model (``faulty_models``) makes good loops for the load's warm-up, the first loop and two
more, then every generation raises, returns NaN or returns half a loop. ``livegan perform
--seconds 10 --record`` plays it on the JACK dummy server while a second process plays a new
seed note every 0.3 s (each asks for a new loop, on the next beat). The performances run side by
side (one fixture) to keep the file short. Each must exit 0 with the whole take recorded, no
quiet second in it, the faults counted in ``--stats-json``, one warning line per distinct fault,
and no traceback.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile as sf

from faulty_models import perform_with_seed_notes, save_faulty
from livegan.patch import default_patch_path, load_patch, replace, save_patch

SECONDS, SR = 10, 48000
CASES = {  # name: (fault kind, generator mode, words the last fault's text holds)
    "raise-thread": ("raise", "thread", "on purpose"),
    "nan-thread": ("nan", "thread", "NaN"),
    "shape-thread": ("shape", "thread", "shape"),
    "raise-process": ("raise", "process", "on purpose"),
    "shape-process": ("shape", "process", "shape"),
}


@pytest.fixture(scope="module")
def shows(jack_server, tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    patch = base / "beat.toml"
    save_patch(replace(load_patch(default_patch_path()), name="beat", quantize="beat"), patch)

    for name, (kind, _, _) in CASES.items():  # one at a time: torch.jit.script is not thread-safe
        (base / name).mkdir()
        save_faulty(base / name / "m.ts", kind, after=5)

    def play(name):
        mode, d = CASES[name][1], base / name
        rc, err = perform_with_seed_notes(
            d / "m.ts", d, f"lgf{os.getpid()}{name.replace('-', '')}",
            ["--patch", patch, "--seconds", SECONDS, "--record", d / "take.wav", "--stats-json", d / "stats.json",
             "--generator", mode], every_s=0.3)
        return name, dict(rc=rc, err=err, dir=d)
    with ThreadPoolExecutor(len(CASES)) as ex:
        return dict(ex.map(play, CASES))


@pytest.mark.parametrize("name", list(CASES))
def test_show_plays_to_the_end_through_generation_faults(shows, name):
    r = shows[name]
    err = r["err"]
    assert r["rc"] == 0, err
    assert "Traceback" not in err and "terminate called" not in err, err
    assert all(line.startswith("livegan perform: ") for line in err.splitlines()), err
    stats = json.loads((r["dir"] / "stats.json").read_text())
    assert stats["gen_faults"] > 0, err
    assert CASES[name][2] in stats["last_gen_fault"], stats["last_gen_fault"]
    assert stats["loop_switches"] >= 2, "the good loops before the faults were generated live and played"
    warned = [line for line in err.splitlines() if "a generation failed" in line]
    assert len(warned) == 1, "one line per distinct fault, not one per fault"
    assert "faults " in err.split("warning: a generation failed")[1], "the status line counts them"

    audio, rate = sf.read(str(r["dir"] / "take.wav"), dtype="float32")
    assert rate == SR and audio.shape[0] == SECONDS * SR == stats["frames_recorded"]
    assert np.isfinite(audio).all()
    windows = audio[: SECONDS * SR].reshape(SECONDS, SR, -1)
    rms = np.sqrt((windows.astype(np.float64) ** 2).mean(axis=(1, 2)))
    assert rms.min() > 0.02, f"a quiet second: RMS per second {np.round(rms, 3)}"
